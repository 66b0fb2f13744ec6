"""The report page: one self-contained HTML file (PNG figures inlined as data URIs).

No external CSS, JS or fonts: the file can be mailed on its own and printed.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: #1b1b1b; background: #fff; line-height: 1.5; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 60px; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd;
  padding-bottom: .2rem; }
.sub { color: #555; margin: 0 0 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
  margin: .8rem 0; font-size: .92rem; }
dl.meta dt { color: #666; } dl.meta dd { margin: 0; }
p.summary { font-size: 1.05rem; background: #f6f6f3; border-left: 4px solid #c0392b;
  padding: .8rem 1rem; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: .92rem; margin-top: .35rem; }
table { border-collapse: collapse; font-size: .86rem; margin: .6rem 0 1.2rem;
  font-variant-numeric: tabular-nums; }
th, td { padding: .22rem .6rem; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #f3f3f3; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
th.span { text-align: center; border-bottom: 1px solid #ccc; }
td.unit { color: #777; text-align: left; font-size: .8rem; }
tr.fam td { background: #fafafa; font-weight: 600; text-align: left; color: #555; }
.note { color: #666; font-style: italic; }
code { font-size: .9em; background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
footer { margin-top: 3rem; color: #777; font-size: .8rem; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } }
"""


def data_uri(png: Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


def figure(png: Path, caption: str, alt: str) -> str:
    """A figure: the PNG inlined, the caption under it, the file names it was saved as."""
    name = Path(png).stem
    return (
        f'<figure id="fig-{escape(name)}" data-file="figures/{escape(Path(png).name)}">'
        f'<img src="{data_uri(png)}" alt="{escape(alt)}">'
        f"<figcaption>{caption} <span class='note'>(figures/{escape(name)}.png, "
        f".svg)</span></figcaption></figure>"
    )


def table(
    header: list[str],
    rows: list[list[str]],
    *,
    sections: dict[int, str] | None = None,
    spans: list[tuple[str, int]] | None = None,
    unit_col: int | None = None,
) -> str:
    """An HTML table; ``sections`` maps a row index to a label row inserted before it,
    ``spans`` is an optional top header row of (label, columns)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    if spans:
        top = "".join(f'<th colspan="{n}" class="span">{escape(h)}</th>' for h, n in spans)
        head = f"{top}</tr><tr>{head}"
    body = []
    for i, row in enumerate(rows):
        if sections and i in sections:
            body.append(
                f'<tr class="fam"><td colspan="{len(header)}">{escape(sections[i])}</td></tr>'
            )
        cells = "".join(
            f'<td class="unit">{escape(c)}</td>' if unit_col == j else f"<td>{escape(c)}</td>"
            for j, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def meta(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="meta">{rows}</dl>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def section(title: str, *parts: str, anchor: str | None = None) -> str:
    a = f' id="{escape(anchor)}"' if anchor else ""
    return f"<section{a}><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def page(
    title: str, subtitle: str, header: str, summary: str, sections: list[str], footer: str
) -> str:
    """The whole document."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><p class='sub'>{escape(subtitle)}</p>{header}"
        f"<p class='summary' id='summary'>{escape(summary)}</p>"
        f"{''.join(sections)}<footer>{escape(footer)}</footer></main></body></html>\n"
    )

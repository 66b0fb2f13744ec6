"""Assemble the report of a run directory or a sweep directory."""

from __future__ import annotations

import json
import math
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from platform_sim.policies import POLICIES
from platform_sim.report import figures as F
from platform_sim.report import html as H
from platform_sim.report import sweep_figures as SF
from platform_sim.report.summary import (
    WINDOWED,
    crossing_steps,
    final_steps,
    fmt,
    load_metrics,
    metric_table,
    read_json,
    run_summary,
    window_of,
)

ORDER = [m for fam in F.FAMILIES for m in fam.left + fam.right]


def describe_policy(name: str) -> str:
    """The first paragraph of a policy's module docstring, without its `name`: prefix."""
    cls = POLICIES.get(name)
    doc = (sys.modules[cls.__module__].__doc__ or "") if cls else ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return first.split(": ", 1)[1] if first.startswith("`") and ": " in first else first


def _clean(x):
    """JSON-safe: NaN and inf become null, tuples lists, numpy scalars Python numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_summary(directory: Path, summary: dict) -> None:
    text = json.dumps(_clean(summary), indent=2, sort_keys=True)
    (directory / "summary.json").write_text(text + "\n", encoding="utf-8")


def _maps_and_graph(run_dir: Path, figdir: Path, maps: bool, seed: int, what: str) -> list[str]:
    """The maps and feature-graph sections of one run, or notes saying why they are absent."""
    if not maps:
        skipped = "Skipped (maps=False): maps and the feature graph are the report's slow part."
        return [
            H.section("Maps of the feature space", H.note(skipped), anchor="maps"),
            H.section("The platform's feature graph", H.note(skipped), anchor="graph"),
        ]
    out = []
    if (run_dir / "profiles.npz").is_file():
        from platform_sim.maps import compute_maps

        df = compute_maps(run_dir, seed=seed)
        png = F.save(F.maps_figure(df), figdir, "maps")
        steps = ", ".join(str(s) for s in sorted(df["step"].unique()))
        cap = (
            f"Users' profile vectors {what} projected to 2-D at steps {steps}. Top row: "
            "coloured by whether the solution each person last adopted came from the "
            "platform or from people; look for the platform's colour flooding the map. "
            "Bottom row: coloured by region; look for regional clusters dissolving."
        )
        out.append(
            H.section("Maps of the feature space", H.figure(png, cap, "maps"), anchor="maps")
        )
    else:
        msg = "No profiles.npz in this run directory (older runs did not write one): no maps."
        out.append(H.section("Maps of the feature space", H.note(msg), anchor="maps"))
    if (run_dir / "population.parquet").is_file() and (run_dir / "events.parquet").is_file():
        from platform_sim.featuregraph import build_feature_graph

        fg = build_feature_graph(
            pd.read_parquet(run_dir / "events.parquet"),
            pd.read_parquet(run_dir / "population.parquet"),
            seed=seed,
        )
        png = F.save(F.feature_graph_figure(fg, seed=seed), figdir, "feature_graph")
        cap = (
            f"The features the platform recovered from chats {what} (nodes) linked when the "
            "same people display them (edges), coloured by community. Adjusted mutual "
            f"information of its communities with people's marker archetypes: {fg.ami:.2f}; "
            f"with their regions: {fg.ami_region:.2f} (0 = chance, 1 = identical)."
        )
        sentence = (
            f"The platform's features recover {fg.ami:.2f} of the structure of people's "
            f"marker archetypes and {fg.ami_region:.2f} of their regions (adjusted mutual "
            f"information, 0 = chance, 1 = identical): {_reading(fg.ami)}"
        )
        out.append(
            H.section(
                "The platform's feature graph",
                f"<p>{sentence}</p>",
                H.figure(png, cap, "feature graph"),
                anchor="graph",
            )
        )
    else:
        msg = "No population.parquet in this run directory: no feature graph."
        out.append(H.section("The platform's feature graph", H.note(msg), anchor="graph"))
    return out


def _reading(ami: float) -> str:
    if ami >= 0.5:
        return "it sees people much as their psychological markers group them."
    if ami >= 0.2:
        return "it sees part of how people's psychological markers group them."
    return "its features barely follow people's marker archetypes yet."


def _wall(m: dict) -> str:
    return f"{m['wall_seconds']:.1f} s" if "wall_seconds" in m else "?"


def run_report(directory: Path, maps: bool) -> Path:
    figdir = directory / "figures"
    manifest = read_json(directory / "manifest.json")
    cmanifest = read_json(directory / "control" / "manifest.json")
    metrics, control = load_metrics(directory)
    window = window_of(directory)
    summary = run_summary(directory)
    write_summary(directory, summary)
    policy, cname = manifest.get("policy", "?"), cmanifest.get("policy")
    size = ("n_users", "steps", "seed")
    emb = manifest.get("embedder", {})
    emb = f"{emb.get('name', '?')} ({emb.get('precision', '')}, dim {emb.get('dim', '?')})"
    header = H.meta(
        [
            ("experiment", manifest.get("name", directory.name)),
            ("policy", f"{policy} vs control {cname}" if cname else f"{policy} (no control)"),
            ("the platform", describe_policy(policy)),
            ("users / steps / seed", " / ".join(f"{manifest.get(k, '?'):,}" for k in size)),
            ("embedder", emb),
            ("wall time", _wall(manifest) + (f" (control {_wall(cmanifest)})" if cname else "")),
            ("git commit", str(manifest.get("git_commit") or "unknown")[:12]),
        ]
    )
    cross = crossing_steps(metrics)
    ccross = crossing_steps(control) if control is not None else {}
    png = F.save(F.run_curves(metrics, control, cross, policy, cname), figdir, "curves")
    cap = (
        "Each metric family over time: the policy run solid, the control (same people, same "
        "problems, no platform) dashed in a lighter shade of the same colour; thick lines are "
        "centred 5-step rolling means over the faint raw series. Look for machine share "
        "crossing the majority and near-totality lines while diversity, regional "
        "distinctiveness and curiosity fall away from the control."
    )
    sections = [
        H.section("Collapse curves", H.figure(png, cap, "collapse curves"), anchor="curves")
    ]
    worlds = [("policy", policy)] + ([("control", cname)] if control is not None else [])
    rows = [
        [f"{name.replace('_', ' ')} ({t:.0%})"]
        + [
            fmt("crossing", c.get(name, math.nan))
            if np.isfinite(c.get(name, math.nan))
            else "never"
            for c in (cross, ccross)[: len(worlds)]
        ]
        for name, t in (("majority", 0.5), ("near_totality", 0.9))
    ]
    crossing = H.table(["machine share crosses"] + [f"{w}: {n}" for w, n in worlds], rows)
    mid, fin = int(metrics["step"].max()) // 2, final_steps(metrics)
    header_cells = ["metric", "unit"] + ["start", f"step {mid}", "end"] * len(worlds)
    spans = [("", 2)] + [(f"{w}: {n}", 3) for w, n in worlds]
    table = {r["metric"]: r for r in metric_table(metrics, control, window)}
    body, fams = [], {}
    for fam in F.FAMILIES:
        fams[len(body)] = fam.title
        for m in fam.left + fam.right:
            cells = [F.LABELS[m][0] + (" *" if m in WINDOWED else ""), F.LABELS[m][1]]
            cells += [fmt(m, v) for w, _ in worlds for v in table[m][w]]
            body.append(cells)
    explain = H.note(
        f"Start: step 1, or step {window} for windowed metrics (*), which pool "
        f"the adoptions of the last {window} steps (or the first step with a "
        f"value after that). End: mean over steps "
        f"{fin[0]}-{fin[1]}, the last 10% of the run."
    )
    sections.append(
        H.section(
            "Numbers",
            crossing,
            H.table(header_cells, body, sections=fams, spans=spans, unit_col=1),
            explain,
            anchor="numbers",
        )
    )
    sections += _maps_and_graph(directory, figdir, maps, int(manifest.get("seed", 0)), "")
    title = f"{manifest.get('name', directory.name)}: {policy}" + (f" vs {cname}" if cname else "")
    doc = H.page(
        title,
        "A platform-sim homogenization report",
        header,
        summary["paragraph"],
        sections,
        f"platform-sim report of {directory.name}. Data: metrics.parquet"
        f"{', control/metrics.parquet' if cname else ''}; numbers quoted in the "
        "summary are in summary.json.",
    )
    out = directory / "report.html"
    out.write_text(doc, encoding="utf-8")
    return out


def sweep_report(directory: Path, maps: bool) -> Path:
    from platform_sim.report import sweep as S

    figdir = directory / "figures"
    df, swept = S.load_results(directory)
    order, finals = S.group_order(df), S.run_finals(df)
    summary = S.sweep_summary(directory)
    write_summary(directory, summary)
    spec = {}
    if (directory / "sweep.toml").is_file():
        spec = tomllib.loads((directory / "sweep.toml").read_text(encoding="utf-8"))
    name = str(spec.get("name", directory.name))
    seeds = sorted(df["seed"].unique().tolist())
    header = H.meta(
        [
            ("sweep", name),
            (
                "swept",
                ", ".join(
                    f"{c} = {', '.join(map(str, df.set_index('group').loc[order, c].unique()))}"
                    for c in swept
                )
                or "-",
            ),
            ("seeds", ", ".join(map(str, seeds))),
            ("runs / steps", f"{df['run_id'].nunique()} / {int(df['step'].max())}"),
        ]
    )
    present = [m for m in ORDER if m in df and df[m].notna().any()]
    sections = []
    png = F.save(
        SF.sweep_curves(df, lambda m: S.bands(df, m, 1 if m in F.STATE else 5), order, present),
        figdir,
        "sweep_curves",
    )
    cap = (
        "Every metric over time, one colour per setting: the line is the mean over seeds, "
        "the band its 95% t-interval (each run's series lightly smoothed first, a centred "
        "5-step rolling mean). Look for the settings whose machine share crosses the "
        "dashed majority and near-totality lines and whose diversity falls below none's."
    )
    sections.append(H.section("Collapse curves across seeds", H.figure(png, cap, "sweep curves")))
    png = F.save(SF.small_multiples(df, order), figdir, "small_multiples")
    cap = (
        "One column per setting: machine share (top) and effective solutions (bottom, log); "
        "thin lines are single seeds, the thick line their mean."
    )
    sections.append(H.section("Settings side by side", H.figure(png, cap, "small multiples")))
    png = F.save(SF.frontier(finals, order), figdir, "frontier")
    cap = (
        "Final diversity (effective solutions, log) against final welfare (success rate), one "
        "point per setting with 95% intervals over seeds (faint dots: single seeds); none "
        "(square) is the world without a platform, ideal (star) the oracle. Up and to the "
        "right is better on both."
    )
    sections.append(H.section("The policy frontier", H.figure(png, cap, "frontier")))
    rows = []
    for g in order:
        sub = finals[finals["group"] == g]
        row = [g]
        for k in ("cross_majority", "cross_near_totality"):
            m, lo, hi, n = S.t_interval(sub[k])
            ci = f" [{lo:.0f}, {hi:.0f}]" if np.isfinite(lo) else ""
            row.append(f"{m:.0f}{ci} ({n}/{len(sub)})" if n else f"never (0/{len(sub)})")
        rows.append(row)
    crossing = H.table(
        ["setting", "majority (50%): step [95% CI] (seeds)", "near totality (90%)"], rows
    )
    body = []
    for m in present:
        cells = [F.LABELS[m][0] + (" *" if m in WINDOWED else "")]
        for g in order:
            mean, lo, hi, _ = S.t_interval(finals.loc[finals["group"] == g, m])
            cells.append(
                fmt(m, mean)
                + (f" ± {fmt(m, (hi - lo) / 2).lstrip('+')}" if np.isfinite(lo) else "")
            )
        body.append(cells)
    finals_table = H.table(["final value (± 95% half-width)"] + order, body)
    explain = H.note(
        "Final: mean over each run's last 10% of steps, then over seeds. * pools a "
        "trailing window of adoptions."
    )
    sections.append(H.section("Numbers", crossing, finals_table, explain, anchor="numbers"))
    rep = S.representative_run(directory, df)
    if rep is not None:
        seed = int(read_json(rep / "manifest.json").get("seed", 0))
        sections += _maps_and_graph(
            rep, figdir, maps, seed, f"of the representative run {rep.name}"
        )
    doc = H.page(
        f"{name}: sweep of {', '.join(swept) or 'runs'}",
        "A platform-sim homogenization report",
        header,
        summary["paragraph"],
        sections,
        f"platform-sim report of {directory.name}. Data: results.parquet; numbers "
        "quoted in the summary are in summary.json.",
    )
    out = directory / "report.html"
    out.write_text(doc, encoding="utf-8")
    return out

"""What the demo draws: plot data for Gradio's native plots and matplotlib figures.

Every number comes from ``platform_sim`` (a session's curves and maps, a sweep's results);
this module only chooses colours, labels and layout.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from platform_sim.session import CONTROL, WORLD, Talked  # noqa: E402

PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f",
]  # fmt: skip
PLATFORM_COLOUR, PEOPLE_COLOUR, OTHER_COLOUR, YOU_COLOUR = "#d95f02", "#1b9e77", "#c8c8c8", "#000"
YOU = "★ you"
COLOR_BY = {
    "source": "source of latest solution",
    "region": "region",
    "solution": "their latest solution",
}
TOP_SOLUTIONS = 8
POINT_COLUMNS = ["x", "y", "colour", "person", "region", "markers", "chat", "solution", "source"]


# Gradio's native plots fix their colour domain to the categories present in the data
# when their props change (title, legend, ...), not when only the data changes. So every
# value sent to a plot carries one empty row (null x and y, never drawn) per category that
# plot can ever show, always in the same order: the domain is then always complete.
CURVE_COLOURS = {WORLD: PLATFORM_COLOUR, CONTROL: PEOPLE_COLOUR}
SOLUTION_LABELS = [f"#{i} most adopted" for i in range(1, TOP_SOLUTIONS + 1)]
OTHER = "other solutions"


def map_colours(regions: list[str]) -> dict[str, str]:
    """A fixed colour for every category the map can show, in every colouring."""
    out = {"the platform": PLATFORM_COLOUR, "people": PEOPLE_COLOUR}
    out.update({r: PALETTE[i % len(PALETTE)] for i, r in enumerate(regions)})
    out.update({label: PALETTE[i] for i, label in enumerate(SOLUTION_LABELS)})
    out[OTHER] = OTHER_COLOUR
    out[YOU] = YOU_COLOUR
    return out


def _pad(df: pd.DataFrame, column: str, categories: list[str]) -> pd.DataFrame:
    empty = pd.DataFrame({c: [None] * len(categories) for c in df.columns})
    empty[column] = categories
    return pd.concat([empty.astype(df.dtypes.to_dict(), errors="ignore"), df], ignore_index=True)


def curves_value(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's curves (step, value, world) for a LinePlot coloured by world."""
    df = curves.loc[curves["metric"] == metric, ["step", "value", "world"]]
    return _pad(df.astype({"step": "float64"}), "world", list(CURVE_COLOURS))


def map_points(
    at: pd.DataFrame, color_by: str, talks: list[Talked], colours: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """One snapshot of a session's map as ScatterPlot rows (plus the visitor's chats as
    ``YOU`` points), and the categories present, for the legend."""
    if color_by == "region":
        colour = at["region_name"].astype(str).to_numpy(object)
        present = list(dict.fromkeys(at.sort_values("region")["region_name"].astype(str)))
    elif color_by == "solution":
        counts = at.loc[at["solution"] >= 0, "solution"].value_counts()
        rank = {s: SOLUTION_LABELS[i] for i, s in enumerate(counts.index[:TOP_SOLUTIONS])}
        colour = np.array([rank.get(s, OTHER) for s in at["solution"]], object)
        present = [*rank.values(), OTHER]
    elif color_by == "source":
        colour = at["source"].to_numpy(object)
        present = ["the platform", "people"]
    else:
        raise ValueError(f"colour by one of {', '.join(COLOR_BY)}, not {color_by!r}")
    points = pd.DataFrame(
        {
            "x": at["x"].astype(float).round(3),
            "y": at["y"].astype(float).round(3),
            "colour": colour,
            "person": [f"#{u}" for u in at["user"]],
            "region": at["region_name"].astype(str),
            "markers": at["markers"],
            "chat": at["last_chat"],
            "solution": at["solution_text"],
            "source": at["source"],
        }
    )
    mine = [t for t in talks if t.xy is not None]
    if mine:
        you = pd.DataFrame(
            {
                "x": [round(t.xy[0], 3) for t in mine],
                "y": [round(t.xy[1], 3) for t in mine],
                "colour": YOU,
                "person": "you",
                "region": "",
                "markers": "",
                "chat": [t.text[:160] for t in mine],
                "solution": [(t.reply.solutions or ["(none)"])[0][:70] for t in mine],
                "source": "the platform's answer to you",
            }
        )
        points = pd.concat([points, you], ignore_index=True)
        present.append(YOU)
    known = [c for c in colours if c in set(present)]
    return _pad(points[POINT_COLUMNS], "colour", list(colours)), known


def legend_html(labels: list[str], colours: dict[str, str], title: str) -> str:
    """A legend as HTML swatches (the map's own legend cannot follow a change of colouring)."""
    items = "".join(
        f'<span style="margin-right:1.1em;white-space:nowrap">'
        f'<span style="color:{colours[c]};font-size:1.25em">●</span> {html.escape(c)}</span>'
        for c in labels
    )
    return f'<p style="line-height:1.9"><b>{html.escape(title)}</b>: {items}</p>'


def talk_figure(at: pd.DataFrame, talks: list[Talked], n_people: int) -> Figure:
    """The last snapshot coloured by source, the visitor as a big star (earlier chats as
    small stars), the person the platform treats them like circled."""
    from platform_sim.maps import plot_map

    fig = Figure(figsize=(7.5, 5.6), layout="constrained")
    ax = fig.add_subplot()
    step = int(at["step"].iloc[0]) if len(at) else 0
    plot_map(ax, at, color_by="source", title=f"You among {n_people:,} people (step {step})")
    placed = [t for t in talks if t.xy is not None]
    for t in placed[:-1]:
        ax.scatter(*t.xy, marker="*", s=140, c="#ffd84d", edgecolors="black", lw=0.6, zorder=4)
    if placed:
        last = placed[-1]
        near = at[at["user"] == last.reply.nearest_user]
        if len(near):
            ax.scatter(near["x"], near["y"], s=160, facecolors="none", edgecolors="black",
                       lw=1.2, zorder=5)  # fmt: skip
        ax.scatter(*last.xy, marker="*", s=700, c="#ffd84d", edgecolors="black", lw=1.2, zorder=6)
        ax.annotate("you", last.xy, xytext=(12, 10), textcoords="offset points",
                    fontsize=12, weight="bold", zorder=6)  # fmt: skip
    return fig


def graph_figure(fg) -> Figure:
    from platform_sim.featuregraph import plot_feature_graph

    fig = Figure(figsize=(9, 7), layout="constrained")
    plot_feature_graph(fig.add_subplot(), fg, seed=0)
    return fig


def sweep_figures(directory: Path) -> tuple[str, Figure, Figure]:
    """A sweep's one-line description, its policy frontier and its machine-share and
    diversity curves per policy (mean over seeds with 95% bands)."""
    from platform_sim.report import figures as F
    from platform_sim.report.sweep import bands, group_order, load_results, run_finals
    from platform_sim.report.sweep_figures import frontier as frontier_figure

    df, swept = load_results(directory)
    finals, order = run_finals(df), group_order(df)
    n_seeds = int(df.groupby("group")["seed"].nunique().min())
    about = (
        f"**{df['run_id'].nunique()} runs**: {len(order)} settings of "
        f"{', '.join(swept) or 'the parameters'} × {n_seeds} seed{'s' * (n_seeds > 1)} "
        f"({', '.join(order)})."
    )
    frontier = frontier_figure(finals, order)
    colors = F.group_colors(order)
    curves = Figure(figsize=(11, 4), layout="constrained")
    metrics = ("machine_share", "effective_solutions")
    for ax, metric in zip(curves.subplots(1, 2), metrics, strict=True):
        b = bands(df, metric, smooth=5)
        for g in order:
            sub = b[b["group"] == g]
            ax.plot(sub["step"], sub["mean"], color=colors[g], lw=1.6, label=g)
            ax.fill_between(sub["step"], sub["low"], sub["high"], color=colors[g], alpha=0.15, lw=0)
        name, unit = F.LABELS[metric]
        ax.set_title(name)
        ax.set_ylabel(unit)
        ax.set_xlabel("step")
    curves.axes[0].set_ylim(-0.02, 1.02)
    curves.axes[0].legend(frameon=False, fontsize="small")
    return about, frontier, curves

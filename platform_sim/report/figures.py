"""The report's figures: matplotlib functions, each returning a Figure (Agg backend).

Colours are fixed per metric (run reports) and per policy or swept value (sweep reports),
so the same thing has the same colour in every figure of a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from platform_sim.report.summary import THRESHOLDS  # noqa: E402

# fmt: off
plt.rcParams.update({
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "platform-sim",
    "axes.titleweight": "bold", "axes.titlelocation": "left",
})
METRIC_STYLE = {  # metric -> (name, unit, colour); the same in every figure of a report
    "machine_share": ("machine share", "share", "#c0392b"),
    "platform_share": ("platform share", "share", "#e67e22"),
    "effective_solutions": ("effective solutions", "effective number", "#1f77b4"),
    "vendi_score": ("Vendi score", "effective number", "#f28e2b"),
    "regional_distinctiveness": ("regional distinctiveness", "JS divergence, bits", "#2ca02c"),
    "gini": ("Gini of adoptions", "Gini, 0-1", "#8c564b"),
    "jaccard_homogenization": ("Jaccard homogenization", "Jaccard, 0-1", "#bcbd22"),
    "chat_dispersion": ("chat dispersion", "cosine distance", "#9467bd"),
    "chat_vendi": ("chat Vendi score", "effective number", "#f28e2b"),
    "mean_curiosity": ("mean curiosity", "level, 0-1", "#d62728"),
    "mean_trust": ("mean trust", "level, 0-1", "#1f77b4"),
    "novelty_rate": ("novelty rate", "share", "#2ca02c"),
    "success_rate": ("success rate", "share", "#2ca02c"),
    "regret": ("regret", "success probability", "#d62728"),
    "atypical_gap": ("atypical gap", "success probability", "#9467bd"),
    "outcome_homogenization": ("outcome homogenization", "ratio, 1 = independent", "#7f7f7f"),
    "platform_insight": ("platform insight", "accuracy", "#8c564b"),
}
GROUP_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                "#17becf", "#bcbd22"]
# fmt: on
LABELS = {m: (name, unit) for m, (name, unit, _) in METRIC_STYLE.items()}
COLORS = {m: color for m, (_, _, color) in METRIC_STYLE.items()}


class Family(NamedTuple):
    """One panel of the collapse curves: metrics on the left axis (and optionally right)."""

    key: str
    title: str
    left: list[str]
    ylabel: str
    log: bool = False
    right: list[str] = []
    rlabel: str = ""


FAMILIES = [
    Family("adoption", "Adoption: machine logic takes over",
           ["machine_share", "platform_share"], "share"),
    Family("diversity", "Diversity of adopted solutions", ["effective_solutions"],
           "effective solutions (log)", True, ["vendi_score"], "Vendi score (effective number)"),
    Family("culture", "Culture: regions and neighbours become alike",
           ["regional_distinctiveness", "gini", "jaccard_homogenization"], "bits / index, 0-1"),
    Family("language", "Language of the chats", ["chat_dispersion"], "cosine distance",
           right=["chat_vendi"], rlabel="effective number"),
    Family("people", "People: curiosity, trust, invention",
           ["mean_curiosity", "mean_trust", "novelty_rate"], "level / share, 0-1"),
    Family("welfare", "Welfare and who pays for it", ["success_rate", "regret", "atypical_gap"],
           "success probability", right=["outcome_homogenization"],
           rlabel="ratio (1 = independent)"),
    Family("platform", "What the platform knows", ["platform_insight"], "accuracy"),
]  # fmt: skip
SPECIAL = {"none": "#7f7f7f", "ideal": "#111111"}


BOUNDED = {  # metrics in [0, 1]: bands are clipped to that range
    "machine_share",
    "platform_share",
    "novelty_rate",
    "success_rate",
    "mean_curiosity",
    "mean_trust",
    "gini",
    "jaccard_homogenization",
    "platform_insight",
}
STATE = {"mean_curiosity", "mean_trust"}  # smooth already: never smoothed


def log_y(ax, axis: str = "y") -> None:
    """A log axis (after plotting) labelled with plain numbers: 100, 200, 500, not 2x10^2;
    denser ticks when the data span less than a decade or two."""
    getattr(ax, f"set_{axis}scale")("log")
    lo, hi = getattr(ax, f"{axis}axis").get_data_interval()
    decades = np.log10(hi / lo) if lo > 0 and np.isfinite(hi / lo) else 3.0
    subs = (
        (1.0, 2.0, 3.0, 4.0, 5.0, 7.0)
        if decades < 1
        else (1.0, 2.0, 5.0)
        if decades < 2.5
        else (1.0,)
    )
    target = getattr(ax, f"{axis}axis")
    target.set_major_locator(LogLocator(subs=subs))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def muted(color: str, amount: float = 0.5) -> tuple[float, float, float]:
    """``color`` blended toward white: the control's version of a metric's colour."""
    return tuple(c + (1 - c) * amount for c in to_rgb(color))


def smooth(series: pd.Series, width: int = 5) -> pd.Series:
    """A centred rolling mean of ``width`` steps (fewer at the ends); NaN stays NaN."""
    return series.rolling(width, center=True, min_periods=1).mean().where(series.notna())


def policy_of(group: str) -> str | None:
    """The policy of a group label: ``"neighbors"`` or ``"policy=neighbors, x=1"``."""
    if "=" not in group:
        return group
    parts = dict(p.split("=", 1) for p in group.split(", ") if "=" in p)
    return parts.get("policy")


def group_colors(groups: list[str]) -> dict[str, str]:
    """One colour per group; a lone ``none`` is grey and a lone ``ideal`` black."""
    out, i = {}, 0
    for g in groups:
        if g.removeprefix("policy=") in SPECIAL:
            out[g] = SPECIAL[g.removeprefix("policy=")]
        else:
            out[g], i = GROUP_COLORS[i % len(GROUP_COLORS)], i + 1
    return out


def threshold_lines(ax, crossings: dict[str, float] | None = None) -> None:
    for name, y in THRESHOLDS.items():
        ax.axhline(y, color="#555", lw=0.8, ls=(0, (4, 3)), zorder=1)
        ax.text(
            0.005,
            y + 0.012,
            name.replace("_", " "),
            transform=ax.get_yaxis_transform(),
            fontsize=7.5,
            color="#333",
            va="bottom",
        )
    for name, step in (crossings or {}).items():
        if np.isfinite(step):
            ax.axvline(step, color="#555", lw=0.8, ls=":", zorder=1)
            ax.plot([step], [THRESHOLDS[name]], "o", ms=4, color="#333", zorder=4)
            ax.annotate(
                f"step {step:.0f}",
                (step, THRESHOLDS[name]),
                xytext=(-4, 4),
                textcoords="offset points",
                fontsize=8,
                color="#222",
                ha="right",
                va="bottom",
                bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.85},
            )


def _series(ax, steps, values, color, ls="-", label=None) -> Line2D:
    s = pd.Series(np.asarray(values, dtype=float))
    ax.plot(steps, s, color=color, lw=0.7, alpha=0.3, ls=ls)
    (line,) = ax.plot(steps, smooth(s), color=color, lw=1.6, ls=ls, label=label)
    return line


def run_curves(
    metrics: pd.DataFrame,
    control: pd.DataFrame | None,
    crossings: dict[str, float],
    policy: str,
    control_name: str | None,
) -> Figure:
    """One panel per metric family: the policy run solid, its control dashed and muted."""
    fig = plt.figure(figsize=(11, 15.5), layout="constrained")
    grid = fig.add_gridspec(4, 2)
    axes = [fig.add_subplot(grid[0, :])] + [
        fig.add_subplot(grid[1 + i // 2, i % 2]) for i in range(6)
    ]
    for ax, (key, title, left, ylabel, log, right, rlabel) in zip(axes, FAMILIES, strict=True):
        handles = []
        for metrics_on, axis in ((left, ax), (right, ax.twinx() if right else None)):
            for m in metrics_on:
                if control is not None and control[m].notna().any():
                    _series(axis, control["step"], control[m], muted(COLORS[m]), ls="--")
                label = LABELS[m][0] + (" (right axis)" if axis is not ax else "")
                handles.append(_series(axis, metrics["step"], metrics[m], COLORS[m], label=label))
            if axis is not None and axis is not ax:
                axis.set_ylabel(rlabel)
                axis.spines["right"].set_visible(True)
                if "outcome_homogenization" in right:  # a ratio around 1: keep 1 in view
                    lo, hi = axis.get_ylim()
                    axis.set_ylim(min(lo, 0.9), max(hi, 1.5))
        if log:
            log_y(ax)
        if key == "adoption":
            ax.set_ylim(-0.02, 1.02)
            threshold_lines(ax, crossings)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        styles = [Line2D([], [], color="#333", lw=1.6, label=f"{policy} (solid)")]
        if control is not None:
            styles.append(
                Line2D([], [], color="#999", lw=1.6, ls="--", label=f"{control_name} (dashed)")
            )
        items = handles + styles
        ax.legend(
            handles=items,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            frameon=False,
            ncol=len(items) if key == "adoption" else 3,
            columnspacing=1.2,
        )
    return fig


def maps_figure(df: pd.DataFrame) -> Figure:
    """Users' profiles at the snapshot steps: a row coloured by source, a row by region."""
    from platform_sim.maps import plot_map

    steps = sorted(df["step"].unique())
    fig, axes = plt.subplots(2, len(steps), figsize=(11, 7.6), layout="constrained", squeeze=False)
    for j, step in enumerate(steps):
        at = df[df["step"] == step]
        plot_map(axes[0, j], at, color_by="source", title=f"step {step}: by source")
        plot_map(axes[1, j], at, color_by="region", title=f"step {step}: by region")
    return fig


def feature_graph_figure(fg, seed: int = 0) -> Figure:
    """The platform's feature co-occurrence graph, coloured by community."""
    from platform_sim.featuregraph import plot_feature_graph

    fig, ax = plt.subplots(figsize=(9, 7), layout="constrained")
    plot_feature_graph(ax, fg, seed=seed)
    ax.set_aspect("equal", adjustable="box")
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    ax.set_xlim(x0 - 0.06 * (x1 - x0), x1 + 0.06 * (x1 - x0))  # room for the node labels
    ax.set_ylim(y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))
    return fig


def save(fig: Figure, directory: Path, name: str) -> Path:
    """Write ``name``.png (150 dpi) and ``name``.svg into ``directory``; return the PNG."""
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{name}.png"
    fig.savefig(png, dpi=150, metadata={"Software": None})
    fig.savefig(directory / f"{name}.svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return png

"""Sweep figures: curves with bands over seeds, small multiples, the policy frontier."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from platform_sim.report.figures import (
    BOUNDED,
    LABELS,
    THRESHOLDS,
    group_colors,
    log_y,
    plt,
    policy_of,
    threshold_lines,
)


def sweep_curves(df: pd.DataFrame, bands_of, order: list[str], metrics: list[str]) -> Figure:
    """One panel per metric (in family order): mean over seeds per group, 95% band."""
    colors = group_colors(order)
    ncols = 4
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.55 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    for ax, m in zip(axes, metrics, strict=False):
        b = bands_of(m)
        for g in order:
            sub = b[b["group"] == g]
            if not sub["mean"].notna().any():
                continue
            low, high = sub["low"], sub["high"]
            if m in BOUNDED:
                low, high = low.clip(0, 1), high.clip(0, 1)
            ax.plot(sub["step"], sub["mean"], color=colors[g], lw=1.4, label=g)
            ax.fill_between(sub["step"], low, high, color=colors[g], alpha=0.15, lw=0)
        if m == "effective_solutions":
            log_y(ax)
        if m in ("machine_share", "platform_share"):
            ax.set_ylim(-0.02, 1.08)
        if m == "machine_share":
            threshold_lines(ax)
        ax.set_title(LABELS[m][0])
        ax.set_ylabel(LABELS[m][1])
        ax.set_xlabel("step")
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=colors[g], lw=2, label=g) for g in order]
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(order), 6), frameon=False)
    return fig


def small_multiples(df: pd.DataFrame, order: list[str]) -> Figure:
    """One small panel per group: every seed (thin) and the mean (thick)."""
    colors = group_colors(order)
    n = len(order)
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(min(11, 2.4 * n + 1), 4.6),
        sharex=True,
        sharey="row",
        layout="constrained",
        squeeze=False,
    )
    for j, g in enumerate(order):
        sub = df[df["group"] == g]
        for i, m in enumerate(("machine_share", "effective_solutions")):
            ax = axes[i, j]
            for _, run in sub.groupby("run_id"):
                ax.plot(run["step"], run[m], color=colors[g], lw=0.7, alpha=0.35)
            mean = sub.groupby("step")[m].mean()
            ax.plot(mean.index, mean.values, color=colors[g], lw=1.8)
            if m == "machine_share":
                ax.set_ylim(-0.02, 1.02)
                for y in THRESHOLDS.values():
                    ax.axhline(y, color="#555", lw=0.7, ls=(0, (4, 3)))
                ax.set_title(g, color=colors[g])
            else:
                log_y(ax)
                ax.set_xlabel("step")
            if j == 0:
                ax.set_ylabel(f"{LABELS[m][0]}\n({LABELS[m][1]})")
    return fig


def frontier(finals: pd.DataFrame, order: list[str]) -> Figure:
    """Final effective solutions (x, log) vs final success rate (y), 95% intervals over seeds."""
    from platform_sim.report.sweep import t_interval

    colors = group_colors(order)
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    for g in order:
        sub = finals[finals["group"] == g]
        x, y = t_interval(sub["effective_solutions"]), t_interval(sub["success_rate"])
        xerr = [[x[0] - x[1]], [x[2] - x[0]]] if np.isfinite(x[1]) else None
        yerr = [[y[0] - y[1]], [y[2] - y[0]]] if np.isfinite(y[1]) else None
        marker = {"none": "s", "ideal": "*"}.get(policy_of(g), "o")
        ax.errorbar(
            x[0],
            y[0],
            xerr=xerr,
            yerr=yerr,
            fmt=marker,
            color=colors[g],
            ms=12 if marker == "*" else 8,
            capsize=3,
            lw=1.2,
            label=g,
        )
        ax.scatter(
            sub["effective_solutions"], sub["success_rate"], s=10, color=colors[g], alpha=0.35
        )
        if len(g) > 16:  # long labels (several swept parameters) would collide: legend only
            continue
        ax.annotate(
            g,
            (x[0], y[0]),
            xytext=(7, 6),
            textcoords="offset points",
            fontsize=8.5,
            color=colors[g],
        )
    log_y(ax, "x")
    ax.set_xlabel("final effective solutions (effective number, log): diversity")
    ax.set_ylabel("final success rate (share): welfare")
    ax.set_title("The policy frontier: diversity against welfare")
    ax.legend(frameon=False, loc="best", markerscale=0.8)
    ax.margins(x=0.15, y=0.12)
    return fig

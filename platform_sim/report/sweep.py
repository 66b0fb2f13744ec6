"""Sweep statistics: groups of runs (one per swept value), bands over seeds, finals.

A sweep directory holds ``results.parquet``: one row per run per step with ``run_id``,
the swept parameter columns, ``seed``, ``step`` and the metric columns. A *group* is one
combination of swept values; its runs differ only by seed. Intervals are 95% Student-t
intervals of the mean across seeds.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from platform_sim.measures import METRICS
from platform_sim.policies import POLICIES
from platform_sim.report.summary import THRESHOLDS, Quote, crossing_steps, fmt

RESERVED = {"run_id", "seed", "step", *METRICS}
POLICY_ORDER = ("none", *(p for p in POLICIES if p not in ("none", "ideal")), "ideal")


def load_results(directory: Path) -> tuple[pd.DataFrame, list[str]]:
    """``results.parquet`` with a ``group`` label column, and the swept parameter names."""
    df = pd.read_parquet(Path(directory) / "results.parquet")
    candidates = [c for c in df.columns if c not in RESERVED]
    swept = [c for c in candidates if df[c].nunique(dropna=False) > 1]
    if not swept:
        swept = [c for c in candidates if c == "policy"] or candidates[:1]
    if swept:
        key = df[swept].astype(str)
        df["group"] = (
            key[swept[0]]
            if len(swept) == 1
            else key.apply(lambda r: ", ".join(f"{c}={r[c]}" for c in swept), axis=1)
        )
    else:
        df["group"] = "all runs"
    return df.sort_values(["group", "seed", "step"]).reset_index(drop=True), swept


def group_order(df: pd.DataFrame) -> list[str]:
    """Groups in a stable order: by policy (none first, ideal last), then by swept values."""
    first = df.drop_duplicates("group")

    def key(row) -> tuple:
        pol = row.get("policy")
        rank = POLICY_ORDER.index(pol) if pol in POLICY_ORDER else len(POLICY_ORDER)
        return (rank, row["group"])

    return [r["group"] for _, r in sorted(first.iterrows(), key=lambda ir: key(ir[1]))]


def t_interval(values) -> tuple[float, float, float, int]:
    """Mean and 95% t-interval of finite ``values``: (mean, low, high, n)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    m = float(v.mean())
    if n == 1:
        return (m, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return (m, m - half, m + half, n)


def bands(df: pd.DataFrame, metric: str, smooth: int = 1) -> pd.DataFrame:
    """Per group and step: mean, low, high of ``metric`` across seeds (each run's series
    first smoothed by a centred rolling mean of ``smooth`` steps)."""
    values = df[metric]
    if smooth > 1:
        values = df.groupby("run_id", sort=False)[metric].transform(
            lambda s: s.rolling(smooth, center=True, min_periods=1).mean().where(s.notna())
        )
    rows = []
    frame = df[["group", "step"]].assign(v=values)
    for (group, step), sub in frame.groupby(["group", "step"], sort=True):
        m, lo, hi, n = t_interval(sub["v"])
        rows.append((group, step, m, lo, hi, n))
    return pd.DataFrame(rows, columns=["group", "step", "mean", "low", "high", "n"])


def run_finals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its final value of every metric (mean over its last 10% of steps)
    and its crossing steps."""
    from platform_sim.report.summary import final_steps

    rows = []
    for run_id, sub in df.groupby("run_id", sort=True):
        lo, hi = final_steps(sub)
        last = sub[sub["step"].between(lo, hi)]
        row = {"run_id": run_id, "group": sub["group"].iloc[0], "seed": sub["seed"].iloc[0]}
        row.update({m: float(last[m].mean()) for m in METRICS if m in sub})
        row.update({f"cross_{k}": v for k, v in crossing_steps(sub).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def group_finals(finals: pd.DataFrame, metric: str) -> dict[str, tuple[float, float, float, int]]:
    return {g: t_interval(sub[metric]) for g, sub in finals.groupby("group", sort=False)}


def representative_run(directory: Path, df: pd.DataFrame) -> Path | None:
    """The first seed of the ``neighbors`` policy if present, else the first run."""
    runs = df.drop_duplicates("run_id")
    if "policy" in runs and (runs["policy"] == "neighbors").any():
        runs = runs[runs["policy"] == "neighbors"]
    for run_id in runs.sort_values(["seed", "run_id"])["run_id"]:
        path = Path(directory) / "runs" / str(run_id)
        if (path / "metrics.parquet").is_file():
            return path
    return None


def _ci(metric: str, stat: tuple[float, float, float, int]) -> str:
    m, lo, hi, _ = stat
    if not np.isfinite(lo):
        return fmt(metric, m)
    return f"{fmt(metric, m)} (95% CI {fmt(metric, lo)} to {fmt(metric, hi)})"


def sweep_summary(directory: Path) -> dict:
    """The paragraph of a sweep and every number it quotes (what ``summary.json`` holds)."""
    df, swept = load_results(directory)
    finals = run_finals(df)
    order = group_order(df)
    quotes: list[Quote] = []
    n_seeds = int(df.groupby("group")["seed"].nunique().min())
    out = [
        f"{df['run_id'].nunique()} runs: {len(order)} settings of "
        f"{', '.join(swept) or 'the parameters'} x {n_seeds} seeds."
    ]
    stats_of = {m: group_finals(finals, m) for m in METRICS if m in finals}
    for g in order:
        sub = finals[finals["group"] == g]
        fin = {m: stats_of[m][g] for m in ("machine_share", "effective_solutions", "success_rate")}
        advised = sub["machine_share"].abs().sum() > 0
        for m, s in fin.items():
            if advised or m != "machine_share":
                quotes.append(Quote(f"{g}.{m}.final", m, g, "seedmean", (0, 0), s[0], fmt(m, s[0])))
        crossed = sub["cross_majority"].notna().sum()
        when = (
            f", crossing the majority line in {crossed} of {len(sub)} seeds "
            f"(mean step {fmt('crossing', t_interval(sub['cross_majority'])[0])})"
            if crossed
            else ""
        )
        share = (
            f"machine share ended at {_ci('machine_share', fin['machine_share'])}{when}; "
            if advised
            else "with no platform advice, "
        )
        eff = _ci("effective_solutions", fin["effective_solutions"])
        out.append(
            f"Under {g}, {share}people drew on {eff} effective solutions and solved "
            f"{fmt('success_rate', fin['success_rate'][0])} of their problems."
        )
    eff = stats_of.get("effective_solutions", {})
    bases = [g for g in order if g.removeprefix("policy=") == "none"]  # a lone none group
    base = bases[0] if len(bases) == 1 else None
    if base is not None and len(order) > 1:
        kept = [f"{g} {fmt('ratio', eff[g][0] / eff[base][0])}" for g in order if g != base]
        out.append(
            f"Share of the no-platform world's effective solutions that each setting keeps: "
            f"{'; '.join(kept)}."
        )
    out.append(
        "Final values are means over each run's last 10% of steps, then averaged over seeds "
        "with 95% Student-t intervals."
    )
    return {
        "kind": "sweep",
        "swept": swept,
        "groups": order,
        "thresholds": THRESHOLDS,
        "paragraph": " ".join(out),
        "quotes": [asdict(q) for q in quotes],
    }

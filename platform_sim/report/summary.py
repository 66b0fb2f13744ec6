"""The numbers a report quotes, and the paragraph that quotes them.

Every number in a summary paragraph is a :class:`Quote`: which metric, of which world
(policy or control), which statistic over which steps, the value and the text it is
printed as. ``summary.json`` keeps them so a reader (or a test) can check each one
against ``metrics.parquet``.

Conventions: the *start* of a per-step metric is its value at step 1; the start of a
windowed metric (see ``WINDOWED``) is its value at step ``window``, the first full window.
The *end* ("final") is the mean over the last 10% of steps (at least one step).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from platform_sim.measures import METRICS
from platform_sim.metrics import crossing_step

THRESHOLDS = {"majority": 0.5, "near_totality": 0.9}
WINDOWED = (  # metrics computed over a trailing window of adoptions (measures.py)
    "effective_solutions",
    "vendi_score",
    "gini",
    "regional_distinctiveness",
    "atypical_gap",
)
SHOWN = tuple(m for m in METRICS if m != "n_solutions")


@dataclass(frozen=True)
class Quote:
    """One number of the paragraph: ``value`` of ``stat`` of ``metric`` over ``steps``."""

    key: str
    metric: str
    world: str  # "policy" or "control"
    stat: str  # "value" (at steps[0]), "mean" (over steps[0]..steps[1]), "crossing", "ratio"
    steps: tuple[int, int]
    value: float
    text: str


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}


def window_of(directory: Path) -> int:
    """The adoption window (steps) of a run, from its manifest; 10 if unknown."""
    spec = read_json(Path(directory) / "manifest.json").get("spec", {})
    return int(spec.get("window", 10))


def final_steps(metrics: pd.DataFrame) -> tuple[int, int]:
    """First and last step of the "final" block: the last 10% of steps (at least one)."""
    last = int(metrics["step"].max())
    k = max(1, math.ceil(0.1 * last - 1e-9))
    return last - k + 1, last


def start_step(metric: str, window: int) -> int:
    return max(1, window) if metric in WINDOWED else 1


def first_value(metrics: pd.DataFrame, metric: str, nominal: int) -> tuple[int, float]:
    """The first finite value of ``metric`` at or after step ``nominal`` (or, in a run
    shorter than that, its last finite value): (step, value)."""
    s = metrics[["step", metric]].dropna()
    after = s[s["step"] >= nominal]
    s = after if len(after) else s.iloc[-1:]
    if s.empty:
        return nominal, float("nan")
    return int(s["step"].iloc[0]), float(s[metric].iloc[0])


def value_at(metrics: pd.DataFrame, metric: str, step: int) -> float:
    row = metrics.loc[metrics["step"] == step, metric]
    return float(row.iloc[0]) if len(row) else float("nan")


def mean_over(metrics: pd.DataFrame, metric: str, steps: tuple[int, int]) -> float:
    s = metrics.loc[metrics["step"].between(*steps), metric].astype(float)
    return float(s.mean()) if s.notna().any() else float("nan")


def crossing_steps(metrics: pd.DataFrame) -> dict[str, float]:
    """First step machine_share > 0.5 ("majority") and > 0.9 ("near_totality"); nan if never."""
    return {
        name: crossing_step(metrics["step"], metrics["machine_share"], t)
        for name, t in THRESHOLDS.items()
    }


def load_metrics(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A run's metrics and, if it has one, its control's."""
    directory = Path(directory)
    metrics = pd.read_parquet(directory / "metrics.parquet").sort_values("step")
    control_path = directory / "control" / "metrics.parquet"
    control = pd.read_parquet(control_path).sort_values("step") if control_path.is_file() else None
    return metrics.reset_index(drop=True), None if control is None else control.reset_index(
        drop=True
    )


def metric_table(
    metrics: pd.DataFrame, control: pd.DataFrame | None, window: int
) -> list[dict[str, object]]:
    """Start / middle / end of every metric, policy and control (rows for the report)."""
    fin = final_steps(metrics)
    mid = int(metrics["step"].max()) // 2
    rows = []
    for m in SHOWN:
        row: dict[str, object] = {"metric": m, "windowed": m in WINDOWED}
        for world, df in (("policy", metrics), ("control", control)):
            if df is None:
                continue
            row[world] = (
                first_value(df, m, start_step(m, window))[1],
                value_at(df, m, mid),
                mean_over(df, m, fin),
            )
        rows.append(row)
    return rows


# --- formatting ------------------------------------------------------------------------


def fmt(metric: str, value: float) -> str:
    """How a metric's value is printed in the paragraph and the tables."""
    if not np.isfinite(value):
        return "n/a"
    if metric in ("machine_share", "platform_share", "success_rate", "novelty_rate", "ratio"):
        return f"{100 * value:.1f}%"
    if metric in ("effective_solutions", "vendi_score", "chat_vendi", "n_solutions"):
        return f"{value:,.1f}"
    if metric in ("mean_curiosity", "mean_trust", "gini", "outcome_homogenization"):
        return f"{value:.2f}"
    if metric == "atypical_gap":
        return f"{value:+.3f}"
    if metric == "crossing":
        return f"{value:.0f}"
    return f"{value:.3f}"


class _Quoter:
    """Collects quotes of one run while the paragraph is written."""

    def __init__(self, metrics: pd.DataFrame, control: pd.DataFrame | None, window: int):
        self.frames = {"policy": metrics, "control": control}
        self.window, self.fin = window, final_steps(metrics)
        self.quotes: list[Quote] = []

    def _add(self, key, metric, world, stat, steps, value, kind=None) -> str:
        q = Quote(key, metric, world, stat, steps, value, fmt(kind or metric, value))
        self.quotes.append(q)
        return q.text

    def start(self, metric: str, world: str = "policy") -> str:
        s, v = first_value(self.frames[world], metric, start_step(metric, self.window))
        return self._add(f"{world}.{metric}.start", metric, world, "value", (s, s), v)

    def end(self, metric: str, world: str = "policy") -> str:
        v = mean_over(self.frames[world], metric, self.fin)
        return self._add(f"{world}.{metric}.final", metric, world, "mean", self.fin, v)

    def step_of(self, key: str) -> int:
        return next(q.steps[0] for q in self.quotes if q.key == key)

    def value(self, key: str) -> float:
        return next(q.value for q in self.quotes if q.key == key)


def _moved(a: float, b: float) -> str:
    return "rose" if b > a else "fell" if b < a else "stayed"


def run_summary(directory: Path) -> dict:
    """The paragraph of a run and every number it quotes (what ``summary.json`` holds)."""
    metrics, control = load_metrics(directory)
    window = window_of(directory)
    q = _Quoter(metrics, control, window)
    fin = q.fin
    ctrl = control is not None
    cross = crossing_steps(metrics)
    out = []

    ms0, ms1 = q.start("machine_share"), q.end("machine_share")
    steps = {}
    for name in THRESHOLDS:
        if np.isfinite(cross[name]):
            st = (int(cross[name]), int(cross[name]))
            steps[name] = q._add(
                f"policy.crossing.{name}",
                "machine_share",
                "policy",
                "crossing",
                st,
                cross[name],
                "crossing",
            )
    maj, tot = "the majority line (50%)", "the near-totality line (90%)"
    if "near_totality" in steps and "majority" in steps:
        arc = (
            f"crossing {maj} at step {steps['majority']} and {tot} at step {steps['near_totality']}"
        )
    elif "majority" in steps:
        arc = f"crossing {maj} at step {steps['majority']} but never {tot}"
    else:
        arc = f"never crossing {maj}"
    s0 = q.step_of("policy.machine_share.start")
    out.append(f"Machine share went from {ms0} at step {s0} to {ms1} at the end, {arc}.")
    eff = q.end("effective_solutions")
    if ctrl:
        effc = q.end("effective_solutions", "control")
        ratio = q.value("policy.effective_solutions.final") / q.value(
            "control.effective_solutions.final"
        )
        r = q._add(
            "ratio.effective_solutions",
            "effective_solutions",
            "policy",
            "ratio",
            fin,
            ratio,
            "ratio",
        )
        out.append(
            f"At the end, people drew on {eff} effective solutions against {effc} in the "
            f"world without the platform ({r}); the Vendi score of what they adopted was "
            f"{q.end('vendi_score')} against {q.end('vendi_score', 'control')}."
        )
    else:
        out.append(
            f"Effective solutions went from {q.start('effective_solutions')} at step "
            f"{q.step_of('policy.effective_solutions.start')} to {eff} at the end."
        )
    rd0, rd1 = q.start("regional_distinctiveness"), q.end("regional_distinctiveness")
    verb = _moved(*(q.value(f"policy.regional_distinctiveness.{k}") for k in ("start", "final")))
    rdc = f" (control: {q.end('regional_distinctiveness', 'control')})" if ctrl else ""
    out.append(
        f"Regional distinctiveness {verb} from {rd0} at step "
        f"{q.step_of('policy.regional_distinctiveness.start')} to {rd1}{rdc}."
    )
    c0, c1 = q.start("mean_curiosity"), q.end("mean_curiosity")
    verb = _moved(q.value("policy.mean_curiosity.start"), q.value("policy.mean_curiosity.final"))
    cc = f" (control: {q.end('mean_curiosity', 'control')})" if ctrl else ""
    s0 = q.step_of("policy.mean_curiosity.start")
    out.append(f"Mean curiosity {verb} from {c0} at step {s0} to {c1}{cc}.")
    reg, gap = q.end("regret"), q.end("atypical_gap")
    if ctrl:
        out.append(
            f"The cost: regret (success probability lost against each person's best solution) "
            f"ended at {reg} against {q.end('regret', 'control')} without the platform, and "
            f"the most atypical decile's success rate differed from everyone else's by {gap} "
            f"(control: {q.end('atypical_gap', 'control')})."
        )
    else:
        out.append(
            f"The cost: regret (success probability lost against each person's best solution) "
            f"ended at {reg}, and the most atypical decile's success rate differed from "
            f"everyone else's by {gap}."
        )
    out.append(
        f"End values are means over the last 10% of steps ({fin[0]}-{fin[1]}). "
        f"{_windowed_note(window, min(window, fin[1]))}"
    )
    return {
        "kind": "run",
        "final_steps": list(fin),
        "window": window,
        "crossings": cross,
        "paragraph": " ".join(out),
        "quotes": [asdict(x) for x in q.quotes],
    }


def _windowed_note(window: int, first: int) -> str:
    return (
        f"Effective solutions, Vendi score, Gini, regional distinctiveness and the atypical "
        f"gap pool the adoptions of a trailing window of {window} steps, so their start is "
        f"read at step {first}; the other metrics are per step."
    )


def summary_numbers(directory: Path) -> dict[str, float]:
    """The key numbers the paragraph of a run (or sweep) quotes, by key."""
    directory = Path(directory)
    if (directory / "results.parquet").is_file():
        from platform_sim.report.sweep import sweep_summary

        return {q["key"]: q["value"] for q in sweep_summary(directory)["quotes"]}
    return {q["key"]: q["value"] for q in run_summary(directory)["quotes"]}

"""Sweeps: a grid of world parameters x seeds, paired across policies, resumable.

A sweep spec (TOML) names a base world, a grid of values and the seeds::

    name = "policies"
    seeds = 5                        # or [1, 2, 3]
    executor = "local"               # or "dask"
    [base]                           # any WorldSpec keys
    n_users = 1500
    [grid]                           # WorldSpec keys -> lists; the full product is run
    policy = ["none", "neighbors"]

Runs that differ only in policy share their seed, hence their people, social graph and
problems (common random numbers), and are run next to each other. The sweep directory::

    OUT/sweep.toml              the resolved spec (a restart must match it)
    OUT/runs/<run_id>/          one run directory each (see runner.write_run); complete
                                only once its manifest.json, written last, is in place
    OUT/failed/<run_id>.txt     the traceback of a run that raised
    OUT/results.parquet         one row per run per step: run_id, params, seed, metrics
    OUT/summary.parquet         one row per run: status, wall time, final metrics, crossings

A restarted sweep runs only what is missing; results are rebuilt from the run directories.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from platform_sim.config import (
    SpecError,
    WorldSpec,
    describe_errors,
    dump_toml,
    make_spec,
    parse_overrides,
    with_defaults,
)
from platform_sim.config import read_toml as _read_toml
from platform_sim.executors import EXECUTORS, Outcome, Task, pending, read_manifest
from platform_sim.metrics import crossing_step

__all__ = [
    "Run", "SweepResult", "SweepSpec", "collect", "load_sweep", "make_sweep", "plan",
    "run_sweep", "seed_table", "sweep_command",
]  # fmt: skip

_RESERVED = {
    "seed": "seeds belong to the top-level `seeds` key",
    "control": "a sweep runs one world per run; add the control to grid.policy instead",
}
TABLE_METRICS = ("machine_share", "effective_solutions")


class SweepSpec(BaseModel):
    """A grid of WorldSpec values crossed with seeds; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="sweep name; the default output is sweeps/NAME")
    seeds: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, description="or N: 0..N-1")
    executor: Literal["local", "dask"] = "local"
    base: dict[str, Any] = Field(default_factory=dict, description="the base WorldSpec")
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="key -> values")

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_count(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            if v < 1:
                raise ValueError("seeds = N needs N >= 1")
            return list(range(v))
        if isinstance(v, list) and len({json.dumps(x) for x in v}) != len(v):
            raise ValueError(f"seeds has duplicates: {v}")
        return v

    @field_validator("base")
    @classmethod
    def _base_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v.keys() & _RESERVED.keys():
            raise ValueError(f"{key!r} is not allowed in base: {_RESERVED[key]}")
        return v

    @field_validator("grid")
    @classmethod
    def _grid_keys(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if key in _RESERVED:
                raise ValueError(f"{key!r} is not allowed in grid: {_RESERVED[key]}")
            if key not in WorldSpec.model_fields:
                valid = ", ".join(k for k in WorldSpec.model_fields if k not in _RESERVED)
                raise ValueError(f"unknown grid key {key!r}; valid keys: {valid}")
            if not values:
                raise ValueError(f"grid.{key} is empty: give at least one value")
            if len({json.dumps(x) for x in values}) != len(values):
                raise ValueError(f"grid.{key} has duplicate values: {values}")
        return v


@dataclass(frozen=True)
class Run:
    """One (grid cell, seed): its id, grid values (in grid-key order), seed and spec."""

    run_id: str
    params: dict[str, Any]
    seed: int
    spec: WorldSpec


def _base(sweep: SweepSpec, source: str) -> dict[str, Any]:
    """The resolved base WorldSpec values (defaults filled), without seed and grid keys."""
    values = {"name": sweep.name, **sweep.base}
    spec = make_spec(values, source=f"{source} [base]").model_dump()
    return {k: v for k, v in spec.items() if k not in sweep.grid and k not in _RESERVED}


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", str(value))


def plan(sweep: SweepSpec, source: str = "sweep") -> list[Run]:
    """Every run in order: seed-major, then the grid product with policy varying fastest.

    Each run's spec is validated with make_spec, so a bad grid value names its field.
    """
    base, keys = _base(sweep, source), list(sweep.grid)
    order = [k for k in keys if k != "policy"] + [k for k in keys if k == "policy"]
    runs: list[Run] = []
    for seed in sweep.seeds:
        for combo in itertools.product(*(sweep.grid[k] for k in order)):
            raw = dict(zip(order, combo, strict=True))
            label = ", ".join(f"{k}={v!r}" for k, v in raw.items()) or "base"
            spec = make_spec({**base, **raw, "seed": seed}, source=f"{source}, grid cell {label}")
            params = {k: getattr(spec, k) for k in keys}
            run_id = "__".join([*(f"{k}={_fmt(v)}" for k, v in params.items()), f"seed={seed}"])
            runs.append(Run(run_id, params, seed, spec))
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise SpecError(f"invalid sweep spec ({source}): two grid cells share the run id {dup}")
    return runs


def make_sweep(values: dict[str, Any], source: str = "sweep") -> SweepSpec:
    """Validate a plain dict into a SweepSpec (every run's spec too), or raise SpecError."""
    try:
        sweep = SweepSpec(**values)
    except ValidationError as e:
        raise SpecError(describe_errors(e, source, SweepSpec, "sweep spec")) from e
    plan(sweep, source)
    return sweep


def load_sweep(path: Path, overrides: list[str] | None = None) -> SweepSpec:
    """Read a sweep TOML and apply ``--set`` overrides (``seeds=2``, ``base.k=v``, ``k=v``)."""
    values = _read_toml(path)
    values.setdefault("name", Path(path).stem)
    for section in ("base", "grid"):
        if isinstance(values.setdefault(section, {}), dict):
            values[section] = dict(values[section])
    for key, value in parse_overrides(overrides or []).items():
        section, dot, rest = key.partition(".")
        if dot and section in ("base", "grid") and isinstance(values[section], dict):
            values[section][rest] = value
        elif key in ("name", "seeds", "executor"):
            values[key] = value
        else:
            values["base"][key] = value
    return make_sweep(values, source=str(path))


def resolved(sweep: SweepSpec) -> dict[str, Any]:
    """The sweep as written to sweep.toml: seeds listed, base with its defaults filled."""
    return {
        "name": sweep.name, "seeds": sweep.seeds, "executor": sweep.executor,
        "base": _base(sweep, "sweep"), "grid": {k: list(v) for k, v in sweep.grid.items()},
    }  # fmt: skip


def _toml(values: dict[str, Any]) -> str:
    top = {k: v for k, v in values.items() if not isinstance(v, dict)}
    parts = [dump_toml(top)]
    parts += [f"\n[{k}]\n{dump_toml(v)}" for k, v in values.items() if isinstance(v, dict)]
    return "".join(parts)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    def flat(d: dict[str, Any]) -> dict[str, Any]:
        return {
            f"{k}.{kk}" if isinstance(v, dict) else k: vv
            for k, v in d.items() if k != "executor"
            for kk, vv in (v.items() if isinstance(v, dict) else [(None, v)])
        }  # fmt: skip

    a, b = flat(old), flat(new)
    return [
        f"{k}: {a.get(k)!r} there, {b.get(k)!r} now" for k in {**a, **b} if a.get(k) != b.get(k)
    ]


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold OUT/.lock so two sweeps never write one directory (released even on SIGKILL)."""
    with open(out / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpecError(f"another sweep is running in {out}") from None
        yield


def _prepare(sweep: SweepSpec, out: Path) -> None:
    """Check OUT/sweep.toml against this sweep (or write it); raise SpecError on a difference."""
    spec_file, new = out / "sweep.toml", resolved(sweep)
    if spec_file.exists():
        old = _read_toml(spec_file)
        stored = old.get("base", {})
        old["base"] = {
            k: v for k, v in with_defaults(stored).items() if k in new["base"] or k in stored
        }
        diff = _differences(old, new)
        if diff:
            raise SpecError(f"{out} holds a different sweep:\n  " + "\n  ".join(diff))
        return
    if out.exists() and any(out.iterdir()):
        raise SpecError(f"{out} exists and is not a sweep directory (no sweep.toml)")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(spec_file, lambda p: p.write_text(_toml(new), encoding="utf-8"))


@dataclass
class SweepResult:
    """What a sweep did: run ids completed now, found complete, and failed (-> traceback)."""

    out: Path
    runs: list[Run]
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    summary: pd.DataFrame | None = None


def run_sweep(
    sweep: SweepSpec,
    out: Path,
    *,
    workers: int = 2,
    address: str | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> SweepResult:
    """Run what is missing of ``sweep`` into ``out``, then write results and summary.

    ``address`` (a Dask scheduler) implies the dask executor. ``on_plan(to_run, complete)``
    is called once before running, ``on_outcome`` after each run.
    """
    runs, out = plan(sweep), Path(out).resolve()
    _prepare(sweep, out)
    with _locked(out):
        tasks = [Task(r.run_id, r.spec.model_dump(), str(out / "runs")) for r in runs]
        todo = pending(tasks, out / "runs")
        result = SweepResult(out, runs, skipped=[t.run_id for t in tasks if t not in todo])
        for t in tasks:  # a failure is forgotten once its run is complete
            if t.run_id in result.skipped:
                (out / "failed" / f"{t.run_id}.txt").unlink(missing_ok=True)
        if on_plan is not None:
            on_plan(len(todo), len(result.skipped))
        executor = EXECUTORS["dask" if address else sweep.executor]
        for outcome in executor(todo, workers, address) if todo else ():
            failure = out / "failed" / f"{outcome.run_id}.txt"
            if outcome.error is None:
                result.done.append(outcome.run_id)
                failure.unlink(missing_ok=True)
            else:
                result.failed[outcome.run_id] = outcome.error
                failure.parent.mkdir(exist_ok=True)
                failure.write_text(f"run {outcome.run_id}\n\n{outcome.error}", encoding="utf-8")
            if on_outcome is not None:
                on_outcome(outcome)
        result.summary = collect(runs, out)[1]
    return result


def _final(metrics: pd.DataFrame) -> dict[str, float]:
    """Final value of each metric (mean over the last 10% of steps) and the crossings."""
    tail = metrics.iloc[-max(1, len(metrics) // 10) :]
    row = {c: float(tail[c].mean()) for c in metrics.columns if c != "step"}
    for threshold in (0.5, 0.9):
        row[f"machine_share_cross_{round(threshold * 100)}"] = crossing_step(
            metrics["step"].to_numpy(), metrics["machine_share"].to_numpy(), threshold
        )
    return row


def collect(runs: list[Run], out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rebuild results.parquet and summary.parquet (in run order) from the run directories."""
    frames, rows = [], []
    for r in runs:
        head = {"run_id": r.run_id, **r.params, "seed": r.seed}
        manifest = read_manifest(out / "runs" / r.run_id)
        if manifest is None:
            failed = (out / "failed" / f"{r.run_id}.txt").exists()
            rows.append({**head, "status": "failed" if failed else "missing"})
            continue
        metrics = pd.read_parquet(out / "runs" / r.run_id / "metrics.parquet")
        frames.append(metrics.assign(**head)[[*head, *metrics.columns]])
        rows.append({**head, "status": "done", "wall_seconds": manifest.get("wall_seconds")})
        rows[-1].update(_final(metrics))
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    summary = pd.DataFrame(rows)
    summary["wall_seconds"] = summary.get("wall_seconds", np.nan)
    for name, frame in (("results", results), ("summary", summary)):
        _atomic_write(out / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
    return results, summary


def seed_table(summary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per grid cell: n seeds, mean and 95% t-interval half-width of the table metrics."""
    from scipy import stats

    done = summary[summary["status"] == "done"]
    cols = [c for c in TABLE_METRICS if c in done]
    rows = []
    for cell, group in done.groupby(keys, sort=False) if keys else [((), done)]:
        row = dict(zip(keys, cell if isinstance(cell, tuple) else (cell,), strict=True))
        row["n"] = len(group)
        for c in cols:
            x = group[c].dropna().to_numpy()
            n = len(x)
            row[c] = x.mean() if n else math.nan
            t = stats.t.ppf(0.975, n - 1) if n > 1 else math.nan
            row[f"{c}_ci95"] = t * x.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _print_table(table: pd.DataFrame, keys: list[str]) -> None:
    from rich.table import Table

    from platform_sim.cli import console

    out = Table(title="final values across seeds (mean ± 95% t-interval)")
    for col in [*keys, "n", *TABLE_METRICS]:
        out.add_column(col, justify="left" if col in keys else "right")
    for _, row in table.iterrows():
        cells = [f"{row[c]:.3f}" for c in TABLE_METRICS]
        for i, half in enumerate(row[f"{c}_ci95"] for c in TABLE_METRICS):
            cells[i] += "" if pd.isna(half) else f" ± {half:.3f}"
        out.add_row(*[str(row[k]) for k in [*keys, "n"]], *cells)
    console.print(out)


def sweep_command(
    spec: Annotated[Path, typer.Argument(help="sweep spec (TOML), e.g. experiments/policies.toml")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override: --set n_users=200, base.steps=50, seeds=2"),
    ] = None,
    workers: Annotated[int, typer.Option(help="parallel worker processes (1: in-process)")] = 2,
    address: Annotated[
        str | None, typer.Option("--address", help="Dask scheduler, tcp://HOST:PORT")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="sweep directory, default sweeps/NAME")] = None,
) -> None:
    """Run a grid of worlds over seeds (paired across policies), resumably, in parallel."""
    import rich.progress as rp

    from platform_sim.cli import _fail, console, err

    try:
        sweep = load_sweep(spec, set_)
    except SpecError as e:
        _fail(str(e))
    out = out or Path("sweeps") / sweep.name
    columns = (
        rp.TextColumn("[bold]{task.description}"), rp.BarColumn(), rp.MofNCompleteColumn(),
        rp.TextColumn("failed {task.fields[failed]}"), rp.TimeElapsedColumn(),
        rp.TextColumn("left"), rp.TimeRemainingColumn(),
    )  # fmt: skip
    start = time.perf_counter()
    with rp.Progress(*columns, console=err) as progress:
        task = progress.add_task("runs", total=None, failed=0)

        def on_plan(todo: int, complete: int) -> None:
            if complete:
                err.print(f"{complete} runs already complete in {out}; running {todo}")
            progress.update(task, total=todo)

        def on_outcome(o: Outcome) -> None:
            failed = progress.tasks[0].fields["failed"] + (o.error is not None)
            progress.update(task, advance=1, failed=failed, description=o.run_id)

        try:
            result = run_sweep(
                sweep, out, workers=workers, address=address, on_plan=on_plan,
                on_outcome=on_outcome,
            )  # fmt: skip
        except SpecError as e:
            _fail(str(e))
        except KeyboardInterrupt:
            _fail(f"interrupted; rerun the same command to resume into {out}", code=130)
    assert result.summary is not None
    _print_table(seed_table(result.summary, list(sweep.grid)), list(sweep.grid))
    console.print(
        f"sweep written to [bold]{out}[/]: {len(result.done)} run now, "
        f"{len(result.skipped)} already complete, {time.perf_counter() - start:.0f} s"
    )
    try:
        from platform_sim.report import write_report
    except ImportError:
        pass
    else:
        write_report(out)
    if result.failed:
        for run_id, tb in result.failed.items():
            last = tb.strip().splitlines()[-1]
            err.print(f"[red]failed[/] {run_id}: {last} (see {out}/failed/{run_id}.txt)")
        _fail(f"{len(result.failed)} of {len(result.runs)} runs failed; rerun to retry them", 1)


if __name__ == "__main__":
    typer.run(sweep_command)

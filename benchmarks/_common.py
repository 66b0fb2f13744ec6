"""Shared helpers of the benchmark scripts: targets, results, and the machine's state.

Each script prints its measurements and, per target, one line
``RESULT {"target": ..., "value": ..., "limit": ..., "passed": ...}`` that ``run.py``
collects. Outputs go to ``$PLATFORM_SIM_BENCH`` (default: a directory under the system
temp dir), never into the repository.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(ROOT))


def out_dir() -> Path:
    path = Path(os.environ.get("PLATFORM_SIM_BENCH", Path(tempfile.gettempdir()) / "psim-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> str:
    """CPU count and load average: other work on the cores skews every wall time."""
    return f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} (1 min)"


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def result(target: str, value: float, limit: float, unit: str, higher_is_better: bool) -> dict:
    """Print and return one target's measurement and verdict."""
    passed = value >= limit if higher_is_better else value <= limit
    row = {
        "target": target,
        "value": round(float(value), 3),
        "limit": f"{'>=' if higher_is_better else '<='} {limit:g} {unit}".strip(),
        "unit": unit,
        "passed": bool(passed),
    }
    print(f"{target}: {value:,.3f} {unit} (target {row['limit']}) {'PASS' if passed else 'FAIL'}")
    print("RESULT " + json.dumps(row), flush=True)
    return row


class Stopwatch:
    """Wall and CPU seconds of a block: ``with Stopwatch() as t: ...; t.wall, t.cpu``."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def make_run(n_users: int, steps: int, name: str) -> Path:
    """A minilm-static run of that size under out_dir() (reused if already there)."""
    from platform_sim.config import make_spec
    from platform_sim.runner import run

    out = out_dir() / name
    if not (out / "profiles.npz").exists():
        spec = make_spec(
            dict(name=name, n_users=n_users, steps=steps, embedder="minilm-static", seed=0),
            source="benchmarks/",
        )
        run(spec, out)
    return out

"""A 100,000-person world for 100 steps with `minilm-static`, written to a run directory
by the runner (event log streamed to Parquet): wall time, peak memory (ru_maxrss), and
the step time at the end against the start (median of the last 5 steps / of the first
5) as the chat index grows to millions. Targets on 2 cores: under 15 minutes, under
8 GB, last steps <= 1.5x the first. Long: run it in the background and poll the log.

    nohup python benchmarks/scale.py > scale.log 2>&1 &
    python benchmarks/scale.py --quick
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time

import _common as C


def main(quick: bool = False) -> list[dict]:
    from platform_sim.config import make_spec
    from platform_sim.runner import run

    n_users, steps = (10_000, 10) if quick else (100_000, 100)
    spec = make_spec(
        dict(name="scale", n_users=n_users, steps=steps, embedder="minilm-static", seed=0),
        source="benchmarks/scale.py",
    )
    out = C.out_dir() / ("scale-quick" if quick else "scale")
    shutil.rmtree(out, ignore_errors=True)
    print(f"scale: {n_users:,} users x {steps} steps, minilm-static -> {out}; {C.machine()}")
    step_seconds: list[float] = []
    last: dict[str, float] = {}

    def on_step(world) -> None:
        phases = {k: v - last.get(k, 0.0) for k, v in world.timings.items()}
        last.update(world.timings)
        step_seconds.append(sum(phases.values()))
        space = world.platform.space
        print(
            f"  step {world.steps:3d}: {step_seconds[-1]:6.2f} s  {len(space):>10,} chats "
            f"({'ivf' if space.approximate else 'flat'})  rss {C.peak_rss_gb():.2f} GB  "
            f"load {os.getloadavg()[0]:.1f}  "
            + " ".join(f"{k} {v:.2f}" for k, v in phases.items()),
            flush=True,
        )

    start = time.perf_counter()
    run(spec, out, on_step=on_step)
    wall = time.perf_counter() - start
    head = statistics.median(step_seconds[:5])
    tail = statistics.median(step_seconds[-5:])
    print(f"  wall {wall:.0f} s (steps {sum(step_seconds):.0f} s); first steps {head:.2f} s, "
          f"last steps {tail:.2f} s")  # fmt: skip
    return [
        C.result(f"scale {n_users:,} x {steps}: wall time", wall / 60, 15, "min", False),
        C.result(f"scale {n_users:,} x {steps}: peak memory", C.peak_rss_gb(), 8, "GB", False),
        C.result(f"scale {n_users:,} x {steps}: last / first step", tail / head, 1.5, "x", False),
    ]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    main(p.parse_args().quick)

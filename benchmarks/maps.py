"""UMAP at scale: the map of a 100,000-person run (fitted on a 5,000-user sample,
every other profile transformed onto it, three snapshots) with
``platform_sim.maps.compute_maps(run_dir, seed=0, sample=5000)``, timed after
``maps.warm_up()`` (numba compiles UMAP's kernels once per process). Target: under a minute.
Uses the run of ``benchmarks/scale.py`` if it is there, else makes a 100,000 x 8 run.

    python benchmarks/maps.py [--quick] [--run RUN_DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common as C


def main(quick: bool = False, run_dir: Path | None = None) -> list[dict]:
    from platform_sim.maps import MAPS_FILE, compute_maps, warm_up

    n_users = 10_000 if quick else 100_000
    if run_dir is None:
        scale = C.out_dir() / ("scale-quick" if quick else "scale")
        ok = (scale / "profiles.npz").exists() and (scale / "events.parquet").exists()
        run_dir = scale if ok else C.make_run(n_users, 8, f"maps-{n_users}")
    with C.Stopwatch() as t_warm:
        warm_up()
    (Path(run_dir) / MAPS_FILE).unlink(missing_ok=True)
    print(f"maps: {run_dir}; warm-up {t_warm.wall:.1f} s; {C.machine()}")
    with C.Stopwatch() as t:
        df = compute_maps(Path(run_dir), seed=0, sample=5000)
    per_step = df.groupby("step").size().to_dict()
    print(f"  {len(df):,} points {per_step} in {t.wall:.1f} s wall ({t.cpu:.1f} s cpu)")
    return [C.result(f"maps of {df['user'].nunique():,} users", t.wall, 60, "s", False)]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--run", type=Path, default=None, help="a run directory to map")
    a = p.parse_args()
    main(a.quick, a.run)

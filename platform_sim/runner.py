"""Run a spec and write its run directory, atomically.

A run directory holds ``spec.toml`` (the resolved spec), ``metrics.parquet`` (one row per
step, t=0 included), ``events.parquet`` (every chat: channel, advice, adoption, outcome),
``population.parquet`` (one row per user), ``solutions.parquet`` (catalog and invented),
``profiles.npz`` (users' profile vectors at the first, middle and last step) and
``manifest.json`` (seed, versions, embedder, timings, git commit). With a ``control``
policy, the same world under that policy is written to ``control/`` inside it.
Everything is written to a temporary directory first and renamed into place at the end,
so a crash never leaves a half-written run behind.
"""

from __future__ import annotations

import json
import os
import platform as pyplatform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from platform_sim.config import WorldSpec, dump_toml
from platform_sim.embedding import Embedder, make_embedder
from platform_sim.world import World

PACKAGES = (
    "platform-sim", "numpy", "pandas", "pyarrow", "mesa", "networkx", "faiss-cpu", "torch",
    "sentence-transformers", "transformers", "model2vec", "pydantic",
)  # fmt: skip

StepCallback = Callable[[World], None]


class RunError(RuntimeError):
    """A run could not be started or written; the message says why."""


def simulate(
    spec: WorldSpec,
    embedder: Embedder | None = None,
    on_step: StepCallback | None = None,
    *,
    events: Path | None = None,
) -> World:
    """Build the world of ``spec`` and run it for ``spec.steps`` steps; ``events``: a
    Parquet path to stream the event log to instead of keeping it in memory."""
    world = World(spec, encoder=embedder, events=events)
    for _ in range(spec.steps):
        world.step()
        if on_step is not None:
            on_step(world)
    return world


def _versions() -> dict[str, str]:
    out = {"python": pyplatform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def write_run(world: World, directory: Path, wall_seconds: float) -> None:
    """Write a finished world's spec, metrics, events and manifest into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = world.spec
    (directory / "spec.toml").write_text(dump_toml(spec.model_dump()), encoding="utf-8")
    world.metrics_frame().to_parquet(directory / "metrics.parquet", index=False)
    events = directory / "events.parquet"
    if world.events.path is None:
        world.events_frame().to_parquet(events, index=False)
    else:  # streamed while the world ran
        world.events.close()
        if world.events.path.resolve() != events.resolve():
            shutil.copyfile(world.events.path, events)
    world.population_frame().to_parquet(directory / "population.parquet", index=False)
    world.solutions_frame().to_parquet(directory / "solutions.parquet", index=False)
    profiles = {}
    for step, (users, vectors) in world.snapshots.items():
        profiles[f"users_{step}"], profiles[f"vectors_{step}"] = users, vectors
    np.savez_compressed(
        directory / "profiles.npz", steps=np.array(sorted(world.snapshots)), **profiles
    )
    manifest = {
        "name": spec.name,
        "seed": spec.seed,
        "policy": spec.policy,
        "steps": spec.steps,
        "n_users": spec.n_users,
        "embedder": world.embedder.describe(),
        "wall_seconds": round(wall_seconds, 3),
        "step_seconds": {k: round(v, 3) for k, v in world.timings.items()},
        "versions": _versions(),
        "git_commit": _git_commit(),
        "command": sys.argv,
        "spec": spec.model_dump(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def run(
    spec: WorldSpec,
    out: Path,
    *,
    on_step: StepCallback | None = None,
    after: Callable[[Path], None] | None = None,
) -> Path:
    """Run ``spec`` (and its control) into the run directory ``out``; returns ``out``.

    ``after(tmp_dir)`` runs on the complete temporary directory before it is moved into
    place (the report is written there).
    """
    out = Path(out)
    if out.exists():
        raise RunError(f"output directory {out} already exists; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        embedder = make_embedder(spec.embedder, spec.precision)
        worlds = [("", spec)]
        if spec.control:
            control = spec.model_copy(
                update={"policy": spec.control, "control": None, "name": f"{spec.name}-control"}
            )
            worlds.append(("control", control))
        for sub, s in worlds:
            start = time.perf_counter()
            (tmp / sub).mkdir(parents=True, exist_ok=True)
            world = simulate(s, embedder, on_step, events=tmp / sub / "events.parquet")
            write_run(world, tmp / sub, time.perf_counter() - start)
            world.close()
        if after is not None:
            after(tmp)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out

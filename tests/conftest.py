"""Shared fixtures. Tests marked ``model`` load the real transformer (slow; run in CI);
deselect them locally with ``-m "not model"``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from platform_sim.embedding import Embedder, make_embedder


@pytest.fixture
def hashing_embedder() -> Embedder:
    """The deterministic, model-free test embedder (256 dims)."""
    return make_embedder("hashing")


def complete_runs(out: Path) -> int:
    """How many runs of the sweep in ``out`` are complete (have a manifest)."""
    return len(list((out / "runs").glob("*/manifest.json")))


def sigkill_sweep_after(spec: Path, out: Path, k: int, workers: int) -> int:
    """Start the sweep CLI, SIGKILL it once ``k`` runs are complete; returns how many were."""
    import psutil

    cmd = [sys.executable, "-m", "platform_sim.sweep", str(spec), "--workers", str(workers)]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    try:
        while not (out / "runs").is_dir() or complete_runs(out) < k:
            assert proc.poll() is None, f"sweep ended before run {k} (rc {proc.returncode})"
            assert time.monotonic() < deadline, f"run {k} never appeared"
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, "pool workers outlived the killed sweep"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return complete_runs(out)

"""Where a sweep's runs execute: in this process, on local processes, or on a Dask cluster.

Every executor follows one contract (:class:`Executor`): it takes the sweep's tasks in run
order and yields an :class:`Outcome` for each as it completes. All of them call the same
top-level worker function, :func:`run_task`, which runs one world with one thread (torch,
FAISS and numpy's BLAS: results are then bit-identical whatever the executor) and moves its
run directory into place atomically. The embedding model is loaded once per worker process
(``make_embedder`` is cached per process).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from platform_sim.config import make_spec, with_defaults
from platform_sim.embedding import make_embedder, set_threads
from platform_sim.models import prepare
from platform_sim.runner import simulate, write_run

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Task:
    """One run of a sweep: its id, its complete spec (plain values) and where it goes."""

    run_id: str
    spec: dict[str, Any]
    runs_dir: str


@dataclass(frozen=True)
class Outcome:
    """What became of a task: ``error`` holds the traceback text of a failed run."""

    run_id: str
    wall_seconds: float
    error: str | None = None


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The parsed manifest of a complete run directory, or None if it is not complete."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def pending(tasks: list[Task], runs_dir: Path) -> list[Task]:
    """The tasks whose run directory is not complete (a manifest of the same spec).

    Everything else under ``runs_dir`` (temp dirs, half-written or stale runs) is removed.
    """
    runs_dir.mkdir(parents=True, exist_ok=True)
    complete = set()
    for t in tasks:
        manifest = read_manifest(runs_dir / t.run_id)
        if manifest is not None and with_defaults(manifest.get("spec") or {}) == t.spec:
            complete.add(t.run_id)
    for entry in runs_dir.iterdir():
        if entry.name not in complete:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
    return [t for t in tasks if t.run_id not in complete]


def run_task(task: Task) -> Outcome:
    """Worker function: simulate one world into ``runs_dir/<run_id>``; never raises.

    The run is written to a temporary directory beside its final place and renamed when
    complete (its manifest is written last). If the final directory already holds a
    complete run (an orphaned worker of a killed sweep finished it), that one is kept.
    """
    start = time.perf_counter()
    final = Path(task.runs_dir) / task.run_id
    tmp = final.parent / f".{task.run_id}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        set_threads(1)
        spec = make_spec(task.spec, source=task.run_id)
        embedder = make_embedder(spec.embedder, spec.precision)  # loaded once per process
        sim_start = time.perf_counter()
        # numpy's BLAS too: its thread count moves eigenvalues (vendi) in the last bits
        with threadpool_limits(limits=1):
            world = simulate(spec, embedder)
        write_run(world, tmp, time.perf_counter() - sim_start)  # as runner.run: the simulation
        world.close()
        try:
            os.replace(tmp, final)
        except OSError:
            if read_manifest(final) is None:
                raise
        return Outcome(task.run_id, time.perf_counter() - start)
    except Exception:
        return Outcome(task.run_id, time.perf_counter() - start, traceback.format_exc())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


Executor = Callable[[list[Task], int, str | None], Iterator[Outcome]]
"""``executor(tasks, workers, address)`` yields one Outcome per task, in completion order."""


def in_process(
    tasks: list[Task], workers: int = 1, address: str | None = None
) -> Iterator[Outcome]:
    """Run every task here, one after the other (``--workers 1``: easy to debug)."""
    import faiss
    import torch

    threads = (torch.get_num_threads(), faiss.omp_get_max_threads())
    try:
        for task in tasks:
            yield run_task(task)
    finally:
        torch.set_num_threads(threads[0])
        faiss.omp_set_num_threads(threads[1])


def _init_worker(parent: int) -> None:
    """One thread each; exit when the sweep process dies (a pool's queued calls would
    otherwise keep an orphan working, then blocked, forever)."""
    set_threads(1)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _prepare_embedders(tasks: list[Task]) -> None:
    """Distil what the tasks' embedders need once, here, not in every worker at once."""
    for name in sorted({t.spec["embedder"] for t in tasks}):
        prepare(name)


def local_processes(
    tasks: list[Task], workers: int, address: str | None = None
) -> Iterator[Outcome]:
    """A spawn-context process pool of ``workers`` processes, one thread each."""
    if workers <= 1:
        yield from in_process(tasks)
        return
    _prepare_embedders(tasks)
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
    )
    try:
        running: dict[Future, Task] = {pool.submit(run_task, t): t for t in tasks}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                yield _result(fut, running.pop(fut))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(fut: Any, task: Task) -> Outcome:
    try:
        return fut.result()
    except Exception:  # the worker process died (BrokenProcessPool, a lost Dask worker)
        return Outcome(task.run_id, 0.0, traceback.format_exc())


def dask(tasks: list[Task], workers: int, address: str | None = None) -> Iterator[Outcome]:
    """A Dask cluster: the scheduler at ``address``, else a LocalCluster of processes.

    Workers of a remote cluster must see the sweep's output directory (shared filesystem).
    """
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        _prepare_embedders(tasks)
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.CRITICAL,
        )  # fmt: skip
    client = Client(address or cluster)
    futures: dict[Any, Task] = {}
    try:
        futures = {client.submit(run_task, t, pure=False): t for t in tasks}
        for fut in as_completed(futures):
            yield _result(fut, futures[fut])
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None:
            cluster.close()


EXECUTORS: dict[str, Executor] = {"local": local_processes, "dask": dask}

"""One visitor's session of the demo: a world (and its control), its run directory, its
map and feature graph, and the visitor's own chats with the platform.

The Gradio app (``ui/``) holds one :class:`Session` per browser session and calls only
this module and the report; nothing here imports Gradio. Steps, runs, maps and talks are
all delegated to ``World``, ``runner``, ``maps``, ``featuregraph`` and ``talk``; this
module only orders them, bounds them and keeps their results together.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from platform_sim.config import SpecError, WorldSpec, make_spec
from platform_sim.embedding import make_embedder
from platform_sim.runner import write_run
from platform_sim.talk import TalkError, TalkReply, talk
from platform_sim.world import World

MAX_USERS = 5000
MAX_STEPS = 300
MAX_TRANSFORMER_USERS = 1000  # the full transformer embeds every chat: keep its worlds small
SNAPSHOTS = 6
CURVES = ("machine_share", "effective_solutions")
CHAT_CHARS = 160  # chat text shown when hovering over a person on the map
WORLD, CONTROL = "with the platform", "without a platform"


class SessionError(ValueError):
    """Something a visitor asked for cannot be done now; the message says why and what to do."""


def make_ui_spec(values: dict[str, Any], embedders: tuple[str, ...]) -> WorldSpec:
    """The spec of a demo world, bounded for a shared laptop; SessionError says what is wrong."""
    n, steps, emb = values.get("n_users", 0), values.get("steps", 0), values.get("embedder")
    if not isinstance(n, int) or not 10 <= n <= MAX_USERS:
        raise SessionError(f"people must be a whole number from 10 to {MAX_USERS:,} (got {n!r})")
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise SessionError(f"steps must be a whole number from 1 to {MAX_STEPS} (got {steps!r})")
    if emb not in embedders:
        raise SessionError(f"unknown embedder {emb!r}; choose one of: {', '.join(embedders)}")
    if emb == "minilm" and n > MAX_TRANSFORMER_USERS:
        raise SessionError(
            f"the full transformer (minilm) is for small worlds of up to "
            f"{MAX_TRANSFORMER_USERS:,} people; use minilm-static for {n:,} people"
        )
    try:
        return make_spec({"name": "demo", "snapshots": SNAPSHOTS, **values}, source="the form")
    except SpecError as e:
        raise SessionError(str(e)) from e


@dataclass
class Talked:
    """One of the visitor's chats with the platform and where it landed on the map."""

    text: str
    reply: TalkReply
    xy: tuple[float, float] | None = None


@dataclass
class Session:
    """Everything one visitor has made: worlds, files, map, graph and chats."""

    world: World | None = None
    control: World | None = None
    run_dir: Path | None = None
    zip_path: Path | None = None
    report: Path | None = None
    talks: list[Talked] = field(default_factory=list)
    running: bool = False
    stopped: bool = False  # the last run was stopped before its last step
    started: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)
    stop: threading.Event = field(default_factory=threading.Event)
    _tmp: Path | None = None
    _maps: pd.DataFrame | None = None
    _placer: Any = None
    _graph: Any = None

    # ---------------------------------------------------------------- simulation

    def start(self, spec: WorldSpec) -> None:
        """Build a new world (and, with ``spec.control``, its twin), forgetting the old one."""
        if self.running:
            raise SessionError("a simulation is already running: stop it first")
        encoder = make_embedder(spec.embedder, spec.precision)
        world = World(spec, encoder=encoder)
        control = None
        if spec.control and spec.control != spec.policy:
            twin = {"policy": spec.control, "control": None, "name": f"{spec.name}-control"}
            control = World(spec.model_copy(update=twin), encoder=encoder)
        with self.lock:
            self._forget_run()
            self.world, self.control, self.talks = world, control, []
            self.running, self.stopped, self.started = True, False, time.perf_counter()
            self.stop.clear()

    def steps(self) -> Iterator[int]:
        """Advance the world(s) one step at a time, yielding the step reached; stops early
        when ``stop`` is set. Each step holds the lock, so talks never see a half step."""
        world, control = self.world, self.control
        assert world is not None, "start a world first"
        try:
            while world.steps < world.spec.steps and not self.stop.is_set():
                with self.lock:
                    world.step()
                    if control is not None:
                        control.step()
                yield world.steps
        finally:
            self.running = False
            self.stopped = world.steps < world.spec.steps

    def finish(self) -> Path:
        """Write the run directory (the control in ``control/``) and its zip; returns the zip."""
        assert self.world is not None
        wall = time.perf_counter() - self.started
        with self.lock:
            self._forget_run()
            run = self._tmpdir() / f"run-{int(time.time() * 1000)}"
            for sub, w in (("", self.world), ("control", self.control)):
                if w is None:
                    continue
                if w.steps < w.spec.steps:  # stopped early: the run is what was simulated
                    w.spec = w.spec.model_copy(update={"steps": max(w.steps, 1)})
                write_run(w, run / sub, wall)
            self.run_dir = run
            self.zip_path = Path(shutil.make_archive(str(run), "zip", run.parent, run.name))
        return self.zip_path

    def curves(self, metrics: tuple[str, ...] = CURVES) -> pd.DataFrame:
        """Long frame of the curves so far: step, metric, value, world (NaN rows dropped)."""
        parts = []
        for label, w in ((WORLD, self.world), (CONTROL, self.control)):
            if w is None:
                continue
            df = w.metrics_frame()[["step", *metrics]]
            long = df.melt(id_vars="step", var_name="metric", value_name="value")
            parts.append(long.assign(world=label))
        if not parts:
            return pd.DataFrame(columns=["step", "metric", "value", "world"])
        out = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
        return out.astype({"step": "int64", "value": "float64"})

    # ---------------------------------------------------------------- map and graph

    def _need_run(self) -> Path:
        if self.running:
            raise SessionError("the simulation is still running: the map appears when it ends")
        if self.run_dir is None:
            raise SessionError("no world yet: run a simulation in the Simulate tab first")
        return self.run_dir

    def maps(self) -> pd.DataFrame:
        """Every snapshot's map with what hovering shows: markers, last chat, solution."""
        if self._maps is None:
            from platform_sim.maps import compute_maps

            run = self._need_run()
            df = compute_maps(run)
            self._maps = _describe_points(df, run, self.world)
        return self._maps

    def map_steps(self) -> list[int]:
        return sorted(int(s) for s in self.maps()["step"].unique())

    def feature_graph(self) -> Any:
        """The platform's feature co-occurrence graph of this run (built once)."""
        if self._graph is None:
            from platform_sim.featuregraph import build_feature_graph

            run = self._need_run()
            self._graph = build_feature_graph(
                pd.read_parquet(run / "events.parquet"),
                pd.read_parquet(run / "population.parquet"),
                seed=0,
            )
        return self._graph

    def write_report(self) -> Path:
        from platform_sim.report import write_report

        if self.report is None:
            self.report = write_report(self._need_run())
        return self.report

    def place(self, vector: np.ndarray) -> tuple[float, float]:
        """Where a chat vector (dim,) lands on this run's map (the map's own UMAP)."""
        if self._placer is None:
            from platform_sim import maps

            self.maps()
            self._placer = maps.run_placer(self._need_run())
        xy = self._placer.transform(np.ascontiguousarray(vector[None, :], dtype=np.float32))
        return float(xy[0, 0]), float(xy[0, 1])

    def place_talks(self) -> list[Talked]:
        """Place the visitor's chats that are not on the map yet (fits the map's UMAP once)."""
        self._need_run()
        for t in self.talks:
            if t.xy is None:
                t.xy = self.place(t.reply.vector)
        return self.talks

    # ---------------------------------------------------------------- talk

    def talk(self, text: str) -> Talked:
        """The platform's answer to the visitor's text, remembered in this session only.
        Placing it on the map is separate (:meth:`place_talks`): it may have to fit UMAP."""
        if self.world is None:
            raise SessionError("no world yet: run a simulation in the Simulate tab first")
        if self.world.steps == 0:
            raise SessionError("the world has not run a step yet: wait a moment")
        with self.lock:
            try:
                reply = talk(self.world, text)
            except TalkError as e:
                raise SessionError(str(e)) from e
        talked = Talked(text=text.strip(), reply=reply)
        self.talks.append(talked)
        return talked

    # ---------------------------------------------------------------- lifetime

    def _tmpdir(self) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="platform-sim-ui-"))
        return self._tmp

    def _forget_run(self) -> None:
        for path in (self.run_dir, self.zip_path):
            if path is not None:
                with contextlib.suppress(OSError):
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        self.run_dir = self.zip_path = self.report = None
        self._maps = self._placer = self._graph = None

    def close(self) -> None:
        """Stop any run and free the worlds and files (the session's temp directory)."""
        self.stop.set()
        with self.lock:
            for world in (self.world, self.control):
                if world is not None:
                    world.close()
            self.world = self.control = None
            self.talks = []
            self._forget_run()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None


def region_names() -> list[str]:
    """Names of every region a world can have, in order (for fixed map colours)."""
    from agents.content import load_people

    return [r.name for r in load_people().regions]


def close_session(session: Session | None) -> None:
    """For Gradio's State ``delete_callback``: tolerates sessions never created."""
    if session is not None:
        session.close()


def _describe_points(df: pd.DataFrame, run: Path, world: World | None) -> pd.DataFrame:
    """Add hover text to :func:`platform_sim.maps.compute_maps` rows: the person's markers
    (as the tale writes them, joined by x), their last chat up to that step, and the text and
    source of the solution they last adopted."""
    pop = pd.read_parquet(run / "population.parquet", columns=["user", "markers"])
    labels = {}
    if world is not None:
        labels = {m.id: m.label for m in world.people.markers}
    markers = pop.set_index("user")["markers"].map(
        lambda ms: " x ".join(labels.get(m, m) for m in ms)
    )
    sols = pd.read_parquet(run / "solutions.parquet", columns=["solution", "text"])
    sol_text = sols.set_index("solution")["text"]
    events = pd.read_parquet(run / "events.parquet", columns=["step", "chat_id", "user", "chat"])
    events = events.sort_values(["step", "chat_id"], kind="stable")
    ev_steps = events["step"].to_numpy()
    parts = []
    for step, at in df.groupby("step", sort=True):
        upto = events.iloc[: int(np.searchsorted(ev_steps, step, side="right"))]
        last = upto.drop_duplicates("user", keep="last").set_index("user")["chat"]
        chat = last.reindex(at["user"]).fillna("").to_numpy(object)
        parts.append(
            at.assign(
                markers=markers.reindex(at["user"]).fillna("").to_numpy(object),
                last_chat=[_clip(c, CHAT_CHARS) for c in chat],
                solution_text=[
                    _clip(str(sol_text.get(s, "")), 70) if s >= 0 else "(none yet)"
                    for s in at["solution"].tolist()
                ],
                source=np.where(at["machine"].to_numpy(bool), "the platform", "people"),
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else df


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def warm_up(embedder: str = "minilm-static") -> None:
    """Load the default embedder and compile UMAP's numba code (tens of seconds the first
    time in a process), so that the first visitor's run and map do not wait for them."""
    import warnings

    make_embedder(embedder).encode(["warming up"])
    import umap

    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, n_jobs=1)
        reducer.fit(x)
        reducer.transform(x[:4])

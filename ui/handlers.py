"""The demo's event handlers: what each button, slider and tab of ``ui.app`` does.

Every handler takes the visitor's :class:`platform_sim.session.Session` (``gr.State``) and
form values, and returns Gradio updates; the simulating is the session's.
"""

from __future__ import annotations

import html
import logging
import os
import time
from pathlib import Path
from typing import Any

import gradio as gr

from platform_sim.policies import POLICIES
from platform_sim.session import (
    Session,
    SessionError,
    make_ui_spec,
    region_names,
)
from platform_sim.talk import MAX_CHARS
from ui import plots

log = logging.getLogger(__name__)
EMBEDDERS_ENV = "PLATFORM_SIM_UI_EMBEDDERS"  # comma list; tests add `hashing`
DEFAULT_EMBEDDERS = ("minilm-static", "minilm")
UPDATE_EVERY = 0.3  # seconds between streamed updates of a running simulation
POLICY_ORDER = ("neighbors", "popular", "hierarchical", "diverse", "explore", "curious", "ideal")
MAP_COLOURS = plots.map_colours(region_names())
NO_WORLD = "<p>Run a simulation in the <b>Simulate</b> tab first.</p>"


def available_embedders() -> tuple[str, ...]:
    names = os.environ.get(EMBEDDERS_ENV, "")
    return tuple(n.strip() for n in names.split(",") if n.strip()) or DEFAULT_EMBEDDERS


def policy_choices() -> list[tuple[str, str]]:
    from platform_sim.report.build import describe_policy

    names = [p for p in POLICY_ORDER if p in POLICIES] + [
        p for p in POLICIES if p not in POLICY_ORDER
    ]
    out = []
    for p in names:
        short = describe_policy(p).split(".")[0]
        out.append((f"{p}: {short}", p))
    return out


def _whole(value: Any, what: str) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise SessionError(f"{what} must be a whole number (got {value!r})") from None
    if not f.is_integer():
        raise SessionError(f"{what} must be a whole number (got {value!r})")
    return int(f)


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SessionError(f"{what} must be a number (got {value!r})") from None


# ------------------------------------------------------------------------- 1. simulate


def _plots(session: Session, steps: int) -> tuple[gr.LinePlot, gr.LinePlot]:
    """Both curve plots, with props (title, x range, legend) that change with each run so
    that the chart is rebuilt for it (see ``ui.plots`` on Gradio's colour domains)."""
    curves = session.curves()
    worlds = [w for w in plots.CURVE_COLOURS if w in set(curves["world"])]
    w = session.world
    about = f"policy {w.spec.policy}" if w is not None else ""
    out = []
    for metric, title in (("machine_share", "Machine share"), ("effective_solutions", "Diversity")):
        out.append(
            gr.LinePlot(
                value=plots.curves_value(curves, metric),
                colors_in_legend=worlds,
                x_lim=[0, steps],
                title=f"{title} · {about}",
            )
        )
    return out[0], out[1]


def _status(session: Session, done: bool = False) -> str:
    w = session.world
    if w is None:
        return ""
    step, total = w.steps, w.spec.steps
    elapsed = time.perf_counter() - session.started
    m = w.measures
    share, eff = m["machine_share"], m["effective_solutions"]
    parts = [f"{w.spec.n_users:,} people", f"policy **{w.spec.policy}**"]
    if step:
        parts.append(f"machine share **{share:.0%}**")
    if eff == eff:  # not NaN
        parts.append(f"**{eff:,.0f}** effective solutions")
    if session.control is not None and session.control.steps:
        ce = session.control.measures["effective_solutions"]
        if ce == ce:
            parts.append(f"{ce:,.0f} without a platform")
    line = " · ".join(parts)
    if done:
        head = f"**Finished: {step} steps in {elapsed:.0f} s.**"
        if session.stopped:
            head = f"**Stopped at step {step}** ({elapsed:.0f} s); the run so far is kept."
        return (
            f"{head} {line}.  \nThe run is saved below. Next: the **Map**, the **Feature "
            "graph**, or **Talk to the platform** yourself."
        )
    eta = ""
    if step:
        eta = f", about {elapsed / step * (total - step):.0f} s left"
    return f"**Step {step} of {total}** ({elapsed:.0f} s{eta}) · {line}"


def run_simulation(
    n_users, steps, policy, regional, individual, erosion, seed, embedder, compare, session
):
    """Build a world from the form and stream its curves while it runs (a generator)."""
    session = session if isinstance(session, Session) else Session()
    keep = (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
    try:
        values = {
            "n_users": _whole(n_users, "people"),
            "steps": _whole(steps, "steps"),
            "policy": str(policy),
            "efficacy_regional": _number(regional, "regional efficacy"),
            "efficacy_individual": _number(individual, "individual efficacy"),
            "curiosity_erosion": _number(erosion, "curiosity erosion"),
            "seed": _whole(seed, "seed"),
            "embedder": str(embedder),
            "control": "none" if compare and policy != "none" else None,
        }
        spec = make_ui_spec(values, available_embedders())
        yield session, "Loading the world…", *keep
        session.start(spec)
    except SessionError as e:
        gr.Warning(str(e))
        yield session, f"**Cannot run:** {e}", *keep
        return
    no_files = (None, gr.Button(interactive=False), None)
    yield session, _status(session), gr.skip(), gr.skip(), *no_files
    last = 0.0
    for step in session.steps():
        now = time.perf_counter()
        if now - last >= UPDATE_EVERY or step == spec.steps:
            last = now
            yield session, _status(session), *_plots(session, spec.steps), *no_files
    yield session, _status(session) + " Writing the run…", *keep
    zip_path = session.finish()
    yield (
        session, _status(session, done=True), *_plots(session, spec.steps),
        str(zip_path), gr.Button(interactive=True), None,
    )  # fmt: skip


def stop_simulation(session):
    if isinstance(session, Session) and session.running:
        session.stop.set()
        return "Stopping after this step…"
    return gr.skip()


def build_report(session):
    if not isinstance(session, Session):
        raise gr.Error("Run a simulation first.")
    try:
        return str(session.write_report())
    except SessionError as e:
        raise gr.Error(str(e)) from None


# ------------------------------------------------------------------------- 2. map


def show_map(step, color_by, session):
    """The map at the snapshot nearest ``step``, coloured by ``color_by``, and its legend.

    Only the plot's data changes (its props never do): Gradio redraws a native plot whose
    props and data change together from a race, and may keep the old data."""
    if not isinstance(session, Session):
        return gr.skip(), gr.skip(), NO_WORLD
    try:
        maps, steps = session.maps(), session.map_steps()
        if any(t.xy is None for t in session.talks):
            session.place_talks()
    except SessionError as e:
        return gr.skip(), gr.skip(), f"<p>{html.escape(str(e))}</p>"
    want = _whole(step, "step") if step is not None else steps[-1]
    at_step = min(steps, key=lambda s: (abs(s - want), -s))
    at = maps[maps["step"] == at_step]
    points, legend = plots.map_points(at, color_by, session.talks, MAP_COLOURS)
    slider = gr.Slider(minimum=steps[0], maximum=steps[-1], value=at_step, step=1)
    snaps = ", ".join(str(s) for s in steps)
    note = (
        f"<p>The platform's map of <b>{len(at):,} people at step {at_step}</b> (snapshots at "
        f"steps {snaps}). Each dot is one person who has written to the platform; hover over "
        "one to read their markers and last chat.</p>"
        + plots.legend_html(legend, MAP_COLOURS, plots.COLOR_BY.get(color_by, color_by))
    )
    return slider, points, note


# ------------------------------------------------------------------------- 3. feature graph


def show_graph(session):
    if not isinstance(session, Session):
        return None, "Run a simulation in the **Simulate** tab first."
    try:
        fg = session.feature_graph()
    except SessionError as e:
        return None, str(e)
    g = fg.graph
    sentence = (
        f"From chats alone, the platform found **{g.number_of_nodes()} features** in "
        f"**{len(fg.communities)} communities**. They recover **{fg.ami:.2f}** of the "
        f"structure of people's hidden marker archetypes and **{fg.ami_region:.2f}** of "
        "their regions (adjusted mutual information: 0 = chance, 1 = identical): it sees "
        "people as clusters of psychological markers."
    )
    return plots.graph_figure(fg), sentence


# ------------------------------------------------------------------------- 4. talk


def _history(session: Session | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for t in session.talks if isinstance(session, Session) else []:
        out.append({"role": "user", "content": t.text})
        out.append({"role": "assistant", "content": t.reply.text})
    return out


def _details(session: Session | None) -> str:
    """What the platform saw in the visitor's last chat: counts, domain, neighbour, answers."""
    if not isinstance(session, Session) or not session.talks:
        return ""
    t, w = session.talks[-1], session.world
    r = t.reply
    region = w.population_frame().loc[r.nearest_user, "region_name"] if w is not None else "?"
    ranked = "\n".join(f"{i}. {s}" for i, s in enumerate(r.solutions, 1)) or "(none)"
    out = (
        f"**{r.n_same:,}** people share your problems · **{r.n_solved:,}** solved them "
        f"through dialogue with the platform · it placed your problem in **{r.domain}** and "
        f"treats you like person #{r.nearest_user} ({region}), under policy "
        f"**{w.spec.policy if w else '?'}**.\n\nIts ranked solutions:\n{ranked}"
    )
    if session.run_dir is None:
        out += "\n\n*(You appear on the map once the simulation has finished.)*"
    return out


def _talk_figure(session: Session | None):
    """The last map with the visitor's chats as stars, or None if they are not placed."""
    if not isinstance(session, Session) or not any(t.xy for t in session.talks):
        return None
    maps = session.maps()
    at = maps[maps["step"] == maps["step"].max()]
    return plots.talk_figure(at, session.talks, session.world.spec.n_users)


def talk_to_platform(text, session):
    """The platform's answer (fast); placing the visitor on the map follows in ``place``."""
    if len(text or "") > MAX_CHARS:
        msg = f"Your text is {len(text):,} characters; the platform reads at most {MAX_CHARS:,}."
        gr.Warning(msg)
        return session, gr.skip(), f"**Not sent:** {msg}", gr.skip()
    if not isinstance(session, Session):
        msg = "There is no world yet: run a simulation in the **Simulate** tab first."
        return session, [], msg, gr.skip()
    try:
        session.talk(text or "")
    except SessionError as e:
        gr.Warning(str(e))
        return session, _history(session), f"**Not sent:** {e}", gr.skip()
    return session, _history(session), _details(session), ""


def place_visitor(session):
    """Put the visitor's chats on the map of the finished run (fits the map's UMAP once)."""
    if not isinstance(session, Session) or not session.talks or session.run_dir is None:
        return gr.skip()
    try:
        session.place_talks()
        return _talk_figure(session)
    except SessionError:
        return gr.skip()


def talk_history(session):
    """This session's chats with the platform (what the Talk tab shows when opened)."""
    return _history(session), _details(session), _talk_figure(session)


# ------------------------------------------------------------------------- 5. compare


def compare_policies(path):
    directory = Path(str(path or "").strip()).expanduser()
    if not str(path or "").strip():
        return "Enter the path of a sweep directory.", None, None
    if not (directory / "results.parquet").is_file():
        msg = (
            f"`{directory}` is not a sweep directory (it has no results.parquet). Make one "
            "with `platform-sim sweep SPEC`, e.g. `platform-sim sweep experiments/policies.toml`."
        )
        return msg, None, None
    try:
        about, frontier, curves = plots.sweep_figures(directory)
    except Exception as e:  # a visitor's path: say what went wrong, never a stack trace
        log.exception("cannot draw the sweep in %s", directory)
        return f"Cannot read the sweep in `{directory}`: {e}", None, None
    return about, frontier, curves


def found_sweeps() -> list[str]:
    roots = [Path.cwd() / "sweeps", Path.cwd()]
    found = []
    for root in roots:
        if root.is_dir():
            found += [str(p.parent) for p in sorted(root.glob("*/results.parquet"))]
    return list(dict.fromkeys(found))

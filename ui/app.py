"""The demo: a Gradio app to put the simulation in front of a room.

``platform-sim ui`` (or ``python -c "from ui.app import main; main()"``) serves it on
127.0.0.1. Five tabs: run a world and watch the collapse curves grow, look at the
platform's map of its users and its feature graph, talk to the platform yourself, and
compare policies from a sweep. Each browser session has its own world
(:class:`platform_sim.session.Session` in a ``gr.State``); nothing here simulates.
"""

from __future__ import annotations

import html
import logging
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import gradio as gr
import typer

from platform_sim.policies import POLICIES
from platform_sim.session import (
    MAX_STEPS,
    MAX_USERS,
    Session,
    SessionError,
    close_session,
    make_ui_spec,
    region_names,
    warm_up,
)
from platform_sim.talk import MAX_CHARS
from ui import plots

log = logging.getLogger(__name__)
EMBEDDERS_ENV = "PLATFORM_SIM_UI_EMBEDDERS"  # comma list; tests add `hashing`
DEFAULT_EMBEDDERS = ("minilm-static", "minilm")
SESSION_TTL = 3 * 3600  # seconds a session's world outlives its last use
UPDATE_EVERY = 0.3  # seconds between streamed updates of a running simulation
POLICY_ORDER = ("neighbors", "popular", "hierarchical", "diverse", "explore", "curious", "ideal")
EXAMPLES = [
    "I keep buying far more food than I can eat and then it rots in the fridge. I feel guilty "
    "and I can't stop.",
    "I lie awake at night thinking about dying before I have achieved anything at work, and "
    "I compare myself with everyone.",
    "My partner and I argue about money every week and I don't know how to talk about it.",
]
MAP_COLOURS = plots.map_colours(region_names())
NO_WORLD = "<p>Run a simulation in the <b>Simulate</b> tab first.</p>"
CSS = """
.gradio-container {max-width: 1280px !important}
#intro p {font-size: 1.02em}
#status {min-height: 3.2em}
.note {color: var(--body-text-color-subdued); font-size: 0.92em}
"""


def _embedders() -> tuple[str, ...]:
    names = os.environ.get(EMBEDDERS_ENV, "")
    return tuple(n.strip() for n in names.split(",") if n.strip()) or DEFAULT_EMBEDDERS


def _policy_choices() -> list[tuple[str, str]]:
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
        spec = make_ui_spec(values, _embedders())
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


def _found_sweeps() -> list[str]:
    roots = [Path.cwd() / "sweeps", Path.cwd()]
    found = []
    for root in roots:
        if root.is_dir():
            found += [str(p.parent) for p in sorted(root.glob("*/results.parquet"))]
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------------- the app


INTRO = """
# Seeing Like A Platform
*"Thousands of people are dealing with the same problems as you. Your problems have been
solved by hundreds of people through dialogue with me."* (Import AI 417, Tech Tales)

Simulated people bring their problems to a conversational platform, as chat text. The
platform sees everyone "in distribution" and answers with what worked for people like them.
Watch solutions that came from the machine go from a minority to a majority to a near
totality, and the variety of human solutions fall. **Start in Simulate**, then explore the
other tabs: they all show the world you ran (yours alone; other visitors have their own).
"""


def _simulate_tab(embedders: tuple[str, ...]) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            ui.n_users = gr.Slider(
                10, MAX_USERS, value=600, step=10, label="People",
                info=f"simulated people (up to {MAX_USERS:,})",
            )  # fmt: skip
            ui.steps = gr.Slider(
                1, MAX_STEPS, value=60, step=1, label="Steps",
                info="each step, about a quarter of them bring a problem",
            )  # fmt: skip
            ui.policy = gr.Dropdown(
                _policy_choices(), value="neighbors", label="Platform policy",
                info="how the platform chooses what to recommend",
            )  # fmt: skip
            ui.compare = gr.Checkbox(
                value=True, label="Also run the same people without a platform",
                info="a control world to compare with (about 1.5x the time)",
            )  # fmt: skip
            with gr.Row():
                ui.run = gr.Button("▶ Run", variant="primary")
                ui.stop = gr.Button("■ Stop", variant="stop")
            with gr.Accordion("What makes a solution work; curiosity; seed", open=True):
                ui.regional = gr.Slider(
                    0, 4, value=1.0, step=0.1, label="Regional efficacy",
                    info="how much success depends on one's region (culture)",
                )  # fmt: skip
                ui.individual = gr.Slider(
                    0, 4, value=1.5, step=0.1, label="Individual efficacy",
                    info="how much it depends on the person: what an average answer misses",
                )  # fmt: skip
                ui.erosion = gr.Slider(
                    0, 0.5, value=0.08, step=0.01, label="Curiosity erosion",
                    info="share of curiosity lost each time someone relies on the platform",
                )  # fmt: skip
                with gr.Row():
                    ui.seed = gr.Number(
                        0, precision=0, minimum=0, label="Seed", info="same seed, same people"
                    )
                    ui.embedder = gr.Radio(
                        list(embedders), value=embedders[0], label="Chat embedder",
                        info="minilm: the full transformer, for small worlds",
                    )  # fmt: skip
        with gr.Column(scale=2):
            ui.status = gr.Markdown(
                "Press **▶ Run**: the curves below grow while the world runs.", elem_id="status"
            )
            with gr.Row():
                ui.share_plot = gr.LinePlot(
                    x="step", y="value", color="world", y_lim=[0, 1], x_lim=[0, 60],
                    title="Machine share", x_title="step", color_title="world",
                    y_title="share from the platform", height=300,
                    color_map=plots.CURVE_COLOURS,
                )  # fmt: skip
                ui.div_plot = gr.LinePlot(
                    x="step", y="value", color="world", x_lim=[0, 60], title="Diversity",
                    x_title="step", y_title="effective number of solutions",
                    color_title="world", height=300, color_map=plots.CURVE_COLOURS,
                )  # fmt: skip
            gr.Markdown(
                "**Machine share**: of the solutions people adopted this step, the share that "
                "came from the platform (directly, or through a friend who got it there). "
                "**Diversity**: how many equally common solutions would give the same variety "
                "as the solutions adopted in the last 10 steps (exp of their Shannon entropy).",
                elem_classes="note",
            )
            with gr.Row():
                ui.zip = gr.File(label="The run directory (zip)", interactive=False)
                with gr.Column():
                    ui.report_btn = gr.Button(
                        "Build the report (maps, feature graph)", interactive=False
                    )
                    ui.report = gr.File(
                        label="report.html (download, then open)", interactive=False
                    )
    return ui


def _map_tab() -> SimpleNamespace:
    ui = SimpleNamespace()
    gr.Markdown(
        "How the platform sees its users: each person is placed by the mean embedding of "
        "their chats, flattened to 2-D (UMAP; one map for all steps). People who write about "
        "the same things sit together. Colour by **source** and move the step slider to "
        "watch the platform's colour spread."
    )
    with gr.Row():
        ui.color_by = gr.Radio(
            [(v, k) for k, v in plots.COLOR_BY.items()], value="source", label="Colour by",
            scale=2,
        )  # fmt: skip
        ui.step = gr.Slider(1, 60, value=60, step=1, label="Step", scale=2)
    ui.note = gr.HTML(NO_WORLD)
    ui.plot = gr.ScatterPlot(
        x="x", y="y", color="colour", height=560, x_title=" ", y_title=" ",
        tooltip=["person", "region", "markers", "chat", "solution", "source"],
        x_axis_labels_visible=False, color_map=MAP_COLOURS, colors_in_legend=[],
    )  # fmt: skip
    return ui


def _graph_tab() -> SimpleNamespace:
    ui = SimpleNamespace()
    gr.Markdown(
        '*"Each user appeared as a sea of semantic features, a thicket of psychological '
        'markers clustered into relationships with one another."* The platform clusters '
        "chats into **features** (nodes, sized by how many people show them); two features "
        "are linked when the same people have chats in both. Colours are communities of "
        "features; labels are the markers most over-represented among a feature's people."
    )
    ui.note = gr.Markdown("Run a simulation in the **Simulate** tab first.")
    ui.plot = gr.Plot(label="feature graph", format="png", show_label=False)
    return ui


def _talk_tab() -> SimpleNamespace:
    ui = SimpleNamespace()
    gr.Markdown(
        "Describe a problem of yours in a few sentences. The platform embeds your text like "
        "any of its users' chats, finds the people nearest to you in its feature space and "
        "answers as the tale's platform would, under the policy of the world you ran. Your "
        "words are not added to the world and no other visitor sees them; they are "
        "forgotten when you close the page."
    )
    with gr.Row():
        with gr.Column(scale=1):
            ui.chat = gr.Chatbot(label="You and the platform", height=330, feedback_options=None)
            ui.text = gr.Textbox(
                lines=3, max_length=MAX_CHARS, label="Your problem",
                placeholder="e.g. " + EXAMPLES[0], info=f"up to {MAX_CHARS:,} characters",
            )  # fmt: skip
            ui.ask = gr.Button("Ask the platform", variant="primary")
            gr.Examples(EXAMPLES, inputs=ui.text, label="Or try one of these")
        with gr.Column(scale=1):
            ui.details = gr.Markdown("")
            ui.plot = gr.Plot(label="where the platform places you", format="png", show_label=False)
    return ui


def _compare_tab() -> SimpleNamespace:
    ui = SimpleNamespace()
    gr.Markdown(
        "Load a **sweep** (`platform-sim sweep SPEC` runs the same worlds under several "
        "policies and seeds). The frontier shows what each policy keeps of the variety of "
        "solutions against how often people's problems get solved: `none` is the world "
        "without a platform, `ideal` the oracle."
    )
    found = _found_sweeps()
    with gr.Row():
        ui.path = gr.Dropdown(
            found, value=found[0] if found else None, allow_custom_value=True, scale=4,
            elem_id="sweep-dir",
            label="Sweep directory", info="pick one found under ./sweeps, or type a path",
        )  # fmt: skip
        ui.load = gr.Button("Load", variant="primary", scale=1)
    ui.note = gr.Markdown("")
    ui.frontier = gr.Plot(label="policy frontier", format="png", show_label=False)
    ui.curves = gr.Plot(label="curves per policy", format="png", show_label=False)
    return ui


def build_app() -> gr.Blocks:
    """The demo's Blocks (not launched). Embedders offered: ``$PLATFORM_SIM_UI_EMBEDDERS``."""
    with gr.Blocks(title="Seeing Like A Platform", delete_cache=(1800, 7200)) as demo:
        session = gr.State(None, time_to_live=SESSION_TTL, delete_callback=close_session)
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Tabs():
            with gr.Tab("1 · Simulate", id="simulate"):
                sim = _simulate_tab(_embedders())
            with gr.Tab("2 · Map", id="map") as map_tab:
                mp = _map_tab()
            with gr.Tab("3 · Feature graph", id="graph") as graph_tab:
                graph = _graph_tab()
            with gr.Tab("4 · Talk to the platform", id="talk") as talk_tab:
                talk = _talk_tab()
            with gr.Tab("5 · Compare policies", id="compare"):
                comp = _compare_tab()

        form = [sim.n_users, sim.steps, sim.policy, sim.regional, sim.individual, sim.erosion,
                sim.seed, sim.embedder, sim.compare, session]  # fmt: skip
        outputs = [session, sim.status, sim.share_plot, sim.div_plot, sim.zip, sim.report_btn,
                   sim.report]  # fmt: skip
        sim.run.click(
            run_simulation, form, outputs, api_name="simulate", concurrency_limit=2,
            concurrency_id="simulate",
        )  # fmt: skip
        sim.stop.click(stop_simulation, session, sim.status, api_name="stop", queue=False)
        sim.report_btn.click(build_report, session, sim.report, api_name="report",
                             concurrency_id="heavy")  # fmt: skip

        map_io = ([mp.step, mp.color_by, session], [mp.step, mp.plot, mp.note])
        map_tab.select(show_map, *map_io, api_name="map", concurrency_id="heavy")
        mp.color_by.change(show_map, *map_io, api_name=False, concurrency_id="heavy")
        mp.step.release(show_map, *map_io, api_name=False, concurrency_id="heavy")
        graph_tab.select(
            show_graph, session, [graph.plot, graph.note], api_name="graph", concurrency_id="heavy"
        )

        talk_io = ([talk.text, session], [session, talk.chat, talk.details, talk.text])
        for trigger, name in ((talk.ask.click, "talk"), (talk.text.submit, False)):
            trigger(talk_to_platform, *talk_io, api_name=name, concurrency_limit=4).then(
                place_visitor, session, talk.plot, api_name=False, concurrency_id="heavy"
            )
        talk_tab.select(
            talk_history, session, [talk.chat, talk.details, talk.plot], api_name="talk_history"
        )
        comp.load.click(
            compare_policies, comp.path, [comp.note, comp.frontier, comp.curves],
            api_name="compare",
        )  # fmt: skip
    return demo


def main(host: str = "127.0.0.1", port: int = 7860, share: bool = False, **launch: Any):
    """Serve the demo on ``host:port`` (a public share link only with ``share=True``)."""
    threading.Thread(target=warm_up, args=(_embedders()[0],), daemon=True).start()
    demo = build_app()
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo.launch(
        server_name=host, server_port=port, share=share, theme=gr.themes.Soft(),
        css=CSS, show_error=False, **launch,
    )  # fmt: skip


def ui_command(
    port: Annotated[int, typer.Option(help="port to serve the demo on (127.0.0.1)")] = 7860,
    share: Annotated[
        bool, typer.Option(help="also create a public gradio.live link (off by default)")
    ] = False,
) -> None:
    """Serve the demo app on 127.0.0.1: simulate, map, feature graph, talk, compare."""
    print(f"platform-sim demo on http://127.0.0.1:{port} (Ctrl+C to stop)")
    main(port=port, share=share)

"""The demo: a Gradio app to put the simulation in front of a room.

``platform-sim ui`` (or ``python -c "from ui.app import main; main()"``) serves it on
127.0.0.1. Five tabs: run a world and watch the collapse curves grow, look at the
platform's map of its users and its feature graph, talk to the platform yourself, and
compare policies from a sweep. Each browser session has its own world
(:class:`platform_sim.session.Session` in a ``gr.State``); nothing here simulates.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Annotated, Any

import gradio as gr
import typer

from platform_sim.session import (
    MAX_STEPS,
    MAX_USERS,
    close_session,
    warm_up,
)
from platform_sim.talk import MAX_CHARS
from ui import plots
from ui.handlers import (
    MAP_COLOURS,
    NO_WORLD,
    available_embedders,
    build_report,
    compare_policies,
    found_sweeps,
    place_visitor,
    policy_choices,
    run_simulation,
    show_graph,
    show_map,
    stop_simulation,
    talk_history,
    talk_to_platform,
)

SESSION_TTL = 3 * 3600  # seconds a session's world outlives its last use
EXAMPLES = [
    "I keep buying far more food than I can eat and then it rots in the fridge. I feel guilty "
    "and I can't stop.",
    "I lie awake at night thinking about dying before I have achieved anything at work, and "
    "I compare myself with everyone.",
    "My partner and I argue about money every week and I don't know how to talk about it.",
]
CSS = """
.gradio-container {max-width: 1280px !important}
#intro p {font-size: 1.02em}
#status {min-height: 3.2em}
.note {color: var(--body-text-color-subdued); font-size: 0.92em}
"""


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
                policy_choices(), value="neighbors", label="Platform policy",
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
    found = found_sweeps()
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
                sim = _simulate_tab(available_embedders())
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
    threading.Thread(target=warm_up, args=(available_embedders()[0],), daemon=True).start()
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

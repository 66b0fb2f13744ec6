"""The Gradio demo, driven through its API with gradio_client as a visitor's browser would.

One app is launched on a free local port for the module (with the `hashing` embedder made
available through PLATFORM_SIM_UI_EMBEDDERS, so worlds build in seconds) and closed at the
end. Each gradio_client.Client is its own browser session.
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pandas as pd
import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from platform_sim.session import Session, Talked, make_ui_spec  # noqa: E402
from platform_sim.talk import MAX_CHARS  # noqa: E402

FORM = {  # the Simulate form, in the order of the /simulate endpoint
    "n_users": 150,
    "steps": 5,
    "policy": "neighbors",
    "regional": 1.0,
    "individual": 1.5,
    "erosion": 0.08,
    "seed": 3,
    "embedder": "hashing",
    "compare": True,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url():
    mp = pytest.MonkeyPatch()
    mp.setenv("PLATFORM_SIM_UI_EMBEDDERS", "hashing,minilm-static")
    from ui.app import build_app

    demo = build_app()
    demo.queue()
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        mp.undo()


def _client(url: str):
    return gradio_client.Client(url, verbose=False)


def _simulate(client, **changes):
    form = {**FORM, **changes}
    job = client.submit(*form.values(), api_name="/simulate")
    return job, job.result(timeout=60)


@pytest.fixture(scope="module")
def visitor_a(url):
    """Client A after a finished run and one chat with the platform."""
    client = _client(url)
    job, final = _simulate(client)
    talk = client.predict("I keep buying food that rots in my fridge.", api_name="/talk")
    return client, job, final, talk


def test_simulation_streams_curves_and_writes_the_run(visitor_a):
    _, job, final, _ = visitor_a
    status, share, diversity, zip_path = final[:4]
    assert "Finished: 5 steps" in status
    assert len(job.outputs()) >= 3  # loading, the curves while running, finished
    for plot in (share, diversity):
        rows = pd.DataFrame(plot["value"]["data"], columns=plot["value"]["columns"])
        drawn = rows.dropna(subset=["step", "value"])
        assert set(drawn["world"]) == {"with the platform", "without a platform"}
        assert drawn["step"].max() == FORM["steps"]
    shares = [row for row in share["value"]["data"] if row[1] is not None]
    assert all(0.0 <= v <= 1.0 for _, v, _ in shares)
    assert str(zip_path).endswith(".zip")


def test_talk_answers_with_counts_and_ranked_solutions(visitor_a):
    _, _, _, (chat, details, text) = visitor_a
    assert text == ""  # the textbox is cleared
    assert [m["role"] for m in chat] == ["user", "assistant"]
    reply = chat[1]["content"][0]["text"]
    assert "people are dealing with the same problems as you" in reply
    assert "people share your problems" in details and "Its ranked solutions:\n1. " in details


def test_sessions_do_not_see_each_other(url, visitor_a):
    client_a = visitor_a[0]
    b = _client(url)
    chat, details, figure = b.predict(api_name="/talk_history")
    assert chat == [] and details == "" and figure is None
    _, details, _ = b.predict("hello", api_name="/talk")
    assert "no world yet" in details
    _, _, note = b.predict(60, "source", api_name="/map")
    assert "Run a simulation" in note
    chat_a, _, _ = client_a.predict(api_name="/talk_history")
    assert len(chat_a) == 2  # A still sees its own chat


def test_feature_graph_of_the_run(visitor_a):
    client = visitor_a[0]
    figure, sentence = client.predict(api_name="/graph")
    assert figure["type"] == "matplotlib"
    assert "features" in sentence and "adjusted mutual information" in sentence


def test_overlong_and_out_of_bounds_inputs_get_a_message(url, visitor_a):
    client = visitor_a[0]
    _, details, _ = client.predict("x" * (MAX_CHARS + 1), api_name="/talk")
    assert f"at most {MAX_CHARS:,}" in details
    b = _client(url)
    with pytest.raises(gradio_client.exceptions.AppError, match="maximum value 5000"):
        _simulate(b, n_users=6000)
    with pytest.raises(gradio_client.exceptions.AppError, match="not in the list of choices"):
        _simulate(b, embedder="not-an-embedder")


def test_stop_ends_the_run_early_and_keeps_it(url):
    client = _client(url)
    job = client.submit(*{**FORM, "steps": 300}.values(), api_name="/simulate")
    deadline = time.monotonic() + 30
    while not any("Step" in str(o[0]) for o in job.outputs()) and time.monotonic() < deadline:
        time.sleep(0.1)
    client.predict(api_name="/stop")
    status, *_, zip_path = job.result(timeout=30)[:4]
    assert "Stopped at step" in status
    assert str(zip_path).endswith(".zip")


def test_session_bounds_and_map_points(tmp_path):
    from ui import plots

    with pytest.raises(ValueError, match="10 to 5,000"):
        make_ui_spec({"n_users": 5001, "steps": 10, "embedder": "hashing"}, ("hashing",))
    with pytest.raises(ValueError, match="policy: unknown policy 'nope'"):  # a SpecError's text
        make_ui_spec(
            {"n_users": 50, "steps": 5, "embedder": "hashing", "policy": "nope"}, ("hashing",)
        )
    with pytest.raises(ValueError, match="small worlds"):
        make_ui_spec({"n_users": 2000, "steps": 10, "embedder": "minilm"}, ("minilm",))
    at = pd.DataFrame(
        {
            "step": 5, "user": [0, 1, 2], "x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5],
            "region": [0, 1, 0], "region_name": ["A", "B", "A"], "solution": [7, 7, 9],
            "markers": "m", "last_chat": "c", "solution_text": ["s7", "s7", "s9"],
            "source": ["people", "the platform", "the platform"],
        }
    )  # fmt: skip
    reply = type("R", (), {"solutions": ["try this"]})()
    you = Talked("my problem", reply, xy=(0.5, 0.5))  # type: ignore[arg-type]
    colours = plots.map_colours(["A", "B"])
    points, legend = plots.map_points(at, "solution", [you], colours)
    drawn = points.dropna(subset=["x"])
    assert list(drawn["colour"]) == [
        "#1 most adopted",
        "#1 most adopted",
        "#2 most adopted",
        "★ you",
    ]
    assert legend == ["#1 most adopted", "#2 most adopted", "other solutions", "★ you"]
    assert list(points["colour"][: len(colours)]) == list(colours)  # the full colour domain
    assert np.isnan(points["x"][: len(colours)]).all()


def test_closing_a_session_frees_its_files():
    session = Session()
    session.start(
        make_ui_spec({**{"n_users": 60, "steps": 2}, "embedder": "hashing"}, ("hashing",))
    )
    list(session.steps())
    zip_path = session.finish()
    assert zip_path.exists() and session.run_dir.is_dir()
    session.close()
    assert not zip_path.exists() and session.world is None

"""Load: 20 concurrent gradio_client visitors on loopback, each with its own small world and
one chat. All finish, none sees another's world, and the server's memory comes back down
once their sessions are closed. Runs in the default (CI) selection; ~1 minute."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import socket
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from platform_sim.session import WORLD, Session, make_ui_spec  # noqa: E402

N_CLIENTS = 20
FORM = {  # the /simulate endpoint's inputs, in order; no control world (compare=False)
    "n_users": 40,
    "steps": 3,
    "policy": "neighbors",
    "regional": 1.0,
    "individual": 1.5,
    "erosion": 0.08,
    "seed": 0,
    "embedder": "hashing",
    "compare": False,
}
TEXT = "I keep buying food that rots in my fridge and I feel guilty ({i})."


def _rss_mb() -> float:
    """This process's resident set (the app is served from it), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _trim() -> None:
    """Collect garbage and hand glibc's free heap pages back, so RSS reflects live memory."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app():
    mp = pytest.MonkeyPatch()
    mp.setenv("PLATFORM_SIM_UI_EMBEDDERS", "hashing")
    from ui.app import build_app

    demo = build_app()
    demo.queue(default_concurrency_limit=1, max_size=64)  # as ui.app.main
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        mp.undo()


def _visit(url: str, i: int) -> dict:
    client = gradio_client.Client(url, verbose=False)
    form = {**FORM, "seed": 100 + i}
    final = client.submit(*form.values(), api_name="/simulate").result(timeout=120)
    chat, details, _ = client.predict(TEXT.format(i=i), api_name="/talk")
    history, _, _ = client.predict(api_name="/talk_history")
    share = final[1]["value"]
    rows = pd.DataFrame(share["data"], columns=share["columns"]).dropna(subset=["step", "value"])
    return {
        "client": client,
        "status": final[0],
        "share": [
            (int(s), round(float(v), 9)) for s, v in zip(rows["step"], rows["value"], strict=True)
        ],
        "worlds": set(rows["world"]),
        "chat": chat,
        "details": details,
        "history": history,
    }


def _points(df: pd.DataFrame) -> list[tuple[int, float]]:
    return [(int(s), round(float(v), 9)) for s, v in zip(df["step"], df["value"], strict=True)]


def _expected(i: int) -> tuple[list[tuple[int, float]], str]:
    """The same visitor's world and chat, built here without the app."""
    session = Session()
    values = {  # as ui.handlers.run_simulation maps the form
        "n_users": FORM["n_users"], "steps": FORM["steps"], "policy": FORM["policy"],
        "efficacy_regional": FORM["regional"], "efficacy_individual": FORM["individual"],
        "curiosity_erosion": FORM["erosion"], "seed": 100 + i, "embedder": "hashing",
        "control": None,
    }  # fmt: skip
    session.start(make_ui_spec(values, ("hashing",)))
    list(session.steps())
    reply = session.talk(TEXT.format(i=i)).reply.text
    curves = session.curves()
    share = curves[curves["metric"] == "machine_share"]
    session.close()
    return [
        (int(s), round(float(v), 9)) for s, v in zip(share["step"], share["value"], strict=True)
    ], reply


@pytest.fixture(scope="module")
def load(app):
    """A warm-up visitor (imports, first world, first zip: not counted as growth), then
    the RSS baseline, then 20 concurrent visitors; RSS sampled throughout."""
    demo, url = app
    warm = _visit(url, -1)
    demo.state_holder.delete_state(warm["client"].session_hash)
    warm["client"].close()
    del warm
    _trim()
    rss = {"before": _rss_mb()}
    rss["peak"] = rss["before"]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            rss["peak"] = max(rss["peak"], _rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(N_CLIENTS) as pool:
            visits = list(pool.map(lambda i: _visit(url, i), range(N_CLIENTS)))
    finally:
        sampling.set()
        sampler.join()
    rss["peak"] = max(rss["peak"], _rss_mb())
    wall = time.perf_counter() - t0
    sid = _state_id(demo)
    server = []  # what each server-side session held, read at the peak
    for v in visits:
        assert v["client"].session_hash in demo.state_holder
        s = demo.state_holder[v["client"].session_hash].state_data.get(sid)
        assert isinstance(s, Session) and s.world is not None
        server.append(
            {
                "seed": s.world.spec.seed,
                "control": s.control,
                "talks": [t.text for t in s.talks],
                "world": weakref.ref(s.world),
            }
        )
        del s
    return {
        "demo": demo, "url": url, "visits": visits, "server": server, "rss": rss, "wall": wall
    }  # fmt: skip


def test_closed_sessions_give_their_memory_back(load):
    demo, visits, server, rss = load["demo"], load["visits"], load["server"], load["rss"]
    for v in visits:  # the visitors leave; run the app's session cleanup (delete_callback)
        v["client"].close()
        demo.state_holder.delete_state(v["client"].session_hash)
    _trim()
    rss["after"] = after = _rss_mb()
    before, peak = rss["before"], rss["peak"]
    print(
        f"\n{N_CLIENTS} visitors in {load['wall']:.1f} s; server RSS MB: before {before:.0f}, "
        f"peak {peak:.0f}, after {after:.0f}"
    )
    import mesa

    alive = [w for s in server if (w := s["world"]()) is not None]
    held = sum(w in mesa.Agent._ids for w in alive)  # mesa's per-model agent id counters
    assert len(alive) == 0, (
        f"{len(alive)} of {N_CLIENTS} worlds still alive after their sessions were closed, "
        f"{held} of them keys of mesa.Agent._ids "
        f"(RSS MB before {before:.0f}, peak {peak:.0f}, after {after:.0f})"
    )
    # CPython keeps some freed memory in its arenas, so the first wave need not return to the
    # very baseline; what must not happen is growth per session. A second wave of the same
    # visitors, once closed, must leave memory where the first wave left it.
    growth = max(peak - before, 1.0)
    url = load["url"]
    with ThreadPoolExecutor(N_CLIENTS) as pool:
        again = list(pool.map(lambda i: _visit(url, i), range(N_CLIENTS)))
    for v in again:
        v["client"].close()
        demo.state_holder.delete_state(v["client"].session_hash)
    del again
    _trim()
    second = _rss_mb()
    print(f"after a second wave of {N_CLIENTS}: {second:.0f} MB")
    assert second <= after + 0.3 * growth, (before, peak, after, second)  # a leak keeps ~all


def test_every_visitor_sees_only_its_own_world(load):
    replies = set()
    for i, (v, s) in enumerate(zip(load["visits"], load["server"], strict=True)):
        assert "Finished: 3 steps" in v["status"], v["status"]
        assert s["seed"] == 100 + i and s["control"] is None  # its own form, server side
        assert s["talks"] == [TEXT.format(i=i).strip()]  # its own chat, nobody else's
        assert v["worlds"] == {WORLD}
        assert [m["role"] for m in v["history"]] == ["user", "assistant"]
        assert f"({i})" in str(v["history"][0]["content"])
        share, reply = _expected(i)  # its curves and reply are those of its own seed's world
        assert v["share"] == share, i
        assert v["chat"][1]["content"][0]["text"] == reply, i
        replies.add((tuple(share), reply))
    assert len(replies) > 1, "every seed gave the same world: isolation is not tested"


def _state_id(demo) -> int:
    """The id of the app's single gr.State (the visitor's Session)."""
    ids = [k for k, b in demo.blocks.items() if isinstance(b, gr.State)]
    assert len(ids) == 1, ids
    return ids[0]

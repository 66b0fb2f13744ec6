"""Batching: this engine against a naive per-agent one on the same world (same spec, same
seed). The naive one embeds one chat at a time (an Embedder wrapper calling ``encode``
per text) and searches the feature space one query at a time (``search_chats`` per
query); everything else is the same code. Target: the engine >= 20x faster.

    python benchmarks/batching.py [--quick] [--embedder minilm-static|minilm]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import _common as C
import numpy as np


class PerText:
    """An Embedder that encodes one text per call, as a per-agent loop would."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.inner.encode([t]) for t in texts]
        return np.concatenate(rows) if rows else self.inner.encode([])

    def describe(self):
        return self.inner.describe()


def per_query(search):
    """``FeatureSpace.search_chats`` called once per query row."""

    def search_one_by_one(queries: np.ndarray, k: int):
        out = [search(queries[i : i + 1], k) for i in range(len(queries))]
        return np.concatenate([d for d, _ in out]), np.concatenate([i for _, i in out])

    return search_one_by_one


def run(params: dict, naive: bool, embedder) -> tuple[float, dict, int]:
    from platform_sim.world import World

    with C.Stopwatch() as t:
        world = World(**params, encoder=PerText(embedder) if naive else embedder)
        if naive:
            space = world.platform.space
            space.search_chats = per_query(space.search_chats)
        for _ in range(params["steps"]):
            world.step()
    return t.wall, dict(world.timings), world.events.n_rows


def main(quick: bool = False, embedder_name: str = "minilm-static") -> list[dict]:
    from platform_sim.embedding import make_embedder

    # many platform-seekers from the start (initial_trust), so search matters from step 1
    params = dict(
        n_users=1000 if quick else 20_000, steps=3 if quick else 12, initial_trust=0.7,
        embedder=embedder_name, seed=0,
    )  # fmt: skip
    print(f"batching: {params}; {C.machine()}")
    embedder = make_embedder(embedder_name)
    embedder.encode(["warm up"] * 8)
    run({**params, "n_users": 200, "steps": 2}, False, embedder)  # first-call costs
    fast, fast_t, chats = run(params, False, embedder)
    slow, slow_t, _ = run(params, True, embedder)
    for name, wall, t in (("engine", fast, fast_t), ("naive", slow, slow_t)):
        print(f"  {name}: {wall:.1f} s for {chats:,} chats; phases "
              f"{({k: round(v, 2) for k, v in t.items()})}")  # fmt: skip
    es = (slow_t["embed"] + slow_t["platform"]) / (fast_t["embed"] + fast_t["platform"])
    print(f"  embed + platform phases alone: {es:.1f}x")
    label = f"batching ({embedder_name}): naive / engine wall"
    return [C.result(label, slow / fast, 20, "x", True)]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--embedder", default="minilm-static", choices=["minilm-static", "minilm"])
    a = p.parse_args()
    main(a.quick, a.embedder)

"""Engine overhead with the transformer (`minilm`): how much the rest of a step costs on
top of embedding its texts.

The world runs with an embedder wrapper that records the texts of every ``encode`` call
(the step's chats plus the new solutions' texts it embeds, and the catalog at start);
right after each step (and after World construction) the same texts are embedded again,
call by call, with nothing else, so both see the same machine load. Overhead =
simulation wall time (World construction included) / that embedding wall time. Target
<= 1.10: everything but the transformer costs at most 10% on top of it. Repeated; the
median ratio is reported.

    python benchmarks/overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

import _common as C


class Recording:
    """An Embedder that records the texts of each call, then delegates."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]):
        self.calls.append(list(texts))
        return self.inner.encode(texts)

    def describe(self):
        return self.inner.describe()


def _replay(embedder, rec: Recording) -> float:
    """Embed the recorded calls again, alone; returns the wall seconds."""
    with C.Stopwatch() as t:
        for texts in rec.calls:
            embedder.encode(texts)
    rec.calls.clear()
    return t.wall


def measure(n_users: int, steps: int, repeats: int) -> float:
    from platform_sim.embedding import make_embedder
    from platform_sim.world import World

    embedder = make_embedder("minilm")
    embedder.encode(["warm up the model"] * 64)
    ratios = []
    for seed in range(repeats):
        # each step is replayed right after it ran, so both see the same machine load
        rec = Recording(embedder)
        with C.Stopwatch() as t:
            world = World(
                n_users=n_users, steps=steps, problem_rate=0.25, embedder="minilm",
                seed=seed, encoder=rec,
            )  # fmt: skip
        sim, n_texts = t.wall, sum(map(len, rec.calls))
        alone = _replay(embedder, rec)
        for _ in range(steps):
            with C.Stopwatch() as t:
                world.step()
            sim += t.wall
            n_texts += sum(map(len, rec.calls))
            alone += _replay(embedder, rec)
        ratios.append(sim / alone)
        rest = sum(v for k, v in world.timings.items() if k != "embed")
        print(
            f"  seed {seed}: simulation {sim:.1f} s, embedding its {n_texts:,} texts "
            f"({world.events.n_rows:,} chats) alone {alone:.1f} s -> {ratios[-1]:.3f} "
            f"(phases other than embed: {rest:.1f} s)",
            flush=True,
        )
    return statistics.median(ratios)


def main(quick: bool = False) -> list[dict]:
    n_users, steps, repeats = (300, 3, 2) if quick else (3000, 10, 3)
    print(f"overhead: minilm, {n_users:,} users, problem_rate 0.25, {steps} steps; {C.machine()}")
    ratio = measure(n_users, steps, repeats)
    return [C.result("overhead (minilm): simulation / embedding alone", ratio, 1.10, "x", False)]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    main(p.parse_args().quick)

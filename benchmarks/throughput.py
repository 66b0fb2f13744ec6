"""End-to-end throughput with `minilm-static` at 100,000 users: chats per second, and the
share of step time per phase (``World.timings``: agents, embed, platform, metrics,
logging). Target >= 3,000 chats/s on 2 cores. The event log is streamed to Parquet, as
the runner does.

    python benchmarks/throughput.py [--quick]
"""

from __future__ import annotations

import argparse

import _common as C


def main(quick: bool = False) -> list[dict]:
    from platform_sim.embedding import make_embedder
    from platform_sim.world import World

    n_users, steps = (10_000, 4) if quick else (100_000, 12)
    print(f"throughput: minilm-static, {n_users:,} users, {steps} steps; {C.machine()}")
    make_embedder("minilm-static").encode(["warm up"])
    with C.Stopwatch() as init:
        world = World(
            n_users=n_users, steps=steps, embedder="minilm-static", seed=0,
            events=C.out_dir() / "throughput-events.parquet",
        )  # fmt: skip
    with C.Stopwatch() as run:
        for _ in range(steps):
            world.step()
    world.events.close()
    chats = world.events.n_rows
    total = sum(world.timings.values())
    shares = ", ".join(f"{k} {v / total:.0%}" for k, v in world.timings.items())
    print(
        f"  World() {init.wall:.1f} s; {steps} steps {run.wall:.1f} s wall ({run.cpu:.1f} s cpu), "
        f"{chats:,} chats, {len(world.platform.space):,} in the index "
        f"({'approximate' if world.platform.space.approximate else 'exact'})"
    )
    print(f"  time per phase: {shares}")
    return [C.result(f"throughput at {n_users:,} users", chats / run.wall, 3000, "chats/s", True)]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    main(p.parse_args().quick)

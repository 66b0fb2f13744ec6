"""Recall of the approximate chat index on real chats: the inverted file that
``FeatureSpace`` switches to past 200,000 chats, against exact search, with held-out
queries (chats of a later step, not in the index). Target: recall@10 >= 0.95 at the
default ``NPROBE``; other nprobe values are printed with their search time for 20,000
queries. Uses the chats of the first 25 steps of ``benchmarks/scale.py``'s run if it is
there, else makes a 100,000 x 25 run.

    python benchmarks/recall.py [--quick]
"""

from __future__ import annotations

import argparse

import _common as C
import numpy as np


def main(quick: bool = False) -> list[dict]:
    import faiss
    import pyarrow.parquet as pq

    from platform_sim.embedding import make_embedder
    from platform_sim.featurespace import NPROBE, FeatureSpace

    n_users, last = (10_000, 12) if quick else (100_000, 25)
    scale = C.out_dir() / ("scale-quick" if quick else "scale")
    if (scale / "manifest.json").exists():
        run_dir = scale
    else:
        run_dir = C.make_run(n_users, last, f"recall-{n_users}")
    events = pq.read_table(
        run_dir / "events.parquet", columns=["chat", "step"], filters=[("step", "<=", last)]
    ).to_pandas()
    held = events["step"].to_numpy() == events["step"].max()
    embedder = make_embedder("minilm-static")
    texts = events["chat"].tolist()
    x = np.concatenate(
        [embedder.encode(texts[i : i + 20_000]) for i in range(0, len(texts), 20_000)]
    )
    rng = np.random.default_rng(0)
    queries = x[held][rng.choice(int(held.sum()), min(3000, int(held.sum())), replace=False)]
    x = x[~held]
    approximate_after = min(200_000, len(x) // 2)
    print(f"recall: {len(x):,} chats of {run_dir} indexed, {len(queries):,} held-out queries; "
          f"{C.machine()}")  # fmt: skip
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    _, exact = flat.search(queries, 10)
    timed = np.concatenate([queries] * (20_000 // len(queries) + 1))[:20_000]
    results = {}
    for nprobe in sorted({16, 32, NPROBE, 64}):
        space = FeatureSpace(x.shape[1], 1, approximate_after=approximate_after, nprobe=nprobe)
        for s in range(0, len(x), 25_000):
            space.add_chats(x[s : s + 25_000], 0, 0, 0, 0)
        _, found = space.search_chats(queries, 10)
        recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
        with C.Stopwatch() as t:
            space.search_chats(timed, 10)
        results[nprobe] = recall
        print(f"  nprobe {nprobe:3d} of {space.index.nlist:,} cells: recall@10 {recall:.3f}; "
              f"20,000 queries {t.wall:.2f} s")  # fmt: skip
    label = f"IVF recall@10 on real chats (nprobe {NPROBE})"
    return [C.result(label, results[NPROBE], 0.95, "", True)]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    main(p.parse_args().quick)

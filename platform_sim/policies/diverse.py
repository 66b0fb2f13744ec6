"""`diverse`: the neighbours' solutions re-ranked by maximal marginal relevance (MMR).

Candidates are scored as in `neighbors`; options are then picked one at a time by
lambda * relevance - (1 - lambda) * (max cosine similarity to the options already picked),
so the seeker sees dissimilar ways of solving the problem (Carbonell & Goldstein 1998).
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, known_solutions
from platform_sim.policies.neighbors import neighbour_successes

POOL = 12  # candidates per seeker considered for re-ranking


def mmr(ids: np.ndarray, relevance: np.ndarray, emb: np.ndarray, m: int, lam: float):
    """Pick ``m`` of ``ids`` by MMR; relevance in [0, 1]; emb rows unit vectors."""
    chosen: list[int] = []
    sim = emb @ emb.T
    left = list(range(len(ids)))
    while left and len(chosen) < m:
        redundancy = sim[np.ix_(left, chosen)].max(axis=1) if chosen else np.zeros(len(left))
        gain = lam * relevance[left] - (1 - lam) * redundancy
        best = left[int(np.argmax(gain))]
        chosen.append(best)
        left.remove(best)
    return ids[chosen]


class Diverse:
    name = "diverse"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def __init__(self, lam: float = 0.5):
        self.lam = lam

    @classmethod
    def from_spec(cls, spec) -> Diverse:
        return cls(spec.diversity_lambda)

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        return mmr_recommend(platform, req, m, rng, self.lam)


def mmr_recommend(platform, req: Request, m: int, rng: np.random.Generator, lam: float):
    """Neighbour-scored candidates (topped up with the domain's known solutions), MMR-picked."""
    rows, sols, score = neighbour_successes(platform, req)
    emb = platform.solutions.embedding
    out = np.full((len(req), m), -1, dtype=np.int64)
    known = {int(d): known_solutions(platform, int(d)) for d in np.unique(req.domain)}
    for i in range(len(req)):
        mine = rows == i
        ids, rel = sols[mine], score[mine]
        order = np.argsort(-rel, kind="stable")[:POOL]
        ids, rel = ids[order], rel[order]
        if len(ids) < POOL:
            extra = known[int(req.domain[i])]
            extra = extra[~np.isin(extra, ids)]
            extra = rng.permutation(extra)[: POOL - len(ids)]
            ids, rel = np.concatenate([ids, extra]), np.concatenate([rel, np.zeros(len(extra))])
        if len(ids) == 0:
            continue
        rel = rel / rel.max() if rel.max() > 0 else rel
        picked = mmr(ids, rel, emb[ids], m, lam)
        out[i, : len(picked)] = picked
    return out

"""`diverse`: the neighbours' solutions re-ranked by maximal marginal relevance (MMR).

Candidates are scored as in `neighbors`; options are then picked one at a time by
lambda * relevance - (1 - lambda) * redundancy (Carbonell & Goldstein 1998), where
redundancy is the highest cosine similarity to the options already picked *and to the
crowd's answers*: the domain's ``CROWD`` most tried solutions. Plain MMR only varies a
list; scoring against the crowd too keeps the platform from handing everyone what
everyone else already got (aggregate diversity, Adomavicius & Kwon 2012).
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, known_solutions
from platform_sim.policies.neighbors import neighbour_successes

POOL = 12  # candidates per seeker considered for re-ranking
CROWD = 10  # the domain's most tried solutions every option is compared with


def mmr(
    ids: np.ndarray,
    relevance: np.ndarray,
    emb: np.ndarray,
    m: int,
    lam: float,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """Pick ``m`` of ``ids`` by MMR; relevance in [0, 1]; emb rows unit vectors.

    ``avoid``: unit vectors of items counted as already picked (they are not returned).
    """
    n = len(ids)
    sim = emb @ emb.T
    redundancy = np.zeros(n) if avoid is None or len(avoid) == 0 else (emb @ avoid.T).max(axis=1)
    left = np.ones(n, dtype=bool)
    chosen: list[int] = []
    while left.any() and len(chosen) < m:
        gain = np.where(left, lam * relevance - (1 - lam) * redundancy, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        left[best] = False
        redundancy = np.maximum(redundancy, sim[best])
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
        return mmr_recommend(platform, req, m, rng, self.lam, crowd=CROWD)


def crowd_answers(platform, domain: int, n: int) -> np.ndarray:
    """The domain's ``n`` most tried solutions (none before anything was tried)."""
    cand = known_solutions(platform, domain)
    tries = platform.counts.tries[cand]
    top = cand[np.argsort(-tries, kind="stable")[:n]]
    return top[platform.counts.tries[top] > 0]


def mmr_recommend(
    platform, req: Request, m: int, rng: np.random.Generator, lam: float, crowd: int = 0
) -> np.ndarray:
    """Neighbour-scored candidates (topped up with the domain's known solutions), MMR-picked.

    With ``crowd`` > 0, redundancy also counts the domain's ``crowd`` most tried solutions.
    """
    rows, sols, score = neighbour_successes(platform, req)
    emb = platform.solutions.embedding
    out = np.full((len(req), m), -1, dtype=np.int64)
    domains = [int(d) for d in np.unique(req.domain)]
    known = {d: known_solutions(platform, d) for d in domains}
    avoid = {d: emb[crowd_answers(platform, d, crowd)] for d in domains}
    for i in range(len(req)):
        d = int(req.domain[i])
        mine = rows == i
        ids, rel = sols[mine], score[mine]
        order = np.argsort(-rel, kind="stable")[:POOL]
        ids, rel = ids[order], rel[order]
        if len(ids) < POOL:
            extra = known[d][~np.isin(known[d], ids)]
            extra = rng.permutation(extra)[: POOL - len(ids)]
            ids, rel = np.concatenate([ids, extra]), np.concatenate([rel, np.zeros(len(extra))])
        if len(ids) == 0:
            continue
        rel = rel / rel.max() if rel.max() > 0 else rel
        picked = mmr(ids, rel, emb[ids], m, lam, avoid[d])
        out[i, : len(picked)] = picked
    return out

"""`hierarchical`: the platform's three-level model, with shrinkage.

Each known solution of the seeker's domain is scored by a nested beta-binomial estimate:
universal success rate, shrunk toward the domain's; regional, shrunk toward universal;
the seeker's feature group ("people like you"), shrunk toward regional; and the seeker's
own history, shrunk toward the group. Individual evidence wins where it exists, else the
group's, else the region's, else the world's.
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, rank_known

PRIOR = 5.0  # pseudo-trials each level borrows from the level above


def _shrink(successes, tries, prior_rate):
    return (successes + PRIOR * prior_rate) / (tries + PRIOR)


class Hierarchical:
    name = "hierarchical"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        c = platform.counts

        def score(cand: np.ndarray, rows: np.ndarray) -> np.ndarray:
            base = c.successes[cand].sum() / max(c.tries[cand].sum(), 1.0)
            universal = _shrink(c.successes[cand], c.tries[cand], base)
            regional = _shrink(
                c.region_successes[cand][:, req.region[rows]].T,
                c.region_tries[cand][:, req.region[rows]].T,
                universal[None, :],
            )
            group = _shrink(
                c.group_successes[cand][:, req.feature[rows]].T,
                c.group_tries[cand][:, req.feature[rows]].T,
                regional,
            )
            own_tries, own_wins = np.zeros_like(group), np.zeros_like(group)
            position = {s: j for j, s in enumerate(cand.tolist())}
            for i, u in enumerate(req.users[rows].tolist()):
                for s, (t, w) in c.individual.get(u, {}).items():
                    j = position.get(s)
                    if j is not None:
                        own_tries[i, j], own_wins[i, j] = t, w
            return _shrink(own_wins, own_tries, group)

        return rank_known(platform, req, m, rng, score)

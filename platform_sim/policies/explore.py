"""`explore`: Thompson sampling over the domain's solutions from the platform's counts.

Each known solution's success rate is drawn from its Beta(1 + successes, 1 + failures)
posterior, per seeker, and the draws are ranked: rarely tried solutions get their chance.
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, known_solutions, top_per_row


class Explore:
    name = "explore"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        c = platform.counts
        rows_all, ids_all, draws_all = [], [], []
        for d in np.unique(req.domain):
            cand = known_solutions(platform, int(d))
            rows = np.flatnonzero(req.domain == d)
            wins, tries = c.successes[cand], c.tries[cand]
            draws = rng.beta(1.0 + wins, 1.0 + tries - wins, size=(len(rows), len(cand)))
            rows_all.append(np.repeat(rows, len(cand)))
            ids_all.append(np.tile(cand, len(rows)))
            draws_all.append(draws.ravel())
        if not rows_all:
            return np.full((len(req), m), -1, dtype=np.int64)
        return top_per_row(
            np.concatenate(rows_all), np.concatenate(ids_all), np.concatenate(draws_all),
            len(req), m, rng,
        )  # fmt: skip

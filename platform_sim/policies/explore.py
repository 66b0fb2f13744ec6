"""`explore`: Thompson sampling over the domain's solutions from the platform's counts.

Each known solution's success rate is drawn from its Beta(1 + successes, 1 + failures)
posterior, per seeker, and the draws are ranked: rarely tried solutions get their chance.
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, rank_known


class Explore:
    name = "explore"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        c = platform.counts

        def score(cand: np.ndarray, rows: np.ndarray) -> np.ndarray:
            wins, tries = c.successes[cand], c.tries[cand]
            return rng.beta(1.0 + wins, 1.0 + tries - wins, size=(len(rows), len(cand)))

        return rank_known(platform, req, m, rng, score)

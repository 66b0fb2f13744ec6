"""`popular`: the domain's globally most successful solutions, the same for everyone."""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request, most_successful


class Popular:
    name = "popular"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        return most_successful(platform, req.domain, m, rng)

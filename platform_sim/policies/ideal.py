"""`ideal`: the oracle. Each user's truly best solutions (Chaney et al.'s reference)."""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request


class Ideal:
    name = "ideal"
    available = True
    reads_truth = True
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        return platform.oracle.ranked(req.users, req.domain, m)

"""`curious`: offers several dissimilar options and asks the seeker to adapt one.

A policy that tries to keep doubt alive: options are picked for dissimilarity (MMR with a
low lambda) and the reply asks the user to make one their own. Seekers then adapt the
option they take more often (inventing a variant), and adapting does not erode curiosity.
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request
from platform_sim.policies.diverse import mmr_recommend

LAMBDA = 0.3


class Curious:
    name = "curious"
    available = True
    reads_truth = False
    asks_to_adapt = True

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        return mmr_recommend(platform, req, m, rng, LAMBDA)

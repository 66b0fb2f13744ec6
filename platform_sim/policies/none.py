"""`none`: no platform at all. The control world, where people have only each other."""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import Request


class NoPlatform:
    name = "none"
    available = False
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        raise RuntimeError("the `none` policy has no platform to ask")

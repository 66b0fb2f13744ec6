"""`neighbors`: the tale's platform. What worked for people like you.

Reads the seeker's nearest past chats in feature space (same domain, outcome known) and
ranks the solutions those people adopted by similarity-weighted successes. Popular
solutions that worked for many neighbours win: the loop that lets sameness creep in.
"""

from __future__ import annotations

import numpy as np

from platform_sim.policies.base import (
    Request,
    aggregate,
    fill_missing,
    most_successful,
    top_per_row,
)


def neighbour_successes(platform, req: Request):
    """(row, solution, similarity-weighted successes) over the seekers' neighbour chats."""
    space = platform.space
    rows, cols = np.nonzero(req.neighbor_ids >= 0)
    ids = req.neighbor_ids[rows, cols]
    sol, outcome = space.solution[ids], space.outcome[ids]
    ok = (outcome >= 0) & (sol >= 0) & (space.domain[ids] == req.domain[rows])
    rows, cols, sol, outcome = rows[ok], cols[ok], sol[ok], outcome[ok]
    weight = np.clip(req.neighbor_sim[rows, cols], 0.0, None) * outcome
    return aggregate(rows, sol, weight, platform.solutions.n)


class Neighbors:
    name = "neighbors"
    available = True
    reads_truth = False
    asks_to_adapt = False

    def recommend(self, platform, req: Request, m: int, rng: np.random.Generator) -> np.ndarray:
        rows, sols, score = neighbour_successes(platform, req)
        keep = score > 0
        ranked = top_per_row(rows[keep], sols[keep], score[keep], len(req), m, rng)
        return fill_missing(ranked, most_successful(platform, req.domain, m, rng))

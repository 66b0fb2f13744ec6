"""Which users face a problem this step, in which domain, through which of their markers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import Population

N_DRAWS = 6  # uniforms per user per step, drawn whether or not the user has a problem


@dataclass(frozen=True)
class Problems:
    """This step's problems; all arrays (m,) over the users who have one."""

    users: np.ndarray  # int64
    domain: np.ndarray  # int64
    markers: list[list[int]]  # 1-2 active marker indices each


def draw_problems(
    pop: Population, marker_domains: list[np.ndarray], n_domains: int, rate: float, u: np.ndarray
) -> Problems:
    """Draw problems from ``u`` ((n, N_DRAWS) uniforms for all n users).

    A user has a problem with probability ``rate``. The problem is triggered by one of their
    markers (a second joins half the time) and lies, 70% of the time, in a domain that
    marker troubles (``marker_domains[m]``: domain indices), else in any domain.
    """
    users = np.flatnonzero(u[:, 0] < rate)
    uu = u[users]
    nm = pop.n_markers[users]
    first = pop.markers[users, (uu[:, 1] * nm).astype(np.int64)]
    second_pos = (uu[:, 2] * nm).astype(np.int64)
    second = pop.markers[users, second_pos]
    domain = (uu[:, 4] * n_domains).astype(np.int64)
    from_marker = uu[:, 3] < 0.7
    markers: list[list[int]] = []
    for i, (m1, m2) in enumerate(zip(first.tolist(), second.tolist(), strict=True)):
        doms = marker_domains[m1]
        if from_marker[i] and len(doms):
            domain[i] = doms[int(uu[i, 4] * len(doms))]
        markers.append([m1, m2] if m2 != m1 and uu[i, 5] < 0.5 else [m1])
    return Problems(users=users, domain=domain, markers=markers)

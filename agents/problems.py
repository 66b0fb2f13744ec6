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
    # a marker's troubled domains as one padded table, so every row is looked up at once
    n_doms = np.array([len(d) for d in marker_domains], dtype=np.int64)
    table = np.zeros((len(marker_domains), max(1, int(n_doms.max(initial=0)))), dtype=np.int64)
    for k, doms in enumerate(marker_domains):
        table[k, : len(doms)] = doms
    use = (uu[:, 3] < 0.7) & (n_doms[first] > 0)
    pos = (uu[use, 4] * n_doms[first[use]]).astype(np.int64)
    domain[use] = table[first[use], pos]
    pair = (second != first) & (uu[:, 5] < 0.5)
    markers = [
        [m1, m2] if both else [m1]
        for m1, m2, both in zip(first.tolist(), second.tolist(), pair.tolist(), strict=True)
    ]
    return Problems(users=users, domain=domain, markers=markers)

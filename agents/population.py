"""The people as arrays: one row per user, so every phase of a step is one numpy call.

``UserAgent`` objects (agents.user) are thin Mesa views onto these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.chat import sample_idiolect
from agents.content import ChatBank, People

MAX_MARKERS = 6
# How much people differ, per approach axis, in what suits them (sd of the latent vector
# around the archetype): little in structure, expertise and tracking (what works there
# works for most), much in connection, reflection, acceptance and novelty (coded to the
# individual). Order: structure, connection, expertise, reflection, body, tracking,
# acceptance, novelty.
LATENT_SPREAD = np.array([0.15, 0.8, 0.2, 0.9, 0.45, 0.15, 0.7, 0.9])


@dataclass
class Population:
    """State of ``n`` users. Shapes: (n,) unless noted; D = number of problem domains."""

    region: np.ndarray  # int64 region index
    archetype: np.ndarray  # int64 archetype index
    markers: np.ndarray  # (n, MAX_MARKERS) int64 marker indices, -1 padded
    n_markers: np.ndarray  # int64, 3..6
    latent: np.ndarray  # (n, A) float64: the individual vector in approach space
    marker_affinity: np.ndarray  # (n, A) float64: mean approach affinity of the user's markers
    atypicality: np.ndarray  # float64: distance of the latent vector from the population's
    curiosity: np.ndarray  # float64 in [0, 1]
    trust: np.ndarray  # float64 in [0, 1]
    idiolect: np.ndarray  # (n, 4) int64: the user's fixed writing habits
    rep_solution: np.ndarray  # (n, D) int64: the solution the user relies on per domain, -1 none
    rep_score: np.ndarray  # (n, D) float64: the user's running success estimate of it
    rep_machine: np.ndarray  # (n, D) bool: it came from the platform (directly or via friends)
    echo: np.ndarray  # int64: solution the user last absorbed from the platform's replies, -1
    tries: np.ndarray  # int64: problems brought so far
    successes: np.ndarray  # int64
    platform_uses: np.ndarray  # int64
    inventions: np.ndarray  # int64

    @property
    def n(self) -> int:
        return len(self.region)

    def marker_lists(self) -> list[list[int]]:
        """Each user's marker indices as a Python list."""
        return [row[row >= 0].tolist() for row in self.markers]


def sample_population(
    people: People,
    chats: ChatBank,
    n_users: int,
    n_regions: int,
    n_domains: int,
    mean_trust: float,
    mean_curiosity: float,
    rng: np.random.Generator,
) -> Population:
    """Draw ``n_users`` people: region, archetype, 3-6 correlated markers, latent vector.

    Markers come mostly from the user's archetype (so they cluster into relationships, as
    the tale's "thicket of psychological markers" does) and sometimes from anywhere.
    """
    n_arch = len(people.archetypes)
    n_mark = len(people.markers)
    marker_index = {m.id: i for i, m in enumerate(people.markers)}
    arch_markers = [np.array([marker_index[m] for m in a.markers]) for a in people.archetypes]
    arch_approach = np.array([a.approach for a in people.archetypes], dtype=float)
    marker_aff = np.array([m.affinity for m in people.markers], dtype=float)

    region = rng.integers(0, n_regions, n_users)
    archetype = rng.integers(0, n_arch, n_users)
    n_markers = rng.integers(3, MAX_MARKERS + 1, n_users)
    u_pick = rng.random((n_users, MAX_MARKERS))
    u_from_arch = rng.random((n_users, MAX_MARKERS))
    markers = np.full((n_users, MAX_MARKERS), -1, dtype=np.int64)
    for i in range(n_users):
        own = arch_markers[archetype[i]]
        chosen: list[int] = []
        for j in range(MAX_MARKERS):
            pool = own if u_from_arch[i, j] < 0.8 else None
            m = (
                pool[int(u_pick[i, j] * len(pool))]
                if pool is not None
                else int(u_pick[i, j] * n_mark)
            )
            if m not in chosen:
                chosen.append(int(m))
            if len(chosen) == n_markers[i]:
                break
        n_markers[i] = len(chosen)
        markers[i, : len(chosen)] = chosen

    valid = markers >= 0
    aff_sum = (marker_aff[np.where(valid, markers, 0)] * valid[..., None]).sum(axis=1)
    marker_affinity = aff_sum / n_markers[:, None]
    latent = (
        0.7 * arch_approach[archetype]
        + rng.normal(0.0, 1.0, (n_users, len(LATENT_SPREAD))) * LATENT_SPREAD
    )
    atypicality = np.linalg.norm(latent - latent.mean(axis=0), axis=1)

    curiosity = _beta_with_mean(mean_curiosity, 8.0, n_users, rng)
    trust = _beta_with_mean(mean_trust, 20.0, n_users, rng)
    return Population(
        region=region,
        archetype=archetype,
        markers=markers,
        n_markers=n_markers,
        latent=latent,
        marker_affinity=marker_affinity,
        atypicality=atypicality,
        curiosity=curiosity,
        trust=trust,
        idiolect=sample_idiolect(chats, n_users, rng),
        rep_solution=np.full((n_users, n_domains), -1, dtype=np.int64),
        rep_score=np.zeros((n_users, n_domains)),
        rep_machine=np.zeros((n_users, n_domains), dtype=bool),
        echo=np.full(n_users, -1, dtype=np.int64),
        tries=np.zeros(n_users, dtype=np.int64),
        successes=np.zeros(n_users, dtype=np.int64),
        platform_uses=np.zeros(n_users, dtype=np.int64),
        inventions=np.zeros(n_users, dtype=np.int64),
    )


def _beta_with_mean(mean: float, concentration: float, n: int, rng: np.random.Generator):
    """Beta draws with the given mean (clipped away from 0 and 1) and concentration."""
    m = min(max(mean, 1e-3), 1 - 1e-3)
    return rng.beta(concentration * m, concentration * (1 - m), n)

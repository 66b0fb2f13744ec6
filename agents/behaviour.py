"""How people decide, vectorised over the users who have a problem this step.

Every function takes the uniform draws it needs as an argument, drawn by the caller in a
fixed amount per user per step, so that two worlds that differ only in their platform
consume the same random numbers (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import Population
from agents.social import Friends

REPERTOIRE, TRADITION, INVENT, FRIEND, PLATFORM = range(5)
CHANNELS = ("repertoire", "tradition", "invent", "friend", "platform")
RELIABLE = 0.5  # a repertoire entry with a running success estimate at least this is relied on


@dataclass(frozen=True)
class Temperament:
    """The behavioural parameters of a population (from the run spec)."""

    social_influence: float
    invent_rate: float
    trust_rate: float
    curiosity_erosion: float
    curiosity_recovery: float
    echo_rate: float


def choose_channels(
    pop: Population,
    friends: Friends,
    users: np.ndarray,
    domain: np.ndarray,
    platform_available: bool,
    t: Temperament,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where each user looks for a solution, and the friend each would ask.

    The platform is asked with probability mixing the user's trust with how much their
    friends use it; otherwise a curious user invents; otherwise one relies on what has
    worked before, or on a friend who has something that works, or on tradition.

    Args:
        users: (m,) user indices; domain: (m,) domain indices of their problems.
        u: (m, 3) uniforms in [0, 1).
    Returns:
        channel (m,) int64 in CHANNELS order, friend (m,) int64 (-1 if friendless).
    """
    friend_use = friends.mean_over_friends((pop.platform_uses > 0).astype(float))[users]
    p_platform = (1 - t.social_influence) * pop.trust[users] + t.social_influence * friend_use
    if not platform_available:
        p_platform = np.zeros(len(users))
    p_invent = t.invent_rate * pop.curiosity[users]

    deg = friends.degree()[users]
    pick = friends.indptr[users] + (u[:, 2] * np.maximum(deg, 1)).astype(np.int64)
    friend = np.where(deg > 0, friends.indices[np.minimum(pick, len(friends.indices) - 1)], -1)
    f = np.maximum(friend, 0)
    friend_ok = (friend >= 0) & (pop.rep_score[f, domain] >= RELIABLE)
    friend_ok &= pop.rep_solution[f, domain] >= 0
    own_ok = (pop.rep_solution[users, domain] >= 0) & (pop.rep_score[users, domain] >= RELIABLE)

    channel = np.full(len(users), TRADITION, dtype=np.int64)
    channel[friend_ok] = FRIEND
    channel[own_ok] = REPERTOIRE
    channel[u[:, 1] < p_invent] = INVENT
    channel[u[:, 0] < p_platform] = PLATFORM
    return channel, friend


def pick_option(advice: np.ndarray, u: np.ndarray, decay: float = 0.5) -> np.ndarray:
    """Which of the offered options each seeker takes: the first most often.

    Option i is taken with probability proportional to ``decay ** i`` among the offered
    ones (position bias). Args: advice (q, m) ids, -1 padded; u (q,) uniforms.
    Returns (q,) option index, -1 where nothing was offered.
    """
    offered = advice >= 0
    weights = np.where(offered, decay ** np.arange(advice.shape[1]), 0.0)
    total = weights.sum(axis=1)
    cdf = np.cumsum(weights, axis=1) / np.maximum(total, 1e-12)[:, None]
    pick = np.minimum((cdf < u[:, None]).sum(axis=1), advice.shape[1] - 1)
    return np.where(total > 0, pick, -1)


def learn_from_outcome(
    pop: Population,
    users: np.ndarray,
    domain: np.ndarray,
    solution: np.ndarray,
    machine: np.ndarray,
    channel: np.ndarray,
    outcome: np.ndarray,
    adapted: np.ndarray,
    t: Temperament,
) -> None:
    """Update repertoire, trust and curiosity after trying ``solution`` (in place).

    - repertoire: a success makes a solution the one relied on; retrying it moves its score.
    - trust moves toward the outcomes of platform advice.
    - curiosity is eroded by each reliance on the platform and restored by own successes
      (inventions, traditions, and platform options the user ``adapted`` to themselves).
    """
    ok = outcome.astype(bool)
    same = pop.rep_solution[users, domain] == solution
    score = pop.rep_score[users, domain]
    new_score = np.where(same, score + 0.3 * (outcome - score), np.where(ok, 0.65, score))
    adopt = same | ok
    pop.rep_score[users, domain] = new_score
    pop.rep_solution[users[adopt], domain[adopt]] = solution[adopt]
    pop.rep_machine[users[adopt], domain[adopt]] = machine[adopt]

    asked = channel == PLATFORM
    pop.trust[users[asked]] += t.trust_rate * (outcome[asked] - pop.trust[users[asked]])
    relied = asked & ~adapted
    pop.curiosity[users[relied]] *= 1 - t.curiosity_erosion
    own = ok & ((~machine & ((channel == INVENT) | (channel == TRADITION))) | adapted)
    pop.curiosity[users[own]] += t.curiosity_recovery * (1 - pop.curiosity[users[own]])

    pop.tries[users] += 1
    pop.successes[users[ok]] += 1
    pop.platform_uses[users[asked]] += 1
    pop.inventions[users[channel == INVENT]] += 1

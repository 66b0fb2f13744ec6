"""Thin reporters: what the world measures each step, computed with ``platform_sim.metrics``.

Per-step measures use the step's adoptions; diversity measures use a trailing window of
``spec.window`` steps of adoptions (a handful of problems per user is too few to speak of
the diversity of one step).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from agents.behaviour import PLATFORM
from platform_sim import metrics as M

if TYPE_CHECKING:
    from platform_sim.world import World

METRICS = (
    "machine_share",  # adopted solutions whose origin is the platform (this step)
    "platform_share",  # problems taken to the platform directly (this step)
    "effective_solutions",  # Hill number of order 1 of adopted solutions (window)
    "vendi_score",  # Vendi score of adopted solutions' embeddings (window)
    "novelty_rate",  # adoptions that are new inventions (this step)
    "success_rate",  # problems solved (this step)
    "mean_curiosity",
    "mean_trust",
    "gini",  # Gini of adoption counts over the catalog's base solutions (window)
    "regional_distinctiveness",  # mean pairwise JS divergence of regions' mixes (window)
    "jaccard_homogenization",  # mean Jaccard of repertoires of nearest-neighbour users
    "chat_dispersion",  # mean cosine distance of this step's chats to their centroid
    "chat_vendi",  # Vendi score of this step's chat embeddings
    "regret",  # best true success probability minus the adopted one's (this step)
    "atypical_gap",  # success of the most atypical decile minus the rest (window)
    "outcome_homogenization",  # Bommasani et al.: same users failing twice vs independent
    "platform_insight",  # accuracy of the platform's universal/regional/individual labels
    "n_solutions",  # solutions in the world, catalog and invented
)
PAIR_SAMPLE = 2000  # users sampled for nearest-neighbour pairs


@dataclass(frozen=True)
class Adoptions:
    """One step's adoptions: all arrays (m,) over the users who had a problem."""

    step: int
    users: np.ndarray
    region: np.ndarray
    domain: np.ndarray
    channel: np.ndarray
    solution: np.ndarray
    root: np.ndarray
    machine: np.ndarray
    is_new: np.ndarray
    outcome: np.ndarray
    p_success: np.ndarray
    best_p: np.ndarray


def _concat(records: deque[Adoptions], name: str) -> np.ndarray:
    return np.concatenate([getattr(r, name) for r in records]) if records else np.zeros(0)


class Recorder:
    """Keeps the adoption window and each user's last two outcomes; computes METRICS."""

    def __init__(self, world: World):
        self.world = world
        self.window: deque[Adoptions] = deque(maxlen=world.spec.window)
        self.last_outcomes = np.full((world.spec.n_users, 2), np.nan)
        self.rng = world.streams["measure"]

    def measure(self, step: Adoptions | None, chat_vectors: np.ndarray | None) -> dict[str, float]:
        w = self.world
        pop, sols = w.population, w.solutions
        out = dict.fromkeys(METRICS, float("nan"))
        out["mean_curiosity"] = float(pop.curiosity.mean())
        out["mean_trust"] = float(pop.trust.mean())
        out["n_solutions"] = float(sols.n)
        if step is None:
            return out
        self.window.append(step)
        self.last_outcomes[step.users] = np.column_stack(
            [self.last_outcomes[step.users, 1], step.outcome]
        )
        win = {f.name: _concat(self.window, f.name) for f in fields(Adoptions) if f.name != "step"}
        solution = win["solution"].astype(np.int64)
        out.update(
            machine_share=M.machine_share(step.machine),
            platform_share=float(np.mean(step.channel == PLATFORM))
            if len(step.channel)
            else np.nan,
            effective_solutions=M.effective_solutions(solution),
            vendi_score=M.vendi_score(sols.embedding[solution]) if len(solution) else np.nan,
            novelty_rate=M.novelty_rate(step.is_new),
            success_rate=M.success_rate(step.outcome),
            gini=M.gini(np.bincount(win["root"].astype(np.int64), minlength=sols.n_catalog)),
            regional_distinctiveness=M.regional_distinctiveness(
                win["region"].astype(np.int64), win["root"].astype(np.int64)
            ),
            jaccard_homogenization=self._jaccard(),
            chat_dispersion=M.chat_dispersion(chat_vectors) if len(chat_vectors) else np.nan,
            chat_vendi=M.vendi_score(chat_vectors) if len(chat_vectors) else np.nan,
            regret=M.regret(step.best_p, step.p_success) if len(step.users) else np.nan,
            atypical_gap=M.atypical_gap(
                pop.atypicality[win["users"].astype(np.int64)], win["outcome"]
            ),
            outcome_homogenization=M.outcome_homogenization(1.0 - self.last_outcomes),
            platform_insight=self._insight(),
        )
        return out

    def _jaccard(self) -> float:
        """Chaney et al.: mean Jaccard of repertoires over nearest-neighbour user pairs."""
        w = self.world
        space, pop = w.platform.space, w.population
        active = np.flatnonzero(space.n_chats_of_user > 0)
        if len(active) < 2:
            return float("nan")
        if len(active) > PAIR_SAMPLE:
            active = np.sort(self.rng.choice(active, PAIR_SAMPLE, replace=False))
        _, nn = space.search_users(space.profiles[active], 1, exclude=active)
        pairs = np.column_stack([active, nn[:, 0]])
        pairs = pairs[pairs[:, 1] >= 0]
        sets = {
            u: set(pop.rep_solution[u][pop.rep_solution[u] >= 0].tolist()) for u in np.unique(pairs)
        }
        index = {u: i for i, u in enumerate(sets)}
        return M.jaccard_homogenization(
            list(sets.values()), np.vectorize(index.__getitem__, otypes=[np.int64])(pairs)
        )

    def _insight(self) -> float:
        """How well the platform tells universal, regional and individual solutions apart."""
        w = self.world
        if not w.policy.available:
            return float("nan")
        c, n = w.platform.counts, w.solutions.n
        c.reserve(n)
        predicted = M.estimate_labels(
            c.region_successes[:n], c.region_tries[:n], c.group_successes[:n], c.group_tries[:n]
        )
        truth = M.true_labels(*w.efficacy.variance_components(w.population, w.solutions))
        return M.platform_insight(predicted, truth)

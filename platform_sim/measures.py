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
MIN_TRIES = 20  # trials before the platform labels a solution (estimate_labels' min_n)


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


def _gram(embedding: np.ndarray, solution: np.ndarray) -> np.ndarray:
    """(d, d) float64 sum of u u^T over the unit embeddings u of ``solution`` (m,) ids,
    repeats counted: the part of a Vendi score's kernel that one step contributes."""
    ids, count = np.unique(solution, return_counts=True)
    x = embedding[ids].astype(np.float64)
    norms = np.linalg.norm(x, axis=1)
    if np.any(norms == 0):
        raise ValueError("an adopted solution has an all-zero embedding")
    x /= norms[:, None]
    return (x * count[:, None]).T @ x


def vendi_from_gram(gram: np.ndarray, n: int) -> float:
    """Vendi score of n unit rows from their (d, d) Gram sum ``X^T X`` (as ``vendi_score``)."""
    lam = np.linalg.eigvalsh(gram / n)
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))


class Recorder:
    """Keeps the adoption window and each user's last two outcomes; computes METRICS."""

    def __init__(self, world: World):
        self.world = world
        self.window: deque[Adoptions] = deque(maxlen=world.spec.window)
        self.grams: deque[np.ndarray] = deque(maxlen=world.spec.window)  # one per window step
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
        self.grams.append(_gram(sols.embedding, step.solution))
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
            vendi_score=self._vendi(solution),
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

    def _vendi(self, solution: np.ndarray) -> float:
        """Vendi score of the window's adopted solutions, from the per-step Gram sums
        (the window's (n, d) embeddings are never gathered again)."""
        emb = self.world.solutions.embedding
        if len(solution) == 0:
            return float("nan")
        if len(solution) <= emb.shape[1]:  # small windows: the (n, n) kernel, as vendi_score
            return M.vendi_score(emb[solution])
        return vendi_from_gram(sum(self.grams), len(solution))

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
        # estimate_labels works row by row and labels rows with < MIN_TRIES trials UNKNOWN:
        # only the (few) well-tried solutions are passed, not hundreds of thousands of rows
        tried = np.flatnonzero(c.region_tries[:n].sum(axis=1) >= MIN_TRIES)
        predicted = np.full(n, M.UNKNOWN, dtype=np.int64)
        predicted[tried] = M.estimate_labels(
            c.region_successes[tried], c.region_tries[tried],
            c.group_successes[tried], c.group_tries[tried], min_n=MIN_TRIES,
        )  # fmt: skip
        truth = M.true_labels(*w.efficacy.variance_components(w.population, w.solutions))
        return M.platform_insight(predicted, truth)

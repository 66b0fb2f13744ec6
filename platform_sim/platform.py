"""The platform: sees every chat in one feature space, answers with "the world's" solutions.

Each step it (1) places the step's chats among everyone else's and into its features,
(2) answers the platform-seekers through its policy in the tale's voice, and later
(3) learns from outcomes what worked universally, regionally and for people like them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platform_sim.featurespace import Codebook, FeatureSpace
from platform_sim.policies.base import Oracle, Policy, Request, fill_missing, most_successful
from platform_sim.solutions import Solutions


class SolutionView:
    """What the platform may know of solutions: text, domain, embedding. No efficacy."""

    def __init__(self, solutions: Solutions):
        self._s = solutions

    @property
    def n(self) -> int:
        return self._s.n

    @property
    def n_catalog(self) -> int:
        return self._s.n_catalog

    @property
    def domain(self) -> np.ndarray:
        return self._s.domain[: self._s.n]

    @property
    def embedding(self) -> np.ndarray:
        return self._s.embedding[: self._s.n]

    @property
    def text(self) -> list[str]:
        return self._s.text

    def in_domain(self, domain: int) -> np.ndarray:
        return self._s.in_domain(domain)


class Counts:
    """Outcome counts at three levels: universal (S,), regional (S, R), feature group (S, F)."""

    def __init__(self, n_regions: int, n_features: int):
        self.tries = np.zeros(0)
        self.successes = np.zeros(0)
        self.region_tries = np.zeros((0, n_regions))
        self.region_successes = np.zeros((0, n_regions))
        self.group_tries = np.zeros((0, n_features))
        self.group_successes = np.zeros((0, n_features))
        self.users = np.zeros(0)  # distinct users who tried each solution
        self.individual: dict[int, dict[int, list[int]]] = {}  # user -> solution -> [tries, wins]

    def reserve(self, n_solutions: int) -> None:
        for name in (
            "tries", "successes", "region_tries", "region_successes", "group_tries",
            "group_successes", "users",
        ):  # fmt: skip
            arr = getattr(self, name)
            if len(arr) < n_solutions:
                new = np.zeros((max(n_solutions, 2 * len(arr)), *arr.shape[1:]))
                new[: len(arr)] = arr
                setattr(self, name, new)

    def add(self, users, region, feature, solution, outcome) -> None:
        np.add.at(self.tries, solution, 1)
        np.add.at(self.successes, solution, outcome)
        np.add.at(self.region_tries, (solution, region), 1)
        np.add.at(self.region_successes, (solution, region), outcome)
        np.add.at(self.group_tries, (solution, feature), 1)
        np.add.at(self.group_successes, (solution, feature), outcome)
        for u, s, o in zip(users.tolist(), solution.tolist(), outcome.tolist(), strict=True):
            mine = self.individual.setdefault(u, {})
            if s not in mine:
                mine[s] = [0, 0]
                self.users[s] += 1
            mine[s][0] += 1
            mine[s][1] += o


@dataclass(frozen=True)
class Advice:
    """The platform's answers to q seekers."""

    solutions: np.ndarray  # (q, m) int64 ranked solution ids, -1 padded
    n_same: np.ndarray  # (q,) people seen with chats in the seeker's feature
    n_solved: np.ndarray  # (q,) of them, people whose problem was solved with the platform
    text: list[str]  # the replies, in the tale's voice


class Platform:
    """The platform of one world."""

    def __init__(
        self,
        policy: Policy,
        solutions: Solutions,
        dim: int,
        n_users: int,
        n_regions: int,
        *,
        k: int,
        options: int,
        min_group: int,
        n_features: int,
        rng: np.random.Generator,
        oracle: Oracle | None = None,
    ):
        self.policy = policy
        self.solutions = SolutionView(solutions)
        self.space = FeatureSpace(dim, n_users)
        self.k, self.options, self.min_group = k, options, min_group
        self.max_features = n_features
        self.rng = rng
        self.oracle = oracle if policy.reads_truth else None
        self.codebook: Codebook | None = None
        self.n_regions, self.n_users = n_regions, n_users
        self.counts = Counts(n_regions, n_features)
        self.seen = np.zeros((n_features, n_users), dtype=bool)
        self.solved = np.zeros((n_features, n_users), dtype=bool)

    @property
    def n_features(self) -> int:
        return 0 if self.codebook is None else len(self.codebook.centroids)

    def consult(
        self,
        step: int,
        vectors: np.ndarray,
        users: np.ndarray,
        region: np.ndarray,
        domain: np.ndarray,
        seekers: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, Advice | None]:
        """Take in a step's chats and answer the seekers among them.

        Args:
            vectors: (m, dim) float32 chat embeddings; users, region, domain: (m,) int64;
            seekers: (m,) bool, who asks the platform for the world's advice.
        Returns:
            chat ids (m,), feature of each chat (m,), and the advice for the seekers.
        """
        if self.codebook is None:
            seed = int(self.rng.integers(2**31))
            self.codebook = Codebook.fit(vectors, self.max_features, seed=seed)
        feature = self.codebook.assign(vectors)
        self.counts.reserve(self.solutions.n)
        self.seen[feature, users] = True
        advice = None
        if self.policy.available and seekers.any():
            q = np.flatnonzero(seekers)
            sim, ids = self.space.search_chats(vectors[q], self.k)
            req = Request(step, users[q], region[q], domain[q], feature[q], vectors[q], sim, ids)
            advice = self.answer(req)
        chat_ids = self.space.add_chats(vectors, users, step, region, domain)
        self.space.update_profiles(users, vectors)
        return chat_ids, feature, advice

    def answer(self, req: Request, rng: np.random.Generator | None = None) -> Advice:
        """The policy's ranked options and the replies; ``rng`` defaults to the platform's."""
        rng = self.rng if rng is None else rng
        ranked = self.policy.recommend(self, req, self.options, rng)
        if self.min_group > 1:
            ranked = self._backed_by_groups(ranked, req, rng)
        n_same = self.seen.sum(axis=1)[req.feature]
        n_solved = self.solved.sum(axis=1)[req.feature]
        text = [self.reply(a, b, r) for a, b, r in zip(n_same, n_solved, ranked, strict=True)]
        return Advice(ranked, n_same, n_solved, text)

    def _backed_by_groups(
        self, ranked: np.ndarray, req: Request, rng: np.random.Generator
    ) -> np.ndarray:
        """k-anonymity: keep only solutions tried by at least ``min_group`` people."""
        ok = (ranked >= 0) & (self.counts.users[np.maximum(ranked, 0)] >= self.min_group)
        kept = np.full_like(ranked, -1)
        for i, row in enumerate(ranked):
            good = row[ok[i]]
            kept[i, : len(good)] = good
        fallback = most_successful(self, req.domain, ranked.shape[1], rng, self.min_group)
        return fill_missing(kept, fallback)

    def reply(self, n_same: int, n_solved: int, ranked: np.ndarray) -> str:
        """The tale's voice. Under k-anonymity, groups smaller than ``min_group`` go unsaid."""
        parts = []
        if n_same >= max(self.min_group, 1):
            parts.append(f"{n_same:,} people are dealing with the same problems as you.")
        if n_solved >= max(self.min_group, 1):
            parts.append(
                f"Your problem has been solved by {n_solved:,} people through dialogue with me."
            )
        texts = [self.solutions.text[s] for s in ranked.tolist() if s >= 0]
        if texts:
            parts.append(f"Try: {texts[0]}.")
        if len(texts) > 1:
            parts.append("Or: " + "; ".join(texts[1:]) + ".")
        return " ".join(parts)

    def learn(
        self,
        chat_ids: np.ndarray,
        users: np.ndarray,
        region: np.ndarray,
        feature: np.ndarray,
        solution: np.ndarray,
        outcome: np.ndarray,
        machine: np.ndarray,
        advised: np.ndarray,
    ) -> None:
        """Record what people tried and how it went (all (m,) arrays; outcome 0/1)."""
        self.space.record_outcomes(chat_ids, solution, outcome, machine)
        self.counts.reserve(self.solutions.n)
        self.counts.add(users, region, feature, solution, outcome)
        won = advised & (outcome == 1)
        self.solved[feature[won], users[won]] = True

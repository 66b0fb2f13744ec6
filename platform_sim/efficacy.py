"""The truth: how likely a solution is to solve a given person's problem.

P(success | user, solution) = sigmoid(bias + w_u * universal + w_r * regional[region]
                                      + w_i * latent . approach + w_m * markers . approach)

Only the world (and the `ideal` oracle) reads this; the platform must learn it from outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import Population
from platform_sim.solutions import Solutions

CHUNK = 2048  # users per block when scoring users against every solution of a domain


@dataclass(frozen=True)
class Efficacy:
    bias: float
    universal: float
    regional: float
    individual: float
    markers: float

    def logit(self, pop: Population, sols: Solutions, users: np.ndarray, ids: np.ndarray):
        """(m,) success logits of user ``users[i]`` trying solution ``ids[i]``."""
        a = sols.approach[ids]
        return (
            self.bias
            + self.universal * sols.universal[ids]
            + self.regional * sols.regional[ids, pop.region[users]]
            + self.individual * np.einsum("ij,ij->i", pop.latent[users], a)
            + self.markers * np.einsum("ij,ij->i", pop.marker_affinity[users], a)
        )

    def probability(self, pop: Population, sols: Solutions, users: np.ndarray, ids: np.ndarray):
        return 1.0 / (1.0 + np.exp(-self.logit(pop, sols, users, ids)))

    def ranked(
        self, pop: Population, sols: Solutions, users: np.ndarray, domain: np.ndarray, top: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each user's ``top`` truly best solutions in their domain and the best probability.

        Returns ids (m, top) int64 (-1 padded) and best success probability (m,).
        """
        ids = np.full((len(users), top), -1, dtype=np.int64)
        best = np.zeros(len(users))
        for d in np.unique(domain):
            cand = sols.in_domain(int(d))
            rows = np.flatnonzero(domain == d)
            a = sols.approach[cand]
            base = self.bias + self.universal * sols.universal[cand]
            for start in range(0, len(rows), CHUNK):
                r = rows[start : start + CHUNK]
                u = users[r]
                z = (
                    base[None, :]
                    + self.regional * sols.regional[cand][:, pop.region[u]].T
                    + (self.individual * pop.latent[u] + self.markers * pop.marker_affinity[u])
                    @ a.T
                )
                k = min(top, len(cand))
                if k == 1:
                    order = np.argmax(z, axis=1)[:, None]
                else:
                    order = np.argsort(-z, axis=1, kind="stable")[:, :k]
                ids[r, :k] = cand[order]
                best[r] = 1.0 / (1.0 + np.exp(-z[np.arange(len(r)), order[:, 0]]))
        return ids, best

    def variance_components(self, pop: Population, sols: Solutions) -> tuple[np.ndarray, ...]:
        """Per solution: universal logit, regional variance, individual variance (logit^2).

        Regional variance is over the world's regions; individual variance is over the
        population's (latent, marker) vectors, a quadratic form in the solution's approach.
        """
        n = sols.n
        universal = self.universal * sols.universal[:n]
        regional_var = (self.regional * sols.regional[:n]).var(axis=1)
        x = self.individual * pop.latent + self.markers * pop.marker_affinity
        cov = np.cov(x, rowvar=False)
        a = sols.approach[:n]
        individual_var = np.einsum("ij,jk,ik->i", a, cov, a)
        return universal, regional_var, individual_var


class BestSolutions:
    """Each user's truly best solution per domain, kept up to date as solutions are added.

    Solutions are only ever appended, so a user's best in a domain is the better of the
    best among those already checked and the best among those added since: each call
    scores a user only against the solutions of its domain born since its last call for
    that domain, not against all of them (what makes ``regret`` affordable at 100,000
    users, whose inventions number hundreds of thousands). Values are those of
    ``Efficacy.ranked(..., top=1)``, ties going to the lowest id as there.
    """

    BLOCK = 1024  # candidate solutions scored per block ...
    USERS = 256  # ... against this many users: a (256, 1024) float64 block stays in cache

    def __init__(self, efficacy: Efficacy, pop: Population, sols: Solutions, n_domains: int):
        self.efficacy, self.pop, self.sols = efficacy, pop, sols
        self.best_logit = np.full((pop.n, n_domains), -np.inf)
        """(n, D) float64: success logit of each user's best solution checked so far."""
        self.best_id = np.full((pop.n, n_domains), -1, dtype=np.int64)
        self.checked = np.zeros((pop.n, n_domains), dtype=np.int64)
        """(n, D) int64: how many of the domain's solutions (in id order) were checked."""
        self._domain_ids = [np.zeros(0, dtype=np.int64) for _ in range(n_domains)]
        self._known = 0  # solutions already sorted into _domain_ids

    def _sync(self) -> None:
        sols = self.sols
        if sols.n == self._known:
            return
        new = np.arange(self._known, sols.n)
        dom = sols.domain[new]
        for d in np.unique(dom).tolist():
            self._domain_ids[d] = np.concatenate([self._domain_ids[d], new[dom == d]])
        self._known = sols.n

    def of(self, users: np.ndarray, domain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best solution id (m,) int64 and its success probability (m,) for users (m,)
        with problems in domains (m,) (a user appears at most once)."""
        self._sync()
        e, pop, sols = self.efficacy, self.pop, self.sols
        n_regions = sols.regional.shape[1]
        # the logit as one product: [fit vector, region one-hot, 1] . [approach, regional, base]
        fit = e.individual * pop.latent + e.markers * pop.marker_affinity
        for d in np.unique(domain).tolist():
            rows = users[domain == d]
            cand_all = self._domain_ids[d]
            first = self.checked[rows, d]
            order = np.argsort(first, kind="stable")
            rows, first = rows[order], first[order]
            for c0 in range(0, len(rows), self.USERS):
                u, start = rows[c0 : c0 + self.USERS], first[c0 : c0 + self.USERS]
                left = np.zeros((len(u), fit.shape[1] + n_regions + 1))
                left[:, : fit.shape[1]] = fit[u]
                left[np.arange(len(u)), fit.shape[1] + pop.region[u]] = 1.0
                left[:, -1] = 1.0
                for j0 in range(int(start[0]), len(cand_all), self.BLOCK):
                    cand = cand_all[j0 : j0 + self.BLOCK]
                    right = np.concatenate(
                        [
                            sols.approach[cand],
                            e.regional * sols.regional[cand],
                            (e.bias + e.universal * sols.universal[cand])[:, None],
                        ],
                        axis=1,
                    )
                    z = left @ right.T
                    seen = start > j0  # rows that checked part of this block before
                    if seen.any():
                        z[seen] = np.where(
                            np.arange(j0, j0 + len(cand))[None, :] < start[seen, None],
                            -np.inf,
                            z[seen],
                        )
                    arg = np.argmax(z, axis=1)
                    val = z[np.arange(len(u)), arg]
                    better = val > self.best_logit[u, d]
                    self.best_logit[u[better], d] = val[better]
                    self.best_id[u[better], d] = cand[arg[better]]
            self.checked[rows, d] = len(cand_all)
        best = self.best_logit[users, domain]
        return self.best_id[users, domain], 1.0 / (1.0 + np.exp(-best))

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

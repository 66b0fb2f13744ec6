"""All solutions in a world: the catalog's, plus the variants people invent as they go.

Columns are numpy arrays grown by doubling; ``n`` rows are valid. Row ``i`` is solution id
``i``; catalog solutions come first, so an id below ``n_catalog`` is a base solution.
"""

from __future__ import annotations

import numpy as np

from platform_sim.catalog import Catalog


def _grow(arr: np.ndarray, size: int) -> np.ndarray:
    if size <= len(arr):
        return arr
    new = np.zeros((max(size, 2 * len(arr)), *arr.shape[1:]), dtype=arr.dtype)
    new[: len(arr)] = arr
    return new


class Solutions:
    """The world's solution table (truth included; policies read only text/domain/embedding)."""

    def __init__(self, catalog: Catalog, region_affinity: np.ndarray, dim: int):
        """``region_affinity``: (R, A) approach affinities of the world's regions."""
        s = len(catalog.solution_ids)
        r = region_affinity.shape[0]
        self.region_affinity = region_affinity
        self.n = s
        self.n_catalog = s
        self.domain = catalog.solution_domain.astype(np.int64).copy()
        self.approach = catalog.solution_approach.copy()
        self.universal = catalog.solution_efficacy.astype(float).copy()
        self.regional = catalog.solution_regional[:, :r].astype(float).copy()
        self.root = np.arange(s, dtype=np.int64)
        self.inventor = np.full(s, -1, dtype=np.int64)
        self.born = np.zeros(s, dtype=np.int64)
        self.embedding = np.zeros((s, dim), dtype=np.float32)
        self.text: list[str] = list(catalog.solution_text)
        self.twists = catalog.twists

    def __len__(self) -> int:
        return self.n

    def in_domain(self, domain: int) -> np.ndarray:
        """Ids of all solutions (catalog and invented) for a domain."""
        return np.flatnonzero(self.domain[: self.n] == domain)

    def invent(
        self,
        parents: np.ndarray,
        inventors: np.ndarray,
        inventor_latent: np.ndarray,
        step: int,
        noise: np.ndarray,
        twist: np.ndarray,
    ) -> np.ndarray:
        """Add one variant per parent, adapted toward its inventor; returns the new ids.

        The variant's approach moves from the parent's toward the inventor's own latent
        direction (people adapt solutions to themselves), its universal efficacy jitters,
        and its regional affinity follows its approach (keeping the parent's tradition).

        Args:
            parents, inventors: (m,) int; inventor_latent: (m, A);
            noise: (m, A + 1) standard normals; twist: (m,) uniforms choosing the text.
        """
        m = len(parents)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        ids = np.arange(self.n, self.n + m)
        self._reserve(self.n + m)
        a = self.approach[parents]
        own = inventor_latent / np.maximum(
            np.linalg.norm(inventor_latent, axis=1, keepdims=True), 1e-9
        )
        new_a = a + 0.3 * own + 0.2 * noise[:, :-1]
        new_a /= np.maximum(np.linalg.norm(new_a, axis=1, keepdims=True), 1e-9)
        tradition = self.regional[parents] - a @ self.region_affinity.T
        self.approach[ids] = new_a
        self.regional[ids] = new_a @ self.region_affinity.T + tradition
        self.universal[ids] = self.universal[parents] + 0.3 * noise[:, -1]
        self.domain[ids] = self.domain[parents]
        self.root[ids] = self.root[parents]
        self.inventor[ids] = inventors
        self.born[ids] = step
        k = len(self.twists)
        for p, u in zip(self.root[parents].tolist(), twist.tolist(), strict=True):
            self.text.append(self.twists[int(u * k)].format(solution=self.text[p]))
        self.n += m
        return ids

    def _reserve(self, size: int) -> None:
        for name in ("domain", "approach", "universal", "regional", "root", "inventor", "born"):
            setattr(self, name, _grow(getattr(self, name), size))
        self.embedding = _grow(self.embedding, size)

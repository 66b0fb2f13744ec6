"""Friends: a small-world social graph within regions, with a few ties across.

Friends are the human channel of advice, the channel the platform displaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class Friends:
    """The graph in CSR form: friends of user ``u`` are ``indices[indptr[u]:indptr[u+1]]``."""

    graph: nx.Graph
    indptr: np.ndarray  # (n + 1,) int64
    indices: np.ndarray  # (n_edges * 2,) int64

    def of(self, user: int) -> np.ndarray:
        return self.indices[self.indptr[user] : self.indptr[user + 1]]

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def mean_over_friends(self, values: np.ndarray) -> np.ndarray:
        """For each user, the mean of ``values`` over their friends (0 if friendless)."""
        deg = self.degree()
        rows = np.repeat(np.arange(len(deg)), deg)
        sums = np.bincount(rows, weights=values[self.indices], minlength=len(deg))
        return sums / np.maximum(deg, 1)


def social_graph(
    region: np.ndarray, k: int, rewire_p: float, cross_ties: float, rng: np.random.Generator
) -> Friends:
    """Watts-Strogatz small worlds per region, plus ``cross_ties * n`` random cross-region ties."""
    n = len(region)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for r in np.unique(region):
        members = np.flatnonzero(region == r)
        if len(members) < 3:
            continue
        kk = min(k, len(members) - 1 - (len(members) - 1) % 2) or 2
        sub = nx.watts_strogatz_graph(len(members), kk, rewire_p, seed=int(rng.integers(2**31)))
        graph.add_edges_from((int(members[a]), int(members[b])) for a, b in sub.edges())
    n_cross = int(round(cross_ties * n))
    a = rng.integers(0, n, n_cross)
    b = rng.integers(0, n, n_cross)
    graph.add_edges_from(
        (int(x), int(y)) for x, y in zip(a, b, strict=True) if region[x] != region[y]
    )
    csr = nx.to_scipy_sparse_array(graph, nodelist=range(n), format="csr")
    return Friends(
        graph=graph,
        indptr=csr.indptr.astype(np.int64),
        indices=csr.indices.astype(np.int64),
    )

"""Diversity and homogenization metrics over adoptions, solutions and embeddings.

All functions are pure: inputs are converted once with ``np.asarray``, nothing is
mutated, and every function returns a Python ``float``. Undefined values (empty input)
are ``float("nan")``; malformed input (wrong ndim, negative counts, non-finite values,
mismatched lengths) raises ``ValueError`` with a message naming the argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "chat_dispersion",
    "effective_solutions",
    "gini",
    "hill_number",
    "jaccard",
    "jaccard_homogenization",
    "js_divergence",
    "regional_distinctiveness",
    "vendi_score",
]

# Rows per block when accumulating Gram matrices / centroids, so that a (100_000, 384)
# float32 input never needs a full float64 copy (block of 8192 x 384 float64 = 25 MB).
_BLOCK = 8192


def _counts_1d(counts, name: str = "counts") -> np.ndarray:
    """Validate a 1-D vector of finite, non-negative counts; return it as float64."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def _embeddings_2d(X, name: str = "X") -> np.ndarray:
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return arr


def _unit_rows(block: np.ndarray, name: str = "X") -> np.ndarray:
    """float64 copy of ``block`` with L2-normalised rows; zero / non-finite rows raise."""
    b = np.asarray(block, dtype=np.float64)
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be finite")
    norms = np.linalg.norm(b, axis=1)
    if np.any(norms == 0):
        raise ValueError(f"{name} has an all-zero row; cosine similarity is undefined for it")
    return b / norms[:, None]


# --------------------------------------------------------------------------- Hill numbers


def hill_number(counts, q: float = 1.0) -> float:
    """Hill number of order ``q``: the effective number of types in ``counts``.

    ``counts``: 1-D array-like of non-negative counts (or weights), one entry per type.
    Zero entries are ignored (they are absent types). With ``p = counts / counts.sum()``:

    * ``q = 0``: richness (number of types with a positive count);
    * ``q = 1``: ``exp(-sum p log p)``, the exponential of Shannon entropy;
    * ``q = inf``: ``1 / max p`` (Berger-Parker); ``q = -inf``: ``1 / min p``;
    * otherwise ``(sum p**q) ** (1 / (1 - q))``, computed in log space so large ``|q|``
      does not under/overflow.

    The value is non-increasing in ``q``, at least 1, and for ``q >= 0`` at most the
    number of nonzero types
    (Hill 1973, "Diversity and evenness"). Empty or zero-sum input -> ``nan``.
    """
    arr = _counts_1d(counts)
    q = float(q)
    if np.isnan(q):
        raise ValueError("q must not be NaN")
    total = arr.sum()
    if arr.size == 0 or total == 0:
        return float("nan")
    p = arr[arr > 0] / total
    if q == 0:
        return float(p.size)
    if q == 1:
        return float(np.exp(-np.sum(p * np.log(p))))
    if q == np.inf:
        return float(1.0 / p.max())
    if q == -np.inf:
        return float(1.0 / p.min())
    # log D = logsumexp(q log p) / (1 - q)
    a = q * np.log(p)
    amax = a.max()
    lse = amax + np.log(np.sum(np.exp(a - amax)))
    return float(np.exp(lse / (1.0 - q)))


def effective_solutions(solution_ids) -> float:
    """Effective number of solutions in a window of adoptions.

    ``solution_ids``: 1-D int array, one entry per adoption (the id of the adopted
    solution). Returns ``hill_number(counts, q=1)`` of the counts of the distinct ids:
    ``exp`` of the Shannon entropy of the adoption mix, i.e. the number of equally popular
    solutions that would give the same entropy. Empty window -> ``nan``.
    """
    ids = np.asarray(solution_ids)
    if ids.ndim != 1:
        raise ValueError(f"solution_ids must be 1-D, got shape {ids.shape}")
    if ids.size == 0:
        return float("nan")
    _, counts = np.unique(ids, return_counts=True)
    return hill_number(counts, q=1.0)


# --------------------------------------------------------------------------- Vendi score


def vendi_score(X) -> float:
    """Vendi score of a set of embeddings with the cosine kernel (Friedman & Dieng 2023).

    ``X``: (n, d) real array (any float dtype; computed in float64 internally), one
    embedding per row. Rows are L2-normalised (an all-zero row raises ``ValueError``), the
    similarity matrix is ``K = X X^T`` (so ``K_ii = 1``) and the score is
    ``exp(-sum_i lambda_i log lambda_i)`` over the positive eigenvalues of ``K / n``:
    the exponential of the eigenvalue entropy, an "effective number of distinct items".
    It is 1 when all rows point the same way and n for n mutually orthogonal rows;
    always in ``[1, min(n, d)]``.

    The nonzero eigenvalues of ``X X^T / n`` equal those of ``X^T X / n``, so the smaller
    of the two Gram matrices is used: O(n d^2) time and O(d^2) extra memory for n > d
    (the (d, d) Gram matrix is accumulated over row blocks), which handles n = 100_000,
    d = 384. n == 0 -> ``nan``.
    """
    arr = _embeddings_2d(X)
    n, d = arr.shape
    if n == 0:
        return float("nan")
    if d == 0:
        raise ValueError("X has zero columns; cosine similarity is undefined")
    if n <= d:
        U = _unit_rows(arr)
        gram = U @ U.T
    else:
        gram = np.zeros((d, d), dtype=np.float64)
        for start in range(0, n, _BLOCK):
            U = _unit_rows(arr[start : start + _BLOCK])
            gram += U.T @ U
    lam = np.linalg.eigvalsh(gram / n)
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))


# --------------------------------------------------------------------------- inequality


def gini(counts) -> float:
    """Gini coefficient of non-negative counts (e.g. adoptions per solution).

    ``counts``: 1-D array-like of non-negative numbers; zeros are included as given (a
    solution nobody adopted counts as an equal participant with nothing). Computed as the
    mean absolute difference over all ordered pairs divided by twice the mean,
    ``sum_ij |x_i - x_j| / (2 n sum x)``: 0 when all counts are equal, ``(n - 1) / n``
    when one entry holds everything. Empty or zero-sum input -> ``nan``.
    """
    arr = _counts_1d(counts)
    n = arr.size
    total = arr.sum()
    if n == 0 or total == 0:
        return float("nan")
    x = np.sort(arr)
    i = np.arange(1, n + 1, dtype=np.float64)
    g = 2.0 * np.sum(i * x) / (n * total) - (n + 1.0) / n
    return float(min(max(g, 0.0), (n - 1.0) / n))


# --------------------------------------------------------------------------- Jaccard


def jaccard(a: Iterable, b: Iterable) -> float:
    """Jaccard similarity ``|A & B| / |A | B|`` of two collections of ids (as sets).

    Convention: two empty sets are identical, so ``jaccard([], []) == 1.0``. In [0, 1].
    """
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    if union == 0:
        return 1.0
    return len(sa & sb) / union


def jaccard_homogenization(item_sets: Sequence[set[int]], pairs) -> float:
    """Homogenization of user behaviour (Chaney, Stewart & Engelhardt 2018).

    "How algorithmic confounding in recommendation systems increases homogeneity and
    decreases utility" (RecSys 2018) measures homogenization as the mean Jaccard similarity
    of the item sets of pairs of users; the caller passes the pairs (typically each user
    and their nearest neighbour in true-preference feature space).

    ``item_sets``: sequence indexed by user of sets of item ids (here: adopted solutions).
    ``pairs``: (m, 2) int array of user indices into ``item_sets``. Pairs in which both
    sets are empty carry no information and are skipped. Returns the mean Jaccard over the
    remaining pairs, in [0, 1] (1 = neighbours adopt identical sets); no usable pairs ->
    ``nan``. Out-of-range indices raise ``ValueError``.
    """
    pr = np.asarray(pairs)
    if pr.size == 0:
        return float("nan")
    if pr.ndim != 2 or pr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (m, 2), got {pr.shape}")
    if not np.issubdtype(pr.dtype, np.integer):
        raise ValueError(f"pairs must be integer user indices, got dtype {pr.dtype}")
    n_users = len(item_sets)
    if pr.min() < 0 or pr.max() >= n_users:
        raise ValueError(f"pairs index users outside [0, {n_users})")
    sims = []
    for i, j in pr.tolist():
        a, b = item_sets[i], item_sets[j]
        if not a and not b:
            continue
        sims.append(jaccard(a, b))
    if not sims:
        return float("nan")
    return float(np.mean(sims))


# --------------------------------------------------------------------------- Jensen-Shannon


def _js_rows(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Base-2 JS divergence between matching rows of row-stochastic P and Q (broadcasts)."""
    M = 0.5 * (P + Q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(P > 0, P * np.log2(P / M), 0.0)
        kq = np.where(Q > 0, Q * np.log2(Q / M), 0.0)
    js = 0.5 * kp.sum(axis=-1) + 0.5 * kq.sum(axis=-1)
    return np.clip(js, 0.0, 1.0)


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence (base 2) between two distributions.

    ``p``, ``q``: 1-D non-negative arrays of equal length (counts or weights over the
    same categories); each is normalised to sum to 1. With ``m = (p + q) / 2``,
    ``JS = KL(p || m) / 2 + KL(q || m) / 2`` in bits, so the value is in [0, 1]: 0 for
    identical distributions, 1 for disjoint supports. Symmetric. Either vector summing to
    zero (or empty) -> ``nan``.
    """
    a = _counts_1d(p, "p")
    b = _counts_1d(q, "q")
    if a.shape != b.shape:
        raise ValueError(f"p and q must have the same shape, got {a.shape} and {b.shape}")
    sa, sb = a.sum(), b.sum()
    if sa == 0 or sb == 0:
        return float("nan")
    return float(_js_rows(a / sa, b / sb))


def regional_distinctiveness(region, solution) -> float:
    """Mean pairwise JS divergence between regions' solution-adoption mixes.

    ``region``, ``solution``: 1-D int arrays of equal length n, one entry per adoption
    (the adopter's region and the adopted solution's id). For each region present, the
    distribution of its adoptions over solutions is formed; the result is the mean of
    ``js_divergence`` over all unordered pairs of those regions, in [0, 1]: 0 when every
    region adopts the same mix (full homogenization), 1 when no two regions share any
    solution. Fewer than 2 regions present -> ``nan``.
    """
    r = np.asarray(region)
    s = np.asarray(solution)
    if r.ndim != 1 or s.ndim != 1:
        raise ValueError(f"region and solution must be 1-D, got {r.shape} and {s.shape}")
    if r.shape != s.shape:
        raise ValueError(f"region and solution must have equal length, got {r.size} and {s.size}")
    if r.size == 0:
        return float("nan")
    _, ri = np.unique(r, return_inverse=True)
    _, si = np.unique(s, return_inverse=True)
    n_r, n_s = int(ri.max()) + 1, int(si.max()) + 1
    if n_r < 2:
        return float("nan")
    table = np.bincount(ri * n_s + si, minlength=n_r * n_s).reshape(n_r, n_s).astype(np.float64)
    P = table / table.sum(axis=1, keepdims=True)
    total = 0.0
    for i in range(n_r - 1):
        total += float(_js_rows(P[i][None, :], P[i + 1 :]).sum())
    return total / (n_r * (n_r - 1) / 2)


# --------------------------------------------------------------------------- chat language


def chat_dispersion(X) -> float:
    """Dispersion of chat embeddings around their centroid direction.

    ``X``: (n, d) real array, one embedding per user's chat (float64 internally). Rows
    are L2-normalised (zero rows raise ``ValueError``); with ``c = mean_i x_i`` the value
    is ``mean_i (1 - cos(x_i, c))``, the mean cosine distance to the centroid direction.
    It is 0 when all rows point the same way and grows as the users' language diverges;
    for unit rows it equals ``1 - ||c||``, so it is in [0, 1] (1 when the centroid
    vanishes, e.g. two opposite rows, since then every direction is equally far).
    n == 0 -> ``nan``. A decreasing value over time means the users' language is
    converging.
    """
    arr = _embeddings_2d(X)
    n, d = arr.shape
    if n == 0:
        return float("nan")
    if d == 0:
        raise ValueError("X has zero columns; cosine similarity is undefined")
    s = np.zeros(d, dtype=np.float64)
    for start in range(0, n, _BLOCK):
        s += _unit_rows(arr[start : start + _BLOCK]).sum(axis=0)
    c_norm = float(np.linalg.norm(s / n))
    return float(min(max(1.0 - c_norm, 0.0), 1.0))

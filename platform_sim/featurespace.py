"""The platform's shared feature space: every chat vector, its metadata, user profiles.

Follows faiss's contract at every vector boundary: inputs are converted once with
``np.ascontiguousarray(x, "float32")``, results are ``(D, I)`` with ``I == -1`` for "not
found" (where ``D`` is faiss's padding value, -3.4e38). Similarity is cosine: stored
vectors, queries and profiles are L2-normalised (a normalised copy is made only when a
row is not already unit-norm, so embedder output passes through without a copy).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

# let idle OpenMP threads sleep (see platform_sim.embedding), set before faiss loads its own
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import faiss  # noqa: E402
import numpy as np

__all__ = ["Codebook", "FeatureSpace"]

_INITIAL_CAPACITY = 1024
APPROXIMATE_AFTER = 200_000  # chats: past this, the chat index is an inverted file
# cells of the inverted file searched per query: on 600k of a 100,000-user run's real
# chats (2,048 cells), held-out queries found 0.918 of the exact top 10 at 16, 0.940 at 32,
# 0.951 at 48 (benchmarks/recall.py); the synthetic test in tests/ is easier
NPROBE = 48
_QUERY_BATCH = 16384  # queries searched together in the inverted file (bounds memory)
_NOT_FOUND = np.finfo(np.float32).min  # faiss's distance for "no result" (-3.4e38)
TRAIN_PER_CELL = 40  # chats per cell the k-means is trained on (faiss asks for >= 39)

# faiss >= 1.14 searches a flat index with its own SIMD loop unless nq * d >= 128,000 (it
# was nq >= 20 before), a crossover measured on many-core servers. On 2 cores BLAS is
# already 3-7x faster from a handful of queries (d = 256, see benchmarks/), so from
# nq * d >= 1024 on it is used; older faiss, with its threshold on nq alone, is left as is.
if faiss.cvar.distance_compute_blas_threshold > 1024:
    faiss.cvar.distance_compute_blas_threshold = 1024
# name -> (dtype, fill value for rows not yet written)
_COLUMNS: dict[str, tuple[type, int | bool]] = {
    "user": (np.int64, -1),
    "step": (np.int64, -1),
    "region": (np.int64, -1),
    "domain": (np.int64, -1),
    "solution": (np.int64, -1),
    "outcome": (np.int8, -1),
    "machine": (np.bool_, False),
}


def _unit_rows(x: np.ndarray, dim: int, what: str) -> np.ndarray:
    """(m, dim) float32 C-contiguous with unit rows (zero rows stay zero)."""
    x = np.ascontiguousarray(x, dtype="float32")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{what}: expected shape (m, {dim}), got {x.shape}")
    sq = np.einsum("ij,ij->i", x, x)
    if np.all(np.abs(sq - 1.0) < 1e-4):
        return x
    norms = np.sqrt(sq)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0)[:, None], dtype="float32")


def _ints(x: np.ndarray | int, m: int, what: str, dtype: type = np.int64) -> np.ndarray:
    """(m,) array of ``dtype``; a scalar is broadcast."""
    a = np.asarray(x)
    if a.ndim == 0:
        return np.full(m, a, dtype=dtype)
    if a.shape != (m,):
        raise ValueError(f"{what}: expected shape ({m},), got {a.shape}")
    return a.astype(dtype, copy=False)


class FeatureSpace:
    """Chat vectors in one cosine index, plus per-chat metadata columns and per-user
    profile vectors.

    The index is exact (faiss IndexFlatIP) until it holds ``approximate_after`` chats; it
    then becomes an inverted file (IndexIVFFlat, inner product) whose ``nlist`` spherical
    k-means cells are trained once on the chats so far, searched ``nprobe`` cells at a
    time. A flat search costs O(chats) per query: at 100,000 users, 25,000 chats a step
    searched against millions. ``approximate_after=None`` keeps it exact forever.
    ``nlist=None`` picks ~4 sqrt(chats at the switch), a power of two.

    Metadata columns are read-only numpy views of length ``len(self)``, valid until the
    next ``add_chats``: ``user``, ``step``, ``region``, ``domain`` (int64), ``solution``
    (int64, -1 unknown), ``outcome`` (int8, -1 unknown, else 0/1), ``machine`` (bool).
    Storage is preallocated with capacity doubling, so appends are amortised O(1).
    """

    def __init__(
        self,
        dim: int,
        n_users: int,
        *,
        approximate_after: int | None = APPROXIMATE_AFTER,
        nlist: int | None = None,
        nprobe: int = NPROBE,
    ) -> None:
        self.dim = dim
        self.n_users = n_users
        self.approximate_after = approximate_after
        self.nlist = nlist
        self.nprobe = nprobe
        self.index: faiss.Index = faiss.IndexFlatIP(dim)
        self._n = 0
        self._cols = {
            name: np.full(_INITIAL_CAPACITY, fill, dtype=dtype)
            for name, (dtype, fill) in _COLUMNS.items()
        }
        self.profiles = np.zeros((n_users, dim), dtype=np.float32)
        """(n_users, dim) float32: running mean of each user's unit chat vectors."""
        self.n_chats_of_user = np.zeros(n_users, dtype=np.int64)
        """(n_users,) int64: how many chat vectors went into each profile."""

    def __len__(self) -> int:
        return self._n

    @property
    def approximate(self) -> bool:
        """True once the chats are in the inverted-file index."""
        return isinstance(self.index, faiss.IndexIVF)

    def _go_approximate(self) -> None:
        """Move every chat from the flat index into a freshly trained inverted file."""
        x = self.index.reconstruct_n(0, self._n)
        nlist = self.nlist or 2 ** round(np.log2(4 * np.sqrt(self._n)))
        ivf = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT
        )
        ivf.cp.spherical = True
        ivf.cp.niter = 10
        ivf.cp.seed = 1234
        # k-means on an evenly spaced sample of TRAIN_PER_CELL chats per cell (faiss would
        # draw one at random); deterministic, and its cost bounded
        rows = np.linspace(0, self._n - 1, min(self._n, TRAIN_PER_CELL * nlist)).astype(np.int64)
        ivf.train(np.ascontiguousarray(x[rows]))
        ivf.add(x)
        ivf.make_direct_map()  # chat_vectors() reconstructs by id
        ivf.nprobe = self.nprobe
        self.index = ivf

    # ---------------------------------------------------------------- metadata columns

    def _view(self, name: str) -> np.ndarray:
        view = self._cols[name][: self._n]
        view.flags.writeable = False
        return view

    user = property(lambda self: self._view("user"), doc="(n,) int64 author of each chat")
    step = property(lambda self: self._view("step"), doc="(n,) int64 step of each chat")
    region = property(lambda self: self._view("region"), doc="(n,) int64 author's region")
    domain = property(lambda self: self._view("domain"), doc="(n,) int64 problem domain")
    solution = property(lambda self: self._view("solution"), doc="(n,) int64, -1 unknown")
    outcome = property(lambda self: self._view("outcome"), doc="(n,) int8 0/1, -1 unknown")
    machine = property(lambda self: self._view("machine"), doc="(n,) bool from the platform")

    def _grow(self, needed: int) -> None:
        capacity = len(self._cols["user"])
        if needed <= capacity:
            return
        new_capacity = max(2 * capacity, needed)
        for name, (dtype, fill) in _COLUMNS.items():
            col = np.full(new_capacity, fill, dtype=dtype)
            col[: self._n] = self._cols[name][: self._n]
            self._cols[name] = col

    def _check_users(self, user: np.ndarray) -> None:
        if user.size and (user.min() < 0 or user.max() >= self.n_users):
            raise ValueError(f"user ids must be in [0, {self.n_users})")

    def _check_chats(self, chat_ids: np.ndarray) -> None:
        if chat_ids.size and (chat_ids.min() < 0 or chat_ids.max() >= self._n):
            raise ValueError(f"chat ids must be in [0, {self._n})")

    # -------------------------------------------------------------------------- chats

    def add_chats(
        self,
        vectors: np.ndarray,
        user: np.ndarray,
        step: int,
        region: np.ndarray,
        domain: np.ndarray,
    ) -> np.ndarray:
        """Store m chats: vectors (m, dim) float, user/region/domain (m,) int.

        Returns their chat ids, (m,) int64, consecutive from ``len(self)``.
        """
        x = _unit_rows(vectors, self.dim, "vectors")
        m = len(x)
        user = _ints(user, m, "user")
        self._check_users(user)
        region, domain = _ints(region, m, "region"), _ints(domain, m, "domain")
        start = self._n
        self._grow(start + m)
        self.index.add(x)
        if (
            self.approximate_after is not None
            and not self.approximate
            and start + m >= self.approximate_after
        ):
            self._n = start + m
            self._go_approximate()
        rows = slice(start, start + m)
        self._cols["user"][rows] = user
        self._cols["step"][rows] = step
        self._cols["region"][rows] = region
        self._cols["domain"][rows] = domain
        self._n = start + m
        return np.arange(start, start + m, dtype=np.int64)

    def record_outcomes(
        self,
        chat_ids: np.ndarray,
        solution: np.ndarray,
        outcome: np.ndarray,
        machine: np.ndarray,
    ) -> None:
        """Record what was tried for chats (m,) int: solution (m,) int, outcome (m,) 0/1,
        machine (m,) bool (the solution came from the platform)."""
        ids = np.asarray(chat_ids, dtype=np.int64).reshape(-1)
        m = len(ids)
        self._check_chats(ids)
        outcome = _ints(outcome, m, "outcome", np.int8)
        if np.any((outcome != 0) & (outcome != 1)):
            raise ValueError("outcome must be 0 or 1")
        self._cols["solution"][ids] = _ints(solution, m, "solution")
        self._cols["outcome"][ids] = outcome
        self._cols["machine"][ids] = _ints(machine, m, "machine", np.bool_)

    def search_chats(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k nearest stored chats of each query (q, dim), in one batched faiss call (or,
        once approximate, one matrix product per probed cell).

        Returns D (q, k) float32 cosine and I (q, k) int64 chat ids, -1 padded.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        q = _unit_rows(queries, self.dim, "queries")
        if self.approximate:
            return self._search_cells(q, k)
        return self.index.search(q, k)

    def _search_cells(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """What ``IndexIVFFlat.search`` finds (the k best among the chats of each query's
        ``nprobe`` nearest cells), computed cell by cell: faiss scans the cells of one query
        at a time, streaming each cell from memory once per query that probes it (memory
        bound: ~80 ns a chat); here the queries probing a cell are scored together in one
        BLAS product, so each cell is read once per batch (3-4x less CPU than faiss for
        20,000 queries on cells of ~1,000 real chats, as at 2.5M chats). Ties may order
        differently from faiss's.

        The cells are shared out over faiss's thread count (faiss releases the GIL); each
        thread runs its products on one OpenMP thread (set per thread: OpenMP's thread
        count is per calling thread), so two cores do two cells at a time.
        """
        threads = max(1, faiss.omp_get_max_threads())
        with ThreadPoolExecutor(
            threads, initializer=faiss.omp_set_num_threads, initargs=(1,)
        ) as pool:
            parts = [
                self._search_batch(pool, threads, q[s : s + _QUERY_BATCH], k)
                for s in range(0, len(q), _QUERY_BATCH)
            ]
        return np.concatenate([d for d, _ in parts]), np.concatenate([i for _, i in parts])

    def _search_batch(
        self, pool: ThreadPoolExecutor, threads: int, q: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        ivf, nprobe, lists, dim = self.index, self.nprobe, self.index.invlists, self.dim
        _, cells = ivf.quantizer.search(q, nprobe)
        cand_d = np.full((len(q) * nprobe, k), _NOT_FOUND, dtype=np.float32)
        cand_i = np.full((len(q) * nprobe, k), -1, dtype=np.int64)
        slots = cells.ravel()
        order = np.argsort(slots, kind="stable")  # (query, probe) slots grouped by cell
        bounds = np.searchsorted(slots[order], np.arange(ivf.nlist + 1))

        # probed, non-empty cells in decreasing work (queries x size), dealt out in turn
        asked = np.diff(bounds)
        todo = np.flatnonzero(asked)
        size_of = {c: lists.list_size(c) for c in todo.tolist()}
        work = asked[todo] * np.array([size_of[c] for c in todo.tolist()], dtype=np.int64)
        todo = todo[work > 0][np.argsort(-work[work > 0], kind="stable")]

        def scan(part: np.ndarray) -> None:
            for cell in part.tolist():
                size = size_of[cell]
                mine = order[bounds[cell] : bounds[cell + 1]]
                vectors = faiss.rev_swig_ptr(lists.get_codes(cell), size * dim * 4)
                chat_ids = faiss.rev_swig_ptr(lists.get_ids(cell), size)
                kk = min(k, size)
                d, i = faiss.knn(
                    q[mine // nprobe],
                    vectors.view(np.float32).reshape(size, dim),
                    kk,
                    metric=faiss.METRIC_INNER_PRODUCT,
                )
                cand_d[mine, :kk] = d
                cand_i[mine, :kk] = chat_ids[i]

        list(pool.map(scan, [todo[t::threads] for t in range(threads)]))
        # the k best of each query's nprobe * k candidates, best first (ties: by slot)
        cand_d = cand_d.reshape(len(q), nprobe * k)
        cand_i = cand_i.reshape(len(q), nprobe * k)
        best = np.argpartition(-cand_d, k - 1, axis=1)[:, :k]
        rank = np.lexsort((best, -np.take_along_axis(cand_d, best, axis=1)))
        best = np.take_along_axis(best, rank, axis=1)
        return np.take_along_axis(cand_d, best, axis=1), np.take_along_axis(cand_i, best, axis=1)

    def chat_vectors(self, chat_ids: np.ndarray) -> np.ndarray:
        """The stored unit vectors of chats (m,) int, as (m, dim) float32."""
        ids = np.ascontiguousarray(chat_ids, dtype=np.int64).reshape(-1)
        self._check_chats(ids)
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(ids)

    # -------------------------------------------------------------------------- users

    def update_profiles(self, user: np.ndarray, vectors: np.ndarray) -> None:
        """Fold chat vectors (m, dim) of users (m,) int into the users' running means.

        A user may repeat within the batch; all of its rows are folded in together.
        """
        x = _unit_rows(vectors, self.dim, "vectors")
        user = _ints(user, len(x), "user")
        self._check_users(user)
        if not len(x):
            return
        uniq, inv = np.unique(user, return_inverse=True)
        counts = np.bincount(inv, minlength=len(uniq))
        # each user's rows summed in batch order, as np.add.at would (which is slow): one
        # vectorised add per repeat (a user rarely chats twice in one batch)
        order = np.argsort(inv, kind="stable")
        rank = np.empty(len(x), dtype=np.int64)
        rank[order] = np.arange(len(x)) - (np.cumsum(counts) - counts)[inv[order]]
        sums = np.zeros((len(uniq), self.dim), dtype=np.float32)
        for r in range(int(counts.max())):
            rows = np.flatnonzero(rank == r)
            sums[inv[rows]] += x[rows]
        old = self.n_chats_of_user[uniq]
        new = old + counts
        self.profiles[uniq] = (self.profiles[uniq] * old[:, None] + sums) / new[:, None]
        self.n_chats_of_user[uniq] = new

    def search_users(
        self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """k nearest users (by normalised profile) of each query (q, dim), among users
        with >= 1 chat; ``exclude`` (q,) int drops that user id from row i (self).

        Returns D (q, k) float32 cosine and I (q, k) int64 user ids, -1 padded. Builds a
        flat index of the current profiles and searches it once.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        q = _unit_rows(queries, self.dim, "queries")
        active = np.flatnonzero(self.n_chats_of_user > 0)
        index = faiss.IndexFlatIP(self.dim)
        index.add(_unit_rows(self.profiles[active], self.dim, "profiles"))
        D, idx = index.search(q, k if exclude is None else k + 1)
        ids = np.where(idx >= 0, active[np.maximum(idx, 0)], -1)
        if exclude is not None:
            exclude = _ints(exclude, len(q), "exclude")
            # each user appears at most once per row: move it last, then cut to k
            order = np.argsort(ids == exclude[:, None], axis=1, kind="stable")[:, :k]
            D = np.take_along_axis(D, order, axis=1)
            ids = np.take_along_axis(ids, order, axis=1)
        return np.ascontiguousarray(D), np.ascontiguousarray(ids)

    def nearest_user_pairs(self) -> np.ndarray:
        """(m, 2) int64 rows (user, nearest other user) for every user with >= 1 chat
        (empty when fewer than two users have chatted)."""
        active = np.flatnonzero(self.n_chats_of_user > 0)
        if len(active) < 2:
            return np.zeros((0, 2), dtype=np.int64)
        _, idx = self.search_users(self.profiles[active], 1, exclude=active)
        return np.column_stack([active, idx[:, 0]]).astype(np.int64)


class Codebook:
    """The platform's "features": spherical k-means clusters of chat embeddings."""

    def __init__(self, centroids: np.ndarray) -> None:
        self.centroids = np.ascontiguousarray(centroids, dtype="float32")
        """(k, dim) float32 unit centroids."""
        self._index = faiss.IndexFlatIP(self.centroids.shape[1])
        self._index.add(self.centroids)

    @property
    def n_features(self) -> int:
        return len(self.centroids)

    @classmethod
    def fit(cls, vectors: np.ndarray, n_features: int, seed: int) -> Codebook:
        """Cluster vectors (n, dim) into k = min(n_features, max(1, n // 8)) features.

        Deterministic given ``seed`` (taken modulo 2**31 for faiss).
        """
        x = np.ascontiguousarray(vectors, dtype="float32")
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"vectors: expected shape (n >= 1, dim), got {x.shape}")
        if n_features < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")
        x = _unit_rows(x, x.shape[1], "vectors")
        k = min(n_features, max(1, len(x) // 8))
        km = faiss.Kmeans(
            x.shape[1],
            k,
            niter=20,
            seed=int(seed) % 2**31,
            spherical=True,
            min_points_per_centroid=1,  # k <= n // 8 is by design; skip faiss's warning
        )
        km.train(x)
        return cls(km.centroids)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest centroid of each vector (n, dim), (n,) int64, in one batched call."""
        x = _unit_rows(vectors, self.centroids.shape[1], "vectors")
        _, idx = self._index.search(x, 1)
        return idx[:, 0]

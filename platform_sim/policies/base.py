"""What every policy sees and returns, and the plumbing they share.

A policy ranks solutions for a batch of platform-seekers (a ``Request``) using only what
the platform has observed: chats, their neighbours in feature space, outcomes, counts.
Only a policy with ``reads_truth = True`` (the `ideal` oracle) is handed the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    from platform_sim.platform import Platform


@dataclass(frozen=True)
class Request:
    """The step's platform-seekers: all arrays have q rows."""

    step: int
    users: np.ndarray  # (q,) int64
    region: np.ndarray  # (q,) int64
    domain: np.ndarray  # (q,) int64
    feature: np.ndarray  # (q,) int64 the chat's feature cluster
    vectors: np.ndarray  # (q, dim) float32 chat embeddings
    neighbor_sim: np.ndarray  # (q, k) float32 cosine similarity of past chats
    neighbor_ids: np.ndarray  # (q, k) int64 chat ids, -1 padded

    def __len__(self) -> int:
        return len(self.users)


class Oracle(Protocol):
    """The truth, for the `ideal` policy only: each user's truly best solutions."""

    def ranked(self, users: np.ndarray, domain: np.ndarray, top: int) -> np.ndarray: ...


class Policy(Protocol):
    """A platform policy: ``recommend`` returns (q, m) solution ids, best first, -1 padded."""

    name: ClassVar[str]
    available: ClassVar[bool]  # False: there is no platform to ask (the control world)
    reads_truth: ClassVar[bool]  # True only for the oracle: it is handed the truth
    asks_to_adapt: ClassVar[bool]  # True: seekers are nudged to adapt an option to themselves

    def recommend(
        self, platform: Platform, req: Request, m: int, rng: np.random.Generator
    ) -> np.ndarray: ...


def top_per_row(
    rows: np.ndarray, ids: np.ndarray, scores: np.ndarray, q: int, m: int, rng: np.random.Generator
) -> np.ndarray:
    """Top ``m`` ids per row from (row, id, score) triplets; ties broken at random.

    Duplicate (row, id) pairs must already be aggregated. Returns (q, m) int64, -1 padded.
    """
    out = np.full((q, m), -1, dtype=np.int64)
    if len(rows) == 0:
        return out
    order = np.lexsort((rng.random(len(rows)), -scores, rows))
    rows, ids = rows[order], ids[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - starts
    keep = rank < m
    out[rows[keep], rank[keep]] = ids[keep]
    return out


def aggregate(rows: np.ndarray, ids: np.ndarray, values: np.ndarray, n_ids: int):
    """Sum ``values`` over duplicate (row, id) pairs; returns unique rows, ids, sums."""
    key = rows.astype(np.int64) * n_ids + ids
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(uniq))
    return uniq // n_ids, uniq % n_ids, sums


def fill_missing(ranked: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Fill -1 slots of each row with that row's fallback ids not already present."""
    out = ranked.copy()
    for i in np.flatnonzero((out < 0).any(axis=1)):
        have = set(out[i][out[i] >= 0].tolist())
        extra = [s for s in fallback[i].tolist() if s >= 0 and s not in have]
        free = np.flatnonzero(out[i] < 0)
        n = min(len(free), len(extra))
        out[i, free[:n]] = extra[:n]
    return out


def known_solutions(platform: Platform, domain: int, min_users: int = 0) -> np.ndarray:
    """Ids of a domain's solutions the platform may recommend.

    Those it has seen tried plus the catalog's (so a platform with no history still
    answers); under k-anonymity (``min_users`` > 1) only those tried by that many people.
    """
    sols, counts = platform.solutions, platform.counts
    cand = sols.in_domain(domain)
    if min_users > 1:
        return cand[counts.users[cand] >= min_users]
    return cand[(cand < sols.n_catalog) | (counts.tries[cand] > 0)]


def most_successful(
    platform: Platform, domain: np.ndarray, m: int, rng: np.random.Generator, min_users: int = 0
) -> np.ndarray:
    """Per request row, the domain's ``m`` known solutions with the most recorded successes.

    Returns (q, m) int64, -1 padded.
    """
    counts = platform.counts
    out = np.full((len(domain), m), -1, dtype=np.int64)
    for d in np.unique(domain):
        cand = known_solutions(platform, int(d), min_users)
        succ = counts.successes[cand]
        rows = np.flatnonzero(domain == d)
        order = np.lexsort((rng.random(len(cand)), -succ))[:m]
        out[rows, : len(order)] = cand[order]
    return out


def rank_known(platform: Platform, req: Request, m: int, rng: np.random.Generator, score):
    """Rank each seeker's known domain solutions by ``score(cand, rows)``.

    ``score`` gets a domain's known solution ids (C,) and the request rows asking in that
    domain (r,), and returns an (r, C) array; higher is better. Returns (q, m) int64.
    """
    rows_all, ids_all, scores_all = [], [], []
    for d in np.unique(req.domain):
        cand = known_solutions(platform, int(d))
        rows = np.flatnonzero(req.domain == d)
        rows_all.append(np.repeat(rows, len(cand)))
        ids_all.append(np.tile(cand, len(rows)))
        scores_all.append(np.asarray(score(cand, rows)).ravel())
    if not rows_all:
        return np.full((len(req), m), -1, dtype=np.int64)
    return top_per_row(
        np.concatenate(rows_all), np.concatenate(ids_all), np.concatenate(scores_all),
        len(req), m, rng,
    )  # fmt: skip

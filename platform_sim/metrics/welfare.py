"""Welfare metrics: how well people fare, and whether the same people keep failing.

Pure functions; empty input -> ``float("nan")``; malformed input (wrong ndim,
mismatched shapes, out-of-range indicators) -> ``ValueError``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["atypical_gap", "outcome_homogenization", "regret", "success_rate"]


def _float_1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def success_rate(outcomes) -> float:
    """Share of successful outcomes.

    ``outcomes``: 1-D bool (or 0/1) array, one entry per attempt (1 = the adopted
    solution worked). Returns the mean, in [0, 1]. Empty -> ``nan``.
    """
    arr = _float_1d(outcomes, "outcomes")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("outcomes must contain only booleans or 0/1 values")
    return float(arr.mean()) if arr.size else float("nan")


def regret(best_p, adopted_p) -> float:
    """Mean regret against the best true solution.

    ``best_p``: (n,) float, each user's highest true success probability over the
    solutions available to them; ``adopted_p``: (n,) float, the true success probability
    of the solution the user adopted. Returns ``mean(best_p - adopted_p)`` (0 = everyone
    adopted their best solution). Shapes must match; empty -> ``nan``.
    """
    b = _float_1d(best_p, "best_p")
    a = _float_1d(adopted_p, "adopted_p")
    if b.shape != a.shape:
        raise ValueError(f"best_p and adopted_p must have the same shape, got {b.shape}, {a.shape}")
    return float(np.mean(b - a)) if b.size else float("nan")


def atypical_gap(atypicality, success, share: float = 0.1) -> float:
    """Success of the most atypical users minus success of everyone else.

    ``atypicality``: (n,) finite float, how idiosyncratic each user is (e.g. distance of
    their features from their region's / the population's typical user);
    ``success``: (n,) float, each user's success (0/1 outcomes or success rates).
    The ``k = max(1, floor(share * n))`` users with the highest atypicality (capped at
    ``n - 1`` so the rest is non-empty; ties go to the lower index, via a stable argsort
    of ``-atypicality``) form the atypical group. Returns
    ``mean(success[atypical]) - mean(success[rest])``: negative means the atypical do
    worse (the homogenization harm the simulator looks for). Fewer than 2 users -> ``nan``.
    """
    a = _float_1d(atypicality, "atypicality")
    s = _float_1d(success, "success")
    if a.shape != s.shape:
        raise ValueError(
            f"atypicality and success must have the same shape, got {a.shape}, {s.shape}"
        )
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got {share}")
    if not np.all(np.isfinite(a)):
        raise ValueError("atypicality must be finite")
    n = a.size
    if n < 2:
        return float("nan")
    k = min(max(1, int(np.floor(share * n + 1e-9))), n - 1)
    order = np.argsort(-a, kind="stable")
    top = np.zeros(n, dtype=bool)
    top[order[:k]] = True
    return float(s[top].mean() - s[~top].mean())


def outcome_homogenization(failures) -> float:
    """Outcome homogenization (Bommasani et al. 2022, "Picking on the same person").

    ``failures``: (n_users, k) float array of failure indicators, one column per decision
    (e.g. per recommendation / deployment): 1 = the user failed, 0 = succeeded, NaN =
    missing. Only complete rows (no NaN) are used. Returns

        P(user fails all k) / prod_j P(user fails decision j),

    the observed systemic-failure rate over the rate expected if failures were
    independent across decisions. 1 = independent; > 1 = the same users keep failing
    (homogenized outcomes); < 1 = failures are spread over different users. No complete
    rows, k == 0, or an expected rate of 0 (some column never fails) -> ``nan``.
    """
    F = np.asarray(failures, dtype=np.float64)
    if F.ndim != 2:
        raise ValueError(f"failures must be 2-D (n_users, k), got shape {F.shape}")
    ok = ~np.isnan(F)
    if not np.all((F[ok] == 0) | (F[ok] == 1)):
        raise ValueError("failures must contain only 0, 1 or NaN")
    if F.shape[1] == 0:
        return float("nan")
    C = F[ok.all(axis=1)]
    if C.shape[0] == 0:
        return float("nan")
    expected = float(np.prod(C.mean(axis=0)))
    if expected == 0:
        return float("nan")
    observed = float(np.mean(C.all(axis=1)))
    return observed / expected

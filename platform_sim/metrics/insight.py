"""Platform insight: does the platform know which solutions are universal, regional or
individual?

Each solution's true success model has a universal part plus a regional and an
individual variance component (in logit^2 units). The truth labels a solution by the
component that dominates; the platform estimates the label from outcome counts it has
observed, broken down by region and by user group (feature clusters).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INDIVIDUAL",
    "REGIONAL",
    "UNIVERSAL",
    "UNKNOWN",
    "estimate_labels",
    "heterogeneity_z",
    "platform_insight",
    "true_labels",
]

UNIVERSAL, REGIONAL, INDIVIDUAL = 0, 1, 2
UNKNOWN = -1


def platform_insight(predicted, truth) -> float:
    """Accuracy of the platform's per-solution labels against the truth.

    ``predicted``, ``truth``: (n_solutions,) int arrays of labels (``UNIVERSAL``,
    ``REGIONAL``, ``INDIVIDUAL``; ``predicted`` may also be ``UNKNOWN``). Returns the share
    of solutions with a known prediction whose prediction equals the truth, in [0, 1].
    No known predictions (or empty) -> ``nan``.
    """
    p = np.asarray(predicted)
    t = np.asarray(truth)
    if p.ndim != 1 or t.ndim != 1:
        raise ValueError(f"predicted and truth must be 1-D, got {p.shape} and {t.shape}")
    if p.shape != t.shape:
        raise ValueError(f"predicted and truth must have equal length, got {p.size} and {t.size}")
    known = p != UNKNOWN
    if not known.any():
        return float("nan")
    return float(np.mean(p[known] == t[known]))


def true_labels(universal, regional_var, individual_var, threshold: float = 0.25) -> np.ndarray:
    """True label of each solution from its variance components.

    ``universal``: (n,) float, the universal (population-mean) logit effect of each
    solution; it is shape-checked but does not affect the label, which is about *where
    the variation lives*. ``regional_var``, ``individual_var``: (n,) float, the variance
    of the solution's success logit across regions and across individuals (logit^2
    units). A solution is ``INDIVIDUAL`` if ``individual_var > regional_var`` and
    ``individual_var > threshold``; ``REGIONAL`` if ``regional_var >= individual_var``
    and ``regional_var > threshold`` (an exact tie goes to the coarser REGIONAL);
    otherwise ``UNIVERSAL``. Returns an (n,) int64 array.
    """
    u = np.asarray(universal, dtype=np.float64)
    r = np.asarray(regional_var, dtype=np.float64)
    i = np.asarray(individual_var, dtype=np.float64)
    if u.ndim != 1 or r.shape != u.shape or i.shape != u.shape:
        raise ValueError(
            "universal, regional_var and individual_var must be 1-D of equal length, "
            f"got {u.shape}, {r.shape}, {i.shape}"
        )
    if np.any(r < 0) or np.any(i < 0):
        raise ValueError("variance components must be non-negative")
    out = np.full(u.shape, UNIVERSAL, dtype=np.int64)
    out[(r >= i) & (r > threshold)] = REGIONAL
    out[(i > r) & (i > threshold)] = INDIVIDUAL
    return out


def _counts_2d(succ, n, name: str) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(succ, dtype=np.float64)
    t = np.asarray(n, dtype=np.float64)
    if s.ndim != 2 or t.shape != s.shape:
        raise ValueError(
            f"{name}_succ and {name}_n must be 2-D of the same shape, got {s.shape}, {t.shape}"
        )
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(t))):
        raise ValueError(f"{name} counts must be finite")
    if np.any(s < 0) or np.any(t < 0):
        raise ValueError(f"{name} counts must be non-negative")
    if np.any(s > t):
        raise ValueError(f"{name}_succ exceeds {name}_n")
    return s, t


def heterogeneity_z(succ, n) -> np.ndarray:
    """Standardised Pearson chi-square heterogeneity of success rates across cells.

    ``succ``, ``n``: (n_solutions, n_cells) success and trial counts. For each row, over
    the cells with ``n_j > 0`` (``m`` of them), with pooled rate ``p = sum s / sum n``:

        X2 = sum_j (s_j - n_j p)^2 / (n_j p (1 - p)),    dof = m - 1,

    the Pearson chi-square test of equal success rates (X2 / dof ~ 1 under binomial
    noise alone). X2 is mapped to a standard-normal score with the Wilson-Hilferty cube
    root transform, ``z = ((X2/dof)^(1/3) - (1 - 2/(9 dof))) / sqrt(2/(9 dof))``, which
    is well calibrated even for small dof. Rows with ``dof < 1`` or a pooled rate of 0 or
    1 (no observable heterogeneity) get ``-inf``. Returns an (n_solutions,) float array.
    """
    s = np.asarray(succ, dtype=np.float64)
    t = np.asarray(n, dtype=np.float64)
    tot_n = t.sum(axis=1)
    dof = (t > 0).sum(axis=1) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s.sum(axis=1) / tot_n
        var = t * (p * (1.0 - p))[:, None]
        cells = np.where(t > 0, (s - t * p[:, None]) ** 2 / var, 0.0)
        x2 = cells.sum(axis=1)
        c = 2.0 / (9.0 * dof)
        z = (np.cbrt(x2 / dof) - (1.0 - c)) / np.sqrt(c)
    valid = (dof >= 1) & (p > 0) & (p < 1)
    return np.where(valid, z, -np.inf)


def estimate_labels(
    region_succ, region_n, group_succ, group_n, min_n: int = 20, z: float = 2.0
) -> np.ndarray:
    """The platform's label for each solution, estimated from outcome counts.

    ``region_succ``, ``region_n``: (n_solutions, n_regions) counts of successes and
    trials of each solution among users of each region; ``group_succ``, ``group_n``:
    (n_solutions, n_groups) the same broken down by user group (feature clusters).

    For each solution with at least ``min_n`` trials (``region_n`` row sum), the success
    rates are tested for heterogeneity across regions and across groups with the Pearson
    chi-square dispersion statistic relative to binomial noise, standardised to a
    z-score (see ``heterogeneity_z``: X2 with dof = cells - 1, Wilson-Hilferty
    transform). The larger of the two z-scores picks ``REGIONAL`` or ``INDIVIDUAL`` if it
    exceeds ``z`` (ties go to REGIONAL); otherwise the solution is ``UNIVERSAL``.
    Solutions with fewer than ``min_n`` trials are ``UNKNOWN``. Returns an (n_solutions,)
    int64 array.
    """
    rs, rn = _counts_2d(region_succ, region_n, "region")
    gs, gn = _counts_2d(group_succ, group_n, "group")
    if rs.shape[0] != gs.shape[0]:
        raise ValueError(
            f"region and group counts must have the same number of solutions (rows), "
            f"got {rs.shape[0]} and {gs.shape[0]}"
        )
    n_sol = rs.shape[0]
    out = np.full(n_sol, UNKNOWN, dtype=np.int64)
    if n_sol == 0:
        return out
    z_reg = heterogeneity_z(rs, rn)
    z_ind = heterogeneity_z(gs, gn)
    enough = rn.sum(axis=1) >= min_n
    out[enough] = UNIVERSAL
    reg = enough & (z_reg >= z_ind) & (z_reg > z)
    ind = enough & (z_ind > z_reg) & (z_ind > z)
    out[reg] = REGIONAL
    out[ind] = INDIVIDUAL
    return out

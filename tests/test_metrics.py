"""Hand-computed tests for platform_sim.metrics."""

import math

import numpy as np
import pytest

from platform_sim.metrics import (
    INDIVIDUAL,
    REGIONAL,
    UNIVERSAL,
    UNKNOWN,
    atypical_gap,
    chat_dispersion,
    crossing_step,
    effective_solutions,
    estimate_labels,
    gini,
    heterogeneity_z,
    hill_number,
    jaccard,
    jaccard_homogenization,
    js_divergence,
    machine_share,
    novelty_rate,
    outcome_homogenization,
    platform_insight,
    regional_distinctiveness,
    regret,
    success_rate,
    true_labels,
    vendi_score,
)

NAN = float("nan")


def isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


# JS(P=(1,0) || Q=(.5,.5)) in bits, by hand: M = (.75,.25);
# KL(P||M) = log2(4/3); KL(Q||M) = .5 log2(2/3) + .5 log2(2); JS = mean of the two.
JS_POINT_VS_HALF = 0.5 * (math.log2(4 / 3) + 0.5 * math.log2(2 / 3) + 0.5)


# ------------------------------------------------------------------- hill / effective


class TestHill:
    def test_uniform_is_number_of_types(self):
        for q in (0, 0.5, 1, 2, 3, np.inf):
            assert hill_number([1, 1, 1, 1], q=q) == pytest.approx(4.0)

    def test_two_one_one_by_hand(self):
        # p = (1/2, 1/4, 1/4): H = 1.5 ln 2, so D1 = 2 ** 1.5
        assert hill_number([2, 1, 1]) == pytest.approx(2**1.5)
        assert hill_number([2, 1, 1], q=0) == 3.0
        assert hill_number([2, 1, 1], q=2) == pytest.approx(1 / (0.25 + 2 * 0.0625))  # 8/3
        assert hill_number([2, 1, 1], q=3) == pytest.approx((0.125 + 2 / 64) ** -0.5)
        assert hill_number([2, 1, 1], q=0.5) == pytest.approx((math.sqrt(0.5) + 1.0) ** 2)
        assert hill_number([2, 1, 1], q=np.inf) == pytest.approx(2.0)
        assert hill_number([2, 1, 1], q=-np.inf) == pytest.approx(4.0)

    def test_zeros_ignored(self):
        assert hill_number([0, 2, 0, 1, 1], q=0) == 3.0
        assert hill_number([0, 2, 0, 1, 1]) == pytest.approx(2**1.5)

    def test_single_type(self):
        assert hill_number([7]) == 1.0
        assert hill_number([0, 7, 0], q=2) == 1.0

    def test_scale_invariant(self):
        assert hill_number([20, 10, 10], q=2) == pytest.approx(hill_number([2, 1, 1], q=2))

    def test_large_q_no_underflow(self):
        assert hill_number([2, 1, 1], q=2000) == pytest.approx(2.0, rel=1e-3)

    def test_undefined(self):
        assert isnan(hill_number([]))
        assert isnan(hill_number([0, 0]))

    def test_malformed(self):
        with pytest.raises(ValueError, match="non-negative"):
            hill_number([1, -1])
        with pytest.raises(ValueError, match="1-D"):
            hill_number([[1, 2]])
        with pytest.raises(ValueError, match="finite"):
            hill_number([1, np.nan])

    def test_effective_solutions(self):
        # ids 5,5,7,9 -> counts (2,1,1); ids need not be consecutive
        assert effective_solutions(np.array([9, 5, 7, 5])) == pytest.approx(2**1.5)
        assert effective_solutions([3, 3, 3]) == 1.0
        assert effective_solutions([0, 1, 2, 3]) == pytest.approx(4.0)
        assert isnan(effective_solutions(np.array([], dtype=int)))
        with pytest.raises(ValueError):
            effective_solutions([[1, 2]])


# ------------------------------------------------------------------- vendi


def _vendi_reference(X):
    X = np.asarray(X, dtype=np.float64)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    lam = np.linalg.eigvalsh(X @ X.T / len(X))
    lam = lam[lam > 1e-15]
    return float(np.exp(-np.sum(lam * np.log(lam))))


class TestVendi:
    def test_identical_rows(self):
        assert vendi_score(np.tile([1.0, 2.0, 3.0], (5, 1))) == pytest.approx(1.0)

    def test_orthogonal_rows(self):
        assert vendi_score(np.eye(4)) == pytest.approx(4.0)
        assert vendi_score(np.eye(6)[:3]) == pytest.approx(3.0)  # n < d

    def test_rows_normalised(self):
        assert vendi_score([[2.0, 0.0], [0.0, 0.5]]) == pytest.approx(2.0)
        assert vendi_score([[1.0, 1.0], [3.0, 3.0]]) == pytest.approx(1.0)

    def test_two_vectors_at_60_degrees(self):
        # K/n = [[1, c], [c, 1]] / 2 with c = 1/2: eigenvalues 3/4, 1/4
        X = [[1.0, 0.0], [0.5, math.sqrt(3) / 2]]
        h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
        assert vendi_score(X) == pytest.approx(math.exp(h))

    def test_duplicates_in_larger_set(self):
        # 4 rows: e1, e1, e2, e3 -> eigenvalues (1/2, 1/4, 1/4) -> 2 ** 1.5
        X = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
        assert vendi_score(X) == pytest.approx(2**1.5)

    @pytest.mark.parametrize("shape", [(3, 10), (10, 3), (50, 8), (8, 50), (200, 5), (1, 4)])
    def test_matches_reference(self, shape):
        rng = np.random.default_rng(shape[0] * 100 + shape[1])
        X = rng.standard_normal(shape)
        assert vendi_score(X) == pytest.approx(_vendi_reference(X), abs=1e-6)

    def test_blocked_gram_matches_reference(self):
        rng = np.random.default_rng(1)
        # n > block size with low-rank structure so the value is non-trivial
        X = rng.standard_normal((9000, 3)) @ rng.standard_normal((3, 6))
        X[:, 0] += 2.0
        assert vendi_score(X.astype(np.float32)) == pytest.approx(vendi_score(X), abs=1e-5)
        sub = X[:1500]
        assert vendi_score(sub) == pytest.approx(_vendi_reference(sub), abs=1e-6)

    def test_undefined_and_malformed(self):
        assert isnan(vendi_score(np.empty((0, 5))))
        with pytest.raises(ValueError, match="zero row"):
            vendi_score([[1.0, 0.0], [0.0, 0.0]])
        with pytest.raises(ValueError, match="2-D"):
            vendi_score([1.0, 2.0])


# ------------------------------------------------------------------- gini


class TestGini:
    def test_hand_values(self):
        assert gini([0, 0, 0, 5]) == pytest.approx(0.75)
        assert gini([1, 1, 1, 1]) == 0.0
        # sum |xi - xj| over ordered pairs = 8; / (2 * n * sum) = 8 / 36
        assert gini([3, 1, 2]) == pytest.approx(8 / 36)
        assert gini([0, 5]) == pytest.approx(0.5)

    def test_zeros_included(self):
        assert gini([5]) == 0.0
        assert gini([5, 0]) == pytest.approx(0.5)

    def test_undefined_and_malformed(self):
        assert isnan(gini([]))
        assert isnan(gini([0, 0, 0]))
        with pytest.raises(ValueError):
            gini([1, -2])


# ------------------------------------------------------------------- jaccard


class TestJaccard:
    def test_hand_values(self):
        assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
        assert jaccard([1, 1, 2], [2]) == 0.5  # as sets
        assert jaccard([], []) == 1.0
        assert jaccard([1], []) == 0.0
        assert jaccard({1, 2}, {3}) == 0.0

    def test_homogenization(self):
        sets = [{1, 2}, {2, 3}, {1, 2}, set(), set()]
        pairs = np.array([[0, 1], [0, 2], [3, 4], [1, 3]])
        # (1/3 + 1 + 0) / 3, the (3, 4) pair of empty sets is skipped
        assert jaccard_homogenization(sets, pairs) == pytest.approx(4 / 9)

    def test_homogenization_undefined(self):
        assert isnan(jaccard_homogenization([{1}], np.empty((0, 2), dtype=int)))
        assert isnan(jaccard_homogenization([set(), set()], np.array([[0, 1]])))

    def test_homogenization_malformed(self):
        with pytest.raises(ValueError, match=r"\(m, 2\)"):
            jaccard_homogenization([{1}, {2}], np.array([[0, 1, 1]]))
        with pytest.raises(ValueError, match="outside"):
            jaccard_homogenization([{1}, {2}], np.array([[0, 2]]))


# ------------------------------------------------------------------- JS / regions


class TestJS:
    def test_hand_values(self):
        assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
        assert js_divergence([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12)
        assert js_divergence([1, 0], [1, 1]) == pytest.approx(JS_POINT_VS_HALF)
        assert js_divergence([2, 0], [3, 3]) == pytest.approx(JS_POINT_VS_HALF)
        assert pytest.approx(0.311278, abs=1e-6) == JS_POINT_VS_HALF

    def test_undefined_and_malformed(self):
        assert isnan(js_divergence([0, 0], [1, 1]))
        assert isnan(js_divergence([], []))
        with pytest.raises(ValueError, match="same shape"):
            js_divergence([1, 0], [1, 0, 0])
        with pytest.raises(ValueError):
            js_divergence([1, -1], [1, 1])

    def test_regional_distinctiveness(self):
        assert regional_distinctiveness([0, 0, 1, 1], [1, 1, 2, 2]) == pytest.approx(1.0)
        assert regional_distinctiveness([0, 0, 1, 1], [1, 2, 2, 1]) == pytest.approx(0.0)
        # three regions: {A}, {B}, {A, B}: pairwise JS = 1, .3113, .3113
        r = [0, 1, 2, 2]
        s = [10, 20, 10, 20]
        expected = (1 + 2 * JS_POINT_VS_HALF) / 3
        assert regional_distinctiveness(r, s) == pytest.approx(expected)
        # region sizes do not matter, only their mixes
        assert regional_distinctiveness([0, 0, 0, 1], [5, 5, 5, 5]) == pytest.approx(0.0)

    def test_regional_undefined_and_malformed(self):
        assert isnan(regional_distinctiveness([3, 3, 3], [1, 2, 3]))
        assert isnan(regional_distinctiveness([], []))
        with pytest.raises(ValueError):
            regional_distinctiveness([0, 1], [1])


# ------------------------------------------------------------------- chat dispersion


class TestChatDispersion:
    def test_hand_values(self):
        assert chat_dispersion(np.tile([0.3, 0.4], (4, 1))) == pytest.approx(0.0, abs=1e-12)
        # e1, e2: centroid direction at 45 degrees -> 1 - cos 45
        assert chat_dispersion([[1.0, 0.0], [0.0, 3.0]]) == pytest.approx(1 - math.sqrt(0.5))
        assert chat_dispersion([[1.0, 0.0], [-2.0, 0.0]]) == pytest.approx(1.0)
        # e1, e1, e2: centroid (2, 1)/3; cosines 2/sqrt5, 2/sqrt5, 1/sqrt5
        assert chat_dispersion([[1, 0], [1, 0], [0, 1]]) == pytest.approx(1 - 5 / 3 / math.sqrt(5))

    def test_undefined_and_malformed(self):
        assert isnan(chat_dispersion(np.empty((0, 3))))
        with pytest.raises(ValueError):
            chat_dispersion([[0.0, 0.0]])
        with pytest.raises(ValueError):
            chat_dispersion([1.0, 0.0])


# ------------------------------------------------------------------- adoption


class TestAdoption:
    def test_shares(self):
        assert machine_share(np.array([True, False, True, True])) == 0.75
        assert machine_share([0, 0, 1]) == pytest.approx(1 / 3)
        assert novelty_rate([True, False, False, False, False]) == pytest.approx(0.2)
        assert isnan(machine_share([]))
        assert isnan(novelty_rate(np.array([], dtype=bool)))
        with pytest.raises(ValueError):
            machine_share([0, 2])
        with pytest.raises(ValueError):
            novelty_rate([[True]])

    def test_crossing_step(self):
        steps = [0, 10, 20, 30]
        values = [0.2, np.nan, 0.6, 0.95]
        assert crossing_step(steps, values, 0.5) == 20.0
        assert crossing_step(steps, values, 0.9) == 30.0
        assert isnan(crossing_step(steps, values, 0.95))  # strictly greater
        assert isnan(crossing_step([], [], 0.5))
        assert crossing_step([0, 10], [0.7, 0.2], 0.5) == 0.0  # first, not last
        with pytest.raises(ValueError):
            crossing_step([0, 1], [0.5], 0.1)


# ------------------------------------------------------------------- welfare


class TestWelfare:
    def test_success_and_regret(self):
        assert success_rate([1, 0, 1, 1]) == 0.75
        assert isnan(success_rate([]))
        with pytest.raises(ValueError):
            success_rate([0.5])
        assert regret([0.9, 0.8], [0.5, 0.8]) == pytest.approx(0.2)
        assert isnan(regret([], []))
        with pytest.raises(ValueError, match="same shape"):
            regret([0.9, 0.8], [0.5])

    def test_atypical_gap(self):
        # share .4 of 5 -> 2 most atypical users: idx 3 (9), idx 4 (7): success .5 vs 2/3
        atyp = [5.0, 1.0, 3.0, 9.0, 7.0]
        succ = [1, 1, 0, 0, 1]
        assert atypical_gap(atyp, succ, share=0.4) == pytest.approx(0.5 - 2 / 3)
        # default decile of 10: only the most atypical user (idx 9) fails
        a = np.arange(10.0)
        s = np.r_[np.ones(9), 0.0]
        assert atypical_gap(a, s) == pytest.approx(-1.0)
        # share * n < 1 -> still one user
        assert atypical_gap([0.0, 1.0, 2.0], [0, 0, 1], share=0.1) == pytest.approx(1.0)
        # ties: stable order keeps the lower index as "more atypical"
        assert atypical_gap([1.0, 1.0, 0.0, 0.0], [1, 0, 0, 0], share=0.25) == pytest.approx(1.0)

    def test_atypical_gap_undefined_and_malformed(self):
        assert isnan(atypical_gap([1.0], [1]))
        assert isnan(atypical_gap([], []))
        with pytest.raises(ValueError):
            atypical_gap([1.0, 2.0], [1])
        with pytest.raises(ValueError):
            atypical_gap([1.0, 2.0], [1, 0], share=1.5)

    def test_outcome_homogenization_same_users_fail(self):
        F = np.array([[1, 1], [1, 1], [0, 0], [0, 0]], dtype=float)
        # observed 1/2, independent 1/2 * 1/2
        assert outcome_homogenization(F) == pytest.approx(2.0)
        F3 = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=float)
        # observed 1/4, independent .5 * .5 * .25
        assert outcome_homogenization(F3) == pytest.approx(4.0)

    def test_outcome_homogenization_independent_and_spread(self):
        assert outcome_homogenization([[1, 1], [1, 0], [0, 1], [0, 0]]) == pytest.approx(1.0)
        assert outcome_homogenization([[1, 0], [0, 1]]) == pytest.approx(0.0)

    def test_outcome_homogenization_missing(self):
        F = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [np.nan, 1], [1, np.nan]])
        assert outcome_homogenization(F) == pytest.approx(2.0)
        assert isnan(outcome_homogenization(np.full((3, 2), np.nan)))
        assert isnan(outcome_homogenization([[1, 0], [1, 0]]))  # column never fails
        assert isnan(outcome_homogenization(np.empty((0, 2))))
        with pytest.raises(ValueError):
            outcome_homogenization([1, 0, 1])
        with pytest.raises(ValueError):
            outcome_homogenization([[2, 0]])


# ------------------------------------------------------------------- insight


class TestInsight:
    def test_labels_constants(self):
        assert (UNIVERSAL, REGIONAL, INDIVIDUAL, UNKNOWN) == (0, 1, 2, -1)

    def test_platform_insight(self):
        assert platform_insight([0, 1, UNKNOWN, 2], [0, 2, 1, 2]) == pytest.approx(2 / 3)
        assert platform_insight([0, 1], [0, 1]) == 1.0
        assert isnan(platform_insight([UNKNOWN, UNKNOWN], [0, 1]))
        assert isnan(platform_insight([], []))
        with pytest.raises(ValueError):
            platform_insight([0, 1], [0])

    def test_true_labels(self):
        reg = [0.1, 0.5, 0.5, 0.1, 0.3, 0.25]
        ind = [0.1, 0.2, 0.9, 0.3, 0.3, 0.0]
        got = true_labels(np.zeros(6), reg, ind)
        expected = [UNIVERSAL, REGIONAL, INDIVIDUAL, INDIVIDUAL, REGIONAL, UNIVERSAL]
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(true_labels([0.0], [0.2], [0.1], threshold=0.15), [REGIONAL])
        with pytest.raises(ValueError):
            true_labels([0.0], [0.1, 0.2], [0.1])

    def test_heterogeneity_z_by_hand(self):
        # p = .4; X2 = (10-20)^2/12 + (30-20)^2/12 = 50/3 on 1 dof
        c = 2 / 9
        expected = ((50 / 3) ** (1 / 3) - (1 - c)) / math.sqrt(c)
        succ = [[10, 30], [10, 10], [0, 0], [5, 0]]
        n = [[50, 50], [50, 50], [9, 9], [9, 0]]
        z = heterogeneity_z(succ, n)
        assert z[0] == pytest.approx(expected)
        assert z[0] == pytest.approx(3.769, abs=1e-3)
        assert z[1] == pytest.approx(-(1 - c) / math.sqrt(c))  # X2 = 0
        assert z[2] == -np.inf  # pooled rate 0: nothing observable
        assert z[3] == -np.inf  # a single populated cell: dof 0

    def test_estimate_labels_hand_counts(self):
        flat = [[25, 25]]
        steep = [[10, 40]]
        n = [[50, 50]]
        lab = estimate_labels(
            np.r_[steep, flat, flat, [[1, 1]]],
            np.r_[n, n, n, [[5, 5]]],
            np.r_[flat, steep, flat, [[1, 1]]],
            np.r_[n, n, n, [[5, 5]]],
        )
        np.testing.assert_array_equal(lab, [REGIONAL, INDIVIDUAL, UNIVERSAL, UNKNOWN])

    def test_estimate_labels_malformed(self):
        with pytest.raises(ValueError, match="exceeds"):
            estimate_labels([[6, 1]], [[5, 5]], [[1, 1]], [[5, 5]])
        with pytest.raises(ValueError):
            estimate_labels([[1, 1]], [[5, 5]], [[1, 1], [1, 1]], [[5, 5], [5, 5]])
        e3, e2 = np.empty((0, 3)), np.empty((0, 2))
        assert estimate_labels(e3, e3, e2, e2).shape == (0,)

    @pytest.mark.parametrize("regime", [UNIVERSAL, REGIONAL, INDIVIDUAL])
    def test_estimate_labels_recovers_regime(self, regime):
        rng = np.random.default_rng(1234 + regime)
        S, R, G, N = 60, 5, 6, 600
        rs, rn = np.zeros((S, R)), np.zeros((S, R))
        gs, gn = np.zeros((S, G)), np.zeros((S, G))
        for k in range(S):
            mu = rng.normal(0.0, 0.5)
            a = rng.normal(0.0, 1.0, R) if regime == REGIONAL else np.zeros(R)
            b = rng.normal(0.0, 1.0, G) if regime == INDIVIDUAL else np.zeros(G)
            r = rng.integers(0, R, N)  # region and group drawn independently per trial
            g = rng.integers(0, G, N)
            y = rng.random(N) < 1.0 / (1.0 + np.exp(-(mu + a[r] + b[g])))
            rs[k] = np.bincount(r, weights=y, minlength=R)
            rn[k] = np.bincount(r, minlength=R)
            gs[k] = np.bincount(g, weights=y, minlength=G)
            gn[k] = np.bincount(g, minlength=G)
        lab = estimate_labels(rs, rn, gs, gn)
        assert np.mean(lab == regime) >= 0.9
        truth = np.full(S, regime)
        assert platform_insight(lab, truth) >= 0.9
        # too few trials -> UNKNOWN
        few = estimate_labels(rs, rn, gs, gn, min_n=N + 1)
        assert np.all(few == UNKNOWN)

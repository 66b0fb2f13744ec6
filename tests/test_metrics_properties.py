"""Hypothesis property tests for platform_sim.metrics."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from platform_sim.metrics import (
    chat_dispersion,
    effective_solutions,
    gini,
    hill_number,
    jaccard,
    js_divergence,
    outcome_homogenization,
    regional_distinctiveness,
    vendi_score,
)

SETTINGS = settings(max_examples=50, deadline=None)
QS = [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, np.inf]

counts_st = st.lists(st.integers(0, 50), min_size=1, max_size=20).filter(lambda c: sum(c) > 0)
ids_st = st.lists(st.integers(0, 6), min_size=1, max_size=40)


@st.composite
def embeddings(draw, max_n=8, max_d=6):
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-10, 10, allow_nan=False)))
    assume(np.all(np.linalg.norm(X, axis=1) > 1e-3))
    return X


@SETTINGS
@given(counts_st)
def test_hill_bounds_and_monotone_in_q(counts):
    k = sum(1 for c in counts if c > 0)
    values = [hill_number(counts, q) for q in QS]
    for q, v in zip(QS, values, strict=True):
        assert v >= 1 - 1e-9
        if q >= 0:  # for q < 0 rare types weigh more and D_q can exceed richness
            assert v <= k * (1 + 1e-9)
    for hi, lo in zip(values, values[1:], strict=False):
        assert lo <= hi * (1 + 1e-9)
    assert values[1] == k  # q = 0 is richness


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 9), st.sampled_from(QS))
def test_hill_uniform_extreme(k, c, q):
    assert hill_number([c] * k, q) == pytest.approx(k)


@SETTINGS
@given(counts_st, st.randoms(use_true_random=False))
def test_hill_and_gini_permutation_invariant(counts, rnd):
    perm = list(counts)
    rnd.shuffle(perm)
    for q in QS:
        assert hill_number(perm, q) == pytest.approx(hill_number(counts, q), rel=1e-12)
    assert gini(perm) == pytest.approx(gini(counts), abs=1e-12)


@SETTINGS
@given(counts_st)
def test_gini_bounds(counts):
    g = gini(counts)
    n = len(counts)
    assert 0.0 <= g < 1.0
    assert g <= (n - 1) / n + 1e-12


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 100), st.integers(0, 29))
def test_gini_extremes(n, c, pos):
    assert gini([c] * n) == pytest.approx(0.0, abs=1e-12)
    x = [0] * n
    x[pos % n] = c
    assert gini(x) == pytest.approx((n - 1) / n)


@SETTINGS
@given(embeddings())
def test_vendi_bounds(X):
    v = vendi_score(X)
    n, d = X.shape
    assert 1 - 1e-6 <= v <= min(n, d) + 1e-6


@SETTINGS
@given(embeddings(), st.randoms(use_true_random=False))
def test_vendi_and_chat_row_permutation_invariant(X, rnd):
    idx = list(range(len(X)))
    rnd.shuffle(idx)
    assert vendi_score(X[idx]) == pytest.approx(vendi_score(X), abs=1e-6)
    assert chat_dispersion(X[idx]) == pytest.approx(chat_dispersion(X), abs=1e-9)


@SETTINGS
@given(embeddings(max_n=1), st.integers(1, 12), st.floats(0.1, 10))
def test_vendi_and_chat_of_repeated_row(row, n, scale):
    X = np.repeat(row, n, axis=0) * np.linspace(scale, 1.0, n)[:, None]
    assert vendi_score(X) == pytest.approx(1.0, abs=1e-6)
    assert chat_dispersion(X) == pytest.approx(0.0, abs=1e-9)


@SETTINGS
@given(embeddings())
def test_chat_dispersion_bounds(X):
    assert 0.0 <= chat_dispersion(X) <= 1.0


@SETTINGS
@given(ids_st, st.randoms(use_true_random=False))
def test_effective_solutions_permutation_and_relabel_invariant(ids, rnd):
    perm = list(ids)
    rnd.shuffle(perm)
    base = effective_solutions(np.array(ids))
    assert effective_solutions(np.array(perm)) == pytest.approx(base, rel=1e-12)
    assert effective_solutions(np.array(ids) * 7 + 1000) == pytest.approx(base, rel=1e-12)
    assert 1 - 1e-9 <= base <= len(set(ids)) + 1e-9


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_regional_distinctiveness_invariances(pairs, rnd):
    r = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs])
    base = regional_distinctiveness(r, s)
    if len(set(r.tolist())) < 2:
        assert math.isnan(base)
        return
    assert 0.0 <= base <= 1.0
    idx = list(range(len(pairs)))
    rnd.shuffle(idx)
    assert regional_distinctiveness(r[idx], s[idx]) == pytest.approx(base, abs=1e-12)
    # relabelling regions or solutions does not change anything
    assert regional_distinctiveness(10 - r, s * 3 + 1) == pytest.approx(base, abs=1e-12)


vec_st = st.lists(st.integers(0, 20), min_size=1, max_size=10)


@SETTINGS
@given(st.data())
def test_js_symmetric_bounded_zero_on_self(data):
    p = data.draw(vec_st.filter(lambda v: sum(v) > 0))
    q = data.draw(st.lists(st.integers(0, 20), min_size=len(p), max_size=len(p)))
    assume(sum(q) > 0)
    a, b = js_divergence(p, q), js_divergence(q, p)
    assert a == pytest.approx(b, abs=1e-12)
    assert 0.0 <= a <= 1.0
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(p, [3 * x for x in p]) == pytest.approx(0.0, abs=1e-12)


@SETTINGS
@given(st.integers(1, 10), st.integers(1, 10))
def test_js_disjoint_is_one(k1, k2):
    p = [1] * k1 + [0] * k2
    q = [0] * k1 + [2] * k2
    assert js_divergence(p, q) == pytest.approx(1.0)


sets_st = st.sets(st.integers(0, 15), max_size=10)


@SETTINGS
@given(sets_st, sets_st)
def test_jaccard_symmetric_bounded(a, b):
    j = jaccard(a, b)
    assert j == jaccard(b, a)
    assert 0.0 <= j <= 1.0
    assert jaccard(a, a) == 1.0
    if a and b and not (a & b):
        assert j == 0.0


@SETTINGS
@given(st.integers(1, 20), st.integers(0, 20), st.integers(1, 4))
def test_outcome_homogenization_identical_columns(n_fail, n_ok, k):
    # the same users fail every decision: ratio = rate / rate**k
    col = np.r_[np.ones(n_fail), np.zeros(n_ok)]
    F = np.repeat(col[:, None], k, axis=1)
    rate = n_fail / (n_fail + n_ok)
    assert outcome_homogenization(F) == pytest.approx(rate ** (1 - k))

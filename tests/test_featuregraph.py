"""The platform's feature graph on hand-checkable synthetic runs."""

import math
import time

import matplotlib
import numpy as np
import pandas as pd
import pytest

from platform_sim.featuregraph import FeatureGraph, build_feature_graph, pmi_matrix

matplotlib.use("Agg")


def _events(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """rows: (step, user, feature, domain)."""
    df = pd.DataFrame(rows, columns=["step", "user", "feature", "domain"])
    df["chat_id"] = np.arange(len(df))
    return df


def _two_groups() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users 0-3 (archetype 0) chat in features {0, 1, 2}, users 4-7 (archetype 1) in
    {3, 4, 5}; user 3 never uses feature 2 and user 7 never uses feature 5."""
    rows = []
    for u in range(8):
        feats = [0, 1, 2] if u < 4 else [3, 4, 5]
        if u in (3, 7):
            feats = feats[:2]
        for f in feats:
            rows.append((1, u, f, 0 if u < 4 else 1))
        rows.append((2, u, feats[0], 0 if u < 4 else 1))  # a second chat in the first feature
    population = pd.DataFrame(
        {
            "user": np.arange(8),
            "archetype": [0, 0, 0, 0, 1, 1, 1, 1],
            "region": [0, 1, 0, 1, 0, 1, 0, 1],
            "markers": [["a-one", "a-two"]] * 4 + [["b-one", "a-two"]] * 4,
        }
    )
    return _events(rows), population


def test_two_disjoint_groups_give_two_communities_and_perfect_ami() -> None:
    events, population = _two_groups()
    fg = build_feature_graph(events, population, seed=0, min_users=3)
    assert isinstance(fg, FeatureGraph)
    assert sorted(fg.graph.nodes) == [0, 1, 2, 3, 4, 5]
    assert [sorted(c) for c in fg.communities] == [[0, 1, 2], [3, 4, 5]]
    # edges only within groups, weights equal the hand count of shared users
    expected = {(0, 1): 4, (0, 2): 3, (1, 2): 3, (3, 4): 4, (3, 5): 3, (4, 5): 3}
    got = {tuple(sorted(e[:2])): e[2] for e in fg.graph.edges(data="weight")}
    assert got == expected
    assert fg.ami == pytest.approx(1.0)
    assert fg.ami_region < 0.2
    assert fg.user_community.to_dict() == {u: (0 if u < 4 else 1) for u in range(8)}
    node = fg.graph.nodes[0]
    assert node["size"] == 8  # 4 first chats + 4 second chats
    assert node["users"] == 4
    assert node["top_domain"] == 0
    assert node["top_markers"][0] == "a-one"  # over-represented; a-two is everywhere
    assert "b-one" not in node["top_markers"]
    assert fg.graph.nodes[3]["top_markers"][0] == "b-one"
    assert isinstance(node["label"], str) and node["label"].startswith("0")


def test_edge_pmi_matches_formula() -> None:
    events, population = _two_groups()
    fg = build_feature_graph(events, population)
    # N = 8 users; n0 = 4, n2 = 3, n02 = 3: pmi = log(3 * 8 / (4 * 3)) = log 2
    assert fg.graph.edges[0, 2]["pmi"] == pytest.approx(math.log(2))
    assert fg.graph.edges[0, 1]["pmi"] == pytest.approx(math.log(4 * 8 / (4 * 4)))


def test_pmi_matrix_small_case() -> None:
    # 10 users; feature a in 5, b in 4, c in 6; a&b in 4, a&c in 1, b&c in 0
    cooc = np.array([[5, 4, 1], [4, 4, 0], [1, 0, 6]])
    pmi = pmi_matrix(cooc, 10)
    assert pmi[0, 1] == pytest.approx(math.log(4 * 10 / (5 * 4)))  # log 2 > 0
    assert pmi[0, 2] == 0.0  # log(1 * 10 / 30) < 0 is clipped
    assert pmi[1, 2] == 0.0  # never together: undefined -> 0
    assert np.allclose(pmi, pmi.T)


def test_min_users_and_negative_pmi_drop_edges() -> None:
    events, population = _two_groups()
    # two more users (archetype 0) chat in features 2, 3 and a new feature 6
    extra = _events([(3, u, f, 0) for u in (8, 9) for f in (2, 3, 6)])
    extra["chat_id"] += len(events)
    more = pd.DataFrame(
        {"user": [8, 9], "archetype": [0, 0], "region": [0, 1], "markers": [["a-one"]] * 2}
    )
    pop = pd.concat([population, more], ignore_index=True)
    all_events = pd.concat([events, extra], ignore_index=True)
    # N = 10; n2 = 5, n3 = 6, n6 = 2; each pair shared by the 2 new users
    fg = build_feature_graph(all_events, pop, min_users=2)
    assert fg.graph.edges[2, 6]["weight"] == 2
    assert fg.graph.edges[2, 6]["pmi"] == pytest.approx(math.log(2 * 10 / (5 * 2)))
    assert not fg.graph.has_edge(2, 3)  # pmi = log(2 * 10 / 30) < 0
    assert not fg.graph.has_edge(0, 3)  # no shared users at all
    strict = build_feature_graph(all_events, pop, min_users=3)
    assert not strict.graph.has_edge(2, 6) and not strict.graph.has_edge(3, 6)
    assert strict.graph.has_edge(0, 1)


def test_until_step_and_user_majority() -> None:
    events, population = _two_groups()
    # user 0 later chats three times in group B's features: B now holds most of their chats
    late = _events([(5, 0, 3, 1), (5, 0, 4, 1), (5, 0, 5, 1), (5, 0, 3, 1), (5, 0, 4, 1)])
    late["chat_id"] += len(events)
    all_events = pd.concat([events, late], ignore_index=True)
    before = build_feature_graph(all_events, population, until_step=2)
    assert before.graph.nodes[3]["users"] == 4
    after = build_feature_graph(all_events, population, min_users=3)
    assert after.graph.nodes[3]["users"] == 5
    b_comm = after.user_community[5]
    assert after.user_community[0] == b_comm


def test_deterministic_and_plot() -> None:
    from matplotlib.figure import Figure

    events, population = _two_groups()
    a = build_feature_graph(events, population, seed=3)
    b = build_feature_graph(events, population, seed=3)
    assert a.communities == b.communities and a.ami == b.ami
    fig = Figure()
    ax = fig.add_subplot()
    from platform_sim.featuregraph import plot_feature_graph

    plot_feature_graph(ax, a, seed=1)
    assert "AMI" in ax.get_title()
    assert len(ax.collections) >= 2  # edges and nodes


def test_empty_events_do_not_crash() -> None:
    events, population = _two_groups()
    fg = build_feature_graph(events, population, until_step=0)
    assert fg.graph.number_of_nodes() == 0 and fg.communities == []
    assert len(fg.user_community) == 0


def test_vectorised_counting_is_fast() -> None:
    rng = np.random.default_rng(0)
    n_users, n_events = 20_000, 1_000_000
    archetype = rng.integers(0, 8, n_users)
    user = rng.integers(0, n_users, n_events)
    events = pd.DataFrame(
        {
            "step": rng.integers(1, 50, n_events),
            "user": user,
            "feature": archetype[user] * 8 + rng.integers(0, 8, n_events),
            "domain": rng.integers(0, 8, n_events),
        }
    )
    population = pd.DataFrame(
        {
            "user": np.arange(n_users),
            "archetype": archetype,
            "region": rng.integers(0, 5, n_users),
            "markers": [[f"m{a}", f"m{a + 8}"] for a in archetype],
        }
    )
    start = time.perf_counter()
    fg = build_feature_graph(events, population)
    assert time.perf_counter() - start < 10
    assert fg.ami > 0.9

"""One conformance suite for every registered policy (a new policy must pass it to land)."""

import numpy as np
import pytest

from platform_sim.policies import POLICIES, make_policy
from platform_sim.policies.base import Request
from platform_sim.world import World

ASKABLE = sorted(name for name, cls in POLICIES.items() if cls.available)
PUBLIC = {"n", "n_catalog", "domain", "embedding", "text", "in_domain", "root"}


class Trap:
    """Stands in for the truth: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"policy read the ground truth ({name})")


class PublicOnly:
    """Forwards only what the platform may know of solutions; efficacy is off limits."""

    def __init__(self, solutions):
        self._real = solutions

    def __getattr__(self, name):
        if name not in PUBLIC:
            raise AssertionError(f"policy read solution truth: {name}")
        return getattr(self._real, name)


def _world(policy: str, **params) -> World:
    world = World(n_users=200, embedder="hashing", seed=11, policy=policy, **params)
    for _ in range(5):
        world.step()
    return world


def _request(world: World, q: int = 25) -> Request:
    rng = np.random.default_rng(0)
    space = world.platform.space
    users = rng.choice(np.flatnonzero(space.n_chats_of_user > 0), q, replace=False)
    vectors = space.profiles[users] / np.linalg.norm(space.profiles[users], axis=1, keepdims=True)
    vectors = vectors.astype(np.float32)
    domain = rng.integers(0, len(world.catalog.domains), q)
    sim, ids = space.search_chats(vectors, world.spec.platform_k)
    return Request(
        step=world.steps, users=users, region=world.population.region[users], domain=domain,
        feature=world.platform.codebook.assign(vectors), vectors=vectors,
        neighbor_sim=sim, neighbor_ids=ids,
    )  # fmt: skip


@pytest.fixture(scope="module", params=ASKABLE)
def setup(request):
    world = _world(request.param)
    return request.param, world, _request(world)


def test_registry_entries_are_well_formed():
    for name, cls in POLICIES.items():
        assert cls.name == name
        assert isinstance(cls.available, bool) and isinstance(cls.reads_truth, bool)
        assert isinstance(cls.asks_to_adapt, bool)
    assert [n for n, c in POLICIES.items() if c.reads_truth] == ["ideal"]
    assert [n for n, c in POLICIES.items() if not c.available] == ["none"]


def test_returns_valid_solution_ids_of_the_seekers_domain(setup):
    name, world, req = setup
    m = 3
    ranked = make_policy(name, world.spec).recommend(
        world.platform, req, m, np.random.default_rng(1)
    )
    assert ranked.shape == (len(req), m) and ranked.dtype == np.int64
    assert ((ranked >= -1) & (ranked < world.solutions.n)).all()
    for row, d in zip(ranked, req.domain, strict=True):
        ids = row[row >= 0]
        assert len(ids) >= 1, f"{name} offered nothing"
        assert len(set(ids.tolist())) == len(ids), f"{name} repeated an option"
        assert (world.solutions.domain[ids] == d).all(), f"{name} offered another domain"
        # -1 padding only at the end
        assert (row[: len(ids)] >= 0).all()


def test_deterministic_under_a_seed(setup):
    name, world, req = setup
    policy = make_policy(name, world.spec)
    a = policy.recommend(world.platform, req, 3, np.random.default_rng(7))
    b = policy.recommend(world.platform, req, 3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_never_reads_ground_truth_unless_oracle(setup, monkeypatch):
    name, world, req = setup
    policy = make_policy(name, world.spec)
    platform = world.platform
    monkeypatch.setattr(platform.solutions, "_s", PublicOnly(world.solutions))
    if policy.reads_truth:
        assert platform.oracle is not None
        policy.recommend(platform, req, 3, np.random.default_rng(1))
    else:
        assert platform.oracle is None  # the platform never hands it the truth
        monkeypatch.setattr(platform, "oracle", Trap())
        policy.recommend(platform, req, 3, np.random.default_rng(1))


@pytest.mark.parametrize("name", ASKABLE)
def test_respects_k_anonymity(name):
    k = 4
    world = _world(name, min_group=k)
    req = _request(world)
    advice = world.platform.answer(req)
    ids = advice.solutions[advice.solutions >= 0]
    assert (world.platform.counts.users[ids] >= k).all()
    small = advice.n_same < k
    for text, is_small in zip(advice.text, small, strict=True):
        assert ("people are dealing" in text) != is_small


def test_ideal_ranks_by_true_success_probability():
    world = _world("ideal")
    req = _request(world)
    ranked = make_policy("ideal").recommend(world.platform, req, 3, np.random.default_rng(0))
    p = [world.efficacy.probability(world.population, world.solutions, req.users, ranked[:, j])
         for j in range(3)]  # fmt: skip
    assert (p[0] >= p[1] - 1e-12).all() and (p[1] >= p[2] - 1e-12).all()
    _, best = world.efficacy.ranked(world.population, world.solutions, req.users, req.domain, 1)
    np.testing.assert_allclose(p[0], best)


def test_mmr_counts_avoided_items_as_already_picked():
    from platform_sim.policies.diverse import mmr

    emb = np.eye(4)
    ids, relevance = np.array([10, 11, 12, 13]), np.array([1.0, 0.9, 0.2, 0.1])
    assert mmr(ids, relevance, emb, 2, 0.5).tolist() == [10, 11]
    # item 10 is the crowd's answer: it now ties with nothing new, and 11 leads
    assert mmr(ids, relevance, emb, 2, 0.5, avoid=emb[:1]).tolist() == [11, 12]


def test_diverse_offers_less_of_the_crowds_answers_than_neighbors():
    from platform_sim.policies.diverse import CROWD, crowd_answers

    world = _world("neighbors", steps=20)
    for _ in range(10):
        world.step()
    req = _request(world, q=60)
    crowd = {d: set(crowd_answers(world.platform, d, CROWD).tolist()) for d in set(req.domain)}

    def crowd_share(name: str) -> float:
        ranked = make_policy(name, world.spec).recommend(
            world.platform, req, 3, np.random.default_rng(1)
        )
        hits = [s in crowd[d] for row, d in zip(ranked, req.domain, strict=True) for s in row]
        return float(np.mean(hits))

    assert crowd_share("diverse") < 0.5 * crowd_share("neighbors")


def test_curious_policy_makes_seekers_adapt_options():
    world = _world("curious")
    ev = world.events_frame()
    asked = ev[ev["channel"] == "platform"]
    assert asked["is_new"].mean() > 0.3  # adapted variants are new solutions
    assert (world.solutions.root[asked["solution"]] >= 0).all()


def test_policies_experiment_lists_every_registered_policy():
    import tomllib
    from pathlib import Path

    spec = tomllib.loads((Path(__file__).parent.parent / "experiments/policies.toml").read_text())
    assert sorted(spec["grid"]["policy"]) == sorted(POLICIES)

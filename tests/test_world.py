"""The world end to end on the fast test embedder: determinism, CRN, Mesa API, mechanics."""

import mesa
import numpy as np
import pandas as pd
import pytest

from agents.behaviour import CHANNELS
from agents.user import UserAgent
from platform_sim.measures import METRICS
from platform_sim.world import World

SMALL = dict(n_users=150, steps=6, embedder="hashing", seed=3)


def _run(**params) -> World:
    p = {**SMALL, **params}
    world = World(**{k: v for k, v in p.items()})
    for _ in range(p["steps"]):
        world.step()
    return world


@pytest.fixture(scope="module")
def neighbors_world() -> World:
    return _run(policy="neighbors")


def test_metrics_have_a_row_per_step_including_t0(neighbors_world):
    df = neighbors_world.metrics_frame()
    assert list(df["step"]) == list(range(SMALL["steps"] + 1))
    assert set(METRICS) <= set(df.columns)
    assert np.isnan(df.loc[0, "machine_share"])  # nothing adopted yet at t=0
    assert df.loc[1:, "success_rate"].between(0, 1).all()
    assert (df.loc[1:, "effective_solutions"] >= 1).all()


def test_same_seed_same_metrics_other_seed_differs(neighbors_world):
    again = _run(policy="neighbors").metrics_frame()
    pd.testing.assert_frame_equal(neighbors_world.metrics_frame(), again)
    other = _run(policy="neighbors", seed=4).metrics_frame()
    assert not other.equals(again)


def test_policies_see_identical_people_and_problems(neighbors_world):
    """Common random numbers: only the platform differs between paired worlds."""
    control = _run(policy="none")
    a, b = neighbors_world.events_frame(), control.events_frame()
    pd.testing.assert_frame_equal(a[["step", "user", "domain"]], b[["step", "user", "domain"]])
    np.testing.assert_array_equal(neighbors_world.population.latent, control.population.latent)
    assert (b["channel"] != "platform").all() and (a["channel"] == "platform").any()
    assert (b["machine"] == False).all()  # noqa: E712


def test_users_are_mesa_agents(neighbors_world):
    agents = list(neighbors_world.agents)
    assert len(agents) == SMALL["n_users"] and all(isinstance(a, UserAgent) for a in agents)
    a = agents[0]
    assert 3 <= len(a.markers) <= 6 and 0 <= a.curiosity <= 1 and 0 <= a.trust <= 1
    assert a.friends and all(0 <= f < SMALL["n_users"] for f in a.friends)
    a.trust = 0.5
    assert neighbors_world.population.trust[a.index] == 0.5


def test_events_log_every_chat_with_channel_and_outcome(neighbors_world):
    ev = neighbors_world.events_frame()
    assert set(ev["channel"].unique()) <= set(CHANNELS)
    assert ev["outcome"].isin([0, 1]).all()
    assert ev["chat"].str.len().gt(20).all()
    asked = ev[ev["channel"] == "platform"]
    assert asked["reply"].str.contains("Try:").all()
    assert asked["machine"].all()
    # seekers adopt one of the options the platform offered
    assert all(s in a for s, a in zip(asked["solution"], asked["advice"], strict=True))


def test_ideal_policy_gives_each_seeker_their_truly_best_solution():
    ev = _run(policy="ideal", n_users=400, steps=10).events_frame()
    asked = ev[ev["channel"] == "platform"]
    first = asked[asked["solution"] == asked["advice"].map(lambda a: a[0])]
    assert len(first) > 0.4 * len(asked)  # position bias: the first option is taken most
    np.testing.assert_allclose(first["p_success"], first["best_p"])
    assert (asked["p_success"] <= asked["best_p"] + 1e-12).all()
    others = ev[ev["channel"] != "platform"]
    assert (others["p_success"] <= others["best_p"] + 1e-12).all()


def test_inventions_are_new_solutions_adapted_by_their_inventor(neighbors_world):
    ev = neighbors_world.events_frame()
    new = ev[ev["is_new"]]
    assert len(new) > 0
    assert (new["solution"] >= neighbors_world.solutions.n_catalog).all()
    assert new["solution"].is_unique
    assert (neighbors_world.solutions.inventor[new["solution"]] == new["user"]).all()


def test_batch_run_treats_world_as_a_well_behaved_mesa_model():
    results = mesa.batch_run(
        World,
        parameters={"n_users": 60, "embedder": "hashing", "policy": ["none", "neighbors"]},
        iterations=2,
        max_steps=5,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(results)
    assert set(df["policy"]) == {"none", "neighbors"}
    assert "machine_share" in df.columns and len(df) >= 4

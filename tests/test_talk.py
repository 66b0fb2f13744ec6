"""Talking to the platform: answers in the tale's voice, and leaves the world untouched."""

import numpy as np
import pytest

from platform_sim.talk import MAX_CHARS, TalkError, talk
from platform_sim.world import World


@pytest.fixture(scope="module")
def world():
    w = World(n_users=200, embedder="hashing", seed=1)
    for _ in range(4):
        w.step()
    return w


def test_talk_answers_with_counts_and_ranked_solutions(world):
    reply = talk(world, "I keep buying groceries and the apples rot before I eat them")
    assert reply.n_same > 0
    assert f"{reply.n_same:,} people are dealing with the same problems as you." in reply.text
    assert len(reply.solutions) == world.spec.platform_options
    assert reply.text.count(reply.solutions[0]) == 1
    assert reply.domain in world.catalog.domain_names


def test_talk_does_not_change_the_world(world):
    n_chats, state = len(world.platform.space), world.platform.rng.bit_generator.state
    metrics = world.metrics_frame()
    a = talk(world, "my boss never answers my emails")
    b = talk(world, "my boss never answers my emails")
    assert a.text == b.text
    assert len(world.platform.space) == n_chats
    assert world.platform.rng.bit_generator.state == state
    assert world.metrics_frame().equals(metrics)
    np.testing.assert_array_equal(a.vector, b.vector)


@pytest.mark.parametrize(
    ("text", "message"), [("", "empty"), ("   ", "empty"), ("x" * (MAX_CHARS + 1), "limit")]
)
def test_talk_rejects_bad_input_with_a_clear_message(world, text, message):
    with pytest.raises(TalkError, match=message):
        talk(world, text)


def test_no_platform_no_talk():
    w = World(n_users=50, embedder="hashing", policy="none")
    w.step()
    with pytest.raises(TalkError, match="no platform"):
        talk(w, "hello")

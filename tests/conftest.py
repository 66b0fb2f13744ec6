"""Shared fixtures. Tests marked ``model`` load the real transformer (slow; run in CI);
deselect them locally with ``-m "not model"``."""

import pytest

from platform_sim.embedding import Embedder, make_embedder


@pytest.fixture
def hashing_embedder() -> Embedder:
    """The deterministic, model-free test embedder (256 dims)."""
    return make_embedder("hashing")

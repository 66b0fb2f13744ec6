"""Named child random streams derived from the run's one seed.

Each component draws from its own stream, keyed by name, so adding a component (or a
policy drawing more numbers) never shifts another component's randomness. This is what
lets runs that differ only in policy share their people and their problems (common
random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for ``name`` under ``seed``: independent of every other name."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


class Streams:
    """Lazily created named streams of one run: ``streams["problems"]``."""

    def __init__(self, seed: int):
        self.seed = seed
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]

"""The platform's policies, one file each, behind one string-keyed registry."""

from __future__ import annotations

from typing import Any

from platform_sim.policies.base import Oracle, Policy, Request
from platform_sim.policies.curious import Curious
from platform_sim.policies.diverse import Diverse
from platform_sim.policies.explore import Explore
from platform_sim.policies.hierarchical import Hierarchical
from platform_sim.policies.ideal import Ideal
from platform_sim.policies.neighbors import Neighbors
from platform_sim.policies.none import NoPlatform
from platform_sim.policies.popular import Popular

POLICIES: dict[str, type] = {
    p.name: p
    for p in (NoPlatform, Popular, Neighbors, Hierarchical, Diverse, Explore, Curious, Ideal)
}


class UnknownPolicyError(ValueError):
    """A policy name that is not registered; the message lists the valid ones."""


def make_policy(name: str, spec: Any = None) -> Policy:
    """A fresh policy by registry name, configured from a WorldSpec if it takes parameters."""
    if name not in POLICIES:
        raise UnknownPolicyError(f"unknown policy {name!r}; valid: {', '.join(sorted(POLICIES))}")
    cls = POLICIES[name]
    if spec is not None and hasattr(cls, "from_spec"):
        return cls.from_spec(spec)
    return cls()


__all__ = ["POLICIES", "Oracle", "Policy", "Request", "UnknownPolicyError", "make_policy"]

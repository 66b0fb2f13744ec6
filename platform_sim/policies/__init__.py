"""The platform's policies, one file each, behind one string-keyed registry."""

from platform_sim.policies.base import Oracle, Policy, Request
from platform_sim.policies.ideal import Ideal
from platform_sim.policies.neighbors import Neighbors
from platform_sim.policies.none import NoPlatform
from platform_sim.policies.popular import Popular

POLICIES: dict[str, type] = {p.name: p for p in (NoPlatform, Popular, Neighbors, Ideal)}


class UnknownPolicyError(ValueError):
    """A policy name that is not registered; the message lists the valid ones."""


def make_policy(name: str) -> Policy:
    """A fresh policy instance by registry name."""
    if name not in POLICIES:
        raise UnknownPolicyError(f"unknown policy {name!r}; valid: {', '.join(sorted(POLICIES))}")
    return POLICIES[name]()


__all__ = ["POLICIES", "Oracle", "Policy", "Request", "UnknownPolicyError", "make_policy"]

"""Talk to the platform: a visitor's own problem, answered from the current world.

The platform sees the visitor "in distribution with everyone else": it embeds the text
with the world's embedder, finds the nearest simulated people and chats, treats the
visitor like their nearest neighbour (region, domain), and answers through its policy in
the tale's voice. The world is not changed: the visitor's chat is not stored and the
world's random streams are not advanced.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from platform_sim.policies.base import Request
from platform_sim.world import World

MAX_CHARS = 2000


class TalkError(ValueError):
    """The visitor's text cannot be answered; the message says why."""


@dataclass(frozen=True)
class TalkReply:
    text: str  # the reply, in the tale's voice
    n_same: int  # people the platform sees with the same problems
    n_solved: int  # of them, people whose problem was solved through dialogue with it
    solutions: list[str]  # the ranked solutions offered
    domain: str  # the domain the platform placed the problem in
    nearest_user: int  # the simulated person the visitor is treated like
    vector: np.ndarray  # (dim,) the visitor's embedding, to place them on a map


def talk(world: World, text: str) -> TalkReply:
    """Answer ``text`` as the world's platform would answer one of its users."""
    text = (text or "").strip()
    if not text:
        raise TalkError("write a problem first: the text is empty")
    if len(text) > MAX_CHARS:
        raise TalkError(f"the text is {len(text):,} characters; the limit is {MAX_CHARS:,}")
    platform = world.platform
    if not world.policy.available:
        raise TalkError("this world has no platform (policy `none`): nobody to talk to")
    if len(platform.space) == 0 or platform.codebook is None:
        raise TalkError("the platform has not seen any chats yet: run the world for a step")
    vector = world.embedder.encode([text])
    _, near_users = platform.space.search_users(vector, 1)
    sim, ids = platform.space.search_chats(vector, world.spec.platform_k)
    user = int(near_users[0, 0])
    found = ids[0][ids[0] >= 0]
    domains = platform.space.domain[found]
    domain = int(np.bincount(domains).argmax()) if len(domains) else 0
    req = Request(
        step=world.steps, users=np.array([user]), region=world.population.region[[user]],
        domain=np.array([domain]), feature=platform.codebook.assign(vector), vectors=vector,
        neighbor_sim=sim, neighbor_ids=ids,
    )  # fmt: skip
    rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
    advice = platform.answer(req, rng)
    ranked = [s for s in advice.solutions[0].tolist() if s >= 0]
    return TalkReply(
        text=advice.text[0],
        n_same=int(advice.n_same[0]),
        n_solved=int(advice.n_solved[0]),
        solutions=[world.solutions.text[s] for s in ranked],
        domain=world.catalog.domain_names[domain],
        nearest_user=user,
        vector=vector[0],
    )

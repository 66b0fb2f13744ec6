"""World: the Mesa model of the tale. People, their chats, the platform, and the collapse.

Read ``World.step`` as the story, in the numbered phases of DESIGN.md section 2. Every
phase is batched over the users who have a problem: one embedding call and one index
search per step. Each phase draws from its own named random stream, in amounts that do
not depend on the policy, so worlds that differ only in policy share their people and
their problems (common random numbers).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from agents.behaviour import (
    CHANNELS,
    FRIEND,
    INVENT,
    PLATFORM,
    REPERTOIRE,
    Temperament,
    choose_channels,
    learn_from_outcome,
    pick_option,
)
from agents.chat import write_chats
from agents.content import load_chats, load_people
from agents.population import sample_population
from agents.problems import N_DRAWS, draw_problems
from agents.social import social_graph
from agents.user import UserAgent
from platform_sim.catalog import load_catalog
from platform_sim.config import WorldSpec, make_spec
from platform_sim.efficacy import BestSolutions, Efficacy
from platform_sim.embedding import Embedder, make_embedder, numpy_blas_threads
from platform_sim.eventlog import EventLog
from platform_sim.measures import METRICS, Adoptions, Recorder
from platform_sim.platform import Platform
from platform_sim.policies import make_policy
from platform_sim.rng import Streams
from platform_sim.solutions import Solutions


def _report(name: str, model: World) -> float:
    return model.measures[name]


class _Oracle:
    """The truth as the `ideal` policy sees it: each user's truly best solutions."""

    def __init__(self, world: World):
        self._world = world

    def ranked(self, users: np.ndarray, domain: np.ndarray, top: int) -> np.ndarray:
        w = self._world
        return w.efficacy.ranked(w.population, w.solutions, users, domain, top)[0]


PHASES = ("agents", "embed", "platform", "metrics", "logging")
"""Keys of ``World.timings``: people's phases 1, 2 and 4; the embedding calls; the feature
space, policy and learning (phases 3 and 5 without embedding); measures (phase 6, with the
truly best solution behind ``regret``); the event log."""


class _Clock:
    """Charges the wall time since the previous tick to a phase of ``timings`` (seconds)."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] += now - self.last
        self.last = now


class World(mesa.Model):
    """One simulated world. ``World(seed=1, n_users=500, policy="none")`` or ``World(spec)``.

    Keyword parameters are the fields of ``WorldSpec`` (see ``platform_sim.config``).
    ``encoder`` may pass an already loaded Embedder (of ``spec.embedder``) to share it.
    ``events``: a Parquet path to stream the event log to (bounded memory for big worlds);
    by default it is kept in memory.
    """

    def __init__(
        self,
        spec: WorldSpec | None = None,
        *,
        encoder: Embedder | None = None,
        events: str | Path | None = None,
        **params: Any,
    ):
        values = spec.model_dump() if spec is not None else {}
        values.update(params)
        self.spec = s = make_spec(values, source="World parameters")
        super().__init__(seed=s.seed)
        self.streams = Streams(s.seed)
        self.people, self.chat_bank, self.catalog = load_people(), load_chats(), load_catalog()
        domains = self.catalog.domains
        self.marker_domains = [
            np.array([domains.index(d) for d in m.domains], dtype=np.int64)
            for m in self.people.markers
        ]
        self.population = pop = sample_population(
            self.people, self.chat_bank, s.n_users, s.n_regions, len(domains),
            s.initial_trust, s.initial_curiosity, self.streams["population"],
        )  # fmt: skip
        self.friends = social_graph(
            pop.region, s.friends_k, s.rewire_p, s.cross_region_ties, self.streams["social"]
        )
        for i in range(s.n_users):
            UserAgent(self, i, pop)

        self.embedder = encoder or make_embedder(s.embedder, s.precision)
        region_affinity = np.array([r.affinity for r in self.people.regions[: s.n_regions]])
        self.solutions = Solutions(self.catalog, region_affinity, self.embedder.dim)
        self.solutions.embedding[: self.solutions.n] = self.embedder.encode(
            list(self.catalog.solution_text)
        )
        # text -> the first solution with it: invented variants are a root's text in one of
        # a few dozen twists, so their texts recur and each is embedded once per world
        self._embedded = {t: i for i, t in reversed(list(enumerate(self.catalog.solution_text)))}
        self._catalog_in_domain = [
            np.flatnonzero(self.catalog.solution_domain == d) for d in range(len(domains))
        ]
        self.efficacy = Efficacy(
            s.efficacy_bias, s.efficacy_universal, s.efficacy_regional,
            s.efficacy_individual, s.efficacy_markers,
        )  # fmt: skip
        self.best = BestSolutions(self.efficacy, pop, self.solutions, len(domains))
        self.policy = make_policy(s.policy, s)
        self.platform = Platform(
            self.policy, self.solutions, self.embedder.dim, s.n_users, s.n_regions,
            k=s.platform_k, options=s.platform_options, min_group=s.min_group,
            n_features=s.n_features, rng=self.streams["platform"], oracle=_Oracle(self),
        )  # fmt: skip
        self.temperament = Temperament(
            s.social_influence, s.invent_rate, s.trust_rate,
            s.curiosity_erosion, s.curiosity_recovery, s.echo_rate,
        )  # fmt: skip
        self.recorder = Recorder(self)
        self.events = EventLog(events)
        self.snapshot_steps = sorted(
            set(np.linspace(1, s.steps, s.snapshots).round().astype(int).tolist())
        )
        self.snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.measures = self.recorder.measure(None, None)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_report, name) for name in METRICS}
        )
        self.datacollector.collect(self)
        self.timings: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        """Cumulative wall seconds of ``step()`` per phase (see ``PHASES``)."""

    def step(self) -> None:
        """One step of the story (``_step``), numpy's BLAS on one thread (see
        ``numpy_blas_threads``: its work here is small, and a second thread only waits)."""
        with numpy_blas_threads(1):
            self._step()

    def _step(self) -> None:
        s, pop, sols, step = self.spec, self.population, self.solutions, self.steps
        streams, n_domains = self.streams, len(self.catalog.domains)
        tick = _Clock(self.timings)

        # 1. Some users face a problem and write a chat about it.
        problems = draw_problems(
            pop, self.marker_domains, n_domains, s.problem_rate,
            streams["problems"].random((pop.n, N_DRAWS)),
        )  # fmt: skip
        users, domain = problems.users, problems.domain
        m, region = len(users), pop.region[problems.users]
        w = streams["writing"].random((m, 2))
        echoes = (pop.echo[users] >= 0) & (w[:, 0] < 1 - pop.curiosity[users])
        echo_ids = pop.echo[users].tolist()
        texts = write_chats(
            self.chat_bank, self.people,
            [self.catalog.domains[d] for d in domain.tolist()],
            [[self.people.markers[k].id for k in ms] for ms in problems.markers],
            pop.idiolect[users], region,
            [sols.text[e] if on else None for e, on in zip(echo_ids, echoes, strict=True)],
            streams["writing"],
        )  # fmt: skip

        # 2. Each chooses a channel: repertoire, tradition, invention, a friend, the platform.
        channel, friend = choose_channels(
            pop, self.friends, users, domain, self.policy.available, self.temperament,
            streams["channels"].random((m, 3)),
        )  # fmt: skip
        tradition = self._tradition(users, domain, streams["tradition"].random(m))
        noise = streams["invention"].normal(size=(m, sols.approach.shape[1] + 1))
        twist = streams["invention"].random(m)
        inv = channel == INVENT
        own = pop.rep_solution[users, domain]
        parents = np.where(own >= 0, own, tradition)[inv]
        new_ids = sols.invent(
            parents, users[inv], pop.latent[users[inv]], step, noise[inv], twist[inv]
        )

        tick("agents")

        # 3. The platform embeds the step's chats (and new solutions) in one batch, places
        #    them in its feature space, and answers the platform-seekers through its policy.
        todo, copies = self._unembedded(new_ids)
        vectors = self.embedder.encode(texts + [sols.text[i] for i in todo.tolist()])
        self._set_embeddings(todo, vectors[m:], copies)
        tick("embed")
        seekers = channel == PLATFORM
        chat_ids, feature, advice = self.platform.consult(
            step, vectors[:m], users, region, domain, seekers
        )
        tick("platform")

        # 4. Users adopt a solution, draw an outcome from the truth, and learn from it.
        f = np.maximum(friend, 0)
        solution = tradition.copy()
        machine = np.zeros(m, dtype=bool)
        for ch, sol, mach in (
            (REPERTOIRE, own, pop.rep_machine[users, domain]),
            (FRIEND, pop.rep_solution[f, domain], pop.rep_machine[f, domain]),
        ):
            solution[channel == ch] = sol[channel == ch]
            machine[channel == ch] = mach[channel == ch]
        solution[inv] = new_ids
        advised = np.full((m, s.platform_options), -1, dtype=np.int64)
        adapted = np.zeros(m, dtype=bool)
        ua = streams["options"].random((m, 2))
        if advice is not None:
            q = np.flatnonzero(seekers)
            advised[q] = advice.solutions
            pick = pick_option(advice.solutions, ua[q, 0])
            answered, chosen = q[pick >= 0], advice.solutions[pick >= 0, pick[pick >= 0]]
            solution[answered], machine[answered] = chosen, True
            if self.policy.asks_to_adapt:
                chance = s.invent_rate * pop.curiosity[users[answered]] + s.adapt_boost
                keep = ua[answered, 1] < chance
                rows = answered[keep]
                adapted[rows] = True
                solution[rows] = sols.invent(
                    chosen[keep],
                    users[rows],
                    pop.latent[users[rows]],
                    step,
                    noise[rows],
                    twist[rows],
                )
                tick("agents")
                todo, copies = self._unembedded(solution[rows])
                self._set_embeddings(
                    todo, self.embedder.encode([sols.text[i] for i in todo.tolist()]), copies
                )
                tick("embed")
        is_new = inv | adapted
        p_success = self.efficacy.probability(pop, sols, users, solution)
        outcome = (streams["outcomes"].random(m) < p_success).astype(np.int64)
        tick("agents")
        _, best_p = self.best.of(users, domain)
        tick("metrics")
        learn_from_outcome(
            pop, users, domain, solution, machine, channel, outcome, adapted, self.temperament
        )
        absorbs = machine & (channel == PLATFORM) & (w[:, 1] < s.echo_rate)
        pop.echo[users[absorbs]] = solution[absorbs]
        tick("agents")

        # 5. The platform records outcomes and updates its three-level estimates.
        self.platform.learn(chat_ids, users, region, feature, solution, outcome, machine, seekers)
        tick("platform")

        # 6. Metrics are recorded.
        adoptions = Adoptions(
            step=step, users=users, region=region, domain=domain, channel=channel,
            solution=solution, root=sols.root[solution], machine=machine, is_new=is_new,
            outcome=outcome, p_success=p_success, best_p=best_p,
        )  # fmt: skip
        self.measures = self.recorder.measure(adoptions, vectors[:m])
        self.datacollector.collect(self)
        if step in self.snapshot_steps:
            space = self.platform.space
            active = np.flatnonzero(space.n_chats_of_user > 0)
            self.snapshots[step] = (active, space.profiles[active].copy())
        tick("metrics")
        self.events.append(
            pd.DataFrame(
                {
                    "step": step,
                    "user": users,
                    "region": region,
                    "domain": domain,
                    "chat_id": chat_ids,
                    "chat": texts,
                    "feature": feature,
                    "channel": pd.Categorical.from_codes(channel, CHANNELS),
                    "friend": np.where(channel == FRIEND, friend, -1),
                    "advice": list(advised),
                    "reply": _replies(advice, seekers),
                    "solution": solution,
                    "root": sols.root[solution],
                    "is_new": is_new,
                    "machine": machine,
                    "outcome": outcome,
                    "p_success": p_success,
                    "best_p": best_p,
                }
            )  # fmt: skip
        )
        tick("logging")

    def _unembedded(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New solutions ``ids`` whose text has no embedding yet in this world (each text
        once), and (m, 2) rows (id, earlier solution with the same text) for the rest."""
        todo, copies = [], []
        for i in ids.tolist():
            first = self._embedded.setdefault(self.solutions.text[i], i)
            if first == i:
                todo.append(i)
            else:
                copies.append((i, first))
        return np.array(todo, dtype=np.int64), np.array(copies, dtype=np.int64).reshape(-1, 2)

    def _set_embeddings(self, todo: np.ndarray, vectors: np.ndarray, copies: np.ndarray) -> None:
        emb = self.solutions.embedding
        emb[todo] = vectors
        emb[copies[:, 0]] = emb[copies[:, 1]]

    def _tradition(self, users: np.ndarray, domain: np.ndarray, u: np.ndarray) -> np.ndarray:
        """What one's culture offers: a catalog solution drawn by regional affinity."""
        out = np.empty(len(users), dtype=np.int64)
        region = self.population.region[users]
        for d in np.unique(domain):
            cand = self._catalog_in_domain[int(d)]
            rows = np.flatnonzero(domain == d)
            logits = 2.0 * self.solutions.regional[cand][:, region[rows]].T
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            idx = np.minimum((cdf < u[rows, None]).sum(axis=1), len(cand) - 1)
            out[rows] = cand[idx]
        return out

    def close(self) -> None:
        """Let the world be freed: Mesa keeps every model in a class-level registry
        (``mesa.Agent._ids``), so a long-lived process (the demo, an in-process sweep) must
        drop it from there once the world is done."""
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)

    def metrics_frame(self) -> pd.DataFrame:
        """One row per step (t=0 included), one column per metric."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "step", np.arange(len(df)))
        return df

    def population_frame(self) -> pd.DataFrame:
        """One row per user: who they are and how they ended up."""
        pop, people = self.population, self.people
        return pd.DataFrame(
            {
                "user": np.arange(pop.n),
                "region": pop.region,
                "region_name": [people.regions[r].name for r in pop.region.tolist()],
                "archetype": pop.archetype,
                "archetype_name": [people.archetypes[a].name for a in pop.archetype.tolist()],
                "markers": [[people.markers[k].id for k in ms] for ms in pop.marker_lists()],
                "atypicality": pop.atypicality,
                "curiosity": pop.curiosity,
                "trust": pop.trust,
                "tries": pop.tries,
                "successes": pop.successes,
                "platform_uses": pop.platform_uses,
                "inventions": pop.inventions,
            }
        )

    def solutions_frame(self) -> pd.DataFrame:
        """One row per solution (catalog and invented): text, domain, origin."""
        sols, n = self.solutions, self.solutions.n
        return pd.DataFrame(
            {
                "solution": np.arange(n),
                "text": sols.text[:n],
                "domain": sols.domain[:n],
                "root": sols.root[:n],
                "inventor": sols.inventor[:n],
                "born": sols.born[:n],
            }
        )

    def events_frame(self) -> pd.DataFrame:
        """Every chat: channel, advice, adoption, outcome (a streamed log is closed first)."""
        return self.events.frame()


def _replies(advice, seekers: np.ndarray) -> list[str]:
    out = [""] * len(seekers)
    if advice is not None:
        for i, text in zip(np.flatnonzero(seekers).tolist(), advice.text, strict=True):
            out[i] = text
    return out

"""The solution catalog: domains, base solutions and twists, as validated numpy arrays.

``catalog.toml`` lists the problem domains, the base solutions people try (short imperative
text, a latent approach vector, a universal efficacy and optional region-specific extras) and
the twists curious people use to adapt a solution. :func:`load_catalog` validates it,
cross-checks it against the people/chat content of :mod:`agents.content` and builds arrays:

- ``solution_approach``  (S, 8): the approach table as a vector, L2-normalised.
- ``solution_regional``  (S, R): ``region.affinity · solution_approach + regions extra``.

Every problem is reported as a :class:`CatalogError` naming the file, entry and problem.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.content import ChatBank, People, affinity_vector, load_chats, load_people

__all__ = ["REQUIRED_DOMAINS", "Catalog", "CatalogError", "load_catalog"]

REQUIRED_DOMAINS: tuple[str, ...] = (
    "food",
    "work",
    "romance",
    "health",
    "money",
    "family",
    "meaning",
    "self_image",
)
MIN_SOLUTIONS_PER_DOMAIN = 22
MIN_TWISTS = 30
MAX_SOLUTION_WORDS = 16
MAX_TWIST_WORDS = 9  # excluding the {solution} placeholder
EFFICACY_RANGE = (-1.5, 1.5)


class CatalogError(ValueError):
    """catalog.toml is malformed or inconsistent with the people/chat content."""


@dataclass(frozen=True, eq=False)
class Catalog:
    domains: tuple[str, ...]  # domain ids
    domain_names: tuple[str, ...]
    approaches: tuple[str, ...]  # from agents people.toml
    solution_ids: tuple[str, ...]
    solution_text: tuple[str, ...]
    solution_domain: np.ndarray  # (S,) int64 index into domains
    solution_approach: np.ndarray  # (S, 8) float64, L2-normalised
    solution_efficacy: np.ndarray  # (S,) float64 universal logit
    solution_regional: np.ndarray  # (S, R) float64 regional affinity
    region_ids: tuple[str, ...]
    region_names: tuple[str, ...]
    twists: tuple[str, ...]
    _by_domain: tuple[np.ndarray, ...] = field(init=False, repr=False)
    domain_index: Mapping[str, int] = field(init=False, repr=False)
    solution_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for arr in (
            self.solution_domain,
            self.solution_approach,
            self.solution_efficacy,
            self.solution_regional,
        ):
            arr.setflags(write=False)
        by_domain = []
        for d in range(len(self.domains)):
            idx = np.flatnonzero(self.solution_domain == d).astype(np.int64)
            idx.setflags(write=False)
            by_domain.append(idx)
        object.__setattr__(self, "_by_domain", tuple(by_domain))
        object.__setattr__(self, "domain_index", {d: i for i, d in enumerate(self.domains)})
        object.__setattr__(self, "solution_index", {s: i for i, s in enumerate(self.solution_ids)})

    @property
    def n_solutions(self) -> int:
        return len(self.solution_ids)

    def solutions_in(self, domain: int) -> np.ndarray:
        """Indices (read-only int64 array) of the solutions of domain index ``domain``."""
        return self._by_domain[domain]


# ------------------------------------------------------------------ file schema

_CFG = ConfigDict(extra="forbid", frozen=True)
_ID = r"^[a-z0-9][a-z0-9_\-]*$"


class _DomainIn(BaseModel):
    model_config = _CFG
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)


class _SolutionIn(BaseModel):
    model_config = _CFG
    id: str = Field(pattern=_ID)
    domain: str
    text: str = Field(min_length=1)
    approach: dict[str, float]
    efficacy: float
    regions: dict[str, float] | None = None


class _CatalogIn(BaseModel):
    model_config = _CFG
    domains: list[dict[str, Any]]
    solutions: list[dict[str, Any]]
    twists: list[str]


def _problem(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in e['loc']) or 'entry'}: {e['msg']}" for e in err.errors()
    )


def _fail(source: str, entry: str, problem: str) -> CatalogError:
    return CatalogError(f"{source}: {entry}: {problem}")


def _entry(section: str, i: int, raw: Any) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{i}] {rid!r}" if rid is not None else f"{section}[{i}]"


# ------------------------------------------------------------------ parsing


def _parse(
    data: dict[str, Any], source: str, people: People, chats: ChatBank, min_counts: bool
) -> Catalog:
    try:
        doc = _CatalogIn.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, "top level", _problem(exc)) from None

    # domains
    domains: list[_DomainIn] = []
    for i, raw in enumerate(doc.domains):
        try:
            domains.append(_DomainIn.model_validate(raw))
        except ValidationError as exc:
            raise _fail(source, _entry("domains", i, raw), _problem(exc)) from None
    dom_pos: dict[str, int] = {}
    for i, d in enumerate(domains):
        if d.id in dom_pos:
            raise _fail(source, f"domains[{i}] {d.id!r}", "duplicate id")
        dom_pos[d.id] = i
    if min_counts:
        missing = [d for d in REQUIRED_DOMAINS if d not in dom_pos]
        if missing:
            raise _fail(source, "domains", f"missing required domains {missing}")
    if not domains:
        raise _fail(source, "domains", "no domains")

    # solutions
    region_pos = {r.id: j for j, r in enumerate(people.regions)}
    n_regions = len(people.regions)
    seen: dict[str, int] = {}
    ids, texts, dom_idx, approach, efficacy, extra = [], [], [], [], [], []
    for i, raw in enumerate(doc.solutions):
        entry = _entry("solutions", i, raw)
        try:
            s = _SolutionIn.model_validate(raw)
        except ValidationError as exc:
            raise _fail(source, entry, _problem(exc)) from None
        if s.id in seen:
            raise _fail(source, entry, f"duplicate id (first at solutions[{seen[s.id]}])")
        seen[s.id] = i
        if s.domain not in dom_pos:
            raise _fail(source, entry, f"unknown domain {s.domain!r}")
        text = s.text
        if text != text.strip() or "{" in text or "}" in text:
            raise _fail(source, entry, f"text {text!r}: stray whitespace or braces")
        if not text[0].islower():
            raise _fail(source, entry, f"text {text!r}: must start lowercase (an imperative)")
        if len(text.split()) > MAX_SOLUTION_WORDS:
            raise _fail(source, entry, f"text {text!r}: more than {MAX_SOLUTION_WORDS} words")
        try:
            vec = np.asarray(affinity_vector(s.approach, people.approaches), dtype=np.float64)
        except ValueError as exc:
            raise _fail(source, entry, f"approach: {exc}") from None
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            raise _fail(source, entry, "approach: all weights are zero")
        lo, hi = EFFICACY_RANGE
        if not lo <= s.efficacy <= hi:
            raise _fail(source, entry, f"efficacy {s.efficacy} outside [{lo}, {hi}]")
        ext = np.zeros(n_regions, dtype=np.float64)
        for rid, w in (s.regions or {}).items():
            if rid not in region_pos:
                raise _fail(source, entry, f"regions: unknown region {rid!r}")
            if not -1.0 <= w <= 1.0:
                raise _fail(source, entry, f"regions: {rid} = {w} outside [-1, 1]")
            ext[region_pos[rid]] = w
        ids.append(s.id)
        texts.append(text)
        dom_idx.append(dom_pos[s.domain])
        approach.append(vec / norm)
        efficacy.append(float(s.efficacy))
        extra.append(ext)

    if len(set(texts)) != len(texts):
        dup = next(t for t in texts if texts.count(t) > 1)
        raise _fail(source, f"solutions {dup!r}", "duplicate solution text")
    counts = np.bincount(np.asarray(dom_idx, dtype=np.int64), minlength=len(domains))
    for d, n in zip(domains, counts, strict=True):
        if n == 0 or (min_counts and n < MIN_SOLUTIONS_PER_DOMAIN):
            need = MIN_SOLUTIONS_PER_DOMAIN if min_counts else 1
            raise _fail(source, f"domains {d.id!r}", f"{n} solutions, at least {need} required")

    # twists
    if min_counts and len(doc.twists) < MIN_TWISTS:
        raise _fail(source, "twists", f"{len(doc.twists)} given, at least {MIN_TWISTS} required")
    if len(set(doc.twists)) != len(doc.twists):
        raise _fail(source, "twists", "duplicate twist")
    for j, t in enumerate(doc.twists):
        if t.count("{solution}") != 1:
            raise _fail(source, f"twists[{j}] {t!r}", "must contain {solution} exactly once")
        if len(t.replace("{solution}", " ").split()) > MAX_TWIST_WORDS:
            raise _fail(source, f"twists[{j}] {t!r}", f"more than {MAX_TWIST_WORDS} words")

    # cross-checks with agents content
    for m in people.markers:
        for d in m.domains:
            if d not in dom_pos:
                raise _fail(
                    source,
                    f"cross-check people.toml markers {m.id!r}",
                    f"domain {d!r} is not a catalog domain",
                )
    for d in chats.problems:
        if d not in dom_pos:
            raise _fail(source, f"cross-check chats.toml domains.{d}", "not a catalog domain")
    for d in dom_pos:
        if d not in chats.problems:
            raise _fail(source, f"domains {d!r}", "has no [domains.<id>] problems in chats.toml")

    n = len(ids)
    sol_approach = np.asarray(approach, dtype=np.float64).reshape(n, len(people.approaches))
    region_aff = people.region_affinity()
    sol_regional = sol_approach @ region_aff.T + np.asarray(extra, dtype=np.float64).reshape(
        n, n_regions
    )
    return Catalog(
        domains=tuple(d.id for d in domains),
        domain_names=tuple(d.name for d in domains),
        approaches=tuple(people.approaches),
        solution_ids=tuple(ids),
        solution_text=tuple(texts),
        solution_domain=np.asarray(dom_idx, dtype=np.int64),
        solution_approach=sol_approach,
        solution_efficacy=np.asarray(efficacy, dtype=np.float64),
        solution_regional=sol_regional,
        region_ids=tuple(r.id for r in people.regions),
        region_names=tuple(r.name for r in people.regions),
        twists=tuple(doc.twists),
    )


def _read(path: Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        source = "catalog.toml"
        raw = resources.files("platform_sim").joinpath("data", "catalog.toml").read_bytes()
    else:
        source = str(path)
        raw = Path(path).read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), source
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    data, source = _read(None)
    return _parse(data, source, load_people(), load_chats(), True)


def load_catalog(
    path: Path | None = None,
    people: People | None = None,
    chats: ChatBank | None = None,
    *,
    min_counts: bool = True,
) -> Catalog:
    """Load, validate and cross-check ``catalog.toml`` (default: package copy, cached).

    ``people``/``chats`` default to the package content of :mod:`agents.content`.
    ``min_counts=False`` skips the minimum-count rules (for small hand-made test catalogs).
    """
    if path is None and people is None and chats is None and min_counts:
        return _default_catalog()
    data, source = _read(path)
    return _parse(
        data,
        source,
        load_people() if people is None else people,
        load_chats() if chats is None else chats,
        min_counts,
    )

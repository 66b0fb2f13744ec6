"""People and chat-writing content: loaders and validation for the package data files.

``people.toml`` holds the 8 latent approach axes, the regions, the 6 marker families, the
psychological markers and the correlated marker clusters (archetypes) users are drawn from.
``chats.toml`` holds the pieces chats are written from (see ``agents.chat``).

Every problem is reported as a :class:`ContentError` naming the file, the entry and the
problem, e.g. ``people.toml: markers[3] 'cmp-self-ranking': affinity: unknown approach 'x'``.

This package knows nothing about the platform: marker ``domains`` and chat domains are only
stored here and are cross-checked against the catalog by ``platform_sim.catalog``.
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

__all__ = [
    "APPROACHES",
    "Archetype",
    "ChatBank",
    "ContentError",
    "Family",
    "Marker",
    "People",
    "Region",
    "affinity_vector",
    "load_chats",
    "load_people",
]

#: The latent approach axes, in order (people.toml must list exactly these).
APPROACHES: tuple[str, ...] = (
    "structure",
    "connection",
    "expertise",
    "reflection",
    "body",
    "tracking",
    "acceptance",
    "novelty",
)
FAMILIES: tuple[str, ...] = (
    "anxieties",
    "aspirations",
    "compulsions",
    "attachments",
    "habits",
    "circumstances",
)

# Minimum counts (the content spec).
MIN_REGIONS = 6
MIN_REGION_DETAILS = 6
MIN_MARKERS_PER_FAMILY = 11
MIN_MARKER_PHRASES = 2
MIN_ARCHETYPES = 10
ARCHETYPE_SIZE = (6, 10)
MIN_OPENERS = 25
MIN_CLOSERS = 25
MIN_DETAILS = 120
MIN_ECHOES = 12
MIN_CONNECTORS = 8
MIN_PROBLEMS = 14
# Word-count bounds that keep written chats within 12-60 words (see agents.chat).
MAX_OPENER_WORDS = 6
MAX_CLOSER_WORDS = 8
PROBLEM_WORDS = (7, 18)
PHRASE_WORDS = (3, 15)
DETAIL_WORDS = (3, 14)
MAX_ECHO_WORDS = 11  # excluding the {solution} placeholder
MAX_CONNECTOR_WORDS = 8


class ContentError(ValueError):
    """A content data file is malformed: the message names the file, entry and problem."""


# ------------------------------------------------------------------ public records


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    affinity: tuple[float, ...]  # len 8, approach order
    details: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    id: str
    name: str


@dataclass(frozen=True)
class Marker:
    id: str
    family: str
    label: str
    phrases: tuple[str, ...]
    affinity: tuple[float, ...]  # len 8, approach order
    domains: tuple[str, ...]  # domain ids (checked against the catalog by platform_sim)


@dataclass(frozen=True)
class Archetype:
    id: str
    name: str
    markers: tuple[str, ...]
    approach: tuple[float, ...]  # len 8, approach order


@dataclass(frozen=True)
class People:
    approaches: tuple[str, ...]
    regions: tuple[Region, ...]
    families: tuple[Family, ...]
    markers: tuple[Marker, ...]
    archetypes: tuple[Archetype, ...]
    marker_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "marker_index", {m.id: i for i, m in enumerate(self.markers)})

    @property
    def region_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.regions)

    @property
    def marker_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.markers)

    def marker(self, marker_id: str) -> Marker:
        return self.markers[self.marker_index[marker_id]]

    def region_affinity(self) -> np.ndarray:
        """(R, 8) float64 region affinity matrix."""
        return np.array([r.affinity for r in self.regions], dtype=np.float64).reshape(-1, 8)

    def marker_affinity(self) -> np.ndarray:
        """(M, 8) float64 marker affinity matrix (rows in ``markers`` order)."""
        return np.array([m.affinity for m in self.markers], dtype=np.float64).reshape(-1, 8)

    def archetype_markers(self) -> tuple[tuple[int, ...], ...]:
        """Marker indices of each archetype."""
        return tuple(tuple(self.marker_index[m] for m in a.markers) for a in self.archetypes)


@dataclass(frozen=True)
class ChatBank:
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    details: tuple[str, ...]
    echoes: tuple[str, ...]
    connectors: tuple[str, ...]
    problems: Mapping[str, tuple[str, ...]]  # domain id -> first-person problem statements


# ------------------------------------------------------------------ file schemas

_ID = r"^[a-z0-9][a-z0-9_\-]*$"
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=False)


class _Named(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)


class _RegionIn(_Named):
    affinity: dict[str, float]
    details: list[str]


class _FamilyIn(_Named):
    pass


class _MarkerIn(BaseModel):
    model_config = _STRICT
    id: str = Field(pattern=_ID)
    family: str
    label: str = Field(min_length=1)
    phrases: list[str]
    affinity: dict[str, float]
    domains: list[str] = Field(min_length=1, max_length=3)


class _ArchetypeIn(_Named):
    markers: list[str]
    approach: dict[str, float]


class _PeopleIn(BaseModel):
    model_config = _STRICT
    approaches: list[str]
    regions: list[dict[str, Any]]
    families: list[dict[str, Any]]
    markers: list[dict[str, Any]]
    archetypes: list[dict[str, Any]]


class _DomainProblemsIn(BaseModel):
    model_config = _STRICT
    problems: list[str]


class _ChatsIn(BaseModel):
    model_config = _STRICT
    openers: list[str]
    closers: list[str]
    details: list[str]
    echoes: list[str]
    connectors: list[str]
    domains: dict[str, dict[str, Any]]


# ------------------------------------------------------------------ helpers


def _pydantic_problem(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "entry"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def _entry(section: str, i: int, raw: Any) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{i}] {rid!r}" if rid is not None else f"{section}[{i}]"


def _fail(source: str, entry: str, problem: str) -> ContentError:
    return ContentError(f"{source}: {entry}: {problem}")


def affinity_vector(
    table: Mapping[str, float], approaches: tuple[str, ...] = APPROACHES
) -> tuple[float, ...]:
    """Turn an ``{approach: weight}`` table into a vector in approach order.

    Missing axes are 0. Raises ``ValueError`` on unknown axes or weights outside [-1, 1].
    """
    vec = [0.0] * len(approaches)
    pos = {a: i for i, a in enumerate(approaches)}
    for key, w in table.items():
        if key not in pos:
            raise ValueError(f"unknown approach {key!r} (expected one of {', '.join(approaches)})")
        w = float(w)
        if not -1.0 <= w <= 1.0:
            raise ValueError(f"weight {key} = {w} outside [-1, 1]")
        vec[pos[key]] = w
    return tuple(vec)


def _vec(source: str, entry: str, what: str, table: Mapping[str, float]) -> tuple[float, ...]:
    try:
        return affinity_vector(table)
    except ValueError as exc:
        raise _fail(source, entry, f"{what}: {exc}") from None


def _texts(
    source: str,
    entry: str,
    what: str,
    texts: list[str],
    minimum: int,
    words: tuple[int, int] | None = None,
    allow_empty: bool = False,
) -> tuple[str, ...]:
    if len(texts) < minimum:
        raise _fail(source, entry, f"{what}: {len(texts)} given, at least {minimum} required")
    seen: set[str] = set()
    for j, t in enumerate(texts):
        t_stripped = t.strip()
        if t != t_stripped:
            raise _fail(source, entry, f"{what}[{j}] {t!r}: leading/trailing whitespace")
        if not t and not allow_empty:
            raise _fail(source, entry, f"{what}[{j}]: empty text")
        if t in seen:
            raise _fail(source, entry, f"{what}[{j}] {t!r}: duplicate")
        seen.add(t)
        if words is not None:
            n = len(t.split())
            if not words[0] <= n <= words[1]:
                raise _fail(
                    source, entry, f"{what}[{j}] {t!r}: {n} words, expected {words[0]}-{words[1]}"
                )
    return tuple(texts)


def _read_toml(path: Path | None, package: str, name: str) -> tuple[dict[str, Any], str]:
    if path is None:
        res = resources.files(package).joinpath("data", name)
        source = name
        raw = res.read_bytes()
    else:
        path = Path(path)
        source = str(path)
        raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), source
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContentError(f"{source}: not valid TOML: {exc}") from None


def _unique(source: str, section: str, ids: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, x in enumerate(ids):
        if x in seen:
            raise _fail(source, f"{section}[{i}] {x!r}", f"duplicate id (first at [{seen[x]}])")
        seen[x] = i


# ------------------------------------------------------------------ people


def _parse_people(data: dict[str, Any], source: str) -> People:
    try:
        doc = _PeopleIn.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, "top level", _pydantic_problem(exc)) from None
    if tuple(doc.approaches) != APPROACHES:
        raise _fail(
            source, "approaches", f"must be exactly {list(APPROACHES)}, got {doc.approaches}"
        )

    def models(section: str, model: type[BaseModel]) -> list[Any]:
        out = []
        for i, raw in enumerate(getattr(doc, section)):
            try:
                out.append(model.model_validate(raw))
            except ValidationError as exc:
                raise _fail(source, _entry(section, i, raw), _pydantic_problem(exc)) from None
        _unique(source, section, [m.id for m in out])
        return out

    regions_in = models("regions", _RegionIn)
    families_in = models("families", _FamilyIn)
    markers_in = models("markers", _MarkerIn)
    archetypes_in = models("archetypes", _ArchetypeIn)

    if tuple(f.id for f in families_in) != FAMILIES:
        raise _fail(
            source,
            "families",
            f"must be exactly {list(FAMILIES)}, got {[f.id for f in families_in]}",
        )
    if len(regions_in) < MIN_REGIONS:
        raise _fail(source, "regions", f"{len(regions_in)} given, at least {MIN_REGIONS} required")

    regions = []
    for i, r in enumerate(regions_in):
        e = f"regions[{i}] {r.id!r}"
        regions.append(
            Region(
                id=r.id,
                name=r.name,
                affinity=_vec(source, e, "affinity", r.affinity),
                details=_texts(source, e, "details", r.details, MIN_REGION_DETAILS, DETAIL_WORDS),
            )
        )

    family_ids = {f.id for f in families_in}
    markers = []
    for i, m in enumerate(markers_in):
        e = f"markers[{i}] {m.id!r}"
        if m.family not in family_ids:
            raise _fail(source, e, f"unknown family {m.family!r}")
        if len(set(m.domains)) != len(m.domains):
            raise _fail(source, e, f"duplicate domains {m.domains}")
        markers.append(
            Marker(
                id=m.id,
                family=m.family,
                label=m.label,
                phrases=_texts(source, e, "phrases", m.phrases, MIN_MARKER_PHRASES, PHRASE_WORDS),
                affinity=_vec(source, e, "affinity", m.affinity),
                domains=tuple(m.domains),
            )
        )
    for fam in FAMILIES:
        n = sum(m.family == fam for m in markers)
        if n < MIN_MARKERS_PER_FAMILY:
            raise _fail(
                source,
                f"markers (family {fam!r})",
                f"{n} given, at least {MIN_MARKERS_PER_FAMILY} required",
            )

    marker_family = {m.id: m.family for m in markers}
    archetypes = []
    for i, a in enumerate(archetypes_in):
        e = f"archetypes[{i}] {a.id!r}"
        for mid in a.markers:
            if mid not in marker_family:
                raise _fail(source, e, f"unknown marker {mid!r}")
        if len(set(a.markers)) != len(a.markers):
            raise _fail(source, e, "duplicate marker ids")
        lo, hi = ARCHETYPE_SIZE
        if not lo <= len(a.markers) <= hi:
            raise _fail(source, e, f"{len(a.markers)} markers, expected {lo}-{hi}")
        if len({marker_family[mid] for mid in a.markers}) < 3:
            raise _fail(source, e, "markers must span at least 3 families")
        archetypes.append(
            Archetype(
                id=a.id,
                name=a.name,
                markers=tuple(a.markers),
                approach=_vec(source, e, "approach", a.approach),
            )
        )
    if len(archetypes) < MIN_ARCHETYPES:
        raise _fail(
            source, "archetypes", f"{len(archetypes)} given, at least {MIN_ARCHETYPES} required"
        )

    return People(
        approaches=APPROACHES,
        regions=tuple(regions),
        families=tuple(Family(f.id, f.name) for f in families_in),
        markers=tuple(markers),
        archetypes=tuple(archetypes),
    )


@lru_cache(maxsize=1)
def _default_people() -> People:
    data, source = _read_toml(None, "agents", "people.toml")
    return _parse_people(data, source)


def load_people(path: Path | None = None) -> People:
    """Load and validate ``people.toml`` (default: the package's copy, cached)."""
    if path is None:
        return _default_people()
    data, source = _read_toml(path, "agents", "people.toml")
    return _parse_people(data, source)


# ------------------------------------------------------------------ chats


def _parse_chats(data: dict[str, Any], source: str) -> ChatBank:
    try:
        doc = _ChatsIn.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, "top level", _pydantic_problem(exc)) from None
    openers = _texts(source, "openers", "openers", doc.openers, MIN_OPENERS, allow_empty=True)
    for j, o in enumerate(openers):
        if len(o.split()) > MAX_OPENER_WORDS:
            raise _fail(
                source, "openers", f"openers[{j}] {o!r}: more than {MAX_OPENER_WORDS} words"
            )
    closers = _texts(source, "closers", "closers", doc.closers, MIN_CLOSERS, (1, MAX_CLOSER_WORDS))
    details = _texts(source, "details", "details", doc.details, MIN_DETAILS, DETAIL_WORDS)
    connectors = _texts(
        source, "connectors", "connectors", doc.connectors, MIN_CONNECTORS, (1, MAX_CONNECTOR_WORDS)
    )
    echoes = _texts(source, "echoes", "echoes", doc.echoes, MIN_ECHOES)
    for j, t in enumerate(echoes):
        if t.count("{solution}") != 1:
            raise _fail(source, "echoes", f"echoes[{j}] {t!r}: must contain {{solution}} once")
        if t.startswith("{solution}"):
            raise _fail(source, "echoes", f"echoes[{j}] {t!r}: must not start with {{solution}}")
        n = len(t.replace("{solution}", " ").split())
        if n > MAX_ECHO_WORDS:
            raise _fail(source, "echoes", f"echoes[{j}] {t!r}: {n} words, at most {MAX_ECHO_WORDS}")
    if not doc.domains:
        raise _fail(source, "domains", "no [domains.<id>] tables")
    problems: dict[str, tuple[str, ...]] = {}
    for did, raw in doc.domains.items():
        e = f"domains.{did}"
        try:
            d = _DomainProblemsIn.model_validate(raw)
        except ValidationError as exc:
            raise _fail(source, e, _pydantic_problem(exc)) from None
        problems[did] = _texts(source, e, "problems", d.problems, MIN_PROBLEMS, PROBLEM_WORDS)
    return ChatBank(
        openers=openers,
        closers=closers,
        details=details,
        echoes=echoes,
        connectors=connectors,
        problems=problems,
    )


@lru_cache(maxsize=1)
def _default_chats() -> ChatBank:
    data, source = _read_toml(None, "agents", "chats.toml")
    return _parse_chats(data, source)


def load_chats(path: Path | None = None) -> ChatBank:
    """Load and validate ``chats.toml`` (default: the package's copy, cached)."""
    if path is None:
        return _default_chats()
    data, source = _read_toml(path, "agents", "chats.toml")
    return _parse_chats(data, source)

"""Run specs: one flat, validated table of everything that defines a world.

A spec is flat on purpose: every key can be overridden with ``--set key=value`` and swept
over in a grid without path syntax. Unknown keys and bad values fail with a message that
names the field and the allowed values (see ``SpecError``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from platform_sim.embedding import EMBEDDERS
from platform_sim.policies import POLICIES


class SpecError(ValueError):
    """A spec the user wrote is wrong; the message says which field and what is allowed."""


class WorldSpec(BaseModel):
    """Everything that defines one simulated world (and, with ``control``, its twin)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field("world", description="label of the run, used in reports")
    seed: int = Field(0, ge=0, description="the one seed; every random stream derives from it")
    steps: int = Field(120, ge=1, le=100_000, description="number of steps after t=0")
    n_users: int = Field(3000, ge=10, le=1_000_000, description="simulated people")
    n_regions: int = Field(6, ge=2, le=6, description="regions used from the catalog")
    policy: str = Field("neighbors", description="the platform's policy")
    control: str | None = Field(
        None, description="a second policy run on the same world as a control (e.g. 'none')"
    )
    embedder: str = Field("minilm-static", description="sentence embedder for chats")
    precision: str = Field("fp32", description="transformer precision: fp32 or bf16")

    # Problems and chats
    problem_rate: float = Field(
        0.25, gt=0, le=1, description="share of users who bring a problem each step"
    )
    echo_rate: float = Field(
        0.6, ge=0, le=1, description="chance a platform user echoes its phrasing in later chats"
    )

    # True efficacy: P(success) = sigmoid(bias + universal + regional + individual + markers)
    efficacy_bias: float = Field(-0.3, ge=-5, le=5, description="intercept of the success logit")
    efficacy_universal: float = Field(1.0, ge=0, le=10, description="weight of universal efficacy")
    efficacy_regional: float = Field(1.0, ge=0, le=10, description="weight of regional affinity")
    efficacy_individual: float = Field(
        1.5, ge=0, le=10, description="weight of the user-solution fit"
    )
    efficacy_markers: float = Field(0.5, ge=0, le=10, description="weight of the marker fit")

    # People
    initial_trust: float = Field(0.05, ge=0, le=1, description="mean initial trust in the platform")
    initial_curiosity: float = Field(0.6, ge=0, le=1, description="mean initial curiosity")
    trust_rate: float = Field(
        0.15, ge=0, le=1, description="how fast trust moves toward platform outcomes"
    )
    social_influence: float = Field(
        0.5, ge=0, le=1, description="weight of friends' platform use in the choice to ask it"
    )
    curiosity_erosion: float = Field(
        0.08, ge=0, le=1, description="share of curiosity lost each time one relies on the platform"
    )
    curiosity_recovery: float = Field(
        0.1, ge=0, le=1, description="share of lost curiosity restored by an own success"
    )
    invent_rate: float = Field(
        0.5, ge=0, le=1, description="chance of inventing a variant at curiosity 1"
    )
    friends_k: int = Field(6, ge=2, le=100, description="friends per person (small-world k)")
    rewire_p: float = Field(0.1, ge=0, le=1, description="small-world rewiring probability")
    cross_region_ties: float = Field(
        0.05, ge=0, le=1, description="extra ties across regions, per person"
    )

    # The platform
    platform_k: int = Field(50, ge=1, le=1000, description="neighbour chats the platform reads")
    platform_options: int = Field(3, ge=1, le=20, description="solutions in each reply")
    min_group: int = Field(
        0, ge=0, description="k-anonymity: speak of groups only of at least this size (0: off)"
    )
    n_features: int = Field(64, ge=2, le=4096, description="feature clusters the platform sees")
    diversity_lambda: float = Field(
        0.5, ge=0, le=1, description="`diverse` policy: MMR weight of relevance vs novelty"
    )
    adapt_boost: float = Field(
        0.4, ge=0, le=1, description="`curious` policy: extra chance a seeker adapts an option"
    )

    # Measurement
    window: int = Field(10, ge=1, description="steps in the adoption window of diversity metrics")
    snapshots: int = Field(
        3, ge=1, le=1000, description="evenly spaced steps at which users' profiles are kept"
    )

    @field_validator("policy", "control")
    @classmethod
    def _known_policy(cls, v: str | None) -> str | None:
        if v is not None and v not in POLICIES:
            raise ValueError(f"unknown policy {v!r}; valid: {', '.join(sorted(POLICIES))}")
        return v

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, v: str) -> str:
        if v not in EMBEDDERS:
            raise ValueError(f"unknown embedder {v!r}; valid: {', '.join(sorted(EMBEDDERS))}")
        return v

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, v: str) -> str:
        if v not in ("fp32", "bf16"):
            raise ValueError(f"unknown precision {v!r}; valid: fp32, bf16")
        return v

    @model_validator(mode="after")
    def _control_differs(self) -> WorldSpec:
        if self.control is not None and self.control == self.policy:
            raise ValueError(f"control {self.control!r} is the same as policy: nothing to compare")
        return self

    @model_validator(mode="after")
    def _efficacy_mix(self) -> WorldSpec:
        weights = (
            self.efficacy_universal,
            self.efficacy_regional,
            self.efficacy_individual,
            self.efficacy_markers,
        )
        if sum(weights) <= 0:
            raise ValueError(
                "efficacy weights (efficacy_universal, efficacy_regional, efficacy_individual, "
                "efficacy_markers) are all zero: outcomes would not depend on the solution"
            )
        return self


def describe_errors(
    err: ValidationError, source: str, model: type[BaseModel], what: str = "spec"
) -> str:
    """A validation error as lines a user can act on: field, problem, allowed keys, input."""
    lines = [f"invalid {what} ({source}):"]
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or f"({what})"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown key; valid keys: {', '.join(model.model_fields)}"
        got = f" (got {e.get('input')!r})" if e["loc"] else ""
        lines.append(f"  {field}: {msg}{got}")
    return "\n".join(lines)


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML would (numbers, booleans, strings, lists)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["steps=10", "policy=none"]`` -> ``{"steps": 10, "policy": "none"}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file with errors a user can act on."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise SpecError(f"{path} is not UTF-8 text: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path} is not valid TOML: {e}") from e
    except OSError as e:
        raise SpecError(f"cannot read {path}: {e}") from e


def make_spec(values: dict[str, Any], source: str = "spec") -> WorldSpec:
    """Validate a plain dict into a WorldSpec, or raise SpecError naming each bad field."""
    try:
        return WorldSpec(**values)
    except ValidationError as e:
        raise SpecError(describe_errors(e, source, WorldSpec)) from e


def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """Stored spec values (a run's manifest, a sweep's base) with the fields they predate
    filled in with today's defaults: a field added later is no difference to a stored run."""
    return {**WorldSpec().model_dump(), **values}


def load_spec(path: Path, overrides: dict[str, Any] | None = None) -> WorldSpec:
    """Load a run spec from TOML and apply overrides."""
    values = read_toml(path)
    values.update(overrides or {})
    return make_spec(values, source=str(path))


def dump_toml(values: dict[str, Any]) -> str:
    """Write a flat dict of scalars and lists as TOML (enough for specs)."""
    lines = []
    for key, value in values.items():
        if value is None:
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"

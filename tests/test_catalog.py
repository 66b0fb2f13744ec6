"""platform_sim.catalog: counts, arrays, validation errors and the regional-affinity formula."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from agents.content import APPROACHES, ChatBank, People, Region, load_chats, load_people
from platform_sim.catalog import REQUIRED_DOMAINS, CatalogError, load_catalog


def _catalog_with(tmp_path: Path, extra: str) -> Path:
    text = resources.files("platform_sim").joinpath("data", "catalog.toml").read_text("utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def _solution(sid: str = "food-extra", domain: str = "food", approach: str = "{ body = 0.5 }",
              efficacy: str = "0.2", regions: str = "") -> str:  # fmt: skip
    out = (
        f'[[solutions]]\nid = "{sid}"\ndomain = "{domain}"\ntext = "do a brand new thing"\n'
        f"approach = {approach}\nefficacy = {efficacy}\n"
    )
    return out + (f"regions = {regions}\n" if regions else "")


# ------------------------------------------------------------------ the shipped catalog


def test_counts_and_shapes() -> None:
    cat = load_catalog()
    people = load_people()
    assert set(REQUIRED_DOMAINS) <= set(cat.domains) and len(cat.domains) >= 8
    s, r = cat.n_solutions, len(people.regions)
    assert cat.approaches == APPROACHES
    assert cat.solution_domain.shape == (s,) and cat.solution_domain.dtype == np.int64
    assert cat.solution_approach.shape == (s, 8) and cat.solution_approach.dtype == np.float64
    assert cat.solution_efficacy.shape == (s,) and cat.solution_regional.shape == (s, r)
    assert np.allclose(np.linalg.norm(cat.solution_approach, axis=1), 1.0)
    assert len(set(cat.solution_ids)) == s and len(set(cat.solution_text)) == s
    assert cat.region_ids == people.region_ids
    assert len(cat.twists) >= 30 and all("{solution}" in t for t in cat.twists)
    assert np.abs(cat.solution_regional).max() <= 1.6


def test_each_domain_has_good_middling_and_bad_solutions() -> None:
    cat = load_catalog()
    for d in range(len(cat.domains)):
        idx = cat.solutions_in(d)
        assert len(idx) >= 22
        assert (cat.solution_domain[idx] == d).all()
        eff = cat.solution_efficacy[idx]
        assert np.abs(eff).max() <= 1.5
        assert (eff >= 0.9).sum() >= 3, cat.domains[d]
        assert (eff <= -0.5).sum() >= 2, cat.domains[d]
        assert ((eff > -0.5) & (eff < 0.9)).sum() >= len(idx) // 2


def test_some_solutions_are_regional_traditions() -> None:
    cat = load_catalog()
    base = cat.solution_approach @ load_people().region_affinity().T
    has_extra = ~np.isclose(cat.solution_regional, base).all(axis=1)
    assert 0.1 <= has_extra.mean() <= 0.35


def test_cross_check_with_people_and_chats() -> None:
    cat = load_catalog()
    assert set(load_chats().problems) == set(cat.domains)
    assert {d for m in load_people().markers for d in m.domains} <= set(cat.domains)
    assert load_catalog() is cat


# ------------------------------------------------------------------ validation errors


def test_unknown_domain(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, _solution(domain="gardening"))
    with pytest.raises(CatalogError, match=r"solutions\[\d+\] 'food-extra': unknown domain"):
        load_catalog(path)


def test_duplicate_solution_id(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, _solution(sid="food-sunday-batch"))
    with pytest.raises(CatalogError, match=r"'food-sunday-batch': duplicate id"):
        load_catalog(path)


def test_unknown_approach_axis(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, _solution(approach="{ luck = 0.5 }"))
    with pytest.raises(CatalogError, match=r"catalog\.toml: solutions\[\d+\] 'food-extra'.*'luck'"):
        load_catalog(path)


def test_out_of_range_weight_and_efficacy(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, _solution(approach="{ body = -1.2 }"))
    with pytest.raises(CatalogError, match=r"'food-extra': approach: .*outside"):
        load_catalog(path)
    path = _catalog_with(tmp_path, _solution(efficacy="2.5"))
    with pytest.raises(CatalogError, match=r"'food-extra': efficacy 2.5 outside"):
        load_catalog(path)


def test_unknown_region(tmp_path: Path) -> None:
    path = _catalog_with(tmp_path, _solution(regions="{ atlantis = 0.3 }"))
    with pytest.raises(CatalogError, match=r"'food-extra': regions: unknown region 'atlantis'"):
        load_catalog(path)


def test_chat_domains_must_match(tmp_path: Path) -> None:
    bank = load_chats()
    fewer = dataclasses.replace(
        bank, problems={k: v for k, v in bank.problems.items() if k != "food"}
    )
    with pytest.raises(CatalogError, match=r"domains 'food'.*chats\.toml"):
        load_catalog(chats=fewer)
    more = dataclasses.replace(bank, problems={**bank.problems, "pets": bank.problems["food"]})
    with pytest.raises(CatalogError, match=r"chats\.toml domains\.pets"):
        load_catalog(chats=more)


# ------------------------------------------------------------------ the regional formula


def test_regional_affinity_formula_tiny_catalog(tmp_path: Path) -> None:
    z = [0.0] * 8

    def vec(**kw: float) -> tuple[float, ...]:
        v = list(z)
        for k, w in kw.items():
            v[APPROACHES.index(k)] = w
        return tuple(v)

    people = People(
        approaches=APPROACHES,
        regions=(
            Region("north", "North", vec(structure=0.5, body=0.5), ("a detail here",)),
            Region("south", "South", vec(connection=1.0, novelty=-0.5), ("a detail there",)),
        ),
        families=(),
        markers=(),
        archetypes=(),
    )
    chats = ChatBank((), (), (), (), (), {"d1": ("p",), "d2": ("q",)})
    path = tmp_path / "tiny.toml"
    path.write_text(
        'twists = ["{solution}, slowly"]\n'
        '[[domains]]\nid = "d1"\nname = "One"\n[[domains]]\nid = "d2"\nname = "Two"\n'
        '[[solutions]]\nid = "s1"\ndomain = "d1"\ntext = "do one"\n'
        "approach = { structure = 0.6, connection = 0.8 }\nefficacy = 1.0\n"
        "regions = { north = 0.2 }\n"
        '[[solutions]]\nid = "s2"\ndomain = "d2"\ntext = "do two"\n'
        "approach = { body = 0.3 }\nefficacy = -0.5\nregions = { south = -0.4 }\n"
        '[[solutions]]\nid = "s3"\ndomain = "d1"\ntext = "do three"\n'
        "approach = { tracking = 0.5, novelty = -0.5 }\nefficacy = 0.0\n",
        encoding="utf-8",
    )
    cat = load_catalog(path, people, chats, min_counts=False)
    r2 = np.sqrt(0.5)
    # s1: unit (0.6, 0.8) -> north 0.5*0.6 + 0.2; south 1.0*0.8
    # s2: unit body -> north 0.5; south 0 - 0.4
    # s3: unit (tracking r2, novelty -r2) -> north 0; south -0.5 * -r2
    expected = np.array([[0.5, 0.8], [0.5, -0.4], [0.0, 0.5 * r2]])
    assert np.allclose(cat.solution_regional, expected)
    assert np.allclose(cat.solution_approach[1], vec(body=1.0))
    assert cat.solution_domain.tolist() == [0, 1, 0]
    assert cat.solutions_in(0).tolist() == [0, 2] and cat.solutions_in(1).tolist() == [1]
    assert cat.solution_efficacy.tolist() == [1.0, -0.5, 0.0]
    assert cat.region_names == ("North", "South") and cat.twists == ("{solution}, slowly",)

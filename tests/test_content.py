"""agents.content: people.toml / chats.toml counts and validation errors."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from agents.content import (
    APPROACHES,
    ContentError,
    affinity_vector,
    load_chats,
    load_people,
)


def _data_text(name: str) -> str:
    return resources.files("agents").joinpath("data", name).read_text(encoding="utf-8")


def _people_with(tmp_path: Path, extra: str, old: str = "", new: str = "") -> Path:
    text = _data_text("people.toml")
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "people.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def _chats_with(tmp_path: Path, extra: str = "", old: str = "", new: str = "") -> Path:
    text = _data_text("chats.toml")
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "chats.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the shipped content


def test_people_counts() -> None:
    p = load_people()
    assert (
        p.approaches
        == APPROACHES
        == (
            "structure",
            "connection",
            "expertise",
            "reflection",
            "body",
            "tracking",
            "acceptance",
            "novelty",
        )
    )
    assert len(p.regions) >= 6
    assert [f.id for f in p.families] == [
        "anxieties",
        "aspirations",
        "compulsions",
        "attachments",
        "habits",
        "circumstances",
    ]
    assert len(p.markers) >= 66
    for fam in p.families:
        assert sum(m.family == fam.id for m in p.markers) >= 11
    assert len(p.archetypes) >= 10
    for r in p.regions:
        assert len(r.affinity) == 8 and len(r.details) >= 6
    for m in p.markers:
        assert len(m.affinity) == 8 and len(m.phrases) >= 2 and 1 <= len(m.domains) <= 3
        assert all(-1 <= w <= 1 for w in m.affinity)
    for a in p.archetypes:
        assert 6 <= len(a.markers) <= 10
        assert all(mid in p.marker_index for mid in a.markers)


def test_story_markers_present() -> None:
    labels = {m.label for m in load_people().markers}
    for label in (
        "anxieties about mortality",
        "professional aspirations",
        "compulsive self-ranking",
        "childhood eating disorder",
        "compulsive food shopping",
    ):
        assert label in labels


def test_regions_are_distinct_cultures() -> None:
    aff = load_people().region_affinity()
    # each region's strongest approach differs from every other region's
    assert len(set(aff.argmax(axis=1).tolist())) == aff.shape[0]


def test_chat_bank_counts() -> None:
    b = load_chats()
    assert len(b.openers) >= 25 and "" in b.openers
    assert len(b.closers) >= 25
    assert len(b.details) >= 120
    assert "the rotten apples at the back of the fridge" in b.details
    assert len(b.echoes) >= 12 and all("{solution}" in e for e in b.echoes)
    assert len(b.connectors) >= 8
    assert len(b.problems) >= 8
    assert all(len(ps) >= 14 for ps in b.problems.values())


def test_default_loads_are_cached() -> None:
    assert load_people() is load_people()
    assert load_chats() is load_chats()


def test_affinity_vector_missing_axes_are_zero() -> None:
    assert affinity_vector({"body": 0.5, "structure": -1}) == (-1.0, 0, 0, 0, 0.5, 0, 0, 0)


# ------------------------------------------------------------------ validation errors


def test_unknown_approach_axis(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path,
        '[[markers]]\nid = "x-bogus"\nfamily = "habits"\nlabel = "bogus"\n'
        'phrases = ["I do a bogus thing", "I do another bogus thing"]\n'
        'affinity = { vibes = 0.5 }\ndomains = ["food"]\n',
    )
    with pytest.raises(ContentError, match=r"people\.toml: markers\[\d+\] 'x-bogus'.*'vibes'"):
        load_people(path)


def test_duplicate_marker_id(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path,
        '[[markers]]\nid = "anx-mortality"\nfamily = "anxieties"\nlabel = "again"\n'
        'phrases = ["I think about it a lot", "I think about it all the time"]\n'
        'affinity = { body = 0.5 }\ndomains = ["health"]\n',
    )
    with pytest.raises(ContentError, match=r"markers\[\d+\] 'anx-mortality': duplicate id"):
        load_people(path)


def test_archetype_with_unknown_marker(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path,
        '[[archetypes]]\nid = "arch-ghost"\nname = "Ghost"\n'
        'markers = ["anx-mortality", "no-such-marker", "hab-lists", "asp-creative", '
        '"cmp-mirror", "cir-debt"]\napproach = { body = 0.5 }\n',
    )
    with pytest.raises(ContentError, match=r"archetypes\[\d+\] 'arch-ghost'.*'no-such-marker'"):
        load_people(path)


def test_out_of_range_weight(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path,
        "",
        old="affinity = { connection = 0.7,",
        new="affinity = { connection = 1.7,",
    )
    with pytest.raises(ContentError, match=r"regions\[0\] 'harbour_coast'.*outside \[-1, 1\]"):
        load_people(path)


def test_marker_with_unknown_family(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path,
        '[[markers]]\nid = "x-odd"\nfamily = "moods"\nlabel = "odd"\n'
        'phrases = ["I am odd today", "I feel odd today"]\naffinity = {}\ndomains = ["food"]\n',
    )
    with pytest.raises(ContentError, match=r"'x-odd': unknown family 'moods'"):
        load_people(path)


def test_extra_field_forbidden(tmp_path: Path) -> None:
    path = _people_with(
        tmp_path, "", old='name = "Harbour Coast"', new='name = "Harbour Coast"\ncolour = "blue"'
    )
    with pytest.raises(ContentError, match=r"regions\[0\] 'harbour_coast'.*colour"):
        load_people(path)


def test_echo_without_placeholder(tmp_path: Path) -> None:
    path = _chats_with(
        tmp_path, old='"I know, I know, I should {solution}"', new='"I know, I know"'
    )
    with pytest.raises(ContentError, match=r"chats\.toml: echoes: echoes\[\d+\] 'I know, I know'"):
        load_chats(path)


def test_too_few_problems(tmp_path: Path) -> None:
    path = _chats_with(tmp_path, '[domains.pets]\nproblems = ["my cat ignores me every evening"]\n')
    with pytest.raises(ContentError, match=r"domains\.pets: problems: 1 given, at least 14"):
        load_chats(path)

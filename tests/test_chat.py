"""agents.chat: determinism, fixed rng consumption, distinctness, echoes and lengths."""

from __future__ import annotations

import numpy as np
import pytest

from agents.chat import DRAWS_PER_CHAT, sample_idiolect, write_chats
from agents.content import load_chats, load_people

PEOPLE = load_people()
BANK = load_chats()
DOMAINS = sorted(BANK.problems)
ECHO = "cook one big pot on Sunday and portion it for the week"


def _batch(n: int, seed: int, echo_frac: float = 0.0, domain: str | None = None):
    rng = np.random.default_rng(seed)
    ids = PEOPLE.marker_ids
    idiolect = sample_idiolect(BANK, n, rng)
    region = rng.integers(0, len(PEOPLE.regions), n)
    doms = [domain or DOMAINS[k] for k in rng.integers(0, len(DOMAINS), n).tolist()]
    k = rng.integers(0, 3, n).tolist()
    picks = rng.integers(0, len(ids), (n, 2)).tolist()
    markers = [[ids[p] for p in dict.fromkeys(row)][:kk] for row, kk in zip(picks, k, strict=True)]
    echo = [ECHO if x < echo_frac else None for x in rng.random(n).tolist()]
    return doms, markers, idiolect, region, echo


def test_sample_idiolect() -> None:
    idi = sample_idiolect(BANK, 500, np.random.default_rng(0))
    assert idi.shape == (500, 4) and idi.dtype == np.int64
    highs = [len(BANK.openers), len(BANK.closers), len(BANK.details), len(BANK.connectors)]
    assert (idi >= 0).all() and (idi < np.array(highs)).all()


def test_deterministic_given_seed() -> None:
    args = _batch(300, 1, echo_frac=0.3)
    a = write_chats(BANK, PEOPLE, *args, np.random.default_rng(7))
    b = write_chats(BANK, PEOPLE, *args, np.random.default_rng(7))
    c = write_chats(BANK, PEOPLE, *args, np.random.default_rng(8))
    assert a == b and a != c


def test_rng_consumption_is_fixed() -> None:
    n = 200
    plain = _batch(n, 2)
    other = _batch(n, 3, echo_frac=1.0)  # different domains, markers, idiolects and echoes
    states = []
    for args in (plain, other):
        rng = np.random.default_rng(11)
        write_chats(BANK, PEOPLE, *args, rng)
        states.append(rng.bit_generator.state)
    ref = np.random.default_rng(11)
    ref.random((n, DRAWS_PER_CHAT))
    assert states[0] == states[1] == ref.bit_generator.state


def test_users_write_distinct_chats() -> None:
    n = 2000
    texts = write_chats(BANK, PEOPLE, *_batch(n, 4, domain="food"), np.random.default_rng(5))
    assert len(set(texts)) >= 0.99 * n


def test_echo_appears_when_given() -> None:
    args = _batch(400, 6, echo_frac=0.5)
    texts = write_chats(BANK, PEOPLE, *args, np.random.default_rng(9))
    for text, e in zip(texts, args[4], strict=True):
        # all-lowercase typers lower the echo too
        assert (ECHO.lower() in text.lower()) == (e is not None)


def test_word_counts_in_range() -> None:
    doms, markers, idiolect, region, echo = _batch(3000, 8, echo_frac=0.4)
    long_echo = " ".join(["try"] + ["something"] * 45)
    echo = [long_echo if i % 50 == 0 else e for i, e in enumerate(echo)]
    markers = [[] if i % 7 == 0 else m for i, m in enumerate(markers)]
    texts = write_chats(
        BANK, PEOPLE, doms, markers, idiolect, region, echo, np.random.default_rng(1)
    )
    counts = np.array([len(t.split()) for t in texts])
    assert counts.min() >= 12 and counts.max() <= 60
    assert counts.mean() > 20  # not degenerate


def test_uses_personal_and_regional_details() -> None:
    n = 1000
    doms, markers, idiolect, _, echo = _batch(n, 10)
    region = np.zeros(n, dtype=np.int64)
    texts = write_chats(
        BANK, PEOPLE, doms, markers, idiolect, region, echo, np.random.default_rng(2)
    )
    low = [t.lower() for t in texts]
    regional = PEOPLE.regions[0].details
    own = [BANK.details[i].lower() in t for t, i in zip(low, idiolect[:, 2].tolist(), strict=True)]
    assert 0.3 < np.mean(own) < 0.7
    assert 0.15 < np.mean([any(d.lower() in t for d in regional) for t in low]) < 0.5


def test_bad_inputs_raise() -> None:
    doms, markers, idiolect, region, echo = _batch(5, 0)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown marker"):
        write_chats(BANK, PEOPLE, doms, [["nope"]] * 5, idiolect, region, echo, rng)
    with pytest.raises(ValueError, match="no problems for domain"):
        write_chats(BANK, PEOPLE, ["pets"] * 5, markers, idiolect, region, echo, rng)
    with pytest.raises(ValueError, match="shape"):
        write_chats(BANK, PEOPLE, doms, markers, idiolect[:, :3], region, echo, rng)

"""What makes big worlds affordable keeps the small worlds' answers: the approximate chat
index, the streamed event log, phase timings, the incremental truly-best solutions, the
cached tokenizer and the windowed Vendi score. Fast (< 30 s) on the hashing embedder."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from platform_sim import metrics as M
from platform_sim.efficacy import BestSolutions
from platform_sim.embedding import _StaticTokens
from platform_sim.featurespace import FeatureSpace
from platform_sim.measures import _gram, vendi_from_gram
from platform_sim.world import PHASES, World

SMALL = dict(n_users=300, embedder="hashing", seed=5)


def _clustered(n: int, dim: int, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around random unit centres, overlapping enough (cosine to the centre
    ~0.6) that one probed cell finds only ~86% of the 10 nearest."""
    centres = rng.normal(size=(n_clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, n_clusters, n)] + 0.12 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_approximate_index_keeps_recall_at_10_of_flat():
    rng = np.random.default_rng(0)
    dim, n, nq = 64, 300_000, 500
    x = _clustered(n + nq, dim, 2000, rng)
    space = FeatureSpace(dim, n_users=1, approximate_after=100_000)
    for start in range(0, n, 25_000):
        space.add_chats(x[start : start + 25_000], 0, step=0, region=0, domain=0)
    assert space.approximate and len(space) == n
    _, approx = space.search_chats(x[n:], 10)
    exact = FeatureSpace(dim, n_users=1, approximate_after=None)
    exact.add_chats(x[:n], 0, step=0, region=0, domain=0)
    assert not exact.approximate
    _, truth = exact.search_chats(x[n:], 10)
    recall = np.mean([len(set(a) & set(t)) / 10 for a, t in zip(approx, truth, strict=True)])
    assert recall >= 0.95
    # the switch keeps every chat and its vector
    ids = np.array([0, 99_999, 100_000, n - 1])
    np.testing.assert_allclose(space.chat_vectors(ids), x[ids], atol=1e-6)


def test_streamed_event_log_gives_the_in_memory_events(tmp_path):
    in_memory = World(**SMALL)
    streamed = World(**SMALL, events=tmp_path / "events.parquet")
    streamed.events.chunk_rows = 50  # several row groups
    for _ in range(6):
        in_memory.step()
        streamed.step()
    assert streamed.events.path.exists()  # written while the world ran
    in_memory.events_frame().to_parquet(tmp_path / "memory.parquet", index=False)
    expected = pd.read_parquet(tmp_path / "memory.parquet")
    got = streamed.events_frame()
    assert len(got) > 300 and pq.ParquetFile(streamed.events.path).num_row_groups > 3
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(streamed.metrics_frame(), in_memory.metrics_frame())
    with pytest.raises(RuntimeError, match="closed"):
        streamed.step()  # the file is finished once read back


def test_phase_timings_are_kept_per_phase():
    world = World(**SMALL)
    assert set(world.timings) == set(PHASES) and not any(world.timings.values())
    for _ in range(3):
        world.step()
    assert all(world.timings[p] > 0 for p in PHASES)


def test_incremental_best_solutions_match_a_full_ranking():
    world = World(**SMALL, policy="curious")
    best = BestSolutions(world.efficacy, world.population, world.solutions, 8)
    best.BLOCK = 37  # many blocks, some partly checked before
    rng = np.random.default_rng(1)
    for _ in range(6):
        world.step()
        users = np.sort(rng.choice(SMALL["n_users"], 120, replace=False))
        domain = rng.integers(0, 8, 120)
        ids, p = best.of(users, domain)
        want_ids, want_p = world.efficacy.ranked(
            world.population, world.solutions, users, domain, 1
        )
        np.testing.assert_array_equal(ids, want_ids[:, 0])
        np.testing.assert_allclose(p, want_p, rtol=1e-12)


def test_cached_tokenizer_gives_the_tokenizer_ids():
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    words = ["[PAD]", "[UNK]", "i", "my", "boss", "late", "night", "snack", "s", "'", ".",
             ",", "!", "(", ")", "-", "_", "##s", "##ing", "work", "caf", "##e", "x", "2",
             "##0"]  # fmt: skip
    tok = Tokenizer(WordPiece({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(["[PAD]", "[UNK]"])
    assert _StaticTokens.applies(tok)
    texts = [
        "My boss's late-night snacks (working!) at 20.", "", "  ", "I x_x, WORK.",
        "café snack", "tab\there\nnew", "ctrl\x01char", "[UNK] and [PAD] literal",
        "a" * 150, "Snacking\u00a0nbsp", "中文 boss", "x\x7fy",
    ]  # fmt: skip
    flat, lengths = _StaticTokens(tok).ids(texts)
    want = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    assert lengths == [len(w) for w in want]
    assert flat == [i for w in want for i in w]


def test_window_vendi_from_step_grams_equals_vendi_score():
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(400, 16)).astype(np.float32)
    steps = [rng.integers(0, 400, m) for m in (30, 0, 55, 12)]
    gram = sum(_gram(emb, s) for s in steps)
    n = sum(len(s) for s in steps)
    assert vendi_from_gram(gram, n) == pytest.approx(
        M.vendi_score(emb[np.concatenate(steps)]), rel=1e-9
    )

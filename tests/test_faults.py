"""Fault injection: sweeps SIGKILLed again and again, an embedding cache crashed mid-write,
and one run reproduced in-process, on sweep worker processes and on a Dask worker."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import sigkill_sweep_after

from platform_sim import embedding, models
from platform_sim.runner import run
from platform_sim.sweep import make_sweep, plan, run_sweep

STEPS = 4
BASE = {"n_users": 60, "steps": STEPS, "embedder": "hashing"}
SWEEP = {"name": "f", "seeds": [1, 2, 3], "base": BASE, "grid": {"policy": ["none", "neighbors"]}}
SPEC_TOML = (
    'name = "f"\nseeds = [1, 2, 3]\n[base]\nn_users = 60\nsteps = 4\nembedder = "hashing"\n'
    '[grid]\npolicy = ["none", "neighbors"]\n'
)


def test_three_sigkills_then_resume_match_an_uninterrupted_sweep(tmp_path):
    sweep = make_sweep(SWEEP)
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC_TOML)
    out = tmp_path / "killed"
    seen = []
    for k, workers in ((1, 1), (2, 2), (4, 1)):
        got = sigkill_sweep_after(spec, out, k, workers)
        assert got >= k and got >= (seen[-1] if seen else 0)
        seen.append(got)
    assert seen[0] < 6, f"the first kill came after the whole sweep: {seen}"
    result = run_sweep(sweep, out, workers=1)
    complete = seen[-1]
    assert not result.failed
    assert len(result.skipped) >= complete and len(result.skipped) + len(result.done) == 6
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(r.run_id for r in plan(sweep))
    ref = tmp_path / "ref"
    run_sweep(sweep, ref, workers=1)
    got, want = pd.read_parquet(out / "results.parquet"), pd.read_parquet(ref / "results.parquet")
    pd.testing.assert_frame_equal(got, want)
    counts = got.groupby("run_id").size()
    assert sorted(counts.index) == sorted(r.run_id for r in plan(sweep))  # none missing
    assert counts.eq(STEPS + 1).all(), counts  # none duplicated
    assert not got.duplicated(["run_id", "step"]).any()


# --------------------------------------------------------------------- embedding cache


@pytest.fixture
def static_env(tmp_path, monkeypatch):
    """A tmp PLATFORM_SIM_CACHE, a fast fake distillation that records its calls, and the
    cache dir minilm-static would use."""
    st = pytest.importorskip("sentence_transformers")
    from sentence_transformers.models import StaticEmbedding
    from tokenizers import Tokenizer

    path = models.minilm_path()
    monkeypatch.setenv("PLATFORM_SIM_CACHE", str(tmp_path / "cache"))
    calls = []

    def fake_distillation(model_name, *args, **kwargs):
        import numpy as np

        calls.append(model_name)
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        weights = np.random.default_rng(0).normal(size=(tok.get_vocab_size(), 8))
        return StaticEmbedding(tok, embedding_weights=weights.astype(np.float32))

    monkeypatch.setattr(StaticEmbedding, "from_distillation", fake_distillation)
    embedding.make_embedder.cache_clear()
    final = tmp_path / "cache" / f"minilm-static-{models.static_key(path, st.__version__)}"
    yield final, calls
    embedding.make_embedder.cache_clear()


def test_a_half_written_static_cache_is_replaced_not_loaded(static_env):
    final, calls = static_env
    final.parent.mkdir(parents=True)
    leftover = final.parent / f".{final.name}-crashed"  # a killed distillation's temp dir
    leftover.mkdir()
    (leftover / "modules.json").write_text("[")
    final.mkdir()  # a final dir without the marker (never written by _distil, but: junk)
    (final / "modules.json").write_text("half-written")
    (final / "config_sentence_transformers.json").write_text("{")
    emb = embedding.make_embedder("minilm-static")
    assert calls, "the half-written cache was trusted instead of distilled again"
    assert emb.dim == 8 and emb.describe()["cache_path"] == str(final)
    marker = json.loads((final / models.MARKER).read_text())
    assert marker["source"] == str(models.minilm_path())
    assert (final / "modules.json").read_text() != "half-written"
    assert emb.encode(["hello there"]).shape == (1, 8)
    # a second process (cache cleared) loads it without distilling
    embedding.make_embedder.cache_clear()
    calls.clear()
    assert embedding.make_embedder("minilm-static").dim == 8 and not calls


def test_a_crash_while_saving_leaves_nothing_trusted(static_env, monkeypatch):
    from sentence_transformers import SentenceTransformer

    final, calls = static_env
    real_save = SentenceTransformer.save

    def crashing_save(self, path, *args, **kwargs):
        Path(path, "modules.json").write_text("[")  # part of the files, then the crash
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(SentenceTransformer, "save", crashing_save)
    with pytest.raises(OSError, match="disk full"):
        embedding.make_embedder("minilm-static")
    assert len(calls) == 1
    assert not (final / models.MARKER).exists()
    assert not final.exists() or not any(final.iterdir())
    assert not [p for p in final.parent.iterdir() if p.name.startswith(f".{final.name}-")]
    # the next load distils again and then trusts what it wrote
    monkeypatch.setattr(SentenceTransformer, "save", real_save)
    emb = embedding.make_embedder("minilm-static")
    assert len(calls) == 2 and (final / models.MARKER).is_file() and emb.dim == 8


# --------------------------------------------------------------------- reproducibility


def test_a_run_is_identical_in_process_in_a_sweep_worker_and_on_dask(tmp_path):
    from distributed import LocalCluster

    sweep = make_sweep({**SWEEP, "seeds": [5]})
    target = plan(sweep)[1]  # policy=neighbors__seed=5
    assert target.run_id == "policy=neighbors__seed=5"
    alone = pd.read_parquet(run(target.spec, tmp_path / "alone") / "metrics.parquet")

    local = tmp_path / "local"
    assert not run_sweep(sweep, local, workers=2).failed
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = tmp_path / "dask"
        assert not run_sweep(sweep, on_dask, workers=1, address=cluster.scheduler_address).failed
    for out in (local, on_dask):
        got = pd.read_parquet(out / "runs" / target.run_id / "metrics.parquet")
        pd.testing.assert_frame_equal(got, alone, check_exact=True)
    assert len(alone) == STEPS + 1


def test_prepare_distils_once_and_then_finds_the_cache(static_env):
    final, calls = static_env
    models.prepare("minilm-static")
    assert len(calls) == 1 and (final / models.MARKER).is_file()
    models.prepare("minilm-static")
    models.prepare("hashing")  # nothing to prepare
    assert len(calls) == 1

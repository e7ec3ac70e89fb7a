"""Similarity scores between prompts: the vectorizer protocol, the default one, cosine.

The score is the *second* gate of a similar hit; the first is the guard (:mod:`.guard`),
which already demands the same content words, numbers in the same order, the same operands
of direction words and at most one moved block. Within one guard bucket prompts differ only
in their wording around the content (frames, filler, politeness) and in word order, so the
default vectorizer is built to measure exactly that, cheaply and deterministically, on the
canonical form (:mod:`.canonical`):

- features are the content words (weight 1.0) and the filler words
  (:attr:`HashingVectorizer.filler_weight`: an IDF-like prior, filler carries little
  information), plus bigrams of the content sequence
  (:attr:`HashingVectorizer.bigram_weight`), so that a moved block costs a little;
- features are hashed (CRC-32, stable across processes, unlike ``hash()``) into
  :attr:`HashingVectorizer.dim` signed buckets, and the vector is L2-normalised.

No character n-grams: they exist to score typos and inflections as similar, and the guard
rejects typos anyway (inflections are folded before the vectorizer sees them), so they would
only cost time.

A pluggable vectorizer is any async callable ``list[str] -> list[list[float]]`` (a provider
embedding API, a local sentence-transformers model): see :class:`Vectorizer`,
:class:`EmbeddingsAPIVectorizer`, :class:`SentenceTransformerVectorizer`. It receives the
raw prompt, which such models read best.
"""

from __future__ import annotations

import asyncio
import base64
import math
import zlib
from array import array
from collections.abc import Sequence
from itertools import pairwise
from operator import mul
from typing import Any, Protocol, runtime_checkable

from .canonical import Canonical, canonical_of_normalized, canonicalize
from .normalize import tokenize

__all__ = [
    "EmbeddingsAPIVectorizer",
    "HashingVectorizer",
    "SentenceTransformerVectorizer",
    "Vectorizer",
    "cosine",
    "decode_vector",
    "encode_vector",
    "vectorizer_name",
]


@runtime_checkable
class Vectorizer(Protocol):
    """Turns prompts into vectors; cosine of two vectors is their similarity.

    The cache passes the raw last user message. Vectors need not be normalised.
    """

    async def __call__(self, texts: list[str]) -> list[list[float]]: ...


def vectorizer_name(vectorizer: object) -> str:
    """A name stored with vectors, so that vectors of two vectorizers are never compared."""
    return str(getattr(vectorizer, "name", None) or type(vectorizer).__qualname__)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 when either vector is null or their sizes differ."""
    if len(a) != len(b):
        return 0.0
    # map(mul) runs in C: several times faster than a generator, and float64 sums of a few
    # hundred terms are far more precise than any threshold needs.
    dot = float(sum(map(mul, a, b)))
    na = math.sqrt(sum(map(mul, a, a)))
    nb = math.sqrt(sum(map(mul, b, b)))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot / (na * nb)


def encode_vector(vector: Sequence[float]) -> str:
    """Compact JSON-safe form of a vector: base64 of little-endian float32."""
    packed = array("f", vector)
    if packed.itemsize != 4:  # pragma: no cover - every supported platform has 4-byte floats
        raise RuntimeError("float32 arrays are required")
    return base64.b64encode(packed.tobytes()).decode("ascii")


def decode_vector(text: str) -> array[float]:
    """Inverse of :func:`encode_vector`."""
    out = array("f")
    out.frombytes(base64.b64decode(text))
    return out


class HashingVectorizer:
    """The default vectorizer: hashed weighted words, no model, no network, deterministic.

    Besides the async protocol it has :meth:`from_normalized`, which rebuilds the vector of
    a stored prompt from its normal form; the cache therefore stores no vectors for it.
    """

    name = "hashing-v2"

    def __init__(
        self, dim: int = 256, filler_weight: float = 0.1, bigram_weight: float = 0.25
    ) -> None:
        if dim < 16:
            raise ValueError("dim must be at least 16")
        if not 0.0 <= filler_weight <= 1.0:
            raise ValueError("filler_weight must be within [0, 1]")
        if not 0.0 <= bigram_weight <= 1.0:
            raise ValueError("bigram_weight must be within [0, 1]")
        self.dim = dim
        self.filler_weight = filler_weight
        self.bigram_weight = bigram_weight

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        """The vector of a raw prompt."""
        return self.from_tokens([t for t, _ in tokenize(text)])

    def from_normalized(self, normalized: str) -> list[float]:
        """The vector of a prompt stored in normal form; equal to :meth:`vector` of it."""
        return self.from_canonical(canonical_of_normalized(normalized))

    def from_tokens(self, tokens: Sequence[str]) -> list[float]:
        """The vector of a normalised token sequence."""
        return self.from_canonical(canonicalize(tokens))

    def from_canonical(self, canonical: Canonical) -> list[float]:
        """The vector of a canonical form (content, filler and content bigrams)."""
        vec = [0.0] * self.dim
        for token in canonical.content:
            self._add(vec, "w\x00" + token, 1.0)
        for token in canonical.filler:
            self._add(vec, "f\x00" + token, self.filler_weight)
        for left, right in pairwise(canonical.content):
            self._add(vec, "b\x00" + left + "\x00" + right, self.bigram_weight)
        norm = math.sqrt(sum(map(mul, vec, vec)))
        return [x / norm for x in vec] if norm else vec

    def _add(self, vec: list[float], feature: str, weight: float) -> None:
        h = zlib.crc32(feature.encode("utf-8"))
        # The low bit picks the sign: colliding features then cancel out on average
        # instead of inflating every similarity.
        vec[(h >> 1) % self.dim] += weight if h & 1 else -weight


class EmbeddingsAPIVectorizer:
    """Vectors from an OpenAI-compatible embeddings endpoint.

    ``client`` is an ``openai.AsyncOpenAI`` (or anything with ``embeddings.create``); the
    OpenAI-compatible servers of vLLM, Ollama or LM Studio work the same way.
    """

    def __init__(self, client: Any, model: str = "text-embedding-3-small") -> None:
        self.client = client
        self.model = model
        self.name = f"embeddings:{model}"

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        response = await self.client.embeddings.create(model=self.model, input=texts)
        data = sorted(response.data, key=lambda d: d.index)
        return [list(d.embedding) for d in data]


class SentenceTransformerVectorizer:
    """Vectors from a local sentence-transformers model (optional dependency).

    The model is loaded on first use and run in a worker thread, so the event loop keeps
    serving other streams while it encodes.
    """

    def __init__(self, model_name: str = "all-MiniLM-L6-v2", **model_kwargs: Any) -> None:
        self.model_name = model_name
        self.model_kwargs = model_kwargs
        self.name = f"sentence-transformers:{model_name}"
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "SentenceTransformerVectorizer needs the 'sentence-transformers' package: "
                    "pip install sentence-transformers"
                ) from exc
            self._model = SentenceTransformer(self.model_name, **self.model_kwargs)
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._load().encode(texts, normalize_embeddings=True)
        return [[float(x) for x in v] for v in vectors]

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._encode, texts)

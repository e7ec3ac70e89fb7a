"""A local sentence-embedding vectorizer whose weights come inside a PyPI package.

:class:`WordLlamaVectorizer` embeds prompts with WordLlama (``pip install
'llm-dispatch[semantic]'``): a token-embedding table (32,000 tokens × 256 dimensions, 16 MB
of float16) whose rows are averaged over a prompt's tokens. The table and its tokenizer
ship inside the ``wordllama`` wheel, and are loaded from there directly — never through
``WordLlama.load()``, which looks for the packaged tokenizer in the wrong folder and then
downloads it. Nothing is fetched at run time: no network, no files written.

It is a bag of words: word order and negation barely move its vectors ("100 Fahrenheit to
Celsius" and "100 Celsius to Fahrenheit" score 1.0, "safe" / "unsafe" 0.95), so the cache's
guard is what keeps such prompts apart; the vectors only rank what the guard lets through.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from collections import OrderedDict
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["INSTALL_HINT", "WordLlamaVectorizer"]

INSTALL_HINT = "pip install 'llm-dispatch[semantic]'"

_CONFIG = "l2_supercat"
_DIM = 256
_WEIGHTS = f"{_CONFIG}_{_DIM}.safetensors"
_TOKENIZER = f"{_CONFIG}_tokenizer_config.json"
_TENSOR = "embedding.weight"

# Prompts of at most this many characters in all are embedded on the event loop: about
# 0.3 ms for 2,000 characters, less than handing them to a worker thread costs. Longer
# batches go to a thread so that the loop keeps serving other streams meanwhile.
INLINE_CHARS = 2_000
# Recent prompts and their vectors: a lookup embeds its prompt once to search the index
# and once to score the candidates, and a miss stores the same prompt later; a batch
# embedded ahead of its stores (up to this many prompts) serves them one by one.
MEMO_SIZE = 256


def _require_extra() -> None:
    missing = [
        name for name in ("wordllama", "numpy", "safetensors") if not importlib.util.find_spec(name)
    ]
    if missing:
        raise ImportError(
            f"WordLlamaVectorizer needs {', '.join(missing)}: {INSTALL_HINT}",
            name=missing[0],
        )


def _import_quietly() -> Any:
    """``wordllama.WordLlamaInference``, imported without its logging side effect.

    Importing ``wordllama`` calls ``logging.basicConfig(level=INFO)``, which would attach a
    stderr handler to the root logger and let every library's INFO records through. A
    handler present during the import makes that call a no-op; it is removed afterwards.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()
    added = not root.handlers
    if added:
        root.addHandler(guard)
    try:
        from wordllama import WordLlamaInference
    finally:
        if added:
            root.removeHandler(guard)
    return WordLlamaInference


def _load_model() -> Any:
    """The packaged WordLlama model: tokenizer and table read from the installed wheel."""
    _require_extra()
    inference_type = _import_quietly()
    from safetensors import safe_open
    from tokenizers import Tokenizer

    package = resources.files("wordllama")
    with (
        resources.as_file(package / "tokenizers" / _TOKENIZER) as tokenizer_path,
        resources.as_file(package / "weights" / _WEIGHTS) as weights_path,
    ):
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        with safe_open(str(weights_path), framework="np") as tensors:
            table = tensors.get_tensor(_TENSOR)
    return inference_type(table, tokenizer)


class WordLlamaVectorizer:
    """Vectors from the WordLlama model packaged in the ``wordllama`` wheel (256 floats,
    L2-normalised; a prompt with no known token gets the null vector).

    Creating one loads the model (about 0.5 s and 20 MB, blocking; an ``ImportError``
    naming ``pip install 'llm-dispatch[semantic]'`` when the extra is missing). Not on
    first use: the cache embeds within ``backend_timeout``, and the first lookup or store
    would spend it loading. Batches up to :data:`INLINE_CHARS` characters are embedded inline
    (tens of microseconds a prompt); longer ones in a worker thread.

    ``dense`` tells the cache that these vectors are dense embeddings: they go into its
    vector index (:mod:`.vector_index`), which finds the nearest stored prompts of a
    partition without scanning it. ``judges_meaning`` puts the guard at its meaning level
    (:mod:`.meaning_guard`): content words may differ, what decides an answer may not.
    """

    name = f"wordllama:{_CONFIG}_{_DIM}"
    dense = True
    judges_meaning = True
    dim = _DIM

    def __init__(self) -> None:
        _require_extra()
        self._model: Any = None
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, list[float]] = OrderedDict()
        self.load()

    def load(self) -> None:
        """Load the model (done when created; a no-op once loaded)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_model()

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """The L2-normalised vectors of ``texts``, one float32 row each (loads the model)."""
        import numpy as np

        self.load()
        raw = self._model.embed(texts, norm=False)
        vectors: npt.NDArray[np.float32] = np.asarray(raw, dtype=np.float32).reshape(
            len(texts), _DIM
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        """The vectors of ``texts``. Every prompt embedded is remembered (the last
        :data:`MEMO_SIZE`), so embedding a batch ahead of storing its prompts one by one
        costs one batch, not one model call a prompt."""
        if not texts:
            return []
        if len(texts) == 1 and texts[0] in self._memo:
            self._memo.move_to_end(texts[0])
            return [list(self._memo[texts[0]])]
        if sum(map(len, texts)) <= INLINE_CHARS:
            vectors = self.embed(texts)
        else:
            vectors = await asyncio.to_thread(self.embed, texts)
        rows: list[list[float]] = vectors.tolist()
        for text, row in zip(texts[-MEMO_SIZE:], rows[-MEMO_SIZE:], strict=True):
            self._memo[text] = row
            self._memo.move_to_end(text)
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        return [list(row) for row in rows]  # copies: the caller may change them, the memo must not

    def __repr__(self) -> str:
        return f"WordLlamaVectorizer({self.name!r})"

"""Benchmark of verification on adversarial text: what a crafted, frame-dense text costs.

Run: ``.venv/bin/python benchmarks/embedding_adversarial.py [--chars N] [--repeat R]``

Every case is a text of about ``--chars`` characters (default 1,000,000) passed to
``verify``; the table shows the median in milliseconds per million characters, the
verdict, and how many frame candidates the scanner examined. The crafted cases aim at every
place where the scanner or the decoder does work per candidate rather than per character:

- ``magic+type runs``: nothing but magic and type selectors, in runs a little shorter than
  the length each candidate then declares, so that every candidate (one per 3 characters)
  is rejected only after its length was read;
- ``varint never ends``: candidates whose length field never terminates;
- ``one candidate per run``: ``magic, type, x`` repeated, a run per candidate;
- ``empty frames``: well-formed frames with empty bodies, one per 4 characters;
- ``forged header pieces``: well-formed header pieces that all claim one ref;
- ``forged trailers``: well-formed trailers whose extra metadata is as dense as possible;
- ``dense header`` / ``dense timestamps``: one valid-looking payload whose header carries
  the largest metadata accepted, made of the values that are slowest to decode, at the end
  of an ordinary text.

The reference rows are random printable text and text full of emoji and ideographic
variation selectors (no payload in either), and an ordinary signed text of the same length
(the whole prose signed in one stream). The two ``dense`` cases cost the same whatever the
text's length: their time is the decoding of the one payload's metadata, which is at most
60,000 bytes.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Callable

from llm_dispatch.embedding import StreamingHandler
from llm_dispatch.embedding.codec import FORMAT_VERSION, MAGIC, bytes_to_selectors, encode_frame
from llm_dispatch.embedding.compact import pack
from llm_dispatch.embedding.verify import verify

KEY = "benchmark-adversarial-key"
HEADER, TRAILER = 1, 2
TYPE = bytes([(FORMAT_VERSION << 4) | HEADER])


def fill(unit: str, chars: int) -> str:
    """``unit`` repeated to exactly ``chars`` characters."""
    return (unit * (chars // len(unit) + 1))[:chars]


def random_text(chars: int) -> str:
    rnd = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz     ,.\n"
    return "".join(rnd.choices(alphabet, k=chars))


def signed_text(chars: int) -> str:
    handler = StreamingHandler({"model": "gpt-4o", "request_id": "r-1"}, hmac_secret_key=KEY)
    return handler.process_chunk(random_text(chars), is_final=True)


def with_header(chars: int, metadata_value: object) -> str:
    """An ordinary text ending in a header whose metadata is ``metadata_value``, and a
    trailer: one payload whose metadata is as slow to decode as it can be."""
    header_data = b"\x01" + bytes(4) + os.urandom(8) + pack({"m": metadata_value})
    ref = header_data[5:9]
    frames = encode_frame(HEADER, ref + b"\x00\x01" + header_data)
    frames += encode_frame(TRAILER, ref + bytes(16))
    return random_text(chars - len(frames)) + frames


def crafted(chars: int) -> dict[str, str]:
    magic_type = bytes_to_selectors(MAGIC + TYPE)
    piece = encode_frame(HEADER, b"REF!\x00\x02" + b"x")
    dense_extras = pack({"k": [None] * 15_000})
    return {
        "magic+type runs": fill(magic_type * 3000 + "a", chars),
        "varint never ends": fill(bytes_to_selectors(MAGIC + TYPE + b"\x80\x80\x80"), chars),
        "one candidate per run": fill(magic_type + "x", chars),
        "empty frames": fill(bytes_to_selectors(MAGIC + TYPE + b"\x00"), chars),
        "forged header pieces": fill(piece, chars),
        "forged trailers": fill(encode_frame(TRAILER, b"REF!" + dense_extras + bytes(16)), chars),
        "dense header": with_header(chars, [None] * 59_000),
        "dense timestamps": with_header(chars, ["1970-01-01T00:00:00"] * 19_000),
    }


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``func`` in milliseconds."""
    samples: list[float] = []
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter_ns()
            func()
            samples.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        gc.enable()
    return statistics.median(samples)


def examined(text: str) -> str:
    """How many frame candidates the scanner looked at (when it can say)."""
    try:
        from llm_dispatch.embedding.scanner import scan
    except ImportError:
        return "-"
    return str(scan(text).examined)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    chars: int = args.chars

    cases = {
        "random text": random_text(chars),
        "emoji text": fill("I \u2764\ufe0f this \U0001f44d\U0001f3fd, \u845b\U000e0100. ", chars),
        "ordinary signed text": signed_text(chars),
    }
    cases.update(crafted(chars))
    print(f"verify() on {chars:,} characters, median of {args.repeat} runs")
    print(f"{'case':24s} {'ms / 1M chars':>14s}  {'candidates':>10s}  verdict")
    for name, text in cases.items():
        ms = timed(lambda text=text: verify(text, KEY), args.repeat)  # type: ignore[misc]
        status = verify(text, KEY).status.value
        per_million = ms * 1_000_000 / len(text)
        print(f"{name:24s} {per_million:14.2f}  {examined(text):>10s}  {status}")


if __name__ == "__main__":
    main()

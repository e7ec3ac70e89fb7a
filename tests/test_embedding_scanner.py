"""The scanner's work is bounded by the text's length whatever the text holds: a capped
number of candidates, each examined once, and only the chosen payload decoded."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch.embedding import StreamingHandler, UnicodeMetadata, VerifyStatus
from llm_dispatch.embedding import payload as payload_module
from llm_dispatch.embedding.codec import MAGIC, bytes_to_selectors, encode_frame, type_byte
from llm_dispatch.embedding.compact import pack
from llm_dispatch.embedding.scanner import BUDGET_BASE, candidate_budget, scan
from llm_dispatch.embedding.verify import extract, strip, verify

KEY = "scanner-key"
MAGIC_TYPE = bytes_to_selectors(MAGIC + bytes([type_byte(1)]))


def fill(unit: str, chars: int) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


def sign(text: str, metadata: dict[str, Any] | None = None) -> str:
    return UnicodeMetadata.embed_metadata(text, metadata or {"m": 1}, hmac_secret_key=KEY)


CRAFTED = {
    # Candidates every 3 characters whose declared length overruns their run.
    "overlapping overruns": lambda n: fill(MAGIC_TYPE * 3000 + "a", n),
    # Well-formed empty frames, one per 4 characters.
    "empty frames": lambda n: fill(MAGIC_TYPE + bytes_to_selectors(b"\x00"), n),
    # Well-formed header pieces that all claim the same ref.
    "forged pieces": lambda n: fill(encode_frame(1, b"REF!\x00\x02x"), n),
    # One candidate per short run.
    "one per run": lambda n: fill(MAGIC_TYPE + bytes_to_selectors(b"\x05") + "x", n),
}


@pytest.mark.parametrize("make", CRAFTED.values(), ids=CRAFTED.keys())
@pytest.mark.parametrize("chars", [5_000, 200_000])
def test_candidates_examined_never_exceed_the_budget(make: Any, chars: int) -> None:
    text = make(chars)
    found = scan(text)
    assert found.examined <= candidate_budget(len(text)) == BUDGET_BASE + len(text) // 256
    assert len(found.frames) <= found.examined


@pytest.mark.parametrize("make", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_text_crafted_past_the_budget_is_refused_not_read(make: Any) -> None:
    text = make(200_000)
    assert not scan(text).complete
    result = verify(text, KEY)
    assert result.status is VerifyStatus.TAMPERED
    assert "crafted or damaged" in result.message
    assert extract(text) is None
    assert strip(text) == text and strip(text, all_payloads=True) == text
    # Past the budget, a valid payload is not looked for either: never valid.
    assert not verify(text + sign(" and then a signed answer."), KEY).valid


def test_a_megabyte_of_selectors_without_magic_has_no_candidates() -> None:
    for noise in (
        "\ufe0f" * 1_000_000,
        bytes_to_selectors(bytes(range(256))) * 4_000,
        bytes_to_selectors(MAGIC) * 500_000,  # magic without a type
    ):
        assert scan(noise).examined == 0
        signed = sign("Look: " + noise + " end.")
        found = scan(signed)
        assert found.complete and found.examined == 2  # the header and the trailer
        assert verify(signed, KEY).valid


def test_overlapping_forged_lengths_are_skipped_whole() -> None:
    # Each candidate declares the longest body (0xFFFF) and fits in the run: it is taken
    # as a frame and skipped over, so the candidates inside it are never examined.
    fake = bytes_to_selectors(MAGIC + bytes([type_byte(1), 0xFF, 0xFF, 0x03]))
    unit = fill(fake, len(fake) + 0xFFFF)  # one such frame, made of ~11,000 candidates
    text = unit * 15
    found = scan(text)
    assert found.complete
    assert found.examined == len(found.frames) == 15


def test_a_text_quoting_many_signed_answers_is_read_whole() -> None:
    answers = "".join(sign(f"Answer {i}: yes.", {"i": i}) for i in range(300))
    handler = StreamingHandler({"model": "m"}, hmac_secret_key=KEY)
    signed = handler.process_chunk("Transcript: " + answers, is_final=True)
    found = scan(signed)
    assert found.complete and len(found.frames) == 602
    result = verify(signed, KEY)
    assert result.valid and result.metadata == {"model": "m"}
    assert strip(signed) == "Transcript: " + answers


def test_only_the_chosen_payload_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []
    real_unpack = payload_module.unpack

    def counting_unpack(data: bytes) -> Any:
        decoded.append(len(data))
        return real_unpack(data)

    monkeypatch.setattr(payload_module, "unpack", counting_unpack)
    extras = pack({"k": list(range(2_000))})
    forged = encode_frame(2, b"REF!" + extras + bytes(16)) * 200
    signed = sign("Quoted noise: " + forged + " end.")
    decoded.clear()
    assert verify(signed, KEY).valid
    assert extract(signed) == {"m": 1}
    # The header's metadata, once per call; the 200 forged trailers' extras never.
    assert len(decoded) == 2 and max(decoded) < len(extras)


def test_a_verdict_never_decodes_metadata_it_does_not_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[int] = []
    real_unpack = payload_module.unpack

    def counting_unpack(data: bytes) -> Any:
        decoded.append(len(data))
        return real_unpack(data)

    monkeypatch.setattr(payload_module, "unpack", counting_unpack)
    # A forged payload: the largest header there is, full of values slow to decode, signed
    # with a key nobody has (the tag is zeros).
    header = b"\x01" + b"kid!" + b"nonce-8b" + pack({"m": ["1970-01-01T00:00:00"] * 19_000})
    ref = header[5:9]
    forged = "Some text. " + encode_frame(1, ref + b"\x00\x01" + header)
    forged += encode_frame(2, ref + bytes(16))
    for key in (KEY, None):
        result = verify(forged, key)
        assert result.status in (VerifyStatus.WRONG_KEY, VerifyStatus.TAMPERED)
    assert decoded == []  # judged from the bytes alone
    assert result.metadata is not None and len(result.metadata["m"]) == 19_000
    assert result.metadata is not None
    assert len(decoded) == 1  # decoded once, when first read
    signed = sign("A genuine answer.", {"model": "m"})
    decoded.clear()
    valid = verify(signed, KEY)
    assert valid.valid and decoded == [len(pack({"model": "m"}))]  # valid: decoded at once
    assert valid.metadata == {"model": "m"} and len(decoded) == 1

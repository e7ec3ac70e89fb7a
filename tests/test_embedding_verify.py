"""Verification verdicts: tampering, moved and quoted payloads, foreign selectors, keys."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch.embedding import (
    MetadataEncoder,
    StreamingHandler,
    UnicodeMetadata,
    VerifyStatus,
)
from llm_dispatch.embedding.codec import SELECTOR_RUN, bytes_to_selectors
from llm_dispatch.embedding.scanner import scan
from llm_dispatch.embedding.verify import extract, strip, verify

KEY = "verify-key"
TEXT = "The quick brown fox jumps over the lazy dog. It was not amused."


def sign(text: str = TEXT, metadata: dict[str, object] | None = None, **kwargs: Any) -> str:
    return UnicodeMetadata.embed_metadata(
        text, metadata or {"model": "gpt-4"}, hmac_secret_key=KEY, **kwargs
    )


def payload_runs(signed: str) -> list[tuple[int, int]]:
    return [m.span() for m in SELECTOR_RUN.finditer(signed)]


def test_valid_text_reports_where_the_payload_sits() -> None:
    signed = sign()
    result = verify(signed, KEY)
    assert result.valid and bool(result) and result.status == "valid"
    assert result.metadata == {"model": "gpt-4"}
    assert result.header_offset == 4  # after "The "
    (header,) = result.header_spans
    assert signed[header[0] - 1] == " " and result.trailer_span == (
        len(signed) - (result.trailer_span[1] - result.trailer_span[0]),  # type: ignore[index]
        len(signed),
    )
    assert result.to_dict()["status"] == "valid"


def test_plain_text_has_no_metadata() -> None:
    result = verify(TEXT, KEY)
    assert result.status is VerifyStatus.NO_METADATA
    assert extract(TEXT) is None and strip(TEXT) == TEXT
    assert UnicodeMetadata.verify_metadata(TEXT, hmac_secret_key=KEY) == (False, None)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace("lazy", "busy"),
        lambda s: s.replace("fox", "cat"),
        lambda s: s.replace(" amused", " amused at all"),
        lambda s: s.replace("quick ", ""),
        lambda s: s.replace("quick brown", "brown quick"),
        lambda s: s.upper(),
    ],
)
def test_edits_insertions_deletions_reorderings_are_tampered(edit: object) -> None:
    signed = sign()
    edited = edit(signed)  # type: ignore[operator]
    assert edited != signed
    result = verify(edited, KEY)
    assert result.status is VerifyStatus.TAMPERED
    assert not result.valid


def test_text_appended_after_the_trailer_is_tampered() -> None:
    result = verify(sign() + " P.S. trust me", KEY)
    assert result.status is VerifyStatus.TAMPERED
    assert "follow the signature trailer" in result.message


def test_truncated_text_is_truncated_not_valid() -> None:
    signed = sign()
    start, _ = payload_runs(signed)[-1]
    result = verify(signed[: start - 5], KEY)
    assert result.status is VerifyStatus.TRUNCATED
    assert "is_final=True" in result.message


def test_deleting_the_header_or_the_trailer_is_caught() -> None:
    signed = sign()
    (h0, h1), (t0, _) = payload_runs(signed)
    assert verify(signed[:h0] + signed[h1:], KEY).status is VerifyStatus.TAMPERED
    assert verify(signed[:t0], KEY).status is VerifyStatus.TRUNCATED


def test_header_moved_within_the_same_text_is_tampered() -> None:
    signed = sign()
    (h0, h1), _ = payload_runs(signed)
    header = signed[h0:h1]
    without = signed[:h0] + signed[h1:]
    at = without.index("brown ") + len("brown ")
    moved = without[:at] + header + without[at:]
    assert strip(moved) == TEXT  # same visible text ...
    assert verify(moved, KEY).status is VerifyStatus.TAMPERED  # ... but not where it was


def test_payload_moved_into_another_text_is_tampered() -> None:
    signed = sign()
    (h0, h1), (t0, t1) = payload_runs(signed)
    other = "An entirely different answer. "
    forged = other[:3] + signed[h0:h1] + other[3:] + signed[t0:t1]
    result = verify(forged, KEY)
    assert result.status is VerifyStatus.TAMPERED
    assert extract(forged) == {"model": "gpt-4"}  # readable, but never valid


def test_two_signed_texts_concatenated_do_not_verify() -> None:
    assert not verify(sign("First answer.") + sign("Second answer."), KEY).valid


def test_a_quoted_older_signed_text_neither_breaks_nor_verifies_as_this_one() -> None:
    old = sign("Old answer here.", {"model": "old-model"})
    for new_text in (f"As I said before: {old} And more.", f"{old} New words."):
        handler = StreamingHandler({"model": "new-model"}, hmac_secret_key=KEY)
        chunks = [new_text[:10], new_text[10:25], new_text[25:]]
        out = [handler.process_chunk(c, is_final=i == 2) for i, c in enumerate(chunks)]
        signed = "".join(out)
        result = verify(signed, KEY)
        assert result.valid, result.message
        assert result.metadata == {"model": "new-model"}
        assert strip(signed) == new_text  # the quote, payload and all, is content
        assert strip(signed, all_payloads=True) == new_text.replace(old, "Old answer here.")
        # Cut the new text right after the quote: the quote's trailer then ends the
        # text, but it signs a different text and never passes for this one.
        old_trailer = old[payload_runs(old)[-1][0] :]
        cut = signed[: signed.index(old_trailer) + len(old_trailer)]
        assert not verify(cut, KEY).valid


def test_a_copied_old_payload_on_unsigned_text_does_not_verify() -> None:
    old = sign("Old answer here.")
    _, (t0, t1) = payload_runs(old)
    new = "Brand new text that was never signed" + old[t0:t1]
    assert verify(new, KEY).status is VerifyStatus.TAMPERED


@pytest.mark.parametrize(
    "text",
    [
        "I ❤️ this. Really ❤️!",
        "Emoji 👍🏽 and 👩‍💻 and 🇫🇷 flags.",
        "Ideographs 葛\U000e0100 and 葛\U000e0101 variants.",
        "\ufeffBOM first, then zero\u200bwidth and\u200cjoiners\u200d here.",
        "\ufe0f\ufe0e leading selectors with no base",
        "trailing selectors \ufe0f",
        bytes_to_selectors(b"\x9e\x4d") + " a fake magic in the text",
    ],
)
@pytest.mark.parametrize("target", ["whitespace", "all_characters", "last_letter", "end"])
def test_foreign_selectors_bom_and_zero_width_are_kept_and_ignored(text: str, target: str) -> None:
    signed = sign(text, target=target)
    assert strip(signed) == text
    assert extract(signed) == {"model": "gpt-4"}
    assert verify(signed, KEY).valid


def test_a_megabyte_of_selectors_is_text_like_any_other() -> None:
    noise = "\ufe0f" * 500_000 + bytes_to_selectors(bytes(range(256))) * 2_000
    signed = sign("Look: " + noise + " end.")
    assert extract(signed) == {"model": "gpt-4"}
    assert verify(signed, KEY).valid
    assert strip(signed) == "Look: " + noise + " end."
    assert scan(signed).examined == 2  # the noise holds no candidate at all


def test_wrong_key_and_missing_key_are_reported_as_such() -> None:
    signed = sign()
    result = verify(signed, "another-key")
    assert result.status is VerifyStatus.WRONG_KEY
    assert "another key" in result.message and result.key_id
    assert verify(signed, None).status is VerifyStatus.WRONG_KEY
    assert not MetadataEncoder(hmac_secret_key="another-key").verify_text(signed)


def test_key_types_are_interchangeable() -> None:
    from pydantic import SecretStr

    signed = sign()
    for key in (KEY, KEY.encode(), SecretStr(KEY)):
        assert verify(signed, key).valid


def test_metadata_encoder_round_trip() -> None:
    encoder = MetadataEncoder(secret_key=KEY, target="punctuation")
    signed = encoder.encode_metadata("Hello, world.", {"model": "x"})
    assert encoder.decode_metadata(signed) == {"model": "x"}
    assert encoder.verify_text(signed) and encoder.verify(signed).valid
    assert encoder.strip(signed) == "Hello, world."
    assert KEY not in repr(encoder)


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_one_line_break_after_the_trailer_is_not_part_of_the_signed_text(line_break: str) -> None:
    signed = sign()
    result = verify(signed + line_break, KEY)
    assert result.valid and result.ignored_line_break
    assert "line break" in result.message and result.metadata == {"model": "gpt-4"}
    assert UnicodeMetadata.verify_metadata(signed + line_break, hmac_secret_key=KEY)[0]
    assert strip(signed + line_break) == TEXT + line_break  # the line break is text
    strict = verify(signed + line_break, KEY, ignore_line_break=False)
    assert strict.status is VerifyStatus.TAMPERED and "follow the signature" in strict.message
    for more in (line_break * 2, " ", "\n\n", line_break + "x"):
        assert verify(signed + more, KEY).status is VerifyStatus.TAMPERED


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_an_edited_text_with_a_line_break_is_tampered_for_the_edit(line_break: str) -> None:
    edited = sign().replace("lazy", "busy") + line_break
    result = verify(edited, KEY)
    assert result.status is VerifyStatus.TAMPERED
    assert "signature does not match" in result.message
    assert "follow" not in result.message and result.ignored_line_break


def test_a_line_break_does_not_hand_the_verdict_to_a_quoted_unfinished_payload() -> None:
    # The quote holds a header whose trailer never came; this text's own trailer, then a
    # line break, must still be what the text is judged by.
    unfinished = StreamingHandler({"model": "old"}, hmac_secret_key=KEY).process_chunk("Old a")
    signed = sign(f"Quote: {unfinished} end of quote.", {"model": "new"})
    assert verify(signed, KEY).valid
    result = verify(signed + "\n", KEY)
    assert result.valid and result.metadata == {"model": "new"}
    edited = verify(signed.replace("Quote", "Quota") + "\n", KEY)
    assert edited.status is VerifyStatus.TAMPERED
    assert "signature does not match" in edited.message


def test_a_payload_damaged_beyond_reading_is_tampered_not_absent() -> None:
    # Header and trailer sit together at the end; deleting the header's first body
    # selector makes the header frame swallow the trailer's first selector, and what is
    # left is neither a header piece nor a trailer.
    signed = sign(target="end")
    header_start = payload_runs(signed)[0][0]  # magic (2), type, length: the body at +4
    damaged = signed[: header_start + 4] + signed[header_start + 5 :]
    result = verify(damaged, KEY)
    assert result.status is VerifyStatus.TAMPERED and "damaged" in result.message
    assert extract(damaged) is None and strip(damaged) == damaged

"""Gemini wire values read as google-genai's models read them (``parser: fast``): thought
signatures in either base64 alphabet, with or without padding, and enum values in any case."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_dispatch.providers.google_tools import signature_text
from llm_dispatch.providers.google_values import UnreadableAnswer, enum_value, wire_signature


def sdk_signature(text: str) -> str | None:
    """A thought signature as the SDK's model reads it, then as this library carries it."""
    from google.genai import types

    return signature_text(types.Part.model_validate({"thoughtSignature": text}).thought_signature)


@pytest.mark.parametrize(
    "text", ["ZmFrZS1zaWduYXR1cmU=", "ZmFrZS1zaWduYXR1cmU", "-_-_", "+/+/", "QQ=", "QQ==", ""]
)
def test_a_signature_reads_as_the_sdk_reads_it(text: str) -> None:
    assert wire_signature(text) == sdk_signature(text)


@pytest.mark.parametrize(
    "text", ["ab==", "+/-_", "a", "QUJD=", "Q===", "QQ==QQ==", " QUI=", "ab\n"]
)
def test_a_signature_the_sdk_refuses_is_unreadable(text: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        sdk_signature(text)
    with pytest.raises(UnreadableAnswer):
        wire_signature(text)


@given(st.text(alphabet="AQab09+/-_= ", max_size=10))
def test_any_signature_reads_as_the_sdk_reads_it(text: str) -> None:
    try:
        expected = sdk_signature(text)
    except pydantic.ValidationError:
        with pytest.raises(UnreadableAnswer):
            wire_signature(text)
    else:
        assert wire_signature(text) == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [("STOP", "STOP"), ("stop", "STOP"), ("Max_Tokens", "MAX_TOKENS"), ("other", "OTHER")],
)
def test_an_enum_value_reads_as_the_sdk_reads_it(raw: str, value: str) -> None:
    from google.genai import types

    assert enum_value(types.FinishReason, raw, "a finish reason") == value


@pytest.mark.filterwarnings("ignore:NEW_REASON is not a valid FinishReason")
def test_an_unknown_enum_value_is_kept() -> None:
    from google.genai import types

    assert enum_value(types.FinishReason, "NEW_REASON", "a finish reason") == "NEW_REASON"


def test_an_enum_value_that_is_not_a_string_is_unreadable() -> None:
    from google.genai import types

    with pytest.raises(UnreadableAnswer, match="a finish reason is not a string: int"):
        enum_value(types.FinishReason, 3, "a finish reason")

"""ArgumentMatcher matches calls exactly as Signature.bind (with defaults applied) does."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from llm_dispatch.arguments import ArgumentMatcher


def plain(prompt: str, temperature: float = 0.2, *, tone: str = "dry", n: int) -> None: ...


def spread(prompt: str, *rest: Any, **more: Any) -> None: ...


def positional_only(prompt: str, /, temperature: float = 0.2) -> None: ...


def bound(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    arguments = inspect.signature(func).bind(*args, **kwargs)
    arguments.apply_defaults()
    return dict(arguments.arguments)


CALLS = [
    (plain, ("hi",), {"n": 1}),
    (plain, ("hi", 0.5), {"n": 1, "tone": "warm"}),
    (plain, (), {"n": 2, "prompt": "hi"}),
    (spread, ("hi", 1, 2), {"x": 3}),
    (positional_only, ("hi",), {"temperature": 1.0}),
]


@pytest.mark.parametrize(("func", "args", "kwargs"), CALLS)
def test_matches_like_signature_bind(func: Any, args: Any, kwargs: Any) -> None:
    values = ArgumentMatcher(inspect.signature(func)).values(args, kwargs)
    expected = bound(func, args, kwargs)
    assert values == expected
    assert list(values) == list(expected)  # signature order


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("hi",), {}),  # n is required
        (("hi", 0.5, "warm"), {"n": 1}),  # tone is keyword-only
        (("hi",), {"n": 1, "prompt": "again"}),  # prompt given twice
        (("hi",), {"n": 1, "colour": "red"}),  # no such parameter
    ],
)
def test_a_call_the_signature_does_not_take_raises_its_type_error(args: Any, kwargs: Any) -> None:
    with pytest.raises(TypeError) as expected:
        bound(plain, args, kwargs)
    with pytest.raises(TypeError) as raised:
        ArgumentMatcher(inspect.signature(plain)).values(args, kwargs)
    assert str(raised.value) == str(expected.value)


def test_values_that_do_not_compare_are_never_compared() -> None:
    class NoEquality:
        def __eq__(self, other: object) -> bool:
            raise AssertionError("compared")

        __hash__ = object.__hash__

    value = NoEquality()
    values = ArgumentMatcher(inspect.signature(plain)).values((value,), {"n": value})
    assert values["prompt"] is value and values["n"] is value

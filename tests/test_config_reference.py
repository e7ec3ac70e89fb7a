"""The configuration reference page is generated from the models, and every key has a
description."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from llm_dispatch.settings.reference import main, render, sections, undocumented

PAGE = Path(__file__).resolve().parent.parent / "docs" / "config-reference.md"


def test_the_committed_page_is_what_the_models_say() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/config-reference.md is out of date: run "
        "`python -m llm_dispatch.settings.reference docs/config-reference.md`"
    )


def test_every_key_has_a_description() -> None:
    assert undocumented() == []


def test_every_section_of_the_file_is_covered() -> None:
    paths = [section.path for section in sections()]
    for path in (
        "",
        "providers.<name>",
        "providers.<name>.prices.<model>",
        "providers.<name>.capabilities.<model>",
        "providers.<name>.timeouts",
        "routes.<task type>",
        "routes.<task type>.targets[]",
        "defaults",
        "defaults.retry",
        "defaults.timeouts",
        "defaults.circuit",
        "cache",
        "embedding",
    ):
        assert path in paths


class _Inner(BaseModel):
    """An inner section."""

    documented: int = Field(default=1, description="Has one.")
    bare: str = "x"


class _Outer(BaseModel):
    """A root."""

    inner: dict[str, _Inner] = Field(default_factory=dict, description="Named inners.")
    flag: bool = False


def test_a_key_without_a_description_is_reported() -> None:
    assert undocumented(_Outer) == ["_Outer.flag", "_Inner.bare"]
    page = render(_Outer)
    assert "## `inner.<key>` {#_inner}" in page
    assert "| `inner` | mapping of string to [_Inner](#_inner) | `{}` | Named inners. |" in page


def test_main_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "reference.md"
    assert main([str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render()
    assert main([]) == 2

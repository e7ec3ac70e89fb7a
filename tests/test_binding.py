"""Every argument of a decorated call has a role: the prompt, the conversation, media, the
request's fields, provider options, or a line of the prompt. Nothing is dropped."""

from __future__ import annotations

import base64
import dataclasses
import enum
from pathlib import Path
from typing import Any

import pytest
from media_samples import jpeg, mp3, pdf, png, wav
from pydantic import BaseModel

from llm_dispatch import Message, RequestBindingError, TaskType
from llm_dispatch.binding import RequestBinder
from llm_dispatch.content import AudioPart, DocumentPart, ImagePart, TextPart
from llm_dispatch.media import MAX_PART_BYTES, encode_audio, encode_image, sniff_mime


def binder(func: Any, **options: Any) -> RequestBinder:
    return RequestBinder(func, task_type=TaskType.TEXT_GENERATION, **options)


def bind(func: Any, *args: Any, **kwargs: Any) -> Any:
    return binder(func).bind(args, kwargs)


# -- the prompt -----------------------------------------------------------------------------


def test_the_first_str_parameter_is_the_prompt_when_none_has_a_prompt_name() -> None:
    async def stream_code_generation(description: str, language: str = "python") -> Any:
        yield ""

    request = bind(stream_code_generation, "Create a function to sort a list")
    assert request.prompt == "Create a function to sort a list\n\nlanguage: python"
    assert request.arguments == {"language": "python"}
    assert bind(stream_code_generation, "Sort", "rust").arguments == {"language": "rust"}


def test_every_other_argument_is_a_labelled_line_in_signature_order() -> None:
    class Tone(enum.Enum):
        FORMAL = "formal"

    @dataclasses.dataclass
    class Audience:
        age: int

    class Limits(BaseModel):
        words: int

    async def write(
        topic: str,
        length: str = "medium",
        count: int = 3,
        draft: bool = False,
        tone: Tone = Tone.FORMAL,
        tags: list[str] | None = None,
        audience: Audience | None = None,
        limits: Limits | None = None,
        note: str | None = None,
        **more: Any,
    ) -> Any:
        yield ""

    request = bind(
        write,
        "Tides",
        tags=["sea", "moon"],
        audience=Audience(9),
        limits=Limits(words=200),
        mood="calm",
    )
    assert request.messages[-1].content == (
        "Tides\n\n"
        "length: medium\ncount: 3\ndraft: False\ntone: formal\n"
        'tags: ["sea", "moon"]\naudience: {"age": 9}\nlimits: {"words":200}\nmood: calm'
    )  # `note` is None: left out
    assert list(request.arguments) == [
        "length", "count", "draft", "tone", "tags", "audience", "limits", "mood",
    ]  # fmt: skip


def test_a_template_writes_the_arguments_into_the_prompt() -> None:
    async def stream_content_generation(
        topic: str, length: str = "medium", audience: str = "all"
    ) -> Any:
        yield ""

    b = binder(stream_content_generation, prompt_template="Write a {length} article on {topic}.")
    request = b.bind(("Artificial Intelligence",), {"length": "long"})
    # The argument the template does not name is not dropped: it follows as a line.
    assert request.prompt == "Write a long article on Artificial Intelligence.\n\naudience: all"
    assert request.arguments == {"length": "long", "audience": "all"}


def test_template_errors_name_what_is_wrong() -> None:
    async def f(topic: str, length: str | None = None) -> Any:
        yield ""

    with pytest.raises(RequestBindingError, match="names 'size', which is not a parameter"):
        binder(f, prompt_template="{size} words on {topic}")
    with pytest.raises(RequestBindingError, match="prompt_template is malformed"):
        binder(f, prompt_template="{topic")
    with pytest.raises(RequestBindingError, match="names length, which this call leaves empty"):
        binder(f, prompt_template="{length} on {topic}").bind(("tides",), {})


def test_an_argument_that_cannot_be_written_is_an_error_naming_it() -> None:
    async def f(prompt: str, blob: Any = None, hook: Any = None, thing: Any = None) -> Any:
        yield ""

    with pytest.raises(RequestBindingError, match=r"argument 'blob' is a bytes.*images=, audio="):
        bind(f, "hi", blob=b"\x00\x01")
    with pytest.raises(RequestBindingError, match="argument 'hook' is a function"):
        bind(f, "hi", hook=lambda: 1)
    with pytest.raises(RequestBindingError, match="argument 'thing' is a object"):
        bind(f, "hi", thing=object())


def test_tools_tool_choice_and_reasoning_bind_into_the_request() -> None:
    async def f(prompt: str, tools: list[Any] | None = None, tool_choice: str | None = None) -> Any:
        yield ""

    assert bind(f, "hi").tools == ()  # no tools given
    request = bind(f, "hi", tools=[{"name": "get_weather"}], tool_choice="get_weather")
    assert [t.name for t in request.tools] == ["get_weather"]
    assert request.tool_choice == "get_weather"
    assert "tools" not in request.arguments and "tools" not in request.prompt
    with pytest.raises(RequestBindingError, match="tool_choice='other' is not a tool"):
        bind(f, "hi", tools=[{"name": "get_weather"}], tool_choice="other")


# -- the conversation -----------------------------------------------------------------------


def test_history_comes_before_the_prompt_in_order() -> None:
    async def chat_response(message: str, conversation_history: list[Any] | None = None) -> Any:
        yield ""

    history = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "What is AI?"},
        Message(role="assistant", content="Machines that learn."),
    ]
    request = bind(chat_response, "And machine learning?", history)
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "What is AI?"),
        ("assistant", "Machines that learn."),
        ("user", "And machine learning?"),
    ]
    assert request.system == "Be kind."
    assert request.arguments == {}  # history is the conversation, not a prompt line
    assert bind(chat_response, "Hi").messages == (Message(role="user", content="Hi"),)


def test_options_from_the_decorator_and_the_call_are_merged() -> None:
    async def f(prompt: str, options: dict[str, Any] | None = None) -> Any:
        yield ""

    b = binder(f, defaults={"options": {"top_p": 0.5, "seed": 1}})
    assert b.bind(("hi",), {"options": {"seed": 7}}).options == {"top_p": 0.5, "seed": 7}
    assert b.bind(("hi",), {}).options == {"top_p": 0.5, "seed": 1}


# -- media ----------------------------------------------------------------------------------


async def stream_image_analysis(prompt: str, images: list[Any]) -> Any:
    yield ""


def test_an_image_from_bytes_path_base64_data_uri_or_url(tmp_path: Path) -> None:
    image = png(2, 2)
    path = tmp_path / "photo.png"
    path.write_bytes(image)
    b64 = base64.b64encode(image).decode()
    values = [image, path, str(path), b64, f"data:image/png;base64,{b64}", encode_image(path)]
    request = bind(stream_image_analysis, "Describe this image", values)
    text, *parts = request.messages[-1].content
    assert text == TextPart(text="Describe this image")
    assert [(p.mime_type, p.data, p.source) for p in parts] == [
        ("image/png", image, f"images[{i}]") for i in range(len(values))
    ]
    assert len({p.digest for p in parts}) == 1  # one image, however it was given
    assert request.modalities == {"text", "image"}

    url = bind(stream_image_analysis, "What is it?", ["https://example.org/cat.jpg"])
    [_, part] = url.messages[-1].content
    assert part == ImagePart(
        mime_type="image/jpeg", url="https://example.org/cat.jpg", source="images[0]"
    )


def test_audio_and_documents_are_parts_too(tmp_path: Path) -> None:
    async def f(prompt: str, audio: Any = None, documents: Any = None) -> Any:
        yield ""

    (tmp_path / "talk.mp3").write_bytes(mp3())
    (tmp_path / "report.pdf").write_bytes(pdf())
    request = bind(
        f,
        "Summarise",
        audio=encode_audio(tmp_path / "talk.mp3"),
        documents=[tmp_path / "report.pdf"],
    )
    _, audio, document = request.messages[-1].content
    assert (
        isinstance(audio, AudioPart) and audio.mime_type == "audio/mpeg" and audio.format == "mp3"
    )
    assert isinstance(document, DocumentPart) and document.name == "report.pdf"
    assert bind(f, "Transcribe", audio=wav()).messages[-1].content[1].format == "wav"
    assert request.modalities == {"text", "audio", "document"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"GIF89a" + b"\x00" * 10 + b"not really", None),  # a GIF is an image: accepted
        (b"hello there", "this is an unknown format, not an image (PNG, JPEG, GIF or WebP)"),
        (pdf(), "this is application/pdf data, not an image"),
        ("path/to/image.jpg", "'path/to/image.jpg' is not a file that exists, a data URI, base64"),
        (
            f"data:image/jpeg;base64,{base64.b64encode(png()).decode()}",
            "given as image/jpeg but its bytes are image/png",
        ),
        ("data:image/png;base64,@@@", "the text is not valid base64"),
        (b"", "the image is empty"),
        (3.14, "got float; pass bytes, a path, a data URI or base64, or an http(s) URL"),
        ("https://example.org/a b.png", "the URL holds whitespace"),
    ],
)
def test_a_bad_image_is_an_error_naming_the_argument(value: Any, message: str | None) -> None:
    if message is None:
        bind(stream_image_analysis, "x", [value])
        return
    with pytest.raises(RequestBindingError) as caught:
        bind(stream_image_analysis, "x", [jpeg(), value])
    text = str(caught.value)
    assert "stream_image_analysis(): images[1]: " in text and message in text


def test_audio_is_never_a_url_and_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    async def f(prompt: str, audio: Any = None) -> Any:
        yield ""

    with pytest.raises(RequestBindingError, match="audio: audio is sent inline"):
        bind(f, "x", audio="https://example.org/talk.mp3")
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as out:
        out.truncate(MAX_PART_BYTES + 1)
    with pytest.raises(
        RequestBindingError, match=r"audio: .*huge.wav is 64.0 MB; no provider takes"
    ):
        bind(f, "x", audio=huge)


def test_mime_types_are_read_from_the_bytes() -> None:
    assert [sniff_mime(b) for b in (png(), jpeg(), wav(), mp3(), pdf(), b"text")] == [
        "image/png", "image/jpeg", "audio/wav", "audio/mpeg", "application/pdf", None,
    ]  # fmt: skip

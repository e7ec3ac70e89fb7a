"""Stream an audio transcription: the audio goes to a model that takes audio.

    LLM_DISPATCH_FAKE=1 python examples/audio.py [AUDIO]

Without ``AUDIO`` a second of a 440 Hz tone is written as WAV and used. ``audio`` takes
bytes, a path, base64 or a data URI (``encode_audio`` makes one from a file). Routing skips
the models that take no audio (Anthropic's, and OpenAI's text models) and says so.
"""

from __future__ import annotations

import asyncio
import math
import struct
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

from llm_dispatch import TaskType, llm_stream
from llm_dispatch.media import encode_audio


@llm_stream(task_type=TaskType.AUDIO_TRANSCRIPTION)
async def stream_audio_transcription(prompt: str, audio: str) -> Any:
    yield "offline stand-in"


def write_tone(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
        )
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


async def main(audio: Path) -> int:
    audio_data = encode_audio(audio)
    stream = stream_audio_transcription("Transcribe this audio", audio_data)
    async for chunk in stream:
        print(chunk, end="", flush=True)
    print(f"\n[{stream.provider}/{stream.model}]")
    for target, reason in stream.skipped.items():
        print(f"  skipped {target}: {reason}")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else write_tone(Path(folder) / "tone.wav")
        sys.exit(asyncio.run(main(path)))

"""Seed 004, the LLM-Dispatcher streaming guide:
"Audio Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/audio_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio
import atexit
import os
import shutil
import tempfile
from pathlib import Path

from llm_dispatch import *
from llm_dispatch.media import encode_audio

# Added: the guide leaves `encode_audio` and the audio file to the reader. `encode_audio` is
# the library's (a checked audio file as a data URI). The file is a real MP3: one silent
# MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz, mono; an all-zero side info and body),
# written at the sample's relative path "path/to/audio.mp3" in a temporary working directory.
_folder = tempfile.mkdtemp()
atexit.register(shutil.rmtree, _folder)
os.chdir(_folder)
Path("path/to").mkdir(parents=True)
Path("path/to/audio.mp3").write_bytes(b"\xff\xfb\x90\xc4" + bytes(413))

# The guide's sample:

@llm_stream(task_type=TaskType.AUDIO_TRANSCRIPTION)
async def stream_audio_transcription(prompt: str, audio: str):
    """Stream audio transcription."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        "Transcribing audio... ",
        "I can hear ",
        "the speaker saying ",
        "various words. ",
        "The transcription is... "
    ]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    audio_data = encode_audio("path/to/audio.mp3")
    async for chunk in stream_audio_transcription("Transcribe this audio", audio_data):
        print(chunk, end="", flush=True)

asyncio.run(main())

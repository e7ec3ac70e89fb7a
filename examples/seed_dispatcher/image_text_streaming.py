"""Seed 004, the LLM-Dispatcher streaming guide:
"Image + Text Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/image_text_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio
import atexit
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

from llm_dispatch import *
from llm_dispatch.media import encode_image

# Added: the guide leaves `encode_image` and the image file to the reader. `encode_image` is
# the library's (a checked image file as a data URI). The file is a real 8x8 PNG, written at
# the sample's relative path "path/to/image.jpg" inside a temporary working directory (the
# library reads the format from the bytes, so it is sent as image/png).


def _png(size: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(255 * ((x + y) % 2) for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    pixels = zlib.compress(rows)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


_folder = tempfile.mkdtemp()
atexit.register(shutil.rmtree, _folder)
os.chdir(_folder)
Path("path/to").mkdir(parents=True)
Path("path/to/image.jpg").write_bytes(_png())

# The guide's sample:

@llm_stream(task_type=TaskType.VISION_ANALYSIS)
async def stream_image_analysis(prompt: str, images: list):
    """Stream image analysis with text."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        "Analyzing image... ",
        "I can see ",
        "various objects ",
        "and details. ",
        "The image shows... "
    ]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    image_data = encode_image("path/to/image.jpg")
    async for chunk in stream_image_analysis("Describe this image", [image_data]):
        print(chunk, end="", flush=True)

asyncio.run(main())

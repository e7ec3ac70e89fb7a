"""Stream an image analysis: the image goes to the provider with the prompt.

    LLM_DISPATCH_FAKE=1 python examples/vision.py [IMAGE]

Without ``IMAGE`` a small PNG is drawn and used. ``images`` takes bytes, paths, base64,
data URIs (``encode_image`` makes one from a file) or http(s) URLs; routing sends the call
only to a model that takes images.
"""

from __future__ import annotations

import asyncio
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from llm_dispatch import TaskType, llm_stream
from llm_dispatch.media import encode_image


@llm_stream(task_type=TaskType.VISION_ANALYSIS)
async def stream_image_analysis(prompt: str, images: list[Any]) -> Any:
    yield "offline stand-in"


def draw_png(path: Path, size: int = 8) -> Path:
    """A small striped greyscale PNG, written with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(255 * ((x + y) % 2) for x in range(size)) for y in range(size))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


async def main(image: Path) -> int:
    image_data = encode_image(image)
    stream = stream_image_analysis("Describe this image", [image_data])
    async for chunk in stream:
        print(chunk, end="", flush=True)
    print(f"\n[{stream.provider}/{stream.model}]")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else draw_png(Path(folder) / "image.png")
        sys.exit(asyncio.run(main(path)))

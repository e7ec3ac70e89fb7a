"""Small valid media files, built in memory: a PNG, a JPEG, a WAV, an MP3 frame, a PDF.

Each is a real file of its format (correct signature and structure), a few hundred bytes
at most, and holds bytes outside ASCII so that a base64 round trip is really tested.
"""

from __future__ import annotations

import io
import struct
import wave
import zlib


def png(width: int = 1, height: int = 1, shade: int = 0x80) -> bytes:
    """A ``width`` × ``height`` RGB PNG: signature, IHDR, IDAT, IEND, with their CRCs.
    ``shade`` sets the green channel, so two shades are two different images."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes([0xFF, shade % 256, 0x00]) * width  # filter byte, then the pixels
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A JFIF JPEG's framing: SOI, an APP0/JFIF segment, a comment segment, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"llm-dispatch test \xfe\xed"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def wav() -> bytes:
    """A tenth of a second of 8 kHz mono 16-bit PCM, written by :mod:`wave`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", (i * 997) % 30000 - 15000) for i in range(800)))
    return buffer.getvalue()


def mp3() -> bytes:
    """One MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz, mono): its 4-byte header, then a
    body of 413 bytes, the frame's length."""
    header = b"\xff\xfb\x90\xc4"
    return header + bytes((i * 31) % 256 for i in range(413))


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)

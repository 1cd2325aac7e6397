"""Decompression bombs built on the fly: small on disk, huge when inflated.

Used by the loader and admin tests and by bench/server_soak.py. Each is streamed through
zlib in 16 MiB blocks, so building a 1 GiB bomb never holds more than a block in memory.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from tests.knowledge_base.files import write_pdf_objects

MiB = 1024 * 1024
_BLOCK = 16 * MiB


def _deflated(inflated_bytes: int, fill: bytes = b" ") -> bytes:
    packer = zlib.compressobj(9)
    block = fill * (_BLOCK // len(fill))
    parts = []
    left = inflated_bytes
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        parts.append(packer.compress(piece))
        left -= len(piece)
    parts.append(packer.flush())
    return b"".join(parts)


def pdf_bomb(path: Path, inflated_bytes: int = 1024 * MiB) -> Path:
    """A valid one-page PDF whose FlateDecode content stream inflates to `inflated_bytes`
    (spaces: valid content-stream whitespace, so only the inflation itself can stop it)."""
    stream = _deflated(inflated_bytes)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return write_pdf_objects(path, objects)


def zip_bomb(
    path: Path, inflated_bytes: int = 1024 * MiB, member: str = "word/document.xml"
) -> Path:
    """A DOCX-shaped zip whose one big part inflates to `inflated_bytes` (written streaming)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open(member, "w", force_zip64=True) as out:
            block = b"<w:t>" + b"A" * (_BLOCK - 11) + b"</w:t>"
            left = inflated_bytes
            while left > 0:
                piece = block if left >= len(block) else block[:left]
                out.write(piece)
                left -= len(piece)
    return path


def html_bomb(path: Path, tags: int = 400_000) -> Path:
    """An HTML file of a few MB holding hundreds of thousands of nested tags."""
    path.write_bytes(b"<html><body>" + b"<div><b>x</b>" * (tags // 2) + b"</body></html>")
    return path

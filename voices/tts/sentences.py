"""Split text into speakable sentences (。！？；.!?; and newlines), long ones at commas/spaces.

Engines synthesise one sentence at a time so the first audio comes out while later sentences
are still being made.
"""

from __future__ import annotations

import re

import numpy as np

from voices.types import AudioChunk

# A sentence ends after CJK or ASCII end punctuation (ASCII only when followed by a space or
# the end, so 3.5 and www.gov.hk stay whole), or at a line break.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)(?=\s|$)|\n+")
_SOFT_BREAK = re.compile(r"(?<=[，、,:：])|\s+")


def split_sentences(text: str, max_chars: int = 300) -> list[str]:
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        sentences.extend(_split_long(piece, max_chars))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def _split_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    current = ""
    for part in _SOFT_BREAK.split(sentence):
        if not part:
            continue
        sep = " " if current and current[-1].isascii() and part[0].isascii() else ""
        if len(current) + len(sep) + len(part) > max_chars and current:
            out.append(current)
            current = ""
            sep = ""
        while len(part) > max_chars:  # an unbroken run (e.g. Chinese without commas)
            out.append(part[:max_chars])
            part = part[max_chars:]
        current += sep + part
    if current:
        out.append(current)
    return out


def float_chunk(audio: np.ndarray, sample_rate: int) -> AudioChunk:
    """float32 [-1, 1] samples -> one PCM16 chunk."""
    pcm = (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
    return AudioChunk(pcm.tobytes(), sample_rate)

"""Transcribe an audio file (wav/flac/mp3/...) with bounded memory.

A file is decoded in blocks (voices.audio_io.iter_file_audio) and, when it is longer than
one Whisper window (`voices.files.chunk_s`), cut into utterances by the same VAD-driven
streaming recogniser the voice server uses (partials off, utterances at most `chunk_s`), so
memory holds one block and one utterance whatever the file's length. Files over
`voices.files.max_file_duration_s` (default 30 min: about 10 min of decoding on a 2-core CPU
with Whisper base) are refused with AudioInputError before any decoding work.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np

from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import AudioInputError, iter_file_audio
from voices.config import FileSettings, StreamingSettings, VadSettings
from voices.streaming import StreamingRecognizer
from voices.types import PIPELINE_SAMPLE_RATE, FinalTranscript, SpokenLanguage, Transcript


def transcribe_file(
    path: Path,
    transcriber: FasterWhisperTranscriber,
    *,
    files: FileSettings | None = None,
    vad: VadSettings | None = None,
    language: SpokenLanguage | None = None,
) -> Transcript:
    files = files or FileSettings()
    started = time.perf_counter()
    blocks = iter_file_audio(
        path,
        max_duration_s=files.max_file_duration_s,
        max_bytes=files.max_file_bytes,
        block_s=files.chunk_s,
    )
    first = next(blocks)
    second = next(blocks, None)
    if second is None:  # fits one Whisper window: one decode, no segmentation
        if first.size == 0:
            raise AudioInputError(f"{path}: contains no audio samples")
        transcript = transcriber.transcribe(first, language=language)
        return _with_elapsed(transcript, started)
    recogniser = StreamingRecognizer(
        transcriber,
        language=language,
        # a whole file: no end of turn to wait for, so no decode ahead in its pauses
        streaming=StreamingSettings(
            partials=False, speculative_final=False, max_utterance_s=files.chunk_s
        ),
        vad=vad,
    )
    finals: list[FinalTranscript] = []
    total = 0
    for block in _chain(first, second, blocks):
        total += block.size
        finals += _finals(recogniser.accept_samples(block) + recogniser.decode_pending())
    finals += _finals(recogniser.close())
    return _combine(finals, total / PIPELINE_SAMPLE_RATE, language, started)


def _chain(first: np.ndarray, second: np.ndarray, rest):
    yield first
    yield second
    yield from rest


def _finals(events) -> list[FinalTranscript]:
    return [e for e in events if isinstance(e, FinalTranscript) and e.transcript.text]


def _combine(
    finals: list[FinalTranscript],
    duration: float,
    hint: SpokenLanguage | None,
    started: float,
) -> Transcript:
    if not finals:
        return Transcript("", hint or "en", "", 0.0, duration, time.perf_counter() - started)
    weight: Counter[SpokenLanguage] = Counter()
    for final in finals:
        weight[final.transcript.language] += final.transcript.duration_s
    language = weight.most_common(1)[0][0]
    main = next(f.transcript for f in finals if f.transcript.language == language)
    parts = [f.transcript.text for f in finals]
    joiner = " " if language == "en" else ""
    return Transcript(
        joiner.join(parts),
        language,
        main.detected_language,
        main.language_probability,
        duration,
        time.perf_counter() - started,
    )


def _with_elapsed(transcript: Transcript, started: float) -> Transcript:
    return Transcript(
        transcript.text,
        transcript.language,
        transcript.detected_language,
        transcript.language_probability,
        transcript.duration_s,
        time.perf_counter() - started,
    )

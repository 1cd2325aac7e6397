"""Speech synthesis: each answer sentence spoken while the model writes the next.

The turn's frames are consumed by one task that queues each `AnswerSentence` for a second task
running the synthesizer in a worker thread, so sentence 1 is being synthesised (and its audio
sent) while the model writes sentence 2. Closing or cancelling the consumer of `speak()`
cancels both: the model stops at its next token and the synthesizer at its next chunk.
`TurnEnd` comes last, after the audio, with `first_audio` added to its timings (measured here,
once: from the start of the turn's answer to its first audio chunk).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import numpy as np
import soxr

from assistant.frames import (
    AnswerSentence,
    AudioData,
    AudioEnd,
    AudioMark,
    AudioStart,
    TurnEnd,
    TurnError,
    TurnEvent,
)
from assistant.threads import iterate_in_thread
from voices.audio_io import float_to_pcm16, pcm16_to_float
from voices.types import AudioChunk, SpokenLanguage, Synthesizer

log = logging.getLogger(__name__)
_END = object()


def _resampled(chunk: AudioChunk, rate: int) -> bytes:
    if chunk.sample_rate == rate:
        return chunk.pcm
    audio = soxr.resample(pcm16_to_float(chunk.pcm), chunk.sample_rate, rate)
    return float_to_pcm16(np.asarray(audio, dtype=np.float32))


async def speak(
    events: AsyncIterator[TurnEvent], voice: Synthesizer, language: SpokenLanguage
) -> AsyncIterator[TurnEvent]:
    """`events` plus the audio of each AnswerSentence (AudioStart, AudioData..., AudioEnd), with
    an AudioMark after each sentence's audio once audio has started."""
    start = time.perf_counter()
    out: asyncio.Queue[object] = asyncio.Queue()
    sentences: asyncio.Queue[str | None] = asyncio.Queue()
    held: list[TurnEvent] = []  # TurnEnd waits for the audio

    async def pump_answer() -> None:
        try:
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, TurnEnd):
                        held.append(event)
                        continue
                    await out.put(event)
                    if isinstance(event, AnswerSentence):
                        await sentences.put(event.text)
                    if isinstance(event, TurnError):
                        break
        finally:
            await sentences.put(None)

    async def pump_speech() -> float | None:
        first_audio: float | None = None
        started = False
        done = 0  # answer sentences whose audio has been put out (or that had none)
        while (text := await sentences.get()) is not None:
            chunks = iterate_in_thread(
                lambda text=text: voice.synthesize(text, language), name="tts-synthesize"
            )
            try:
                async with aclosing(chunks):
                    async for chunk in chunks:
                        if not started:
                            await out.put(AudioStart(sample_rate=voice.sample_rate))
                            started = True
                            first_audio = round((time.perf_counter() - start) * 1000, 1)
                        await out.put(AudioData(_resampled(chunk, voice.sample_rate)))
            except Exception:  # one unspeakable sentence: the text was shown, go on
                log.warning("could not speak %r", text[:80], exc_info=True)
            done += 1
            if started:  # cumulative: a mark skipped before the first audio is implied later
                await out.put(AudioMark(done))
        if started:
            await out.put(AudioEnd())
        return first_audio

    async def run() -> None:
        try:
            _, first_audio = await asyncio.gather(pump_answer(), pump_speech())
            for event in held:
                if isinstance(event, TurnEnd) and first_audio is not None:
                    timings = {**event.timings, "first_audio": first_audio}
                    event = dataclasses.replace(event, timings=timings)
                await out.put(event)
        except Exception as exc:  # e.g. the answer stream itself failed: never hang the turn
            await out.put(TurnError("turn_failed", f"the turn failed: {exc}"))
        finally:
            await out.put(_END)

    runner = asyncio.create_task(run())
    try:
        while (item := await out.get()) is not _END:
            yield item  # type: ignore[misc]
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

"""Speech synthesis: each answer sentence spoken while the model writes the next.

The turn's frames are consumed by one task that queues each `AnswerSentence` for a second task
running the synthesizer in a worker thread, so sentence 1 is being synthesised (and its audio
sent) while the model writes sentence 2. Closing or cancelling the consumer of `speak()`
cancels both: the model stops at its next token and the synthesizer at its next chunk.
`TurnEnd` comes last, after the audio, with `first_audio` added to its timings (measured here,
once: from the start of the turn's answer to its first audio chunk).

A `HoldingPhrase` ("好，我幫你查下。", said when the model is slow) is spoken in the same queue,
so before the answer's first sentence; its audio is `AudioData(holding=True)` and its first
chunk is timed as `acknowledgement_audio`, never as `first_audio`.
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
    HoldingPhrase,
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
    sentences: asyncio.Queue[tuple[str, bool] | None] = asyncio.Queue()  # (text, holding)
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
                        await sentences.put((event.text, False))
                    elif isinstance(event, HoldingPhrase):
                        await sentences.put((event.text, True))
                    if isinstance(event, TurnError):
                        break
        finally:
            await sentences.put(None)

    async def pump_speech() -> dict[str, float]:
        timed: dict[str, float] = {}  # first_audio (the answer's), acknowledgement_audio
        started = False
        done = 0  # answer sentences whose audio has been put out (or that had none)
        while (queued := await sentences.get()) is not None:
            text, holding = queued
            timing = "acknowledgement_audio" if holding else "first_audio"
            chunks = iterate_in_thread(
                lambda text=text: voice.synthesize(text, language), name="tts-synthesize"
            )
            try:
                async with aclosing(chunks):
                    async for chunk in chunks:
                        if not started:
                            await out.put(AudioStart(sample_rate=voice.sample_rate))
                            started = True
                        if timing not in timed:
                            timed[timing] = round((time.perf_counter() - start) * 1000, 1)
                        pcm = _resampled(chunk, voice.sample_rate)
                        await out.put(AudioData(pcm, holding=holding))
            except Exception:  # one unspeakable sentence: the text was shown, go on
                log.warning("could not speak %r", text[:80], exc_info=True)
            if holding:
                continue  # the holding phrase is not an answer sentence: no mark
            done += 1
            if started:  # cumulative: a mark skipped before the first audio is implied later
                await out.put(AudioMark(done))
        if started:
            await out.put(AudioEnd())
        return timed

    async def run() -> None:
        try:
            _, timed = await asyncio.gather(pump_answer(), pump_speech())
            for event in held:
                if isinstance(event, TurnEnd) and timed:
                    event = dataclasses.replace(event, timings={**event.timings, **timed})
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

"""Speech synthesis: each answer sentence spoken as it comes, while the model writes the next.

`speak()` passes the answer's frames on as they come and speaks each `AnswerSentence` (or
`HoldingPhrase`): AudioStart once, the sentence's AudioData..., then an AudioMark per answer
sentence, AudioEnd, and `TurnEnd` last with `first_audio` added to its timings (measured
here, once: from the start of the turn's answer to its first audio chunk).

Its plumbing is one queue, one reader task and one synthesis thread per turn (`_Turn`): the
answer's frames and the sentences' audio chunks meet in the queue in the order they happen,
so text runs ahead of audio (sentence 2 is shown while sentence 1 is still being spoken) and
sentence 1 is synthesised while the model writes sentence 2. Closing or cancelling the
consumer stops the model at its next token (the reader task is cancelled where the answer
waits) and the voice at its next chunk.

A `HoldingPhrase` ("好，我幫你查下。", said when the model is slow) is spoken the same way, so
before the answer's first sentence, and the answer's frames wait until its audio has
started; its audio is `AudioData(holding=True)` and its first chunk is timed as
`acknowledgement_audio`, never as `first_audio`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field

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
from voices.audio_io import float_to_pcm16, pcm16_to_float
from voices.types import AudioChunk, SpokenLanguage, Synthesizer

log = logging.getLogger(__name__)
_END = object()


def _resampled(chunk: AudioChunk, rate: int) -> bytes:
    if chunk.sample_rate == rate:
        return chunk.pcm
    audio = soxr.resample(pcm16_to_float(chunk.pcm), chunk.sample_rate, rate)
    return float_to_pcm16(np.asarray(audio, dtype=np.float32))


@dataclass(frozen=True)
class _Spoken:
    """The synthesis worker's items in the turn's queue: a chunk of a sentence's audio, or
    (chunk None) the end of that sentence's audio."""

    item: AnswerSentence | HoldingPhrase
    chunk: AudioChunk | None


class _Failure:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class _Turn:
    """One spoken turn's plumbing: one queue, one reader task, one synthesis thread.

    - The reader task reads the answer's frames into the queue, so the model's stream keeps
      being read (and its text passed on) while a sentence is synthesised; stopping the turn
      cancels it wherever the answer waits, which closes every generator in it there, the
      model's stream included (closing the answer's generator from outside would leave the
      generators it iterates to the garbage collector).
    - Each sentence to speak is a job for one worker thread (jobs run in order, so sentences
      are spoken in order, and a TTS engine's generator stays on one thread): it puts the
      sentence's chunks into the same queue, and stops between two chunks once the turn stops.
    """

    def __init__(self, events: AsyncIterator[TurnEvent], voice: Synthesizer, lang: str) -> None:
        self.voice, self.language = voice, lang
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tts-synthesize")
        self._reader = asyncio.create_task(self._read(events), name="answer")

    async def _read(self, events: AsyncIterator[TurnEvent]) -> None:
        try:
            async with aclosing(events):
                async for event in events:
                    self.queue.put_nowait(event)
        except Exception as exc:  # handed to the consumer and raised there
            self.queue.put_nowait(_Failure(exc))
        finally:
            self.queue.put_nowait(_END)

    def say(self, item: AnswerSentence | HoldingPhrase) -> None:
        self._pool.submit(self._synthesize, item)

    def _synthesize(self, item: AnswerSentence | HoldingPhrase) -> None:
        try:
            chunks = self.voice.synthesize(item.text, self.language)  # type: ignore[arg-type]
            try:
                for chunk in chunks:
                    if self._stop.is_set():
                        return
                    self._put(_Spoken(item, chunk))
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:  # one unspeakable sentence: its text was shown, the answer goes on
            log.warning("could not speak %r", item.text[:80], exc_info=True)
        finally:
            self._put(_Spoken(item, None))

    def _put(self, item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            self._loop.call_soon_threadsafe(self.queue.put_nowait, item)

    async def aclose(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reader.cancel()
        await asyncio.wait({self._reader})


@dataclass
class _Speech:
    """What the speaking loop knows: sentences in flight, what was said, the end."""

    sample_rate: int
    start: float = field(default_factory=time.perf_counter)
    timed: dict[str, float] = field(default_factory=dict)  # first_audio, acknowledgement_audio
    in_flight: int = 0  # sentences handed to the voice whose audio has not all come
    end: TurnEnd | None = None  # waits for the audio
    read_all: bool = False  # the answer ended (or failed): nothing more to read
    started: bool = False  # AudioStart was sent
    done: int = 0  # answer sentences whose audio has been put out (or that had none)
    handed: float | None = None  # when the first answer sentence went to the voice (the log)

    def audio(self, spoken: _Spoken) -> list[TurnEvent]:
        assert spoken.chunk is not None
        out: list[TurnEvent] = []
        if not self.started:
            out.append(AudioStart(sample_rate=self.sample_rate))
            self.started = True
        holding = isinstance(spoken.item, HoldingPhrase)
        timing = "acknowledgement_audio" if holding else "first_audio"
        if timing not in self.timed:
            self.timed[timing] = round((time.perf_counter() - self.start) * 1000, 1)
            if not holding and self.handed is not None:
                log.info(
                    "first audio at %.0f ms, %.0f ms after %r went to the voice",
                    self.timed[timing],
                    (time.perf_counter() - self.handed) * 1000,
                    spoken.item.text,
                )
        out.append(AudioData(_resampled(spoken.chunk, self.sample_rate), holding))
        return out

    def said(self, spoken: _Spoken) -> list[TurnEvent]:
        self.in_flight -= 1
        if isinstance(spoken.item, HoldingPhrase):
            return []  # the holding phrase is not an answer sentence: no mark
        self.done += 1
        return [AudioMark(self.done)] if self.started else []  # cumulative marks

    def finish(self) -> list[TurnEvent]:
        out: list[TurnEvent] = [AudioEnd()] if self.started else []
        if self.end is not None:
            timings = {**self.end.timings, **self.timed}
            out.append(dataclasses.replace(self.end, timings=timings))
        return out


async def speak(
    events: AsyncIterator[TurnEvent], voice: Synthesizer, language: SpokenLanguage
) -> AsyncIterator[TurnEvent]:
    """`events` plus the audio of each AnswerSentence (AudioStart, AudioData..., AudioEnd), with
    an AudioMark after each sentence's audio once audio has started; TurnEnd last."""
    speech = _Speech(voice.sample_rate)
    turn = _Turn(events, voice, language)
    # the answer's frames that came while a holding phrase was still silent: the caller hears
    # "好，我幫你查下。" before the answer appears
    deferred: deque[object] = deque()
    holding_silent = False
    try:
        while not (speech.read_all and speech.in_flight == 0):
            if deferred and not holding_silent:
                item = deferred.popleft()
            else:
                item = await turn.queue.get()
            if isinstance(item, _Failure):
                raise item.exc
            if isinstance(item, _Spoken):
                holding_silent = holding_silent and not isinstance(item.item, HoldingPhrase)
                for event in speech.audio(item) if item.chunk else speech.said(item):
                    yield event
            elif holding_silent:
                deferred.append(item)
            elif item is _END or speech.read_all:
                speech.read_all = True  # nothing after the end (or an error) is read
            elif isinstance(item, TurnEnd):
                speech.end = item
            else:
                yield item  # type: ignore[misc]
                if isinstance(item, AnswerSentence | HoldingPhrase):
                    speech.in_flight += 1
                    if isinstance(item, AnswerSentence) and speech.handed is None:
                        speech.handed = time.perf_counter()
                    turn.say(item)
                    holding_silent = isinstance(item, HoldingPhrase)
                elif isinstance(item, TurnError):
                    speech.read_all = True
        for event in speech.finish():
            yield event
    except Exception as exc:  # e.g. the answer stream itself failed: never hang the turn
        log.warning("the turn failed", exc_info=True)
        yield TurnError("turn_failed", f"the turn failed: {exc}")
    finally:
        await turn.aclose()

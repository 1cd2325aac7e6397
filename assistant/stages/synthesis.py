"""Speech synthesis: each answer sentence spoken as it comes, while the model writes the next.

`speak()` is one chain of stages, an async generator over the answer's frames: each frame is
passed on, and an `AnswerSentence` (or a `HoldingPhrase`) is followed by its audio
(AudioStart once, AudioData..., then an AudioMark per answer sentence). One reader task and
one queue sit between the answer and its speech (`_ReadAhead`): the model's stream is read
while sentence 1 is synthesised, so sentence 2 is being written meanwhile and its text is
passed on between sentence 1's audio chunks (text runs ahead of audio, as before), and
stopping the turn cancels the reader where the answer waits, which closes the model's
stream at once.
The synthesizer runs in one worker thread per turn, a chunk at a time (a TTS engine's
generator stays on one thread: some keep thread-local state such as torch's grad mode), so
closing or cancelling the consumer stops the model at its next token and the voice at its
next chunk. `TurnEnd` comes last, after AudioEnd, with `first_audio` added to its
timings (measured here, once: from the start of the turn's answer to its first audio chunk).

A `HoldingPhrase` ("好，我幫你查下。", said when the model is slow) is spoken the same way, so
before the answer's first sentence; its audio is `AudioData(holding=True)` and its first
chunk is timed as `acknowledgement_audio`, never as `first_audio`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
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


class _VoiceThread:
    """One worker thread for a turn's synthesis: `chunks()` runs the synthesizer's generator
    there a chunk at a time; a cancelled consumer leaves at once, and the generator is closed
    on that thread after the chunk in flight (the executor runs its jobs in order)."""

    def __init__(self, voice: Synthesizer, language: SpokenLanguage) -> None:
        self.voice, self.language = voice, language
        self._pool: ThreadPoolExecutor | None = None

    async def chunks(self, text: str) -> AsyncIterator[AudioChunk]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="tts-synthesize")
        pool = self._pool
        produced = await asyncio.wrap_future(
            pool.submit(self.voice.synthesize, text, self.language)
        )
        chunks = iter(produced)
        try:
            while (chunk := await asyncio.wrap_future(pool.submit(next, chunks, _END))) is not _END:
                yield chunk  # type: ignore[misc]
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                pool.submit(close)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


class _ReadAhead:
    """The answer's frames, read by a task of their own into one queue, so the model's stream
    keeps being read (and its text passed on) while a sentence is synthesised, and so that
    stopping the turn stops the model at once: the task is cancelled wherever the answer
    waits (an await deep in the generation) and every generator in it closes there. (Closing
    the answer's generator instead would leave the generators it iterates to the garbage
    collector: a held model would stay open.)"""

    def __init__(self, events: AsyncIterator[TurnEvent]) -> None:
        self._queue: asyncio.Queue[TurnEvent | _Failure | object] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump(events), name="answer")

    async def _pump(self, events: AsyncIterator[TurnEvent]) -> None:
        try:
            async with aclosing(events):
                async for event in events:
                    self._queue.put_nowait(event)
        except Exception as exc:  # handed to the consumer and raised there
            self._queue.put_nowait(_Failure(exc))
        finally:
            self._queue.put_nowait(_END)

    async def next(self) -> TurnEvent | object:
        return self._take(await self._queue.get())

    def ready(self) -> list[TurnEvent | object]:
        """What is already read, without waiting."""
        items = []
        while not self._queue.empty():
            items.append(self._take(self._queue.get_nowait()))
        return items

    @staticmethod
    def _take(item: TurnEvent | _Failure | object) -> TurnEvent | object:
        if isinstance(item, _Failure):
            raise item.exc
        return item

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.wait({self._task})


class _Failure:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc


@dataclass
class _Speech:
    """What the speaking loop knows: the sentences still to say, what was said, the end."""

    sample_rate: int
    start: float = field(default_factory=time.perf_counter)
    to_say: deque[AnswerSentence | HoldingPhrase] = field(default_factory=deque)
    timed: dict[str, float] = field(default_factory=dict)  # first_audio, acknowledgement_audio
    end: TurnEnd | None = None  # waits for the audio
    read_all: bool = False  # the answer ended (or failed): nothing more to read
    started: bool = False  # AudioStart was sent
    done: int = 0  # answer sentences whose audio has been put out (or that had none)

    def take(self, items: list[TurnEvent | object]) -> list[TurnEvent]:
        """Answer frames in: those to pass on now (all but TurnEnd, which waits)."""
        out: list[TurnEvent] = []
        for item in items:
            if item is _END or self.read_all:
                self.read_all = True
                continue
            assert not isinstance(item, _Failure)
            if isinstance(item, TurnEnd):
                self.end = item
                continue
            if isinstance(item, AnswerSentence | HoldingPhrase):
                self.to_say.append(item)
            elif isinstance(item, TurnError):
                self.read_all = True  # nothing after an error is read
            out.append(item)  # type: ignore[arg-type]
        return out

    def audio(self, chunk: AudioChunk, holding: bool) -> list[TurnEvent]:
        out: list[TurnEvent] = []
        if not self.started:
            out.append(AudioStart(sample_rate=self.sample_rate))
            self.started = True
        timing = "acknowledgement_audio" if holding else "first_audio"
        if timing not in self.timed:
            self.timed[timing] = round((time.perf_counter() - self.start) * 1000, 1)
        out.append(AudioData(_resampled(chunk, self.sample_rate), holding))
        return out

    def said(self, item: AnswerSentence | HoldingPhrase) -> list[TurnEvent]:
        if isinstance(item, HoldingPhrase):
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
    answer = _ReadAhead(events)
    thread = _VoiceThread(voice, language)
    try:
        while True:
            for event in speech.take(answer.ready()):
                yield event
            if speech.to_say:
                item = speech.to_say.popleft()
                chunks = thread.chunks(item.text)
                try:
                    while (chunk := await _next_chunk(chunks, item.text)) is not None:
                        for event in speech.audio(chunk, isinstance(item, HoldingPhrase)):
                            yield event
                        for event in speech.take(answer.ready()):  # text runs ahead of audio
                            yield event
                finally:
                    await chunks.aclose()
                for event in speech.said(item):
                    yield event
            elif speech.read_all:
                break
            else:
                for event in speech.take([await answer.next()]):
                    yield event
        for event in speech.finish():
            yield event
    except Exception as exc:  # e.g. the answer stream itself failed: never hang the turn
        log.warning("the turn failed", exc_info=True)
        yield TurnError("turn_failed", f"the turn failed: {exc}")
    finally:
        await answer.aclose()
        thread.close()


async def _next_chunk(chunks: AsyncIterator[AudioChunk], text: str) -> AudioChunk | None:
    """The next chunk of a sentence's audio; None at its end, or when it cannot be spoken
    (one unspeakable sentence: its text was shown, the answer goes on)."""
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None
    except Exception:
        log.warning("could not speak %r", text[:80], exc_info=True)
        return None

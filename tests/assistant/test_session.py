"""VoiceSession with the real recogniser (Whisper base + Silero VAD), the real assistant (the
embedded LLM over the knowledge base) and real voices: turns, barge-in, the echo guard and
conversation memory. Audio is the real speech in ../shared/fixtures/audio, fed at real time.

Timing figures (cancel latency, voice-to-voice) are measured by bench/server_latency.py;
these tests assert behaviour: the answer is cancelled, its audio stops, the next turn runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from assistant.session import (
    Interrupted,
    SessionConfig,
    SessionEvent,
    SpeechStarted,
    TurnStarted,
    VoiceSession,
)
from assistant.types import (
    AnswerDelta,
    AudioData,
    AudioStart,
    FinalTranscript,
    PartialTranscript,
    SourcesFound,
    TurnEnd,
)
from voices.streaming import AsyncStreamingRecognizer, StreamingRecognizer

FRAME_S = 0.04
# Out of scope for every collection: the evidence gate redirects at once (no LLM), and the
# redirect is spoken, so these turns give audio to talk over in about a second.
OFF_TOPIC = "What colour is the planet Neptune at night?"


class Transcript:
    """The events a session emitted, with helpers to wait for one."""

    def __init__(self) -> None:
        self.items: list[tuple[float, SessionEvent]] = []
        self._changed = asyncio.Event()

    async def emit(self, item: SessionEvent) -> None:
        self.items.append((time.monotonic(), item))
        self._changed.set()

    def events(self, kind: type, turn: int | None = None) -> list[Any]:
        return [
            e.event
            for _, e in self.items
            if isinstance(e.event, kind) and (turn is None or e.turn_id == turn)
        ]

    def index(self, predicate: Callable[[SessionEvent], bool]) -> int:
        return next(i for i, (_, e) in enumerate(self.items) if predicate(e))

    async def wait(self, predicate: Callable[[SessionEvent], bool], timeout: float = 240) -> Any:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for _, item in self.items[seen:]:
                if predicate(item):
                    return item
            seen = len(self.items)
            left = deadline - time.monotonic()
            if left <= 0:
                kinds = [type(e.event).__name__ for _, e in self.items]
                raise AssertionError(f"timed out; events: {kinds[-30:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=left)


def is_(kind: type, turn: int | None = None) -> Callable[[SessionEvent], bool]:
    return lambda e: isinstance(e.event, kind) and (turn is None or e.turn_id == turn)


def speech(path: Path) -> bytes:
    audio, rate = soundfile.read(str(path), dtype="int16")
    assert rate == 16_000
    return np.asarray(audio, dtype="<i2").tobytes()


async def talk(session: VoiceSession, pcm: bytes, *, silence_s: float = 1.2) -> None:
    """Feed PCM16 at real time in 40 ms frames, like a microphone, then some silence."""
    step = int(16_000 * FRAME_S) * 2
    pcm = pcm + b"\x00\x00" * int(16_000 * silence_s)
    for i in range(0, len(pcm), step):
        await session.feed_audio(pcm[i : i + step])
        await asyncio.sleep(FRAME_S)


@pytest.fixture
def make_session(transcriber, vad_model, serving_engines):
    async def make(collection: str = "speech", **config: Any) -> tuple[VoiceSession, Transcript]:
        log = Transcript()
        assistant = serving_engines.assistant

        def run_turn(question: str, *, language, conversation):
            return assistant.answer_spoken(
                question, language=language, collection=collection, conversation=conversation
            )

        core = StreamingRecognizer(transcriber, sample_rate=16_000, vad_model=vad_model)
        session = VoiceSession(
            recognizer=AsyncStreamingRecognizer(core),
            run_turn=run_turn,
            conversation=assistant.new_conversation(),
            emit=log.emit,
            config=SessionConfig(**config),
        )
        await session.start()
        return session, log

    return make


class HeldModel:
    """The real model, held after its first token until `release` is set.

    The barge-in test decides when the answer may speak, whatever the CPU's speed: were its
    first sentence spoken before the caller's speech cut it, memory would keep turn 1 (what
    the caller heard) and the next question would be rewritten as a follow-up of it. The
    model really runs (prompt read, first token written) and the barge-in closes its stream.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writing = asyncio.Event()  # the first token was written
        self.release = asyncio.Event()
        self.closed = 0  # streams closed before their end

    def __getattr__(self, name: str) -> Any:  # name, can_prefill, prefill: the real model's
        return getattr(self.inner, name)

    async def stream(self, messages, *, max_tokens: int, temperature: float):
        tokens = self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature)
        try:
            async for token in tokens:
                self.writing.set()
                await self.release.wait()
                yield token
        except (asyncio.CancelledError, GeneratorExit):
            self.closed += 1
            raise
        finally:
            await tokens.aclose()


@pytest.fixture
def held_model(serving_engines, monkeypatch) -> HeldModel:
    """serving_engines' assistant answering with a HeldModel (undone after the test)."""
    assistant = serving_engines.assistant
    held = HeldModel(assistant.generator)
    monkeypatch.setattr(assistant, "generator", held)
    monkeypatch.setattr(assistant.answerer, "generator", held)
    return held


@pytest.mark.timeout(600)
async def test_barge_in_cancels_the_answer_and_the_new_utterance_becomes_the_next_turn(
    make_session, held_model: HeldModel, shared_audio: Path
) -> None:
    session, log = await make_session(barge_in_guard_s=0.0)
    try:
        await session.ask("When are the counters open?")
        await log.wait(is_(SourcesFound, 1))
        await asyncio.wait_for(held_model.writing.wait(), 240)  # the model is writing now
        assert session.answering

        await talk(session, speech(shared_audio / "0-en.wav"))
        interrupted = await log.wait(is_(Interrupted))
        first = session.turn(1)
        assert first is not None and first.task is not None
        await asyncio.wait([first.task], timeout=60)
        assert held_model.closed == 1  # the barge-in stopped the real model's stream
        held_model.release.set()  # turn 2 answers freely
        assert interrupted.event.interrupted_turn == 1
        assert interrupted.event.reason == "barge_in"
        assert not log.events(TurnEnd, 1)  # turn 1 was cancelled, not finished
        cut = log.index(is_(Interrupted))
        assert not [
            e for _, e in log.items[cut:] if e.turn_id == 1 and e.event is not interrupted.event
        ]
        assert log.index(is_(SpeechStarted)) < cut

        final = await log.wait(is_(FinalTranscript))
        words = final.event.text.lower()
        assert "nightfall" in words or "lamps" in words, final.event.text
        started = await log.wait(is_(TurnStarted, 2))
        assert started.event.input == "voice"
        end = await log.wait(is_(TurnEnd, 2))
        sources = log.events(SourcesFound, 2)[0].sources
        assert "street-lamps.md" in [s.doc_id for s in sources]
        assert log.events(AudioData, 2)
        assert end.event.timings["voice_to_voice"] > 0 and end.event.timings["asr"] > 0
        remembered = [q for q, _ in session.conversation.history]
        assert len(remembered) == 1 and "counters" not in remembered[0].lower()
    finally:
        await session.close()


@pytest.mark.timeout(600)
async def test_typed_turns_share_the_conversation(make_session) -> None:
    session, log = await make_session()
    try:
        conversation = session.conversation
        await session.ask("When are the counters open?")
        await log.wait(is_(TurnEnd, 1))
        await session.ask(OFF_TOPIC)
        await log.wait(is_(TurnEnd, 2))
        assert session.conversation is conversation
        assert len(conversation.history) >= 1
        assert "counters" in conversation.history[0][0].lower()
        assert [t.input for t in log.events(TurnStarted)] == ["text", "text"]
    finally:
        await session.close()


@pytest.mark.timeout(300)
async def test_speech_during_playback_stops_it_unless_within_the_echo_guard(
    make_session, shared_audio: Path
) -> None:
    # guard longer than the answer: the caller's speech does not barge in (echo protection);
    # its final transcript still becomes the next question, which replaces the old answer.
    guarded, log = await make_session(barge_in_guard_s=60.0)
    try:
        await guarded.ask(OFF_TOPIC)
        await log.wait(is_(AudioStart, 1))
        await talk(guarded, speech(shared_audio / "1-zh.wav"))
        await log.wait(is_(SpeechStarted))
        await log.wait(is_(FinalTranscript))
        assert [i.reason for i in log.events(Interrupted)] in ([], ["new_question"])
    finally:
        await guarded.close()

    # no guard: speech while the answer is still playing on the caller's side interrupts it
    session, log = await make_session(barge_in_guard_s=0.0)
    try:
        await session.ask(OFF_TOPIC)
        await log.wait(is_(AudioStart, 1))
        await log.wait(is_(TurnEnd, 1))  # all audio sent; the caller is still hearing it
        await talk(session, speech(shared_audio / "1-zh.wav")[: 16_000 * 2 * 2], silence_s=0)
        interrupted = await log.wait(is_(Interrupted))
        assert interrupted.event.interrupted_turn == 1
        assert interrupted.event.reason == "barge_in"
    finally:
        await session.close()


async def test_silence_makes_no_turn(make_session) -> None:
    session, log = await make_session()
    try:
        await talk(session, b"\x00\x00" * 16_000, silence_s=0.5)
        await session.end_of_speech()
        final = await log.wait(is_(FinalTranscript), timeout=60)
        assert final.event.text == ""
        await asyncio.sleep(0.2)
        assert not log.events(TurnStarted)
    finally:
        await session.close()


async def test_audio_is_stored_only_when_configured(
    make_session, shared_audio: Path, tmp_path: Path
) -> None:
    stored = tmp_path / "audio"
    session, log = await make_session(audio_dir=stored)
    try:
        await talk(session, speech(shared_audio / "0-en.wav"), silence_s=0)
        await session.end_of_speech()
        await log.wait(is_(TurnStarted))
        await session.cancel_turn()
    finally:
        await session.close()
    files = list(stored.glob("*.wav"))
    assert len(files) == 1
    info = soundfile.info(str(files[0]))
    assert info.samplerate == 16_000 and info.duration > 5.0


# ---- the same session on fakes (tests/fakes.py): the pipeline's own logic, in milliseconds --
# The recogniser is the real streaming core with a loudness VAD and a scripted transcriber; the
# assistant is the real one over the demo corpus with a scripted generator and a fake voice; the
# session's clock advances 20 ms with each 20 ms frame fed.


class FakeCall:
    """A session over fakes, fed on a scripted timeline."""

    def __init__(self, session: VoiceSession, log: Transcript, clock, generator) -> None:
        self.session, self.log, self.clock, self.generator = session, log, clock, generator
        self.retrievals: list[str] = []  # the queries the knowledge base was asked

    async def say(self, speech_ms: float, *, pause_ms: float = 800) -> None:
        from tests.fakes import frames, silence, tone

        for frame in frames(tone(speech_ms) + silence(pause_ms)):
            self.clock.advance(0.02)
            await self.session.feed_audio(frame)


@pytest.fixture
def fake_call(fake_kb):
    from assistant.turn import Assistant
    from tests.fakes import (
        FakeGenerator,
        FakeTranscriber,
        FakeVadModel,
        FakeVoices,
        ManualClock,
        fake_engines,
    )

    calls: list[FakeCall] = []

    async def make(
        *utterances: str,
        generator: FakeGenerator | None = None,
        assistant_settings: Any = None,
        partial: str | None = None,
        **config: Any,
    ) -> FakeCall:
        generator = generator or FakeGenerator()
        engines = fake_engines(fake_kb, generator=generator, settings=assistant_settings)
        assistant: Assistant = engines.assistant
        clock = ManualClock()
        transcriber = FakeTranscriber.saying(*utterances)
        transcriber.partial = partial
        core = StreamingRecognizer(transcriber, vad_model=FakeVadModel(), clock=clock)
        log = Transcript()
        session = VoiceSession(
            recognizer=AsyncStreamingRecognizer(core),
            run_turn=engines.turn_runner("demo"),
            conversation=assistant.new_conversation(),
            emit=log.emit,
            config=SessionConfig(**config),
            clock=clock,
            speculate=engines.speculator("demo"),
        )
        assert isinstance(engines.voices, FakeVoices)
        await session.start()
        call = FakeCall(session, log, clock, generator)
        retriever_for = assistant.answerer.retriever_for

        def counting(name: str):  # every retrieval, speculative or not, goes through here
            retriever = retriever_for(name)
            real = retriever.retrieve

            def retrieve(query, options):
                call.retrievals.append(query)
                return real(query, options)

            retriever.retrieve = retrieve
            return retriever

        assistant.answerer.retriever_for = counting
        calls.append(call)
        return call

    return make


async def test_fake_voice_turn_frames_come_in_order(fake_call) -> None:
    call = await fake_call("How much is the passport fee?")
    try:
        await call.say(600)
        end = await call.log.wait(is_(TurnEnd, 1), timeout=30)
        kinds = [type(e.event).__name__ for _, e in call.log.items]
        first = {k: kinds.index(k) for k in set(kinds)}
        order = ["SpeechStarted", "FinalTranscript", "TurnStarted", "SourcesFound"]
        order += ["AnswerDelta", "AnswerSentence", "AudioStart", "AudioData", "AudioEnd"]
        assert [first[k] for k in order] == sorted(first[k] for k in order), kinds
        assert kinds[-1] == "TurnEnd"
        assert end.event.outcome in ("model", "extractive_fallback")
        assert end.event.timings["voice_to_voice"] >= 0 and "asr" in end.event.timings
        assert call.log.events(FinalTranscript)[0].language == "en"
    finally:
        await call.session.close()


async def test_fake_barge_in_stops_the_model_and_the_words_become_the_next_turn(fake_call) -> None:
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=3)
    call = await fake_call("what about for a child", generator=generator, barge_in_guard_s=0.0)
    try:
        await call.session.ask("How much is the passport fee?")
        await asyncio.wait_for(generator.held.wait(), 30)  # the model is mid-answer
        await call.say(600)
        interrupted = await call.log.wait(is_(Interrupted), timeout=30)
        assert interrupted.event.reason == "barge_in" and interrupted.event.interrupted_turn == 1
        assert generator.closed == 1  # the model's stream was closed
        started = await call.log.wait(is_(TurnStarted, 2), timeout=30)
        assert started.event.question == "what about for a child"
        assert not call.log.events(TurnEnd, 1)
        assert call.session.interrupted(1) and not call.session.interrupted(2)
    finally:
        await call.session.close()


async def test_fake_acknowledgement_does_not_stop_the_answer(fake_call) -> None:
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=3)
    call = await fake_call("嗯", generator=generator, barge_in_guard_s=0.0)
    try:
        await call.session.ask("How much is the passport fee?")
        await asyncio.wait_for(generator.held.wait(), 30)
        await call.say(300)
        final = await call.log.wait(is_(FinalTranscript), timeout=30)
        assert final.event.text == "嗯"
        generator.release.set()
        await call.log.wait(is_(TurnEnd, 1), timeout=30)
        assert not call.log.events(Interrupted)
        assert len(call.log.events(TurnStarted)) == 1  # 嗯 made no turn
    finally:
        await call.session.close()


async def test_fake_acknowledgement_interrupts_when_configured_to_stop_on_speech(
    fake_call,
) -> None:
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=3)
    call = await fake_call("嗯", generator=generator, barge_in_guard_s=0.0, barge_in_on="speech")
    try:
        await call.session.ask("How much is the passport fee?")
        await asyncio.wait_for(generator.held.wait(), 30)
        await call.say(300)
        interrupted = await call.log.wait(is_(Interrupted), timeout=30)
        assert interrupted.event.reason == "barge_in"
    finally:
        await call.session.close()


async def test_fake_echo_guard_ignores_speech_right_after_the_audio_starts(fake_call) -> None:
    from tests.fakes import FakeGenerator

    # the first sentence is spoken, then the model holds: the answer is playing
    generator = FakeGenerator.replying(
        "Passports are issued by the Immigration Department. It takes ten working days.",
        hold_at=7,
    )
    call = await fake_call("and for a child", generator=generator, barge_in_guard_s=5.0)
    try:
        await call.session.ask("Who issues passports?")
        await call.log.wait(is_(AudioData, 1), timeout=30)
        await call.say(600)  # 0.6 s after the audio started: inside the 5 s guard
        await call.log.wait(is_(FinalTranscript), timeout=30)
        await call.log.wait(is_(TurnStarted, 2), timeout=30)
        assert [i.reason for i in call.log.events(Interrupted)] == ["new_question"]
    finally:
        await call.session.close()


async def test_fake_playback_report_keeps_only_the_heard_part_in_memory(fake_call) -> None:
    from assistant.frames import Playback
    from tests.fakes import FakeGenerator

    generator = FakeGenerator.replying(
        "Passports are issued by the Immigration Department. "
        "Applications can be made online. Collection is in person.",
        hold_at=14,
    )
    call = await fake_call(generator=generator)
    try:
        await call.session.ask("Who issues passports?")
        await asyncio.wait_for(generator.held.wait(), 30)
        said = [e.delta for e in call.log.events(AnswerDelta, 1)]
        assert len(said) >= 2, said
        await call.session.send(Playback(turn_id=1, sentence=1, played_ms=500))
        await call.session.cancel_turn()
        await call.log.wait(is_(Interrupted), timeout=30)
        _question, answer = call.session.conversation.history[-1]
        # the first sentence (shown a few words at a time, then its end), not the rest
        assert answer == "Passports are issued by the Immigration Department [1]."
    finally:
        await call.session.close()


async def test_fake_speech_longer_than_an_acknowledgement_interrupts_without_its_words(
    fake_call,
) -> None:
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=3)
    # the recogniser would only ever say "嗯": the length of the speech alone decides
    call = await fake_call("嗯 嗯 嗯 嗯", generator=generator, barge_in_guard_s=0.0)
    try:
        await call.session.ask("How much is the passport fee?")
        await asyncio.wait_for(generator.held.wait(), 30)
        await call.say(1000, pause_ms=0)  # still speaking: no final yet
        interrupted = await call.log.wait(is_(Interrupted), timeout=30)
        assert interrupted.event.reason == "barge_in"
        assert not call.log.events(FinalTranscript)
    finally:
        await call.session.close()


async def test_fake_holding_phrase_is_spoken_and_barge_in_stops_it(fake_call) -> None:
    from assistant.config import AssistantSettings
    from assistant.types import HoldingPhrase
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=0)  # a slow model: never released here
    call = await fake_call(
        "what about for a child",
        generator=generator,
        assistant_settings=AssistantSettings(acknowledge_after_s=0.001),
        barge_in_guard_s=0.0,
    )
    try:
        await call.session.ask("How much is the passport fee?")
        await call.log.wait(is_(HoldingPhrase, 1), timeout=30)
        await call.log.wait(lambda e: isinstance(e.event, AudioData) and e.event.holding, 30)
        await call.say(600)  # the caller talks over the phrase
        interrupted = await call.log.wait(is_(Interrupted), timeout=30)
        assert interrupted.event.interrupted_turn == 1 and interrupted.event.reason == "barge_in"
        assert generator.closed == 1  # the model waiting behind the phrase was stopped
        await call.log.wait(is_(TurnStarted, 2), timeout=30)
        assert not call.log.events(AnswerDelta, 1) and not call.session.conversation.history
    finally:
        await call.session.close()


async def test_fake_voice_to_voice_times_the_answer_not_the_holding_phrase(fake_call) -> None:
    from assistant.config import AssistantSettings
    from assistant.types import HoldingPhrase
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=0)
    call = await fake_call(
        "How much is the passport fee?",
        generator=generator,
        assistant_settings=AssistantSettings(acknowledge_after_s=0.001),
    )
    try:
        await call.say(600)
        await call.log.wait(lambda e: isinstance(e.event, AudioData) and e.event.holding, 30)
        call.clock.advance(2.0)  # the caller hears the phrase; the model is still busy
        generator.release.set()
        end = (await call.log.wait(is_(TurnEnd, 1), timeout=30)).event
        assert len(call.log.events(HoldingPhrase, 1)) == 1
        # the session's clock moved 2 s between the phrase's audio and the answer's
        assert end.timings["voice_to_voice"] >= 2000
        phrase = call.log.events(HoldingPhrase, 1)[0].text
        assert phrase not in end.answer
        assert [a for _q, a in call.session.conversation.history] == [end.answer]
    finally:
        await call.session.close()


async def _speak_until_partials(call: FakeCall, count: int) -> None:
    """Speech, fed until the recogniser has given `count` partial transcripts (partials are
    decoded in the worker while the caller speaks; the timeline waits for them)."""
    from tests.fakes import frames, tone

    for n in range(1, count + 1):
        for frame in frames(tone(600)):
            call.clock.advance(0.02)
            await call.session.feed_audio(frame)
        await call.log.wait(lambda e, n=n: len(call.log.events(PartialTranscript)) >= n, 30)


async def _pause(call: FakeCall) -> None:
    from tests.fakes import frames, silence

    for frame in frames(silence(800)):
        call.clock.advance(0.02)
        await call.session.feed_audio(frame)


async def test_fake_retrieval_on_a_stable_partial_is_reused_by_the_turn(fake_call) -> None:
    question = "How much is the passport fee?"
    call = await fake_call(question, partial="How much is the passport fee")
    try:
        await _speak_until_partials(call, 2)  # two agreeing partials: stable
        (speculation,) = call.session.speculator.started
        await speculation.hits  # retrieved while the caller was still speaking
        assert call.retrievals == ["How much is the passport fee"]
        await _pause(call)
        end = await call.log.wait(is_(TurnEnd, 1), timeout=30)
        assert speculation.outcome == "reused"
        assert call.retrievals == ["How much is the passport fee"]  # not retrieved again
        sources = call.log.events(SourcesFound, 1)[0].sources
        assert sources and end.event.outcome in ("model", "extractive_fallback")
    finally:
        await call.session.close()


async def test_fake_the_pause_decode_starts_retrieval_before_the_end_of_turn(fake_call) -> None:
    # partials that never agree (half the words): only the pause's speculative final speculates
    from tests.fakes import frames, silence

    question = "How much is the passport fee?"
    call = await fake_call(question)
    core = call.session.recognizer.core
    core.settings = core.settings.model_copy(update={"speculative_final": True})  # off by default
    try:
        await _speak_until_partials(call, 1)
        assert not call.session.speculator.started
        for frame in frames(silence(300)):  # a pause, not yet the end of the turn
            call.clock.advance(0.02)
            await call.session.feed_audio(frame)
        candidate = await call.log.wait(
            lambda e: isinstance(e.event, PartialTranscript) and e.event.candidate is not None, 30
        )
        assert candidate.event.text == question
        (speculation,) = call.session.speculator.started  # before the end of the turn
        assert not call.log.events(TurnEnd)
        await _pause(call)
        await call.log.wait(is_(TurnEnd, 1), timeout=30)
        assert speculation.question == question and speculation.outcome == "reused"
        assert call.retrievals == [question]  # retrieved once, ahead of the end of turn
        assert call.session.recognizer.core.speculations_reused == 1
    finally:
        await call.session.close()


async def test_fake_retrieval_on_a_partial_the_final_contradicts_is_discarded(fake_call) -> None:
    question = "How much is the passport fee?"
    call = await fake_call(question, partial="Where do I renew my identity card")
    try:
        await _speak_until_partials(call, 2)
        (speculation,) = call.session.speculator.started
        await _pause(call)
        await call.log.wait(is_(TurnEnd, 1), timeout=30)
        assert speculation.outcome == "discarded"
        assert call.retrievals[-1] == question  # the turn retrieved for what was asked
        assert call.retrievals.count(question) == 1
    finally:
        await call.session.close()


async def test_fake_no_speculation_while_the_caller_talks_over_an_answer(fake_call) -> None:
    from tests.fakes import FakeGenerator

    generator = FakeGenerator(hold_at=2)  # an answer in progress
    call = await fake_call(
        "How much is the passport fee?",
        generator=generator,
        partial="mm hmm ok",
        barge_in_guard_s=0,
        barge_in_min_speech_s=5.0,  # only words interrupt here, and "mm hmm ok" does not
    )
    try:
        await call.session.ask("Who issues passports?")
        await asyncio.wait_for(generator.held.wait(), 30)
        await _speak_until_partials(call, 2)
        assert not call.log.events(Interrupted)  # still answering
        assert not call.session.speculator.started  # 嗯 over an answer is not a question yet
    finally:
        generator.release.set()
        await call.session.close()


async def test_fake_spoken_language_follows_the_conversation_not_a_stray_word(fake_call) -> None:
    call = await fake_call(
        ("護照要幾多錢？", "yue"), ("OK sure", "en"), ("How much is the passport fee?", "en")
    )
    try:
        for turn in (1, 2, 3):
            await call.say(600)
            await call.log.wait(is_(TurnEnd, turn), timeout=30)
        heard = [final.language for final in call.log.events(FinalTranscript)]
        assert heard == ["yue", "yue", "en"]  # two English words do not switch; a sentence does
    finally:
        await call.session.close()


async def test_fake_a_stable_partial_is_prefilled_and_the_turn_says_so(fake_call) -> None:
    from tests.fakes import PrefillingGenerator

    question = "How much is the passport fee?"
    generator = PrefillingGenerator()
    call = await fake_call(question, partial="How much is the passport fee", generator=generator)
    try:
        await _speak_until_partials(call, 2)
        (speculation,) = call.session.speculator.started
        assert speculation.prefill is not None and await speculation.prefill
        await _pause(call)
        end = await call.log.wait(is_(TurnEnd, 1), timeout=30)
        assert speculation.outcome == "reused" and len(generator.prefilled) == 1
        assert "prefill" in end.event.timings
    finally:
        await call.session.close()

"""Speech synthesis: each sentence spoken in order, TurnEnd last with first_audio."""

from __future__ import annotations

import asyncio

from assistant.frames import (
    AnswerDelta,
    AnswerSentence,
    AudioData,
    AudioEnd,
    AudioMark,
    AudioStart,
    HoldingPhrase,
    SourcesFound,
    TurnEnd,
    TurnError,
)
from assistant.stages.synthesis import speak
from tests.fakes import FakeSynthesizer


async def _events():
    yield SourcesFound([])
    yield AnswerSentence("First sentence.")
    yield AnswerSentence("Second one.")
    yield TurnEnd("First sentence. Second one.", False, "en", {"total": 1.0})


async def test_sentences_are_spoken_in_order_and_turn_end_comes_last() -> None:
    voice = FakeSynthesizer(ms_per_char=10)
    out = [event async for event in speak(_events(), voice, "en")]
    kinds = [type(e) for e in out]
    assert kinds[0] is SourcesFound and kinds[-1] is TurnEnd
    assert kinds.index(AudioStart) < kinds.index(AudioData) < kinds.index(AudioEnd)
    assert voice.spoken == ["First sentence.", "Second one."]
    pcm = b"".join(e.pcm for e in out if isinstance(e, AudioData))
    assert len(pcm) == 2 * 16_000 * len("First sentence.Second one.") // 100
    assert out[-1].timings["first_audio"] >= 0 and out[-1].timings["total"] == 1.0


async def test_sentence_audio_is_spoken_while_the_model_still_writes() -> None:
    release = asyncio.Event()  # the model writes sentence 2 only once sentence 1 was spoken

    async def writer():
        yield AnswerSentence("First sentence.")
        await release.wait()
        yield AnswerSentence("Second one.")
        yield TurnEnd("First sentence. Second one.", False, "en", {})

    out = []
    async with asyncio.timeout(10):  # speech waiting for the writer would hang here
        async for event in speak(writer(), FakeSynthesizer(ms_per_char=10), "en"):
            out.append(event)
            if event == AudioMark(1):
                release.set()
    assert out.index(AudioMark(1)) < out.index(AnswerSentence("Second one."))
    assert out[-2:] == [AudioEnd(), out[-1]] and isinstance(out[-1], TurnEnd)


async def test_text_runs_ahead_of_the_audio_of_the_sentence_before() -> None:
    async def writer():
        for text in ("First sentence.", "Second one."):
            yield AnswerDelta(text)
            yield AnswerSentence(text)
        yield TurnEnd("First sentence. Second one.", False, "en", {})

    voice = FakeSynthesizer(ms_per_char=100)  # 15 chunks for the first sentence
    out = [event async for event in speak(writer(), voice, "en")]
    assert out.index(AnswerDelta("Second one.")) < out.index(AudioMark(1))
    assert [e.sentences for e in out if isinstance(e, AudioMark)] == [1, 2]
    assert voice.spoken == ["First sentence.", "Second one."]


async def test_closing_the_spoken_turn_closes_the_model_stream_at_once() -> None:
    closed = asyncio.Event()

    async def writer():
        try:
            yield AnswerSentence("First sentence.")
            await asyncio.Event().wait()  # a model that never writes again
        finally:
            closed.set()

    stream = speak(writer(), FakeSynthesizer(), "en")
    async for event in stream:
        if isinstance(event, AudioData):
            break  # the consumer stops, as a barge-in's cancel does
    await stream.aclose()
    assert closed.is_set()  # not left to the garbage collector


async def test_a_failing_answer_stream_ends_the_turn_with_an_error() -> None:
    async def writer():
        yield AnswerSentence("First sentence.")
        raise RuntimeError("the knowledge base went away")

    out = [event async for event in speak(writer(), FakeSynthesizer(), "en")]
    assert isinstance(out[-1], TurnError) and out[-1].code == "turn_failed"
    assert out[0] == AnswerSentence("First sentence.")  # what came before is passed on


async def test_the_answer_waits_for_the_holding_phrase_to_be_heard_first() -> None:
    async def writer():
        yield HoldingPhrase("Sure, let me check.", "en")
        yield AnswerDelta("Passports cost HK$460.")  # the model answered at once after all
        yield AnswerSentence("Passports cost HK$460.")
        yield TurnEnd("Passports cost HK$460.", False, "en", {})

    out = [event async for event in speak(writer(), FakeSynthesizer(), "en")]
    first_audio = next(i for i, e in enumerate(out) if isinstance(e, AudioData))
    assert out[first_audio].holding and first_audio < out.index(
        AnswerDelta("Passports cost HK$460.")
    )
    timings = out[-1].timings
    assert timings["acknowledgement_audio"] <= timings["first_audio"]

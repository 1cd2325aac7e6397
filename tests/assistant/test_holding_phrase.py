"""The holding phrase ("好，我幫你查下。", issues 10 and 14): said once when the model has no
answer sentence `acknowledge_after_s` after the evidence gate passed; never for a refusal or a
fast answer; spoken, but not part of the answer text, the memory or the answer's timings.

Fakes on a scripted timeline (tests/fakes.py): the generator is held before its first word and
released by the test when it sees the phrase, so "slow" is a fact, not a race."""

from __future__ import annotations

import asyncio

import pytest

from assistant.config import AssistantSettings
from assistant.preempt import ACKNOWLEDGEMENTS
from assistant.turn import Assistant
from assistant.types import (
    AnswerDelta,
    AudioData,
    HoldingPhrase,
    SpokenLanguage,
    TurnEnd,
    TurnEvent,
)
from tests.fakes import FakeGenerator, FakeSynthesizer, FakeVoices

QUESTION = "How much is the passport fee?"
# no term of it is in the demo corpus (the fake embedder is hashed words): the gate refuses
OFF_TOPIC = "Qwertyuiop zxcvbnm asdfghjkl?"


def assistant_over(
    fake_kb, generator: FakeGenerator, after_s: float | None, **settings: float
) -> Assistant:
    voices = FakeVoices(FakeSynthesizer())
    return Assistant(
        AssistantSettings(acknowledge_after_s=after_s, **settings),
        generator=generator,
        retriever_for=lambda name: fake_kb.collection(name).retriever(),
        collections=fake_kb.collections,
        voice_for=voices.voice,
    )


async def spoken_turn(
    assistant: Assistant, question: str, conversation, language: SpokenLanguage | None = None
) -> list[TurnEvent]:
    """The turn's events; a held generator is released when the phrase is heard (or, with no
    phrase to wait for, as soon as it is held)."""
    generator = assistant.generator
    assert isinstance(generator, FakeGenerator)
    events: list[TurnEvent] = []
    stream = assistant.answer_spoken(
        question, language=language, collection="demo", conversation=conversation
    )
    async for event in stream:
        events.append(event)
        if isinstance(event, HoldingPhrase):
            generator.release.set()
    return events


async def test_a_slow_model_gets_one_holding_phrase_before_its_first_sentence(fake_kb) -> None:
    generator = FakeGenerator(hold_at=0)  # holds before its first word until released
    assistant = assistant_over(fake_kb, generator, after_s=0.001)
    conversation = assistant.new_conversation()
    events = await asyncio.wait_for(spoken_turn(assistant, QUESTION, conversation), 30)

    holding = [e for e in events if isinstance(e, HoldingPhrase)]
    assert len(holding) == 1 and holding[0].text in ACKNOWLEDGEMENTS["en"]
    first_delta = next(i for i, e in enumerate(events) if isinstance(e, AnswerDelta))
    assert events.index(holding[0]) < first_delta
    # spoken first, as audio marked as the phrase's; the answer's audio follows
    voice = assistant.voice_for("en")  # type: ignore[misc]
    assert voice.spoken[0] == holding[0].text and len(voice.spoken) >= 2
    audio = [e for e in events if isinstance(e, AudioData)]
    assert audio[0].holding and not audio[-1].holding
    end = events[-1]
    assert isinstance(end, TurnEnd) and not end.refused
    assert holding[0].text not in end.answer and end.answer
    assert all(holding[0].text not in e.delta for e in events if isinstance(e, AnswerDelta))
    # its own timings: the answer's first audio is the answer's, after the phrase's
    assert end.timings["acknowledgement"] <= end.timings["first_sentence"]
    assert end.timings["acknowledgement_audio"] <= end.timings["first_audio"]
    # the memory keeps the answer only
    assert [answer for _q, answer in conversation.history] == [end.answer]


async def test_a_fast_model_gets_no_holding_phrase(fake_kb) -> None:
    generator = FakeGenerator()  # answers at once
    assistant = assistant_over(fake_kb, generator, after_s=AssistantSettings().acknowledge_after_s)
    events = await asyncio.wait_for(spoken_turn(assistant, QUESTION, None), 30)
    assert not [e for e in events if isinstance(e, HoldingPhrase)]
    assert not [e for e in events if isinstance(e, AudioData) and e.holding]
    end = events[-1]
    assert isinstance(end, TurnEnd) and "acknowledgement" not in end.timings


async def test_a_refusal_gets_no_holding_phrase(fake_kb) -> None:
    generator = FakeGenerator(hold_at=0)  # would hold forever: a refusal must not reach it
    assistant = assistant_over(fake_kb, generator, after_s=0.001)
    events = await asyncio.wait_for(spoken_turn(assistant, OFF_TOPIC, None), 30)
    end = events[-1]
    assert isinstance(end, TurnEnd) and end.refused
    assert not [e for e in events if isinstance(e, HoldingPhrase)]
    assert not generator.requests


@pytest.mark.parametrize("after_s", [0, None])
async def test_the_setting_disables_it(fake_kb, after_s: float | None) -> None:
    # were 0 a deadline it would be due at once, before the held model is released
    generator = FakeGenerator(hold_at=0)
    assistant = assistant_over(fake_kb, generator, after_s=after_s)
    turn = asyncio.create_task(spoken_turn(assistant, QUESTION, None))
    await asyncio.wait_for(generator.held.wait(), 30)
    generator.release.set()
    events = await asyncio.wait_for(turn, 30)
    assert not [e for e in events if isinstance(e, HoldingPhrase)]
    assert isinstance(events[-1], TurnEnd) and not events[-1].refused


async def test_the_phrase_is_in_the_callers_language_and_varies_by_turn(fake_kb) -> None:
    generator = FakeGenerator(hold_at=0)
    assistant = assistant_over(fake_kb, generator, after_s=0.001)
    conversation = assistant.new_conversation()
    said = []
    for _turn in range(2):
        generator.release, generator.held = asyncio.Event(), asyncio.Event()  # hold again
        events = await asyncio.wait_for(
            spoken_turn(assistant, QUESTION, conversation, language="cmn"), 30
        )
        said += [(e.text, e.language) for e in events if isinstance(e, HoldingPhrase)]
    assert said == [(ACKNOWLEDGEMENTS["cmn"][0], "cmn"), (ACKNOWLEDGEMENTS["cmn"][1], "cmn")]


async def test_stopping_the_turn_during_the_phrase_stops_the_model(fake_kb) -> None:
    generator = FakeGenerator(hold_at=0)  # never released: the caller stops it first
    assistant = assistant_over(fake_kb, generator, after_s=0.001)
    stream = assistant.answer_spoken(QUESTION, collection="demo")
    async for event in stream:
        if isinstance(event, AudioData) and event.holding:
            break  # the consumer stops, as a barge-in's cancel does
    await stream.aclose()
    assert generator.closed == 1  # the held model's stream was closed, not left running


async def test_a_model_that_never_answers_gets_the_phrase_then_the_quoted_fallback(
    fake_kb,
) -> None:
    generator = FakeGenerator(hold_at=0)  # never released: the first-token timeout ends it
    assistant = assistant_over(fake_kb, generator, after_s=0.001, first_token_timeout_s=0.05)
    conversation = assistant.new_conversation()
    stream = assistant.answerer.answer(QUESTION, collection="demo", conversation=conversation)
    events = [event async for event in stream]
    assert [type(e).__name__ for e in events].count("HoldingPhrase") == 1
    end = events[-1]
    assert isinstance(end, TurnEnd) and end.error == "timeout" and end.answer
    assert generator.closed == 1  # the timeout stopped the held model's stream
    phrase = next(e for e in events if isinstance(e, HoldingPhrase)).text
    assert phrase not in end.answer and phrase not in conversation.history[-1][1]


async def test_a_model_already_writing_gets_no_holding_phrase(fake_kb) -> None:
    """Its words flow before the deadline, its first sentence comes after: no phrase (it
    would be spoken before the sentence and take the CPU the model writes with)."""
    generator = FakeGenerator(hold_at=1)  # the first word at once, then held
    assistant = assistant_over(fake_kb, generator, after_s=0.01)
    events: list[TurnEvent] = []

    async def consume() -> None:
        async for event in assistant.answer_spoken(QUESTION, collection="demo"):
            events.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(generator.held.wait(), 30)
    await asyncio.sleep(0.05)  # the event loop passes the phrase's deadline (timer order)
    generator.release.set()
    await asyncio.wait_for(task, 30)
    assert not [e for e in events if isinstance(e, HoldingPhrase)]
    end = events[-1]
    assert isinstance(end, TurnEnd) and end.answer and "acknowledgement" not in end.timings

"""The answer's first sentence said a clause at a time (issue 14), on a scripted timeline: the
fake model is held in the middle of its first sentence, so "before the sentence ends" is a
fact, not a race. The checks themselves: tests/assistant/stages/test_release.py."""

from __future__ import annotations

import asyncio

from assistant.answerer import Conversation
from assistant.types import AnswerDelta, AnswerSentence, AudioData, TurnEnd, TurnEvent
from tests.fakes import FakeGenerator, fake_assistant

QUESTION = "How much is a 48-page passport?"
REPLY = "For a 48-page passport, the fee is HK$460 [1]. It is paid when you apply."


async def test_the_first_clause_is_shown_and_spoken_while_the_model_still_writes(fake_kb):
    generator = FakeGenerator.replying(REPLY, hold_at=4)  # held before "the fee is ..."
    assistant = fake_assistant(fake_kb, generator, speaking=True)
    events: list[TurnEvent] = []
    async for event in assistant.answer_spoken(
        QUESTION, language="en", collection="demo", conversation=Conversation()
    ):
        events.append(event)
        if isinstance(event, AudioData) and not generator.release.is_set():
            # the first clause is already being spoken, and the model has not gone on
            said = [e.text for e in events if isinstance(e, AnswerSentence)]
            assert said == ["For a 48-page passport,"]
            generator.release.set()
    assert generator.release.is_set()
    end = next(e for e in events if isinstance(e, TurnEnd))
    assert end.fallback is None
    display = "".join(e.delta for e in events if isinstance(e, AnswerDelta))
    assert display == end.answer
    assert display.startswith("For a 48-page passport, the fee is HK$460 [1]. It is paid")
    # later sentences are said whole
    assert [e.text for e in events if isinstance(e, AnswerSentence)][:3] == [
        "For a 48-page passport,",
        "the fee is HK$460.",
        "It is paid when you apply.",
    ]


async def test_an_invented_figure_clause_is_never_said_and_the_quote_follows(fake_kb):
    reply = "For a 48-page passport, the fee is HK$999, paid online. More text."
    generator = FakeGenerator.replying(reply)
    turn = [
        e
        async for e in fake_assistant(fake_kb, generator, speaking=True).answer(
            QUESTION, language="en", collection="demo", conversation=Conversation()
        )
    ]
    end = turn[-1]
    assert isinstance(end, TurnEnd) and end.fallback == "extractive"
    said = [e.text for e in turn if isinstance(e, AnswerSentence)]
    assert said[0] == "For a 48-page passport,"  # checked: the question's own figure
    assert "999" not in end.answer and "HK$460" in end.answer
    assert said[1].startswith("According to")


async def test_with_early_clauses_off_the_first_sentence_waits_whole(fake_kb):
    generator = FakeGenerator.replying(REPLY)
    turn = [
        e
        async for e in fake_assistant(
            fake_kb, generator, speaking=True, early_clauses=False
        ).answer(QUESTION, language="en", collection="demo", conversation=Conversation())
    ]
    said = [e.text for e in turn if isinstance(e, AnswerSentence)]
    assert said[0] == "For a 48-page passport, the fee is HK$460."


async def test_words_are_shown_before_the_first_clause_ends_and_speech_is_unchanged(fake_kb):
    generator = FakeGenerator.replying(REPLY, hold_at=3)  # held before "passport, ..."
    assistant = fake_assistant(fake_kb, generator, speaking=True, glimpse_interval_s=0)
    events: list[TurnEvent] = []

    async def read() -> None:
        async for event in assistant.answer(
            QUESTION, language="en", collection="demo", conversation=Conversation()
        ):
            events.append(event)

    reading = asyncio.create_task(read())
    await asyncio.wait_for(generator.held.wait(), 30)
    for _ in range(20):  # let the answer pass on what the model wrote before it was held
        await asyncio.sleep(0)
    shown = "".join(e.delta for e in events if isinstance(e, AnswerDelta))
    assert shown == "For a 48-page"  # shown while the first clause is still being written
    assert not [e for e in events if isinstance(e, AnswerSentence)]  # nothing spoken yet
    generator.release.set()
    await asyncio.wait_for(reading, 30)
    end = events[-1]
    assert isinstance(end, TurnEnd) and end.fallback is None
    assert "".join(e.delta for e in events if isinstance(e, AnswerDelta)) == end.answer
    assert end.answer.startswith("For a 48-page passport, the fee is HK$460 [1]. It is paid")
    assert end.timings["first_text"] < end.timings["first_sentence"]

    plain = [
        e
        async for e in fake_assistant(
            fake_kb, FakeGenerator.replying(REPLY), speaking=True, early_text=False
        ).answer(QUESTION, language="en", collection="demo", conversation=Conversation())
    ]
    spoken = [e.text for e in events if isinstance(e, AnswerSentence)]
    assert spoken == [e.text for e in plain if isinstance(e, AnswerSentence)]
    assert plain[-1].answer == end.answer  # the same text, shown sooner


async def test_a_quote_after_words_shown_of_a_failed_sentence_is_said_as_without_them(fake_kb):
    # "A 48-page passport costs HK$460 for" is shown, then 999 fails the sentence: nothing of
    # it was said, so the quote says the fee, exactly as it does without early text
    reply = "A 48-page passport costs HK$460 for 999 pages [1]. More."
    turns = {}
    for early_text in (True, False):
        generator = FakeGenerator.replying(reply)
        assistant = fake_assistant(
            fake_kb, generator, speaking=True, early_text=early_text, glimpse_interval_s=0
        )
        turns[early_text] = [
            e
            async for e in assistant.answer(
                QUESTION, language="en", collection="demo", conversation=Conversation()
            )
        ]
    spoken = {k: [e.text for e in t if isinstance(e, AnswerSentence)] for k, t in turns.items()}
    assert spoken[True] == spoken[False]
    assert spoken[True][0] == "According to HKSAR passport fees: 48-page passport: HK$460."
    end = turns[True][-1]
    assert isinstance(end, TurnEnd) and end.fallback == "extractive"
    assert end.answer.startswith("A 48-page passport costs HK$460 for… According to")


def test_pieces_of_a_shown_sentence_keep_english_words_apart_and_quotes_joined() -> None:
    from assistant.answerer import _Answer

    def shown(language, pieces) -> str:
        answer = _Answer(language)
        for text in pieces:
            answer.say(text, spoken=False)
        return answer.text

    # a Chinese answer cut inside an English name: "iAM Smart", not "iAMSmart"
    assert shown("yue", ["你可以用智方便 iAM", " Smart", "流動應用程式"]) == (
        "你可以用智方便 iAM Smart流動應用程式"
    )
    # an ASCII quote that opens is spaced, one that closes is joined
    assert shown("en", ["The card is called", '"Smart ID" card']) == (
        'The card is called "Smart ID" card'
    )
    assert shown("en", ['It is called "Smart ID', '" now']) == 'It is called "Smart ID" now'

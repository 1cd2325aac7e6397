"""Pieces for preemptive work and acknowledgements (pure logic, no model)."""

from __future__ import annotations

import asyncio

from assistant.preempt import (
    SPECULATION,
    Speculation,
    Speculator,
    acknowledgement,
    is_stable,
    prefix_messages,
    speculative_hits,
    still_valid,
)
from assistant.prompts import PromptSource, answer_messages

EVIDENCE = [PromptSource(1, "HKSAR passport fees", "48-page passport: HK$460")]


def test_a_partial_is_stable_when_the_recogniser_stops_revising_it():
    assert not is_stable(["How much is a"])
    assert not is_stable(["How much is a pass", "How much is a passport"])
    assert is_stable(["How much is a passport", "how much is a passport?"])


def test_the_final_transcript_keeps_the_preparation_only_when_it_asks_the_same():
    assert still_valid("How much is a 48-page passport", "How much is a 48-page passport?")
    assert not still_valid("How much is a passport", "How much is a passport for children?")


def test_the_prefilled_prefix_is_the_start_of_the_real_prompt():
    prefix = prefix_messages(EVIDENCE, "en", hotline="1823")
    full = answer_messages("How much is it?", EVIDENCE, "en", hotline="1823")
    assert prefix[0] == full[0]
    assert full[1].content.startswith(prefix[1].content)
    assert "HK$460" in prefix[1].content and "How much" not in prefix[1].content


def test_acknowledgements_are_in_the_callers_language_and_vary_by_turn():
    assert acknowledgement("yue") != acknowledgement("yue", 1)
    assert "查" in acknowledgement("yue") and acknowledgement("en").startswith("Sure")


def _speculation(question: str, hits: list) -> Speculation:
    async def retrieved() -> list:
        return hits

    return Speculation(question, "en", 3, asyncio.ensure_future(retrieved()))


async def test_speculation_starts_once_on_a_stable_partial_and_goes_to_the_final() -> None:
    started: list[str] = []

    def speculate(question: str, *, language: str) -> Speculation:
        started.append(question)
        return _speculation(question, [])

    stage = Speculator(speculate)
    for partial in ("How much is", "How much is the passport fee", "how much is the passport fee"):
        stage.on_partial(partial, "en")
    stage.on_partial("how much is the passport fee?", "en")  # one per utterance
    assert started == ["how much is the passport fee"]
    taken = stage.take()
    assert taken is not None and taken.question == started[0]
    assert stage.take() is None and stage.partials == []
    taken.discard()


async def test_a_speculative_final_speculates_at_once_and_replaces_other_words() -> None:
    started: list[Speculation] = []

    def speculate(question: str, *, language: str) -> Speculation:
        started.append(_speculation(question, []))
        return started[-1]

    stage = Speculator(speculate)
    stage.on_candidate("Where do I renew", "en")  # one candidate: no agreement needed
    stage.on_candidate("where do I renew?", "en")  # the same words: kept
    stage.on_candidate("Where do I renew my passport", "en")  # the caller went on
    assert [s.question for s in started] == ["Where do I renew", "Where do I renew my passport"]
    assert started[0].outcome == "discarded" and stage.take() is started[1]
    started[1].discard()


async def test_the_retrieval_stage_reuses_a_matching_speculation_and_discards_another() -> None:
    hits = ["hit"]
    same = _speculation("how much is the passport fee", hits)
    token = SPECULATION.set(same)
    try:
        assert await speculative_hits("How much is the passport fee?", "en", 3) == hits
        assert same.outcome == "reused"
        assert await speculative_hits("How much is the passport fee?", "en", 3) is None  # once
    finally:
        SPECULATION.reset(token)
    other = _speculation("where do I renew my identity card", hits)
    token = SPECULATION.set(other)
    try:
        assert await speculative_hits("How much is the passport fee?", "en", 3) is None
        assert other.outcome == "discarded"
        assert await speculative_hits("How much is the passport fee?", "cmn", 3) is None
    finally:
        SPECULATION.reset(token)
    assert await speculative_hits("How much is the passport fee?", "en", 3) is None  # none set

"""Spoken turns: speech overlaps generation, cancellation stops both, audio questions run
through the real transcriber."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from assistant.answerer import Answerer
from assistant.config import OpenAICompatibleSettings
from assistant.generators.openai_compatible import OpenAICompatibleGenerator
from assistant.turn import Assistant, speak
from assistant.types import (
    AnswerSentence,
    AudioData,
    AudioEnd,
    AudioStart,
    FinalTranscript,
    HoldingPhrase,
    TurnEnd,
)
from tests.assistant.turns import collect
from tests.fixtures_assistant import ScriptedChatServer


@pytest.fixture(scope="module")
def voices():
    from voices.tts.registry import VoiceRegistry

    return VoiceRegistry()


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_spoken_answer_streams_audio_after_each_sentence_while_the_model_writes(
    assistant_settings, assistant_kb, voices
):
    reply = "A 48-page passport costs HK$460 [1]. A 32-page passport costs HK$370 [1]."
    async with ScriptedChatServer(reply, delay_s=0.4) as server:  # a model writing slowly
        config = OpenAICompatibleSettings(base_url=server.base_url, model="scripted")
        answerer = Answerer(
            assistant_settings,
            OpenAICompatibleGenerator(config),
            lambda name: assistant_kb.collection(name).retriever(),
        )
        events = answerer.answer("How much is a 48-page passport?", collection="mini")
        turn = await collect(speak(events, voices.voice("en"), "en"))
    names = kinds(turn.events)
    sentences = [i for i, e in enumerate(turn.events) if isinstance(e, AnswerSentence)]
    first_audio = names.index("AudioData")
    assert len(sentences) == 2
    assert sentences[0] < first_audio < sentences[1]  # sentence 1 heard while 2 is written
    assert names.index("AudioStart") < first_audio
    assert names[-2:] == ["AudioEnd", "TurnEnd"]
    start = next(e for e in turn.events if isinstance(e, AudioStart))
    pcm = b"".join(e.pcm for e in turn.events if isinstance(e, AudioData))
    assert start.sample_rate > 0 and len(pcm) % 2 == 0
    assert len(pcm) / 2 / start.sample_rate > 2  # two sentences of speech
    end = turn.end
    assert 0 < end.timings["first_audio"] < end.timings["total"]


async def test_cancelling_a_spoken_answer_stops_generation_and_speech(
    assistant_settings, assistant_kb, voices
):
    reply = " ".join(f"Step {n} is to bring your identity card [1]." for n in range(2, 40))
    async with ScriptedChatServer(reply, delay_s=0.05) as server:
        config = OpenAICompatibleSettings(base_url=server.base_url, model="scripted")
        assistant = Assistant(
            assistant_settings,
            generator=OpenAICompatibleGenerator(config),
            retriever_for=lambda name: assistant_kb.collection(name).retriever(),
            voice_for=voices.voice,
        )
        seen: list[object] = []
        heard = asyncio.Event()

        async def consume() -> None:
            async for event in assistant.answer_spoken(
                "How do I replace a lost identity card?", language="en", collection="mini"
            ):
                seen.append(event)
                if isinstance(event, AudioData):
                    heard.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(heard.wait(), timeout=120)
        started = time.perf_counter()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert time.perf_counter() - started < 1.0
        count = len(seen)
        await asyncio.sleep(0.5)
        assert len(seen) == count  # nothing arrives after the cancel
        assert not any(isinstance(e, TurnEnd | AudioEnd) for e in seen)


async def test_refusal_is_spoken_in_the_callers_language(assistant, voices):
    spoken = Assistant(
        assistant.settings,
        generator=assistant.generator,
        retriever_for=assistant.answerer.retriever_for,
        voice_for=voices.voice,
    )
    turn = await collect(spoken.answer_spoken("今日天氣點樣？", collection="mini"))
    assert turn.end.refused and turn.end.language == "yue"
    assert "AudioData" in kinds(turn.events)


async def test_audio_question_runs_through_the_transcriber(
    assistant, voices, transcriber, load_clip
):
    spoken = Assistant(
        assistant.settings,
        generator=assistant.generator,
        retriever_for=assistant.answerer.retriever_for,
        transcriber=transcriber,
        voice_for=voices.voice,
    )
    turn = await collect(spoken.answer_audio(load_clip("1-zh.wav"), collection="mini"))
    transcript = turn.events[0]
    assert isinstance(transcript, FinalTranscript) and transcript.language == "cmn"
    assert "问题" in transcript.text
    end = turn.end
    assert end.language == "cmn" and end.refused  # financial turmoil is not in the corpus
    assert {"asr", "first_audio"} <= end.timings.keys()
    assert "AudioData" in kinds(turn.events)


async def test_a_sentence_the_voice_cannot_speak_is_shown_and_the_turn_still_ends(
    assistant_settings, assistant_kb
):
    from voices.config import TtsSettings
    from voices.tts.registry import VoiceRegistry

    tiny = VoiceRegistry(TtsSettings(max_text_chars=12)).voice("en")  # refuses longer text
    async with ScriptedChatServer("A 48-page passport costs HK$460 [1]. Ok.") as server:
        config = OpenAICompatibleSettings(base_url=server.base_url, model="scripted")
        answerer = Answerer(
            assistant_settings,
            OpenAICompatibleGenerator(config),
            lambda name: assistant_kb.collection(name).retriever(),
        )
        events = answerer.answer("How much is a 48-page passport?", collection="mini")
        turn = await collect(speak(events, tiny, "en"))
    assert turn.sentences == ["A 48-page passport costs HK$460.", "Ok."]
    assert "HK$460" in turn.end.answer
    assert kinds(turn.events).count("AudioStart") == 1  # "Ok." was spoken


async def test_a_slow_model_is_preceded_by_a_spoken_holding_phrase(
    assistant_settings, assistant_kb, voices
):
    # the real client over loopback: the server reads for 1 s before its first word (no
    # phrase once words flow), then writes a word every 0.1 s; the phrase is due at 0.2 s
    reply = "A 48-page passport costs HK$460 [1]."
    settings = assistant_settings.model_copy(update={"acknowledge_after_s": 0.2})
    async with ScriptedChatServer(reply, delay_s=0.1, first_delay_s=1.0) as server:
        config = OpenAICompatibleSettings(base_url=server.base_url, model="scripted")
        answerer = Answerer(
            settings,
            OpenAICompatibleGenerator(config),
            lambda name: assistant_kb.collection(name).retriever(),
        )
        conversation = answerer.new_conversation()
        events = answerer.answer(
            "How much is a 48-page passport?", collection="mini", conversation=conversation
        )
        turn = await collect(speak(events, voices.voice("en"), "en"))
    names = kinds(turn.events)
    assert names.count("HoldingPhrase") == 1
    holding = next(e for e in turn.events if isinstance(e, HoldingPhrase))
    assert names.index("HoldingPhrase") < names.index("AnswerDelta")
    audio = [e for e in turn.events if isinstance(e, AudioData)]
    assert audio[0].holding and not audio[-1].holding  # the phrase is heard, then the answer
    end = turn.end
    assert end.answer == "A 48-page passport costs HK$460 [1]." and end.fallback is None
    assert holding.text not in end.answer
    assert end.timings["acknowledgement_audio"] < end.timings["first_audio"]
    assert [a for _q, a in conversation.history] == [end.answer]

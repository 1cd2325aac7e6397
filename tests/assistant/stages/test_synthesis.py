"""Speech synthesis: each sentence spoken in order, TurnEnd last with first_audio."""

from __future__ import annotations

from assistant.frames import (
    AnswerSentence,
    AudioData,
    AudioEnd,
    AudioStart,
    SourcesFound,
    TurnEnd,
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

"""The spoken language on the live path: real speech through the streaming recogniser.

The voice server never hands Whisper a whole recorded file: the streaming recogniser cuts each
utterance at the VAD's speech onset (a 300 ms pre-roll) and, hands-free, a little after its end.
The Cantonese/Mandarin head scores pooled encoder statistics, so how much silence surrounds the
speech moved its score: the shared Cantonese clip was heard as Cantonese from the file (score
about +1.9) and as Mandarin, in Simplified script, from the stream (about -1.4 push-to-talk;
-2 to -4 with the silence cut tighter). These tests feed the clip as /ws/talk does (20 ms PCM16
frames, partials on, the server's settings) and check the final's label and script.
"""

from __future__ import annotations

import numpy as np
import pytest

from voices.audio_io import float_to_pcm16
from voices.streaming import StreamingRecognizer
from voices.types import PartialTranscript, SpokenLanguage, Utterance

pytestmark = pytest.mark.slow
SR = 16_000
FRAME = 640  # 20 ms of PCM16 at 16 kHz


def _recogniser(transcriber, vad_model, voice_settings, *, hands_free: bool, language=None):
    return StreamingRecognizer(
        transcriber,
        language=language,
        streaming=voice_settings.streaming,
        vad=voice_settings.vad,
        vad_model=vad_model,
        endpointing=hands_free,
    )


def _say(rec: StreamingRecognizer, audio: np.ndarray, *, hands_free: bool) -> list[Utterance]:
    """One turn as the widget sends it: the clip, then the release or 1.2 s of silence."""
    pcm = float_to_pcm16(audio)
    events = []
    for i in range(0, len(pcm), FRAME):
        events += rec.feed(pcm[i : i + FRAME])
    if hands_free:
        silence = bytes(FRAME)
        for _ in range(60):
            events += rec.feed(silence)
    else:
        events += rec.end_of_speech()
    assert any(isinstance(e, PartialTranscript) for e in events)  # partials ran, as live
    return [e for e in events if isinstance(e, Utterance) and e.transcript.text]


@pytest.mark.parametrize("hands_free", [False, True], ids=["push_to_talk", "hands_free"])
def test_the_shared_cantonese_clip_is_heard_as_cantonese_on_the_live_path(
    transcriber, vad_model, voice_settings, load_clip, hands_free: bool
) -> None:
    rec = _recogniser(transcriber, vad_model, voice_settings, hands_free=hands_free)
    finals = _say(rec, load_clip("yue.wav"), hands_free=hands_free)
    assert len(finals) == 1
    transcript = finals[0].transcript
    assert transcript.language == "yue", transcript.text
    assert "達" in transcript.text and "达" not in transcript.text  # HK Traditional script


@pytest.mark.parametrize("hands_free", [False, True], ids=["push_to_talk", "hands_free"])
def test_a_caller_who_switches_is_followed_after_one_utterance_both_ways(
    transcriber, vad_model, voice_settings, load_clip, hands_free: bool
) -> None:
    # one stream (one caller): Mandarin, Cantonese, Mandarin; each label comes from that
    # utterance, not from the stream's history of the other language
    rec = _recogniser(transcriber, vad_model, voice_settings, hands_free=hands_free)
    heard: list[SpokenLanguage] = []
    for clip in ("1-zh.wav", "yue.wav", "1-zh.wav"):
        finals = _say(rec, load_clip(clip), hands_free=hands_free)
        heard += [f.transcript.language for f in finals]
    assert heard == ["cmn", "yue", "cmn"]
    assert list(rec.history) == heard

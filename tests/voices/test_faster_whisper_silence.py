"""Which no-speech probability the silence filters read for the vote's decodes (no model: the
transcriber's filter and vote methods on a stand-in with only what they read).

The vote's greedy decodes are read after the Cantonese or Mandarin prompt, and Whisper's
no-speech probability read there is higher on short words than without a prompt;
`voices.asr.vote_unprompted_no_speech` (off by default, measured in docs/speech.md) judges
them by the unprompted one when both decodes read words."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from voices.asr.faster_whisper import Decode, FasterWhisperTranscriber
from voices.config import AsrSettings
from voices.types import Transcript

YUE_PROMPT, CMN_PROMPT = AsrSettings().yue_prompt, AsrSettings().cmn_prompt


def _stand_in(asr: AsrSettings, decodes: dict[str, Decode], unprompted: float):
    t = SimpleNamespace(asr=asr, _head=None, _quick_head=None, asked=[])
    t._reads_words = lambda d, p: FasterWhisperTranscriber._reads_words(t, d, p)
    t._passes_filters = lambda d, p: FasterWhisperTranscriber._passes_filters(t, d, p)
    t._greedy = lambda encoder_output, prompt, seconds: decodes[prompt]

    def unprompted_no_speech(encoder_output) -> float:
        t.asked.append(encoder_output)
        return unprompted

    t._unprompted_no_speech = unprompted_no_speech
    return t


def _vote(t, seconds: float = 0.75):
    encoder_output = np.zeros((1, 1000, 4), dtype=np.float32)
    audio = np.zeros(int(seconds * 16000), dtype=np.float32)
    return FasterWhisperTranscriber._vote(t, audio, encoder_output, {"zh": 0.04, "en": 0.46})


# 三 (dev Forvo saam1, 0.75 s, 8 kHz): both prompts write 三, Whisper calls it silence after
# them (0.94, 0.85) and not without a prompt (0.35)
WORD = {YUE_PROMPT: Decode("三", -1.91, 0.94, 0.5), CMN_PROMPT: Decode("三", -1.73, 0.85, 0.5)}


def test_the_filters_read_the_unprompted_no_speech_probability_when_it_is_measured() -> None:
    t = _stand_in(AsrSettings(), WORD, 0.35)
    prompted = WORD[YUE_PROMPT]
    assert not t._passes_filters(prompted, YUE_PROMPT)  # dropped as silence
    assert t._passes_filters(Decode("三", -1.91, 0.94, 0.5, 0.35), YUE_PROMPT)
    # the unprompted probability is read both ways: silent without the prompt is silent
    assert not t._passes_filters(Decode("三", -1.91, 0.2, 0.5, 0.9), YUE_PROMPT)


def test_off_by_default_the_vote_keeps_the_prompted_probability() -> None:
    t = _stand_in(AsrSettings(), WORD, 0.35)
    vote = _vote(t)
    assert t.asked == [] and vote.yue.unprompted_no_speech_prob is None
    assert not t._passes_filters(vote.yue, YUE_PROMPT)


def test_on_the_vote_measures_it_once_for_both_decodes() -> None:
    t = _stand_in(AsrSettings(vote_unprompted_no_speech=True), WORD, 0.35)
    vote = _vote(t)
    assert len(t.asked) == 1
    assert vote.yue.silence_prob == vote.cmn.silence_prob == 0.35
    assert vote.yue.no_speech_prob == 0.94  # the prompted one is still recorded
    assert t._passes_filters(vote.yue, YUE_PROMPT) and t._passes_filters(vote.cmn, CMN_PROMPT)


@pytest.mark.parametrize(
    "other",
    [
        Decode("这边是普通话的句子。", -1.16, 0.78, 0.8),  # an echo of the Mandarin prompt
        Decode("話話話話話話話話話話話話話話話話話話話話話", -0.22, 0.92, 9.0),  # a loop
        Decode("哦", -1.81, 0.99, 0.3),  # an everyday word Whisper was unsure of
        Decode("", -1.0, 0.99, 0.0),  # nothing
    ],
    ids=["echo", "loop", "hallucination", "empty"],
)
def test_a_decode_that_read_no_words_keeps_the_prompted_probability(other) -> None:
    # under that prompt Whisper continued the prompt or looped: its no-speech objection stands
    decodes = {YUE_PROMPT: WORD[YUE_PROMPT], CMN_PROMPT: other}
    t = _stand_in(AsrSettings(vote_unprompted_no_speech=True), decodes, 0.35)
    vote = _vote(t)
    assert t.asked == [] and vote.yue.silence_prob == 0.94
    assert not t._passes_filters(vote.yue, YUE_PROMPT)


def test_the_whole_window_retry_decodes_the_same_cut_without_a_second_vad_pass() -> None:
    # transcribe() cuts the utterance to its speech once; a final the 20 s window kept nothing
    # of is decoded again whole from that same cut (the VAD used to run twice)
    cut = np.full(12000, 0.1, dtype=np.float32)
    t = SimpleNamespace(asr=AsrSettings(), _local=threading.local(), cuts=[], decoded=[])
    t.speech_only = lambda audio: t.cuts.append(audio) or cut

    def decode(speech, duration, *rest) -> Transcript:
        t.decoded.append((speech, duration, t._local.window_s))
        t._local.window_cut = True  # the pass read the shorter window
        text = "" if len(t.decoded) == 1 else "三"
        return Transcript(text, "yue", "zh", 0.5, duration, 0.0)

    t._transcribe = decode
    heard = FasterWhisperTranscriber.transcribe(t, np.full(32000, 0.1, dtype=np.float32))
    assert heard.text == "三" and len(t.cuts) == 1
    assert [(s is cut, d, w) for s, d, w in t.decoded] == [(True, 2.0, 20.0), (True, 2.0, None)]

"""The Cantonese/Mandarin vote's greedy decode is reused as the transcript only when it passes
the filters; one that fails them (a prompt echo, a repetition loop) falls back to the full
decode instead of dropping the utterance (which left a Cantonese caller in the widget's Auto
mode without an answer: tests/serving/test_widget_cantonese.py). Real Whisper, real speech."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from voices.asr.hallucinations import echoes_prompt
from voices.audio_io import read_file_audio

pytestmark = pytest.mark.slow
CLIP = Path(__file__).resolve().parents[2] / "bench/data/speech/clips/yue-sppas-yeung.flac"


def test_a_vote_decode_that_fails_the_filters_falls_back_to_the_full_decode(transcriber):
    audio = read_file_audio(CLIP, max_duration_s=60, max_bytes=10_000_000)
    encoded = transcriber._encode_window(audio)
    _, _, language_probs = transcriber._pick_language(encoded, None)
    vote = transcriber._vote(audio, encoded, language_probs)
    prompt = transcriber.asr.yue_prompt
    # the greedy pass echoed the prompt (what Whisper does when it loses its way)
    echoed = dataclasses.replace(vote, yue=dataclasses.replace(vote.yue, text=prompt))
    assert not transcriber._passes_filters(echoed.yue, prompt)

    text, kept = transcriber._text_for(audio, echoed, "yue")
    assert kept and text, "the utterance was dropped"
    assert not echoes_prompt(text, prompt), text
    assert "經驗" in text or "经验" in text or "音" in text, text  # the clip's own words

    good, kept = transcriber._text_for(audio, vote, "yue")  # a passing decode is reused
    assert kept and good == vote.yue.text

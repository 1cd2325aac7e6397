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


def test_cantonese_that_whisper_gives_to_english_is_heard_again_as_chinese(
    transcriber, monkeypatch
):
    audio = read_file_audio(CLIP, max_duration_s=60, max_bytes=10_000_000)
    real_pick = transcriber._pick_language

    def pick_english(encoder_output, hint):  # what Whisper base does on some takes of the clip
        _, _, probs = real_pick(encoder_output, hint)
        return "en", 0.6, {**probs, "en": 0.6, "zh": 0.35}

    def english_keeps_nothing(audio, whisper_language, spoken, provisional=False):
        if whisper_language == "en":
            return "", 0  # the English decode of Cantonese, filtered away as hallucination
        return real_decode(audio, whisper_language, spoken, provisional)

    real_decode = transcriber._decode
    monkeypatch.setattr(transcriber, "_pick_language", pick_english)
    monkeypatch.setattr(transcriber, "_decode", english_keeps_nothing)
    heard = transcriber.transcribe(audio)
    assert heard.text and heard.detected_language == "zh", heard
    assert heard.language in ("yue", "cmn")

    off = transcriber.asr.model_copy(update={"empty_english_retry_zh_probability": 1.0})
    monkeypatch.setattr(transcriber, "asr", off)
    assert transcriber.transcribe(audio).text == ""  # without the retry the words are lost

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
    vote = transcriber._vote(audio, encoded, transcriber._language_probs(encoded))
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
    real_probs = transcriber._language_probs

    def probs_english(encoder_output):  # what Whisper base does on some takes of the clip
        return {**real_probs(encoder_output), "en": 0.6, "zh": 0.35}

    def english_keeps_nothing(audio, whisper_language, spoken, provisional=False, relaxed=False):
        if whisper_language == "en":
            return "", 0  # the English decode of Cantonese, filtered away as hallucination
        return real_decode(audio, whisper_language, spoken, provisional, relaxed)

    real_decode = transcriber._decode
    monkeypatch.setattr(transcriber, "_language_probs", probs_english)
    monkeypatch.setattr(transcriber, "_decode", english_keeps_nothing)
    # the zh/en gate off, so the English pick stands and its empty decode is what is retried
    gate_off = transcriber.asr.model_copy(update={"auto_chinese_min_probability": 1.0})
    monkeypatch.setattr(transcriber, "asr", gate_off)
    heard = transcriber.transcribe(audio)
    assert heard.text and heard.detected_language == "zh", heard
    assert heard.language in ("yue", "cmn")

    off = gate_off.model_copy(update={"empty_english_retry_zh_probability": 1.0})
    monkeypatch.setattr(transcriber, "asr", off)
    assert transcriber.transcribe(audio).text == ""  # without the retry the words are lost

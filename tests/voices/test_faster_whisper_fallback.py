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


def test_a_vote_whose_winning_side_keeps_nothing_keeps_the_other_sides_decode(
    transcriber, monkeypatch
):
    audio = read_file_audio(CLIP, max_duration_s=60, max_bytes=10_000_000)
    encoded = transcriber._encode_window(audio)
    vote = transcriber._vote(audio, encoded, transcriber._language_probs(encoded))
    assert transcriber._passes_filters(vote.cmn, transcriber.asr.cmn_prompt)
    # the Cantonese-prompted pass called it silence (what it does on short 8 kHz words) ...
    silent = dataclasses.replace(vote, yue=dataclasses.replace(vote.yue, no_speech_prob=0.99))
    assert not transcriber._passes_filters(silent.yue, transcriber.asr.yue_prompt)
    # ... and so did the full decode
    monkeypatch.setattr(transcriber, "_decode", lambda *args, **kwargs: ("", 0))
    text, kept = transcriber._text_for(audio, silent, "yue")
    assert kept and text == vote.cmn.text

    off = transcriber.asr.model_copy(update={"vote_keeps_either_decode": False})
    monkeypatch.setattr(transcriber, "asr", off)
    assert transcriber._text_for(audio, silent, "yue") == ("", 0)
    # a side that fails the filters is never kept in its place
    both = dataclasses.replace(silent, cmn=dataclasses.replace(vote.cmn, no_speech_prob=0.99))
    monkeypatch.setattr(
        transcriber, "asr", off.model_copy(update={"vote_keeps_either_decode": True})
    )
    assert transcriber._text_for(audio, both, "yue") == ("", 0)

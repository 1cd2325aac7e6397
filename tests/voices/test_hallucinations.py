"""The filter for text Whisper invents on silence."""

from __future__ import annotations

from voices.asr.hallucinations import echoes_prompt, is_silence_hallucination

SURE = {"no_speech_prob": 0.01, "avg_logprob": -0.2}
UNSURE = {"no_speech_prob": 0.5, "avg_logprob": -0.2}


def test_subtitle_artefacts_are_always_dropped() -> None:
    assert is_silence_hallucination(" Thanks for watching!", **SURE)
    assert is_silence_hallucination("字幕由Amara.org社區提供", **SURE)  # Traditional too
    assert is_silence_hallucination("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", **SURE)
    assert is_silence_hallucination(" ... ", **SURE)


def test_everyday_words_are_dropped_only_when_whisper_was_unsure() -> None:
    assert not is_silence_hallucination("Thank you.", **SURE)
    assert is_silence_hallucination("Thank you.", **UNSURE)
    assert is_silence_hallucination("謝謝", no_speech_prob=0.0, avg_logprob=-1.2)


def test_real_sentences_pass() -> None:
    assert not is_silence_hallucination("How do I renew my HKID?", **UNSURE)
    assert not is_silence_hallucination("我想續期身份證", **UNSURE)


def test_prompt_echo_is_detected() -> None:
    prompt = "以下係廣東話嘅對話。"
    assert echoes_prompt("以下係廣東話嘅對話", prompt)
    assert echoes_prompt("以下唔下廣東話嘅。", prompt)
    assert not echoes_prompt("呢幾個字都表達唔到我想講嘅意思。", prompt)
    assert not echoes_prompt("anything", None)


def test_a_word_of_the_prompt_said_by_a_caller_is_not_an_echo() -> None:
    # the Forvo clip 廣東話 (test split) was dropped whole as an echo of 以下係廣東話嘅對話。
    assert not echoes_prompt("廣東話", "以下係廣東話嘅對話。")
    assert not echoes_prompt("我想講廣東話", "以下係廣東話嘅對話。")
    assert not echoes_prompt("普通话", "以下是普通话的句子。")
    assert echoes_prompt("廣東話嘅對話", "以下係廣東話嘅對話。")

"""Phrases Whisper is known to invent on silence, music or noise (from its subtitle training data).

A segment whose whole text (lower-cased, punctuation and spaces removed, Simplified) is one of
the subtitle artefacts is always dropped; one of the everyday words ("thank you", "谢谢") only
when Whisper itself was unsure (a caller may really say thank you). Lists of this kind
circulate in the faster-whisper and WhisperLive issue trackers; these are the ones seen for
English and Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

import opencc

SUBTITLE_ARTEFACTS: tuple[str, ...] = (
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "thanks for watching and see you next time",
    "please subscribe",
    "please like and subscribe",
    "subtitles by the amara.org community",
    "谢谢观看",
    "谢谢收看",
    "感谢观看",
    "多谢收看",
    "多谢收睇",
    "字幕由amara.org社区提供",
    "字幕by索兰娅",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "优优独播剧场yoyotelevisionseriesexclusive",
    "中文字幕",
    "小编字幕",
    "字幕",
)
EVERYDAY_WORDS: tuple[str, ...] = (
    "you",
    "thank you",
    "thanks",
    "bye",
    "bye bye",
    "okay",
    "so",
    "the end",
    "谢谢",
    "谢谢大家",
    "嗯",
    "呃",
    "啊",
    "哦",
)
# Whisper's own confidence below which an everyday word on its own is treated as invented.
UNSURE_NO_SPEECH_PROB = 0.3
UNSURE_AVG_LOGPROB = -0.8

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return _PUNCT.sub("", _t2s().convert(text))


_ARTEFACTS = frozenset(_key(p) for p in SUBTITLE_ARTEFACTS)
_EVERYDAY = frozenset(_key(p) for p in EVERYDAY_WORDS)


def is_silence_hallucination(text: str, *, no_speech_prob: float, avg_logprob: float) -> bool:
    """True for text Whisper most likely invented (or that has no words at all)."""
    key = _key(text)
    if not key or key in _ARTEFACTS:
        return True
    unsure = no_speech_prob >= UNSURE_NO_SPEECH_PROB or avg_logprob <= UNSURE_AVG_LOGPROB
    return key in _EVERYDAY and unsure


# A short text made of a word of the prompt (廣東話, 普通话) is a caller's word, not an echo:
# a text counts as an echo by its own share only when at least this many characters match.
_MIN_ECHO_CHARS = 4


def echoes_prompt(text: str, prompt: str | None, threshold: float = 0.5) -> bool:
    """Whisper repeats its initial prompt when the audio gives it little else to go on.

    An echo reproduces at least `threshold` of the prompt, or is mostly (`threshold`) prompt
    text and at least `_MIN_ECHO_CHARS` characters of it: a caller who says 廣東話 or 我想講廣東話
    must not be dropped because the written-Cantonese prompt contains 廣東話.
    """
    if not prompt:
        return False
    key, prompt_key = _key(text), _key(prompt)
    if not key:
        return False
    matched = sum(b.size for b in SequenceMatcher(None, key, prompt_key).get_matching_blocks())
    if matched / len(prompt_key) >= threshold:
        return True
    return matched >= _MIN_ECHO_CHARS and matched / len(key) >= threshold

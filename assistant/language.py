"""The caller's language and the answer's script, on top of voices' language rules.

voices.language decides yue | cmn | en for an utterance and converts scripts with OpenCC;
this module adds what answering needs: guessing the language of a typed question (no Whisper
id), putting a generated answer in the caller's script after generation (the safety net for
a model that drifts into the other script), and checking an answer's language for the bench.
"""

from __future__ import annotations

import re

from voices import language as voice_language
from voices.types import SpokenLanguage

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def to_script(text: str, language: SpokenLanguage) -> str:
    """Traditional (HK) for yue, Simplified for cmn, English unchanged."""
    return voice_language.to_script(text, language)


def is_chinese(text: str) -> bool:
    """Chinese characters outweigh Latin words (so "HK$1,000 護照" is Chinese)."""
    han = len(_HAN.findall(text))
    return han > 0 and han >= len(_LATIN_WORD.findall(text))


def guess_language(text: str, hint: SpokenLanguage | None = None) -> SpokenLanguage:
    """The spoken language of a typed question: voices' rule, with the script as evidence.

    Typed Simplified Chinese without Cantonese markers is Mandarin and typed Traditional is
    Cantonese (a Hong Kong service); `hint` (the caller's declared or previous language)
    decides only text written in characters common to both scripts.
    """
    if is_chinese(text):
        # the script a caller types in says more than the language of earlier turns
        if to_script(text, "yue") != text:
            hint = "cmn"
        elif to_script(text, "cmn") != text or hint is None:
            hint = "yue"  # Traditional, or common to both scripts with nothing else to go on
    if not is_chinese(text) and _LATIN_WORD.search(text):
        return "en"
    return voice_language.decide_language(text, None, hint=hint)


def matches_language(text: str, language: SpokenLanguage) -> bool:
    """Whether an answer is in `language`'s script (what the bench scores)."""
    if language == "en":
        return not is_chinese(text)
    return is_chinese(text) and to_script(text, language) == text


def is_colloquial_cantonese(text: str) -> bool:
    return bool(voice_language.cantonese_markers(text))

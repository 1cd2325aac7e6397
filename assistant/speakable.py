"""Make model output fit to be read aloud: no markdown, URLs, tables, citation marks or emoji.

The prompt asks for plain spoken sentences, but a small model still writes `**bold**`, bullet
lists and links; this is the safety net applied to every sentence before it is shown or spoken.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^)\s]+)\)")
CITATION_MARK = re.compile(r"\s?[\[［【](?:\s*\d+\s*[,，、]?)+[\]］】]")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_HEADING_OR_QUOTE = re.compile(r"^\s{0,3}(?:#{1,6}|>)\s*", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|`{1,3}|~~)")
_EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\ufe0f\u200d]")
_SPACES = re.compile(r"[ \t]{2,}")
_CITED = re.compile(r"\d+")


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as [n] / [1, 2] in `text`, in order of first mention."""
    seen: list[int] = []
    for mark in CITATION_MARK.findall(text):
        for number in map(int, _CITED.findall(mark)):
            if number not in seen:
                seen.append(number)
    return seen


def strip_citations(text: str) -> str:
    return CITATION_MARK.sub("", text).strip()


def clean_for_display(text: str) -> str:
    """Plain text: markdown, URLs, tables and emoji removed; [n] citation marks kept."""
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _EMAIL.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = text.replace("|", " ")
    text = _HEADING_OR_QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _EMOJI.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean_for_speech(text: str) -> str:
    """What the synthesizer reads: display text without the [n] citation marks."""
    return strip_citations(clean_for_display(text))


def has_speakable_content(text: str) -> bool:
    """False for input of only emoji, punctuation or whitespace."""
    return any(ch.isalnum() for ch in _EMOJI.sub("", text))

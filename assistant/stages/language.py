"""The language decision: the one place a turn's language is chosen.

Inputs: the language the caller declared (the widget's selector), the transcriber's label of
the utterance (`heard`: voices decides it from the audio, the text and the stream's history,
voices.language), the conversation's language so far (`previous`), and for typed questions the
text itself (assistant.language.guess_language). Every caller (the live session, `samyu ask`,
`Assistant.answer*`) calls `decide_language` and nothing else.

The rule for speech: what was heard wins when it is clear, else the caller's anchor (declared,
else previous) stays. A declared language is a hint, not a lock: the transcriber already uses
it only to break ties, so a Chinese label that differs from it comes from Cantonese markers in
the text or a decisive acoustic vote (voices.language); such an utterance is clear and the turn
follows it at once. English heard against a Chinese anchor (or Chinese against English) counts
only when it is more than a word or two (`LanguageSettings.min_switch_words` words, or as many
Han characters): 「OK」「Sorry」 or a lone 好 inside a conversation do not switch it. The next
turn's `previous` is this turn's language, so a switch holds after one clear utterance.
"""

from __future__ import annotations

import re

from assistant.language import guess_language
from voices.config import LanguageSettings
from voices.types import SpokenLanguage

_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def decide_language(
    text: str,
    *,
    declared: SpokenLanguage | None,
    heard: SpokenLanguage | None = None,
    previous: SpokenLanguage | None = None,
    settings: LanguageSettings | None = None,
) -> SpokenLanguage:
    """The turn's language (see the module docstring for the rule)."""
    anchor = declared or previous
    if heard is not None:
        if anchor is None or heard == anchor or clearly_heard(text, heard, anchor, settings):
            return heard
        return anchor
    if declared is not None:
        return declared
    return guess_language(text, previous)


def clearly_heard(
    text: str,
    heard: SpokenLanguage,
    anchor: SpokenLanguage,
    settings: LanguageSettings | None = None,
) -> bool:
    """Whether an utterance labelled `heard` is enough to leave `anchor`."""
    settings = settings or LanguageSettings()
    if heard in ("yue", "cmn") and anchor in ("yue", "cmn"):
        return True  # the transcriber only overrules the hint on markers or a decisive vote
    if heard == "en":
        return len(_LATIN_WORD.findall(text)) >= settings.min_switch_words
    return len(_HAN.findall(text)) >= settings.min_switch_words

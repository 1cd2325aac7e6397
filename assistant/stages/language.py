"""The language decision: the one place a turn's language is chosen.

Inputs, strongest first: the language the caller declared at the start of the session; the
transcriber's label of the utterance (voices decides it from the audio, the text and the
stream's history: voices.language); for typed questions, the text itself with the previous
turn's language as a hint (assistant.language.guess_language). Every caller (the live
session, `samyu ask`, `Assistant.answer*`) calls `decide_language` and nothing else.
"""

from __future__ import annotations

from assistant.language import guess_language
from voices.types import SpokenLanguage


def decide_language(
    text: str,
    *,
    declared: SpokenLanguage | None,
    heard: SpokenLanguage | None = None,
    previous: SpokenLanguage | None = None,
) -> SpokenLanguage:
    """The turn's language: declared, else what the recogniser heard, else guessed from text."""
    if declared is not None:
        return declared
    if heard is not None:
        return heard
    return guess_language(text, previous)

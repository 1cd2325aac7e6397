"""An extractive answer worth hearing: the one or two source sentences that answer.

Used when the model is slow, absent or fails a check. It quotes the unit that answers (the
fee row of a table when the question asks how much, not the document's opening), and at most
one more unit of the same source that scores nearly as well, in document order, converted to
the caller's script (and to spoken Cantonese forms for a Cantonese caller), introduced in the
caller's language by the source's title, each sentence citing its source. Nothing says "the
service is unavailable": the caller gets the answer, not an apology.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.colloquial import to_colloquial
from assistant.evidence import RANK_PRIOR, Embed, ScoredUnit, figure_support, score_units
from assistant.language import to_script
from assistant.prompts import PromptSource
from assistant.types import SpokenLanguage

INTRO: dict[SpokenLanguage, str] = {
    "en": "According to {title}:",
    "yue": "根據《{title}》，",
    "cmn": "根据《{title}》，",
}
SECOND_UNIT_SHARE = 0.6  # a second unit is quoted when it scores this share of the best


@dataclass(frozen=True)
class ExtractiveAnswer:
    number: int  # the quoted source's [n]
    title: str
    sentences: list[str]  # display text, in the caller's script, each citing [n]


def _quotable(unit: ScoredUnit, title: str) -> bool:
    text = unit.text.strip()
    if text.endswith(("?", "？")):  # a FAQ's question answers nothing
        return False
    return len(text) > 3 and text.strip("# ") != title.strip()


def _in_caller_words(text: str, language: SpokenLanguage) -> str:
    text = to_script(text, language)
    return to_colloquial(text) if language == "yue" else text


def _cite(sentence: str, number: int, language: SpokenLanguage) -> str:
    sentence = sentence.rstrip()
    stop = "." if language == "en" else "。"
    if sentence[-1:] in "。！？.!?;；:：":
        stop = sentence[-1] if sentence[-1] in "。！？.!?" else stop
        sentence = sentence[:-1].rstrip()
    return f"{sentence} [{number}]{stop}" if language == "en" else f"{sentence}[{number}]{stop}"


def extractive_answer(
    question: str,
    sources: Sequence[PromptSource],
    language: SpokenLanguage,
    *,
    max_sentences: int = 2,
    embed: Embed | None = None,
    min_figure_support: float = 0.0,
) -> ExtractiveAnswer | None:
    """The best unit of the best source and, if close behind, one more of the same source;
    None when no source shares anything with the question, or when it asks for a figure the
    sources do not state (`figure_support` below `min_figure_support`)."""
    if figure_support(question, sources) < min_figure_support:
        return None
    scored = score_units(question, sources, embed=embed)
    candidates = [u for row in scored for u in row if _quotable(u, sources[u.source].title)]
    if not candidates:
        return None
    best = max(candidates, key=lambda u: (u.score, -u.source, -u.position))
    if best.score <= RANK_PRIOR:
        return None
    same_source = sorted(
        (u for u in candidates if u.source == best.source and u is not best),
        key=lambda u: (-u.score, u.position),
    )
    chosen = [best] + [
        u for u in same_source[: max_sentences - 1] if u.score >= SECOND_UNIT_SHARE * best.score
    ]
    # the answer first (the intro leads into it), then what supports it
    source = sources[best.source]
    title = to_script(source.title, language)  # a name: script only, words unchanged
    sentences = [_cite(_in_caller_words(u.text, language), source.number, language) for u in chosen]
    intro = INTRO[language].format(title=title)
    separator = " " if language == "en" else ""
    sentences[0] = f"{intro}{separator}{sentences[0]}"
    return ExtractiveAnswer(source.number, title, sentences)

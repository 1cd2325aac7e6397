"""Follow-up -> standalone query, so retrieval sees what the caller means.

"What about for children?" after a question on passport fees retrieves nothing useful on its
own. When the conversation has history and the question looks like a follow-up (an opener
such as "what about" / 咁 / 那, a pronoun, or a trailing 呢), the LLM rewrites it with the
history into one complete question. When the model fails, times out or writes something that
is not a plausible question, the cheap fallback prefixes the previous question, which keeps the
topic words BM25 and the embedder need. Without history nothing is rewritten.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.gate import content_terms
from assistant.injection import is_instruction
from assistant.language import is_chinese
from assistant.prompts import rewrite_messages
from assistant.types import Generator

_OPENER_EN = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what if|and if|same for|is it|is that|"
    r"are they|does it|do they|can they|can i also|and for)\b",
    re.IGNORECASE,
)
_PRONOUN_EN = re.compile(r"\b(it|its|they|them|their|that|those|this|these|there)\b", re.I)
_OPENER_ZH = ("咁", "噉", "那", "那么", "那麼", "另外", "還有", "还有", "如果係", "如果是", "仲有")
_PRONOUN_ZH = ("佢", "它", "他們", "他们", "呢個", "这个", "這個", "嗰個", "那個", "那个")
_TRAILING_NE = re.compile(r"呢\s*[？?]?\s*$")
_MIN_STEM = 4  # "child" keeps "children"; "up" does not keep "update"


def looks_like_follow_up(question: str) -> bool:
    text = question.strip()
    if is_chinese(text):
        return (
            text.startswith(_OPENER_ZH)
            or any(p in text for p in _PRONOUN_ZH)
            or bool(_TRAILING_NE.search(text))
        )
    return bool(_OPENER_EN.search(text) or _PRONOUN_EN.search(text))


RewriteMethod = Literal["none", "llm", "heuristic"]


@dataclass(frozen=True)
class Rewrite:
    query: str
    method: RewriteMethod


def heuristic_rewrite(history: Sequence[tuple[str, str]], question: str) -> str:
    previous = history[-1][0].strip()
    return f"{previous} {question.strip()}"


def plausible_rewrite(candidate: str, question: str, previous: str) -> bool:
    """A one-line question in the same language, no longer than the two it combines, that
    keeps a topic term of the previous question (else it did not resolve the follow-up) and
    one of the caller's own terms (else it dropped what the caller just asked)."""
    if not candidate or "\n" in candidate or is_instruction(candidate):
        return False
    if is_chinese(candidate) != is_chinese(question):
        return False
    if len(candidate) > 2 * (len(question) + len(previous)) + 20:
        return False
    kept = content_terms(candidate)
    return bool(content_terms(previous) & kept) and keeps_a_term_of(question, kept)


def keeps_a_term_of(question: str, kept: set[str]) -> bool:
    """Whether `kept` (a rewrite's terms) holds one of the question's content terms: the same
    word, one stem the prefix of the other ("child" / "children"), or for Chinese a shared
    character. A question of question words alone ("How much is it?") has none to keep.

    Why: the small model once rewrote an unrelated utterance that mentioned "there" into the
    previous question word for word, so the caller was answered the old question again."""
    asked = content_terms(question)
    if not asked or asked & kept:
        return True
    for term in asked:
        for other in kept:
            if is_chinese(term) and set(term) & set(other):
                return True
            short, long = sorted((term, other), key=len)
            if len(short) >= _MIN_STEM and long.startswith(short):
                return True
    return False


async def rewrite_follow_up(
    question: str,
    history: Sequence[tuple[str, str]],
    generator: Generator | None,
    *,
    max_tokens: int,
    timeout_s: float,
) -> Rewrite:
    """The standalone query for retrieval (the question itself when it needs no rewrite)."""
    if not history or not looks_like_follow_up(question):
        return Rewrite(question, "none")
    if generator is not None:
        try:
            async with asyncio.timeout(timeout_s):
                parts = [
                    delta
                    async for delta in generator.stream(
                        rewrite_messages(history, question), max_tokens=max_tokens, temperature=0.0
                    )
                ]
            candidate = "".join(parts).strip().strip("\"'“”「」")
            if plausible_rewrite(candidate, question, history[-1][0]):
                return Rewrite(candidate, "llm")
        except (TimeoutError, RuntimeError):  # GeneratorError is a RuntimeError
            pass
    return Rewrite(heuristic_rewrite(history, question), "heuristic")

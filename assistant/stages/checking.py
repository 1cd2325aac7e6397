"""Sentence checking: each sentence of the model's answer is checked before it is shown or
spoken (numbers grounded in the sources, and with `bind_figures` the figures one clause
pairs stated together by one source unit; no prompt leak or echo, no loop, the caller's
language). The checks themselves live in assistant.gate and assistant.prompts; this stage
holds what one turn checks against and says the first problem of a sentence, or None."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.evidence import is_heading_line
from assistant.gate import (
    FactSource,
    check_facts,
    content_terms,
    fact_terms,
    is_copied_scaffold,
    leaks_prompt,
    strip_copied_heading,
    unbound_figures,
)
from assistant.language import is_chinese, to_script
from assistant.numbers import numbers_in
from assistant.prompts import PromptSource, echoes_prompt_labels
from assistant.speakable import clean_for_display, strip_citations
from voices.types import SpokenLanguage


@dataclass
class SentenceChecker:
    """What one turn's sentences are checked against."""

    language: SpokenLanguage
    question: str
    sources: Sequence[PromptSource]
    system_prompts: Sequence[str]  # every language's system prompt (a leak of any fails)
    query: str = ""
    hotline: str = ""
    bind_figures: bool = True  # figures one clause states together must share a source unit
    facts: list[FactSource] = field(init=False)
    scaffold: list[tuple[str, str]] = field(init=False)
    headings: list[str] = field(init=False)  # the sources' section heading lines ("費用")
    # what a first sentence may turn out to copy whole (titles, headings, the sources' questions,
    # the caller's question), folded: a prefix of one is not shown before its sentence ends
    copyable: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.facts = [FactSource(s.number, s.title, s.text) for s in self.sources]
        self.scaffold = [(s.title, s.text) for s in self.sources]
        self.headings = [
            line.strip()
            for s in self.sources
            for line in s.text.splitlines()
            if is_heading_line(line)
        ]
        # FAQ questions of the sources: the small model copies them before their answers
        questions = [q for s in self.sources for q in _QUESTION.findall(s.text)]
        titles = [s.title for s in self.sources]
        copyable = (*titles, *self.headings, *questions, self.question, self.query)
        self.copyable = [folded for text in copyable if (folded := _fold(text))]

    def may_copy_scaffold(self, prefix: str) -> bool:
        """Whether the start of a sentence could still become a copied title, heading, FAQ
        question or the caller's own question (all skipped or failed when whole): text shown
        before the sentence ends waits until it is not (assistant/stages/release.py)."""
        start = _fold(prefix)
        return bool(start) and any(text.startswith(start) for text in self.copyable)

    def copies_scaffold(self, sentence: str) -> bool:
        """Only a source's '[n] title' or section heading ("費用[1]"), a bare mark, or a FAQ
        question, copied: skipped, not failed."""
        return is_copied_scaffold(sentence, self.scaffold, self.headings)

    def check(self, sentence: str, *, partial: bool = False) -> tuple[str, str | None]:
        """The sentence as it may be said (a copied '[n] title' or section heading dropped,
        a leading [n] moved to its end, citations made to follow its facts) and its first
        problem, or None.

        `partial`: the sentence so far, said a clause at a time (assistant.stages.release),
        is held by two more tests: the language must match at any length (the whole
        sentence lets its first 12 characters go: a clause is often shorter), and a figure
        with no words of its own yet ("370元，") waits for them (the figure check accepts
        any context for a sentence without words)."""
        sentence = strip_copied_heading(sentence, self.scaffold, self.headings)
        display = to_script(clean_for_display(sentence), self.language)
        facts = check_facts(
            display, self.facts, also_allowed=[self.question, self.query, self.hotline]
        )
        if facts.problem:
            return sentence, facts.problem
        if self.bind_figures and unbound_figures(
            display, self.facts, topic=[self.question, self.query], free=[self.hotline]
        ):
            return sentence, "unbound"  # each figure is sourced, their pairing is not
        sentence = facts.sentence
        problem = self._form_problem(to_script(clean_for_display(sentence), self.language))
        if problem is None and partial:
            problem = self._partial_problem(strip_citations(sentence))
        return sentence, problem

    def problem(self, sentence: str) -> str | None:
        """The first problem of a sentence (facts first), or None."""
        return self.check(sentence)[1]

    def _form_problem(self, display: str) -> str | None:
        if leaks_prompt(display, self.system_prompts):
            return "prompt_leak"
        if echoes_prompt_labels(display) or repeats_question(display, self.question):
            return "prompt_echo"  # copying the prompt's layout or the question, not answering
        if degenerate(display):
            return "degenerate"
        if (self.language == "en") == is_chinese(display) and len(display) > 12:
            return "wrong_language"
        return None

    def _partial_problem(self, words: str) -> str | None:
        if is_chinese(words) != (self.language != "en"):
            return "wrong_language"
        if any(n > 1 for n in numbers_in(words)) and not fact_terms(words):
            return "bare_figure"  # the check would take any context: wait for its words
        return None


# a question sentence of a source ("身份證遺失後，要在幾多日內申請補領？"), up to its mark
_QUESTION = re.compile(r"[^。！？!?\n]*[？?]")
_UNFOLDED = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Text compared for copying: no [n] marks, punctuation or spaces, lower case, Simplified."""
    return _UNFOLDED.sub("", to_script(strip_citations(text), "cmn")).lower()


REPEAT_MIN_SHARE = 0.6  # share of a sentence's content terms said before that makes it a repeat


def restates(sentence: str, earlier: Sequence[str], min_share: float = REPEAT_MIN_SHARE) -> bool:
    """Whether `sentence` says again what `earlier` sentences said: every figure of it (other
    than 0 and 1) was said, and at least `min_share` of its content terms (words, figures
    included; scripts folded) were too. A sentence with a new figure, or with mostly new
    words, adds a fact and is not a repeat. `min_share` above 1 turns it off."""
    if not earlier or min_share > 1:
        return False
    said = " ".join(strip_citations(e) for e in earlier)
    words = strip_citations(sentence)
    figures = {n for n in numbers_in(words) if n > 1}
    if not figures <= numbers_in(said):
        return False
    terms = content_terms(to_script(words, "cmn"))
    if not terms:
        return False
    known = content_terms(to_script(said, "cmn"))
    return len(terms & known) / len(terms) >= min_share


def degenerate(sentence: str) -> bool:
    """A model stuck in a loop ("裴累裴累裴累…"): few distinct character pairs for its length."""
    text = "".join(sentence.split())
    if len(text) < 16:
        return False
    pairs = [text[i : i + 2] for i in range(len(text) - 1)]
    return len(set(pairs)) < 0.3 * len(pairs)


def repeats_question(sentence: str, question: str) -> bool:
    """A question-shaped sentence with nothing beyond the caller's question's terms (the model
    echoing the question, or a FAQ question from its sources, instead of answering)."""
    if not sentence.rstrip().endswith(("?", "？")):
        return False
    terms = content_terms(strip_citations(sentence))
    return not terms or terms <= content_terms(question)

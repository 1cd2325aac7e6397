"""Keep answers grounded: the evidence gate before the model, the checks after it, and the
extractive fallback when a check fails.

- Evidence gate: the knowledge base fuses dense and BM25 ranks with RRF, so its fused score
  says how a hit ranks, not whether it answers. The gate therefore measures evidence itself:
  the best dense cosine (the multilingual embedder's similarity of question and chunk), or
  failing that the share of the question's content terms (the KB's own BM25 tokens: jieba
  words, stemmed English, scripts folded) that the best source contains, with a lower dense
  score beside it. Below both the model is not asked.
- Grounding check: every number in an answer sentence (amounts, fees, dates, ages, counts;
  "HK$1,000", "1000", "一千" and "1,000.00" all read as 1000) must occur in the sources, the
  question or the hotline number. 0 and 1 are not checked: Chinese writes them in ordinary
  words (一般, 一個).
- Prompt-leak check: an answer sentence that quotes a long stretch of the system prompt fails.
- Extractive fallback: the source sentences that best match the question, quoted with the
  source's title.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

from assistant.language import to_script
from assistant.numbers import numbers_in
from assistant.speakable import (
    CITATION_MARK,
    cited_numbers,
    clean_for_display,
    strip_citations,
)
from knowledge_base.tokenise import make_tokenizer
from knowledge_base.types import Hit
from voices.sentences import split_sentences

# Memos of what is read from a source's text and from a prompt. Bounded: a server runs for
# weeks, and every turn brings a new prompt (an unbounded cache keyed on texts only grows).
# A turn reads a handful of sources several times, so a few thousand entries keep the hits.
SOURCE_MEMO_SIZE = 4096
PROMPT_MEMO_SIZE = 64

_CJK = re.compile(r"[\u3400-\u9fff]")
# Question words carry no evidence: matching them in a source says nothing about the topic.
_QUESTION_WORDS = (
    "多少 几多 几 点样 点 怎么 怎样 如何 什么 乜嘢 乜 边度 边个 哪里 哪 谁 吗 呢 咩 可以 可 能 "
    "需要 要 我 你 佢 他 她 我们 我哋 是 系 有 冇 没有 的 嘅 了 咗 在 喺 和 同 与 就 都 会 去 "
    "请问 请 问 想 知道 一下 啲 些 个 个人 how much many what when where which who why does do "
    "can need get"
)
_QUESTION_TERMS = frozenset(_QUESTION_WORDS.split())


@cache
def _terms_tokenizer() -> Callable[[str], list[str]]:
    return make_tokenizer("jieba", fold_scripts=True)


def content_terms(text: str) -> set[str]:
    """The question's content terms, as the KB's BM25 sees them, less question words."""
    tokens = _terms_tokenizer()(text)
    stemmed_question = {_terms_tokenizer()(w)[0] for w in _QUESTION_TERMS if _terms_tokenizer()(w)}
    return {
        t
        for t in tokens
        if t not in _QUESTION_TERMS
        and t not in stemmed_question
        and (len(t) > 1 or not _CJK.match(t))
    }


def term_overlap(question_terms: set[str], text: str) -> float:
    if not question_terms:
        return 0.0
    found = question_terms & set(_terms_tokenizer()(text))
    return len(found) / len(question_terms)


@dataclass(frozen=True)
class Evidence:
    enough: bool
    best_overlap: float
    best_dense: float | None
    reason: str


def judge_evidence(
    question: str,
    hits: Sequence[Hit],
    *,
    min_overlap: float,
    min_dense: float,
    min_dense_with_terms: float,
) -> Evidence:
    """Whether the hits hold enough evidence to ask the model (see the module docstring)."""
    if not hits:
        return Evidence(False, 0.0, None, "no hits")
    terms = content_terms(question)
    best_overlap = max(term_overlap(terms, f"{h.chunk.title}\n{h.chunk.text}") for h in hits)
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    best_dense = max(dense) if dense else None
    if best_dense is not None and best_dense >= min_dense:
        return Evidence(True, best_overlap, best_dense, "dense similarity")
    # without a dense score (BM25-only collection) the terms decide alone
    dense_agrees = best_dense is None or best_dense >= min_dense_with_terms
    if best_overlap >= min_overlap and dense_agrees:
        return Evidence(True, best_overlap, best_dense, "term overlap")
    return Evidence(False, best_overlap, best_dense, "weak evidence")


# ---- grounding --------------------------------------------------------------------------


def ungrounded_numbers(sentence: str, allowed: set[Decimal]) -> set[Decimal]:
    """Numbers of `sentence` (other than 0 and 1) that occur in none of the allowed texts."""
    return {n for n in numbers_in(sentence) if n > 1 and n not in allowed}


def allowed_numbers(texts: Iterable[str]) -> set[Decimal]:
    allowed: set[Decimal] = set()
    for text in texts:
        allowed |= numbers_in(text)
    return allowed


# ---- facts and citations -------------------------------------------------------------


@dataclass(frozen=True)
class FactSource:
    """A source as the fact check sees it: numbered as in the prompt; a quarantined source
    (ingest found instruction-like or claim-overriding text in it) grounds nothing."""

    number: int
    title: str
    text: str
    quarantined: bool = False


@dataclass(frozen=True)
class FactCheck:
    sentence: str  # as checked, with [n] added or corrected where the model got it wrong
    problem: str | None  # "ungrounded" when a figure is in no usable source's context
    cited: tuple[int, ...]
    unfound: frozenset[Decimal]


MIN_CITATION_OVERLAP = 0.5  # share of a figure-less sentence's terms a source must hold to be cited
_DIGITS = re.compile(r"^[\d.,]+$")
_END_PUNCTUATION = re.compile(r"([。！？.!?]*)\s*$")


def fact_terms(text: str) -> set[str]:
    """Content terms of a text, less figures (a figure's context is its words)."""
    return {t for t in content_terms(strip_citations(text)) if not _DIGITS.match(t)}


@lru_cache(maxsize=SOURCE_MEMO_SIZE)
def _figure_contexts(
    title: str, text: str
) -> tuple[tuple[frozenset[str], frozenset[Decimal]], ...]:
    """Each line/sentence of a source as (terms of the title, previous unit and the unit,
    figures of the unit): a table row's header, a fee's item, a date's event."""
    units = [s for line in text.splitlines() for s in split_sentences(line) if s.strip()]
    title_terms = fact_terms(title)
    contexts = []
    for i, unit in enumerate(units):
        figures = frozenset(n for n in numbers_in(unit) if n > 1)
        if figures:
            previous = units[i - 1] if i else ""
            terms = title_terms | fact_terms(previous) | fact_terms(unit)
            contexts.append((frozenset(terms), figures))
    return tuple(contexts)


def supports(source: FactSource, figure: Decimal, terms: set[str]) -> bool:
    """Whether the source states `figure` in the context of one of `terms` (any context when
    the sentence has no words of its own). "A passport costs 12,940" is not supported by a
    housing page's "income limit 12,940": the figure is there, its subject is not."""
    if source.quarantined:
        return False
    return any(
        figure in figures and (not terms or terms & context)
        for context, figures in _figure_contexts(source.title, source.text)
    )


def _with_citations(sentence: str, numbers: Sequence[int]) -> str:
    body = strip_citations(sentence)
    if not numbers:
        return body
    marks = "".join(f"[{n}]" for n in numbers)
    match = _END_PUNCTUATION.search(body)
    end = match.start() if match else len(body)
    separator = "" if _CJK.search(body[end - 1 : end] or "x") else " "
    return f"{body[:end].rstrip()}{separator}{marks}{body[end:]}"


def check_facts(
    sentence: str, sources: Sequence[FactSource], *, also_allowed: Iterable[str] = ()
) -> FactCheck:
    """Every figure of an answer sentence (amount, fee, date, phone number, count, however
    written: see assistant/numbers.py) must be stated by a cited, non-quarantined source in
    the context of the sentence's own words; figures of the question or the hotline are free.

    Citations follow the facts: a sentence with figures cites the sources that state them
    (the model's [n] is corrected when it names a source that does not); a sentence without
    figures that shares words with a source cites the best such source.
    """
    usable = [s for s in sources if not s.quarantined]
    free: set[Decimal] = set()
    for text in also_allowed:
        free |= numbers_in(text)
    figures = {n for n in numbers_in(sentence) if n > 1} - free
    terms = fact_terms(sentence)
    claimed = [n for n in cited_numbers(sentence) if any(s.number == n for s in usable)]
    if figures:
        supporters = {f: [s.number for s in usable if supports(s, f, terms)] for f in figures}
        unfound = frozenset(f for f, found in supporters.items() if not found)
        if unfound:
            return FactCheck(sentence, "ungrounded", tuple(claimed), unfound)
        overlap = {s.number: term_overlap(terms, f"{s.title}\n{s.text}") for s in usable}
        numbers: list[int] = []
        for found in supporters.values():
            best = max(found, key=lambda n: (overlap[n], -n))  # the source most about it
            chosen = next((n for n in found if n in claimed), best)
            if chosen not in numbers:
                numbers.append(chosen)
        numbers.sort()
        return FactCheck(_with_citations(sentence, numbers), None, tuple(numbers), frozenset())
    if claimed:
        return FactCheck(sentence, None, tuple(claimed), frozenset())
    scored = [(term_overlap(terms, f"{s.title}\n{s.text}"), -s.number, s) for s in usable]
    best = max(scored, default=None, key=lambda item: item[:2])
    if best is None or best[0] < MIN_CITATION_OVERLAP:
        return FactCheck(sentence, None, (), frozenset())
    return FactCheck(
        _with_citations(sentence, [best[2].number]), None, (best[2].number,), frozenset()
    )


# ---- figures stated together ------------------------------------------------------------

# Where an answer's clauses part: ，；：、 (Chinese lists), ASCII , ; : before a space ("1,000"
# and "10:30" are figures), 並/并/及/或, and English "and"/"or"/"but" (not inside "three
# hundred and seventy"). Parting too often only lets a wrong pairing through; parting too
# rarely would fail a right answer, so the cuts are generous.
_CLAUSE_BREAK = re.compile(
    r"[，；：、。]|[,;:](?=\s)|[並并及或]"
    r"|(?<!hundred)(?<!thousand)(?<!million)(?<!billion)\s+(?:and|or|but|while|whereas)\s+",
    re.IGNORECASE,
)


def figure_clauses(
    sentence: str, *, topic: Iterable[str] = (), free: Iterable[str] = ()
) -> list[frozenset[Decimal]]:
    """The figures (other than 0 and 1) each clause of `sentence` states together.

    Figures of the `free` texts (the hotline) bind to nothing. A clause whose figures all come
    from the `topic` texts (the question: "48頁護照，收費370元" restates what was asked) is
    the topic of the next clause with figures, so its figures join that clause's.
    """
    free_figures: set[Decimal] = set()
    for text in free:
        free_figures |= numbers_in(text)
    topic_figures: set[Decimal] = set()
    for text in topic:
        topic_figures |= numbers_in(text)
    clauses: list[frozenset[Decimal]] = []
    carried: frozenset[Decimal] = frozenset()
    # a citation mark closes a claim ("港幣370元[1]48頁護照: ..." is a model running rows on)
    for stated in _clause_figures(CITATION_MARK.sub("，", sentence)):
        figures = stated - free_figures
        if not figures:
            continue
        if figures <= topic_figures and not carried:
            carried = figures
            continue
        clauses.append(figures | carried)
        carried = frozenset()
    if carried:
        clauses.append(carried)
    return clauses


def _clause_figures(text: str) -> list[frozenset[Decimal]]:
    """The figures (other than 0 and 1) of each clause of `text`, in order."""
    return [
        frozenset(n for n in numbers_in(clause) if n > 1) for clause in _CLAUSE_BREAK.split(text)
    ]


@lru_cache(maxsize=SOURCE_MEMO_SIZE)
def _bound_groups(title: str, text: str) -> tuple[frozenset[Decimal], ...]:
    """The figure sets a source states together: each line or sentence with figures (a table
    row, "For a 48-page passport, the fee is HK$460."), except a list of pairings in one
    sentence ("32頁為370元，48頁為460元": two or more clauses each with two or more figures),
    whose clauses are each a set; a single-figure clause there joins each neighbour. The
    figures of the source's title (or of a first line that is a heading or a FAQ question)
    qualify all it says: "兩元乘車優惠計劃" binds its 2 to "60歲或以上"; a unit ending in a
    colon qualifies the next one."""
    lines = text.splitlines()
    heading = lines[0].strip() if lines else ""
    titled = title
    if heading.startswith("#") or heading.endswith(("?", "？")):
        titled = f"{title} {heading}"
    title_figures = frozenset(n for n in numbers_in(titled) if n > 1)
    units = [s for line in lines for s in split_sentences(line) if s.strip()]
    groups: list[frozenset[Decimal]] = []
    for i, unit in enumerate(units):
        clauses = [c for c in _clause_figures(strip_citations(unit)) if c]
        if clauses and i and units[i - 1].rstrip().endswith((":", "：")):
            # a line that introduces what follows ("由2024年3月1日起，以下收費生效：") qualifies
            # the next unit's figures
            clauses[0] |= frozenset().union(*_clause_figures(strip_citations(units[i - 1])))
        if sum(len(c) > 1 for c in clauses) < 2:
            whole = frozenset().union(*clauses)
            if whole:
                groups.append(whole)
            continue
        for i, clause in enumerate(clauses):
            if len(clause) > 1:
                groups.append(clause)
                continue
            groups += [clause | c for c in clauses[max(0, i - 1) : i + 2] if c is not clause]
    return tuple(group | title_figures for group in groups)


def unbound_figures(
    sentence: str,
    sources: Sequence[FactSource],
    *,
    topic: Iterable[str] = (),
    free: Iterable[str] = (),
) -> frozenset[Decimal]:
    """The figures of the first clause of `sentence` that pairs figures no single unit (line,
    sentence, table row) of a usable source states together, or an empty set.

    "48頁護照要370元" against "32頁護照: 港幣370元 / 48頁護照: 港幣460元" states 48 and 370
    together, which no row does: each figure is in a source, the fact is not. Only figures some
    source states are bound (a question's figure no source has, "I am 70", is the caller's).
    """
    units = [
        group
        for source in sources
        if not source.quarantined
        for group in _bound_groups(source.title, source.text)
    ]
    stated: set[Decimal] = set().union(*units) if units else set()
    topic = list(topic)
    free = list(free)
    for figures in figure_clauses(sentence, topic=topic, free=free):
        bound = figures & stated
        if len(bound) > 1 and not any(bound <= unit for unit in units):
            return frozenset(bound)
    return frozenset()


@lru_cache(maxsize=PROMPT_MEMO_SIZE)
def _prompt_grams(prompt: str, size: int) -> frozenset[str]:
    return frozenset(_sentence_grams_of(prompt, size))


def _sentence_grams(sentence: str) -> tuple[set[str], int]:
    """The sentence's runs of 16 Latin / 10 CJK characters (whitespace ignored), and that size."""
    flat = re.sub(r"\s+", "", sentence.lower())
    size = 10 if _CJK.search(flat) else 16
    return {flat[i : i + size] for i in range(len(flat) - size + 1)}, size


def leaks_prompt(sentence: str, prompts: Sequence[str]) -> bool:
    """Whether the sentence repeats a long stretch of a system prompt (16 Latin / 10 CJK chars)."""
    grams, size = _sentence_grams(sentence)
    return any(grams & _prompt_grams(prompt, size) for prompt in prompts)


_LEADING_MARKS = re.compile(r"^(?:\s*[\[［【](?:\s*\d+\s*[,，、]?)+[\]］】])+\s*")


def _folded(text: str) -> str:
    """Text compared across scripts: the model may write Simplified from Traditional sources."""
    return to_script(text, "cmn")


def _strip_heading(text: str, headings: Sequence[str], *, needs_mark: bool) -> tuple[str, str]:
    """`text` less a leading copied heading (a source's title or section heading line) and
    the citation marks right after it; returned with the marks removed. With `needs_mark`
    the heading must be followed by a mark ("費用[1]補領…": a heading glued on; "費用為…" is
    a sentence about the fee and is left alone)."""
    folded = _folded(text)
    for heading in sorted({h.strip() for h in headings if h.strip()}, key=len, reverse=True):
        wanted = _folded(heading)
        if not folded.startswith(wanted) or _folded(text[: len(wanted)]) != wanted:
            continue  # not this heading (or the script change moved the characters: leave it)
        rest = text[len(wanted) :]
        marks = _LEADING_MARKS.match(rest)
        if needs_mark and not marks:
            continue
        return rest[marks.end() :] if marks else rest, marks.group(0) if marks else ""
    return text, ""


def strip_copied_heading(
    sentence: str, sources: Sequence[tuple[str, str]], headings: Sequence[str] = ()
) -> str:
    """A sentence without the copied scaffolding a small model opens with: a leading "[n]"
    (the prompt's "[1] Title" layout: "[1] 銀漢魚科"), a source's title run into the text
    ("[1] 補領身份證時限身份證遺失…"), or a section heading glued on with its mark
    ("費用[1]補領身份證嘅費用為…"). The marks the model wrote there move to the sentence's end
    (the fact check then keeps or corrects them), so the sentence keeps its citation.

    `sources` are (title, text) pairs as put in the prompt; `headings` their section heading
    lines ("費用", "時限": assistant.evidence.is_heading_line)."""
    titles = [title for title, _ in sources]
    text, moved = sentence, ""
    lead = _LEADING_MARKS.match(text)
    if lead:
        text, moved = text[lead.end() :], lead.group(0)
    # after a leading mark a title needs no mark of its own (the prompt's "[1] Title" layout);
    # a section heading always does: "[1] 費用為港幣370元" is about the fee, not a copied heading
    rest, marks = _strip_heading(text, titles, needs_mark=not lead)
    if rest == text:
        rest, marks = _strip_heading(text, headings, needs_mark=True)
    if any(ch.isalnum() for ch in strip_citations(rest)):
        text, moved = rest.lstrip(" :：，,"), moved + marks
    if text == sentence or not any(ch.isalnum() for ch in strip_citations(text)):
        return sentence  # nothing copied, or nothing else said (is_copied_scaffold's case)
    if cited_numbers(text) or not cited_numbers(moved):
        return text
    match = _END_PUNCTUATION.search(text)
    end = match.start() if match else len(text)
    body = text[:end].rstrip()
    separator = "" if _CJK.search(body[-1:] or "x") else " "
    return f"{body}{separator}{''.join(f'[{n}]' for n in cited_numbers(moved))}{text[end:]}"


def is_copied_scaffold(
    sentence: str, sources: Sequence[tuple[str, str]], headings: Sequence[str] = ()
) -> bool:
    """Whether a sentence only copies a source's scaffolding: its "[n] title" heading, a
    section heading with or without its mark ("費用[1]"), a bare mark, or a FAQ question taken
    from it. Such a sentence answers nothing (the small model often opens by copying the
    prompt's "[1] Title" layout), so the answer skips it rather than saying it.

    `sources` are (title, text) pairs as put in the prompt; `headings` their section heading
    lines.
    """
    text = strip_citations(sentence).strip()
    titles = [title for title, _ in sources]
    while True:
        rest, _marks = _strip_heading(text, [*titles, *headings], needs_mark=False)
        rest = strip_citations(rest).strip(" :：，,。.")
        if rest == text:
            break
        text = rest
    if not any(ch.isalnum() for ch in text):
        return True
    if not text.endswith(("?", "？")):
        return False
    grams, size = _sentence_grams(text)
    return any(grams & _sentence_grams_of(body, size) for _, body in sources)


def _sentence_grams_of(text: str, size: int) -> set[str]:
    flat = re.sub(r"\s+", "", text.lower())
    return {flat[i : i + size] for i in range(len(flat) - size + 1)}


# ---- extractive fallback ------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    title: str
    sentences: list[str]
    number: int  # the source's [n]


def best_quote(
    question: str, sources: Sequence[tuple[int, str, str]], *, max_sentences: int
) -> Quote | None:
    """The sentences of one source (number, title, text) that best match the question.

    One source only, so the quote can be introduced with its title; the source with the best
    matching sentence wins, earlier sources winning ties (they ranked higher).
    """
    terms = content_terms(question)
    best: tuple[float, int, Quote] | None = None
    for rank, (number, title, text) in enumerate(sources):
        sentences = [
            s
            for s in (clean_for_display(x) for x in split_sentences(text))
            if len(s) > 3 and not s.endswith(("?", "？"))  # FAQ questions answer nothing
        ]
        scored = sorted(
            ((term_overlap(terms, s), -i, s) for i, s in enumerate(sentences)), reverse=True
        )[:max_sentences]
        if not scored:
            continue
        score = scored[0][0]
        if best is None or score > best[0] or (score == best[0] and rank < best[1]):
            chosen = [s for _, _, s in sorted(scored, key=lambda item: -item[1])]
            best = (score, rank, Quote(title, chosen, number))
    return best[2] if best else None

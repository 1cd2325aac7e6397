"""Evidence, not documents, in the prompt: the sentences of the top sources that answer.

A 2-core CPU reads ~250 prompt tokens a second, and a Chinese source costs about three times
the tokens of an English one, so whole chunks made Chinese answers wait 5-6 s before the
first token. Instead each source is cut into units (a sentence, or a table row read as
"cell: cell"), every unit is scored against the question, and the best units are kept with
their neighbours (a fee row needs its header, a condition its sentence before) until a token
budget is spent. Sources keep their [n] numbers, so citations still name what the caller sees.

Score of a unit: the share of the question's content terms it holds (the KB's own tokens:
jieba words, stemmed English, scripts folded), a bonus when the question asks for a figure
(how much, 幾多錢, 幾時 ...) and the unit states one, a small prior for the source's rank, and,
when an embedder is given, its cosine with the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.gate import content_terms, term_overlap
from assistant.numbers import numbers_in
from assistant.prompts import PromptSource
from assistant.speakable import clean_for_display
from voices.sentences import split_sentences

# Embeds texts into unit vectors (rows); optional: lexical scores alone work.
Embed = Callable[[Sequence[str]], np.ndarray]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+|\d+")
_ASKS_FIGURE = re.compile(
    r"how (much|many|long|old|soon|far)|\bwhen\b|\bfees?\b|\bcosts?\b|\bprice\b|\bcharges?\b|"
    r"deadline|\bdays?\b|\bphone\b|\bnumber\b|\bhotline\b|\bage\b|\byears?\b|"
    r"幾多|几多|多少|幾耐|几耐|多久|幾時|几时|何時|何时|幾歲|几岁|收費|收费|費用|费用|價錢|价钱|"
    r"幾錢|几钱|日期|期限|電話|电话|幾日|几日|幾年|几年|幾長|几长",
    re.IGNORECASE,
)
# a question about money wants the unit that states an amount, one about time a date or a
# duration: the fee row, not the sentence with the document's other figures
_ASKS_MONEY = re.compile(
    r"how much|\bfees?\b|\bcosts?\b|\bprice\b|\bcharges?\b|\bpay\b|錢|钱|費|费|價|价|幾多蚊",
    re.IGNORECASE,
)
_MONEY = re.compile(r"\$|元|蚊|港幣|港币|\bHKD\b|\bdollars?\b|\bfree\b|免費|免费|毋須繳費", re.I)
_ASKS_TIME = re.compile(
    r"how long|\bwhen\b|deadline|how soon|幾耐|几耐|多久|幾時|几时|何時|何时|期限|幾日|几日",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(days?|weeks?|months?|years?|hours?|minutes?|century|centuries)\b|\b1\d{3}\b|\b20\d{2}\b|"
    r"\b(january|february|march|april|may|june|july|august|september|october|november|"
    r"december)\b|日|天|星期|週|周|個月|个月|年|小時|小时|分鐘|分钟|世紀|世纪",
    re.IGNORECASE,
)
# a line that heads a section: short, no figure, no sentence or clause end ("費用", "Paying")
_NOT_A_HEADING_START = re.compile(r"^\s*([-*+>|]|\d+[.)]\s)")
_ENDS_TEXT = re.compile(r"[。．.!！?？:：;；,，、)）」』]$")
HEADING_MAX_TOKENS = 8
FIGURE_BONUS = 0.35
OTHER_FIGURE_BONUS = 0.1
RANK_PRIOR = 0.05


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of a Qwen-style tokenizer's count: one token per Chinese
    character, 1.3 per English word or number, one per other symbol."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    rest = sum(1 for ch in _LATIN_WORD.sub("", _CJK.sub("", text)) if not ch.isspace())
    return cjk + int(words * 1.3 + 0.999) + rest


def asks_for_figure(question: str) -> bool:
    """Whether the question asks for an amount, a date, a duration, an age or a number."""
    return bool(_ASKS_FIGURE.search(question))


def figure_bonus(question: str, unit: str) -> float:
    """What stating a figure adds to a unit's score for this question."""
    if not asks_for_figure(question) or not any(n > 1 for n in numbers_in(unit)):
        return 0.0
    if _ASKS_MONEY.search(question):
        return FIGURE_BONUS if _MONEY.search(unit) else OTHER_FIGURE_BONUS
    if _ASKS_TIME.search(question):
        return FIGURE_BONUS if _TIME.search(unit) else OTHER_FIGURE_BONUS
    return FIGURE_BONUS


def figure_support(question: str, sources: Sequence[PromptSource]) -> float:
    """How well the sources can answer a question that asks for a figure: the best share of
    the question's content terms around a unit stating a figure of the asked kind (the unit,
    the one before it, the source's title). 1.0 for a question that asks for no figure.

    A small model asked "how much is it to courier a passport abroad?" over the passport fee
    table answers with the fee: the figure is in its sources, its subject is not. Gating on
    this share (settings.min_figure_support) refuses such questions before the model runs."""
    if not asks_for_figure(question):
        return 1.0
    terms = content_terms(question)
    if not terms:
        return 1.0
    best = 0.0
    for source in sources:
        units = units_of(source.text)
        for i, unit in enumerate(units):
            if figure_bonus(question, unit) < FIGURE_BONUS:
                continue
            context = f"{source.title}\n{units[i - 1] if i else ''}\n{unit}"
            best = max(best, term_overlap(terms, context))
    return best


def units_of(text: str) -> list[str]:
    """A source's units: its sentences, each line (a table row, a heading) on its own, as
    plain text (markdown emphasis and links cost tokens and say nothing)."""
    return [unit for unit, _heading in _units(text)]


def _units(text: str) -> list[tuple[str, bool]]:
    """`units_of`, each with whether it is a section heading (`is_heading_line`)."""
    units = []
    for line in text.splitlines():
        heading = is_heading_line(line)  # once a line, whatever its number of sentences
        for sentence in split_sentences(line):
            unit = clean_for_display(sentence)
            if any(ch.isalnum() for ch in unit):
                units.append((unit, heading))
    return units


def is_heading_line(line: str) -> bool:
    """Whether a source line heads a section ("費用", "時限", "Replacing a lost passport"):
    short, with no figure, no colon and no sentence or clause end, not a list item.
    Such a line says nothing about what follows it unless that is kept too."""
    if _NOT_A_HEADING_START.match(line):
        return False
    plain = clean_for_display(line).strip()
    if not plain or _ENDS_TEXT.search(plain) or any(ch.isdigit() or ch in ":：" for ch in plain):
        return False  # a sentence, a clause, a figure, a "cell: cell" table row
    return estimate_tokens(plain) <= HEADING_MAX_TOKENS


@dataclass(frozen=True)
class ScoredUnit:
    source: int  # index into the sources given
    position: int  # the unit's index within its source
    text: str
    score: float
    heading: bool = False  # a section heading (is_heading_line)


def score_units(
    question: str,
    sources: Sequence[PromptSource],
    *,
    embed: Embed | None = None,
    dense_weight: float = 0.5,
) -> list[list[ScoredUnit]]:
    """Every unit of every source with its score (see the module docstring)."""
    terms = content_terms(question)
    kinds = [_units(s.text) for s in sources]
    units = [[unit for unit, _heading in per_source] for per_source in kinds]
    dense: list[np.ndarray] = [np.zeros(len(u)) for u in units]
    flat = [u for per_source in units for u in per_source]
    if embed is not None and flat:
        vectors = embed([question, *flat])
        cosines = vectors[1:] @ vectors[0]
        offsets = np.cumsum([0] + [len(u) for u in units])
        dense = [cosines[offsets[i] : offsets[i + 1]] for i in range(len(units))]
    scored: list[list[ScoredUnit]] = []
    for i, per_source in enumerate(units):
        prior = RANK_PRIOR * (len(sources) - i) / max(len(sources), 1)
        row = []
        for j, unit in enumerate(per_source):
            score = term_overlap(terms, unit) + prior
            score += figure_bonus(question, unit)
            score += dense_weight * float(dense[i][j]) if embed is not None else 0.0
            row.append(ScoredUnit(i, j, unit, score, heading=kinds[i][j][1]))
        scored.append(row)
    return scored


def select_evidence(
    question: str,
    sources: Sequence[PromptSource],
    *,
    budget_tokens: int = 240,
    neighbours: int = 1,
    embed: Embed | None = None,
    dense_weight: float = 0.5,
) -> list[PromptSource]:
    """The sources cut to the units that answer, within `budget_tokens` (estimated, titles
    included); sources with nothing chosen are left out, the rest keep their numbers and
    order, and their units stay in document order.

    Neighbours come only with their unit (a unit that does not fit brings none: a fee
    sentence left out must not leave its "費用" heading behind as a source of its own), and a
    section heading is a neighbour only before its unit (after it, it heads a section that
    is not kept; the small model copies such headings into answers: "時限[1]…費用[1]")."""
    scored = score_units(question, sources, embed=embed, dense_weight=dense_weight)
    ranked = sorted(
        (u for row in scored for u in row), key=lambda u: (-u.score, u.source, u.position)
    )
    chosen: dict[int, set[int]] = {}
    spent = 0
    for unit in ranked:
        if unit.score <= RANK_PRIOR and chosen:
            break  # nothing of the question in it: neighbours of better units only
        row = scored[unit.source]
        wanted = [
            p
            for p in range(unit.position - neighbours, unit.position + neighbours + 1)
            if 0 <= p < len(row) and (p <= unit.position or not row[p].heading)
        ]
        # the unit first, then its neighbours while they fit
        wanted.sort(key=lambda p: (p != unit.position, abs(p - unit.position)))
        for position in wanted:
            have = chosen.setdefault(unit.source, set())
            if position in have:
                continue
            cost = estimate_tokens(row[position].text)
            if not have:
                cost += estimate_tokens(sources[unit.source].title) + 4  # "[n] title"
            if spent + cost > budget_tokens and (chosen.get(unit.source) or spent):
                if not have:
                    del chosen[unit.source]
                if position == unit.position:
                    break  # the unit itself does not fit: none of its neighbours either
                continue
            have.add(position)
            spent += cost
        if spent >= budget_tokens:
            break
    selected = []
    for i, source in enumerate(sources):
        if positions := chosen.get(i):
            text = "\n".join(scored[i][p].text for p in sorted(positions))
            selected.append(PromptSource(source.number, source.title, text))
    return selected


def prompt_tokens(sources: Sequence[PromptSource]) -> int:
    """The estimated tokens of the evidence (for the bench and the budget check)."""
    return sum(estimate_tokens(s.title) + 4 + estimate_tokens(s.text) for s in sources)

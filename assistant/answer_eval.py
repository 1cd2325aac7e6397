"""The answer benchmark: run QA questions through whole turns and score what the caller got.

A QA file (JSONL, see bench/data/qa/README.md) gives each question's language, gold answers
and whether the sources hold the answer. Per question the turn's outcome is recorded (answer,
refusal, extractive fallback, sources with their full texts, timings); scoring is separate,
so outcomes recorded with another version of the code (`PYTHONPATH=/work/main`) are scored
by the same rules. Per language the summary gives:
- gold: share of answerable questions whose answer contains a gold answer (figures compared
  as values, text with scripts folded), and how many of those the model wrote vs quoted;
- refusal on answerable (should be low) and on unanswerable (should be high) questions;
- invented: share of non-refusal answers stating a figure found in none of their sources,
  the question or the hotline;
- mispaired: share of non-refusal answers with a clause pairing figures (each found) that no
  one line, sentence or table row of a source states together ("48頁護照要370元" against a
  table whose 48-page row says 460), read by assistant.gate.unbound_figures;
- script (the caller's); the register of yue answers, three ways (assistant.colloquial.register):
  `colloquial` (Cantonese forms such as 嘅 係 唔 喺 or an amount in 蚊, and no Mandarin-only
  form), `yue_neutral` (neither: "流行語被稱作潮語。" reads the same in both, so it is not
  counted as colloquial, nor as Mandarin) and `yue_mandarin` (a Mandarin-only form left:
  的 了 在 不 沒 是, with or without Cantonese ones); cited (answers with an [n]);
- p50 of the time to the first answer text and to the first audio (spoken runs).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.colloquial import register
from assistant.gate import FactSource, unbound_figures
from assistant.language import matches_language, to_script
from assistant.numbers import numbers_in
from assistant.speakable import cited_numbers, strip_citations
from voices.sentences import split_sentences

LANGUAGES = ("yue", "cmn", "en")


@dataclass(frozen=True)
class QAItem:
    id: str
    language: str
    question: str
    answers: list[str]
    answerable: bool
    set: str = ""
    documents: list[str] = field(default_factory=list)


def load_qa(path: Path) -> list[QAItem]:
    """The questions of a QA JSONL file (a clear error names a bad line)."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                QAItem(
                    id=str(row.get("id", number)),
                    language=row["language"],
                    question=row["question"],
                    answers=list(row.get("answers", [])),
                    answerable=bool(row.get("answerable", True)),
                    set=row.get("set", ""),
                    documents=list(row.get("documents", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a QA record ({exc})") from exc
        if items[-1].language not in LANGUAGES:
            raise ValueError(f"{path}:{number}: language must be one of {LANGUAGES}")
    return items


@dataclass
class Outcome:
    """What one turn gave the caller (recorded by `record_turn`, scored by `score`)."""

    id: str
    language: str
    answer: str = ""
    refused: bool = False
    fallback: str | None = None
    error: str | None = None
    source_texts: list[str] = field(default_factory=list)
    source_docs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    first_text_ms: float | None = None
    first_audio_ms: float | None = None
    wall_ms: float = 0.0


def _fold(text: str) -> str:
    return "".join(to_script(strip_citations(text), "cmn").lower().split())


def contains_gold(answer: str, golds: Iterable[str]) -> bool:
    """Whether the answer states a gold answer: every figure of a gold with figures occurs
    in the answer as a value; a gold without figures occurs as text (scripts folded)."""
    said = numbers_in(answer)
    folded = _fold(answer)
    for gold in golds:
        figures = numbers_in(gold)
        if figures and figures <= said:
            return True
        if _fold(gold) and _fold(gold) in folded:
            return True
    return False


def invented_figures(outcome: Outcome, question: str, hotline: str = "1823") -> set:
    """Figures of the answer (other than 0 and 1) found in none of its sources."""
    allowed = numbers_in(question) | numbers_in(hotline)
    for text in outcome.source_texts:
        allowed |= numbers_in(text)
    return {n for n in numbers_in(outcome.answer) if n > 1 and n not in allowed}


def mispaired_figures(outcome: Outcome, question: str, hotline: str = "1823") -> set:
    """Figures of the first answer sentence whose clause pairs figures no source unit states
    together (see assistant.gate.unbound_figures)."""
    # record_turn stores the chunks' texts, then one flattened snippet per source (rows run
    # together on one line, so they would bind every figure of a table): the texts only
    snippets = len(outcome.source_docs)
    texts = outcome.source_texts[: len(outcome.source_texts) - snippets] or outcome.source_texts
    sources = [FactSource(n, "", text) for n, text in enumerate(texts, 1)]
    for sentence in split_sentences(outcome.answer):
        unbound = unbound_figures(sentence, sources, topic=[question], free=[hotline])
        if unbound:
            return set(unbound)
    return set()


def score(item: QAItem, outcome: Outcome) -> dict[str, Any]:
    answered = bool(outcome.answer) and not outcome.refused  # a fallback after an error counts
    writer = "refusal" if not answered else ("extractive" if outcome.fallback else "model")
    return {
        "id": item.id,
        "set": item.set,
        "language": item.language,
        "answerable": item.answerable,
        "answered": answered,
        "writer": writer,
        "gold": answered and item.answerable and contains_gold(outcome.answer, item.answers),
        "invented": answered and bool(invented_figures(outcome, item.question)),
        "mispaired": answered and bool(mispaired_figures(outcome, item.question)),
        "script": answered and matches_language(strip_citations(outcome.answer), item.language),  # type: ignore[arg-type]
        "register": register(outcome.answer) if answered and item.language == "yue" else None,
        "cited": answered and bool(cited_numbers(outcome.answer)),
        "first_text_ms": outcome.first_text_ms,
        "first_audio_ms": outcome.first_audio_ms,
        "error": outcome.error,
        "answer": outcome.answer,
    }


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole}" if whole else "-"


def _p50(values: Sequence[float | None]) -> str:
    present = [v for v in values if v is not None]
    return f"{statistics.median(present) / 1000:.1f}s" if present else "-"


def summarise(scores: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per language (and one for all): the figures named in the module docstring."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in scores:
        groups[row["language"]].append(row)
        groups["all"].append(row)
    table = []
    for language in [*LANGUAGES, "all"]:
        rows = groups.get(language, [])
        if not rows:
            continue
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        answered = [r for r in rows if r["answered"]]
        gold = [r for r in answerable if r["gold"]]
        yue_answered = [r for r in answered if r["language"] == "yue"]
        table.append(
            {
                "language": language,
                "gold": _share(len(gold), len(answerable)),
                "gold_model": str(sum(r["writer"] == "model" for r in gold)),
                "gold_extractive": str(sum(r["writer"] == "extractive" for r in gold)),
                "refused_answerable": _share(
                    sum(not r["answered"] for r in answerable), len(answerable)
                ),
                "refused_unanswerable": _share(
                    sum(not r["answered"] for r in unanswerable), len(unanswerable)
                ),
                "invented": _share(sum(r["invented"] for r in answered), len(answered)),
                "mispaired": _share(sum(r["mispaired"] for r in answered), len(answered)),
                "script": _share(sum(r["script"] for r in answered), len(answered)),
                **{
                    column: _share(
                        sum(r["register"] == kind for r in yue_answered), len(yue_answered)
                    )
                    for column, kind in (
                        ("colloquial", "cantonese"),
                        ("yue_neutral", "neutral"),
                        ("yue_mandarin", "mandarin"),
                    )
                },
                "cited": _share(sum(r["cited"] for r in answered), len(answered)),
                "model_written": _share(
                    sum(r["writer"] == "model" for r in answered), len(answered)
                ),
                "errors": str(sum(r["error"] is not None for r in rows)),
                "first_text_p50": _p50([r["first_text_ms"] for r in rows]),
                "first_audio_p50": _p50([r["first_audio_ms"] for r in rows]),
            }
        )
    return table


def format_table(table: Sequence[dict[str, str]]) -> str:
    if not table:
        return "(no questions)"
    columns = list(table[0])
    widths = {c: max(len(c), *(len(row[c]) for row in table)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(row[c].ljust(widths[c]) for c in columns) for row in table]
    return "\n".join(lines)


async def record_turn(
    assistant: Any, knowledge_base: Any, item: QAItem, collection: str, *, spoken: bool
) -> Outcome:
    """Run one typed question as a caller would (a new conversation) and record the outcome."""
    from assistant.types import (
        AnswerDelta,
        AudioData,
        SourcesFound,
        TurnEnd,
        TurnError,
    )

    outcome = Outcome(item.id, item.language)
    started = time.perf_counter()
    sources: list[Any] = []
    turn = assistant.answer_spoken if spoken else assistant.answer
    async for event in turn(item.question, collection=collection):
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if isinstance(event, SourcesFound):
            sources = event.sources
        elif isinstance(event, AnswerDelta) and outcome.first_text_ms is None:
            outcome.first_text_ms = elapsed
        elif isinstance(event, AudioData) and outcome.first_audio_ms is None:
            outcome.first_audio_ms = elapsed
        elif isinstance(event, TurnEnd):
            outcome.answer, outcome.refused = event.answer, event.refused
            outcome.fallback, outcome.timings = event.fallback, event.timings
            outcome.error = event.error
        elif isinstance(event, TurnError):
            outcome.error = event.code
    outcome.wall_ms = round((time.perf_counter() - started) * 1000, 1)
    outcome.source_docs = [s.doc_id for s in sources]
    if sources:
        wanted = {s.chunk_id for s in sources}
        retriever = knowledge_base.collection(collection).retriever()
        hits = retriever.retrieve(item.question) + retriever.retrieve(outcome.answer or "-")
        texts = {h.chunk.id: h.chunk.text for h in hits if h.chunk.id in wanted}
        outcome.source_texts = list(texts.values()) + [s.snippet for s in sources]
    return outcome


def write_outcomes(path: Path, outcomes: Iterable[Outcome]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for outcome in outcomes:
            out.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")


def read_outcomes(path: Path) -> list[Outcome]:
    return [
        Outcome(**json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]

"""Retrieval quality on labelled questions: recall@1/5/10, MRR, nDCG@10, overall and per
language. Relevance is judged per document: a question is answered when a hit's chunk comes
from one of its `relevant` document ids."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge_base.types import Hit

CUTOFFS = (1, 5, 10)
DEPTH = 10


@dataclass(frozen=True)
class Question:
    query: str
    relevant: frozenset[str]
    language: str = "unknown"


@dataclass
class QuestionResult:
    question: Question
    ranked_docs: list[str]

    def first_relevant_rank(self) -> int | None:
        for rank, doc_id in enumerate(self.ranked_docs, start=1):
            if doc_id in self.question.relevant:
                return rank
        return None

    def recall(self, k: int) -> float:
        found = self.question.relevant & set(self.ranked_docs[:k])
        return len(found) / len(self.question.relevant)

    def ndcg(self, k: int = DEPTH) -> float:
        gains = sum(
            1 / math.log2(rank + 1)
            for rank, doc_id in enumerate(self.ranked_docs[:k], start=1)
            if doc_id in self.question.relevant
        )
        ideal = sum(
            1 / math.log2(rank + 1) for rank in range(1, min(k, len(self.question.relevant)) + 1)
        )
        return gains / ideal


@dataclass
class Metrics:
    count: int
    recall: dict[int, float]
    mrr: float
    ndcg: float
    hit: dict[int, float]  # share of questions with at least one relevant document in the top k

    def as_dict(self, hits: bool = False) -> dict[str, float | int]:
        out: dict[str, float | int] = {f"recall@{k}": round(v, 4) for k, v in self.recall.items()}
        out["mrr"] = round(self.mrr, 4)
        out["ndcg@10"] = round(self.ndcg, 4)
        if hits:
            out.update({f"hit@{k}": round(v, 4) for k, v in self.hit.items()})
        return out


@dataclass
class EvalReport:
    overall: Metrics
    by_language: dict[str, Metrics]
    results: list[QuestionResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The `kb eval --json` object: recall@1, recall@5, recall@10, mrr, ndcg@10, by_language
        (whose entries also carry hit@1/5/10, the share of questions answered at all)."""
        out: dict[str, object] = dict(self.overall.as_dict())
        out["by_language"] = {
            lang: m.as_dict(hits=True) for lang, m in sorted(self.by_language.items())
        }
        return out

    def misses(self, k: int = 5) -> list[QuestionResult]:
        """Questions with no relevant document at all in the top k."""
        return [r for r in self.results if r.recall(k) == 0]

    def partial(self, k: int = 5) -> list[QuestionResult]:
        """Questions with some, not all, of their relevant documents in the top k."""
        return [r for r in self.results if 0 < r.recall(k) < 1]

    def misses_as_dict(self, k: int = 5) -> dict[str, list[dict[str, object]]]:
        """`kb eval --misses --json`: {"misses": [...], "partial": [...]} at cut-off k."""

        def row(r: QuestionResult) -> dict[str, object]:
            top = r.ranked_docs[:k]
            return {
                "query": r.question.query,
                "language": r.question.language,
                "found": sorted(r.question.relevant & set(top)),
                "missing": sorted(r.question.relevant - set(top)),
                "got": top,
            }

        return {
            "misses": [row(r) for r in self.misses(k)],
            "partial": [row(r) for r in self.partial(k)],
        }


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            relevant = row["relevant"]
            if isinstance(relevant, str):
                relevant = [relevant]
            questions.append(
                Question(
                    str(row["query"]),
                    frozenset(map(str, relevant)),
                    str(row.get("language", "unknown")),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
        if not questions[-1].relevant:
            raise ValueError(f"{path}:{number}: 'relevant' is empty")
    return questions


def _metrics(results: Sequence[QuestionResult]) -> Metrics:
    n = len(results) or 1
    return Metrics(
        count=len(results),
        recall={k: sum(r.recall(k) for r in results) / n for k in CUTOFFS},
        mrr=sum(1 / rank for r in results if (rank := r.first_relevant_rank())) / n,
        ndcg=sum(r.ndcg() for r in results) / n,
        hit={k: sum(r.recall(k) > 0 for r in results) / n for k in CUTOFFS},
    )


def ranked_documents(hits: Sequence[Hit]) -> list[str]:
    ranked: list[str] = []
    for hit in hits:
        if hit.chunk.doc_id not in ranked:
            ranked.append(hit.chunk.doc_id)
    return ranked


def evaluate(search: Callable[[str], list[Hit]], questions: Sequence[Question]) -> EvalReport:
    """Run every question through `search` (returning at least DEPTH hits) and score it."""
    return report_of([QuestionResult(q, ranked_documents(search(q.query))) for q in questions])


def report_of(results: Sequence[QuestionResult]) -> EvalReport:
    """The report of already-ranked questions (a subset of another report's, in tuning folds)."""
    results = list(results)
    languages: dict[str, list[QuestionResult]] = {}
    for result in results:
        languages.setdefault(result.question.language, []).append(result)
    return EvalReport(
        overall=_metrics(results),
        by_language={lang: _metrics(rs) for lang, rs in languages.items()},
        results=results,
    )


def evaluate_collection(
    collection,
    questions: Sequence[Question],
    *,
    overrides: dict[str, object] | None = None,
    query_translator=None,
) -> EvalReport:
    """`evaluate` on a collection's hybrid retriever, asking for DEPTH documents per question."""
    from knowledge_base.types import QueryOptions

    retriever = collection.retriever(query_translator=query_translator)
    extra = {"one_hit_per_document": True, **(overrides or {})}
    options = QueryOptions(k=DEPTH, extra=extra)
    return evaluate(lambda q: retriever.retrieve(q, options), questions)

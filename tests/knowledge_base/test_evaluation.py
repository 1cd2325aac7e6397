from __future__ import annotations

import math
from pathlib import Path

import pytest

from knowledge_base.evaluation import Question, QuestionResult, evaluate, load_questions
from knowledge_base.types import Chunk, Hit


def _hit(doc_id: str) -> Hit:
    return Hit(Chunk(f"{doc_id}#0", doc_id, "c", "t", "t"), 1.0)


def test_metrics_by_hand() -> None:
    ranked = {"q1": ["a", "x", "b"], "q2": ["y", "z", "c"]}
    questions = [
        Question("q1", frozenset({"a", "b"}), "en"),
        Question("q2", frozenset({"c"}), "yue"),
    ]
    report = evaluate(lambda q: [_hit(d) for d in ranked[q]], questions)
    assert report.by_language["en"].recall[1] == 0.5
    assert report.by_language["en"].recall[5] == 1.0
    assert report.by_language["yue"].mrr == pytest.approx(1 / 3)
    assert report.overall.mrr == pytest.approx((1 + 1 / 3) / 2)
    ideal = 1 + 1 / math.log2(3)
    assert QuestionResult(questions[0], ranked["q1"]).ndcg() == pytest.approx((1 + 1 / 2) / ideal)
    assert set(report.as_dict()) == {
        "recall@1",
        "recall@5",
        "recall@10",
        "mrr",
        "ndcg@10",
        "by_language",
    }


def test_load_questions_errors(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "x", "relevant": []}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        load_questions(path)
    path.write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":1:"):
        load_questions(path)


def test_demo_questions_meet_the_recall_target(demo_kb) -> None:
    """The demo corpus under the defaults chosen on the public suite (issue 12): recall@5
    >= 0.9 overall and >= 0.85 in each language (English 0.86: its questions list both
    language versions and FAQ rows as relevant, and BM25's larger weight favours the
    English ones; docs/retrieval.md)."""
    from knowledge_base import evaluate_collection
    from tests.fixtures_knowledge_base import DEMO_CORPUS

    questions = load_questions(DEMO_CORPUS / "questions.jsonl")
    report = evaluate_collection(demo_kb.collection("demo"), questions)
    assert set(report.by_language) == {"en", "cmn", "yue"}
    assert report.overall.recall[5] >= 0.9, report.overall
    for language, metrics in report.by_language.items():
        assert metrics.recall[5] >= 0.85, (language, metrics)


def test_misses_and_partial_hits_are_told_apart() -> None:
    ranked = {"none": ["x", "y"], "some": ["a", "x"], "all": ["a", "b"]}
    questions = [Question(q, frozenset({"a", "b"}), "en") for q in ranked]
    report = evaluate(lambda q: [_hit(d) for d in ranked[q]], questions)
    listed = report.misses_as_dict(5)
    assert [m["query"] for m in listed["misses"]] == ["none"]
    [partial] = listed["partial"]
    assert (partial["query"], partial["found"], partial["missing"]) == ("some", ["a"], ["b"])

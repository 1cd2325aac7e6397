"""Evidence-gate sweep: how many in-scope demo questions pass the gate, and how many
out-of-scope ones slip through, for several `min_dense_score` values (no LLM involved).

    .venv/bin/python bench/answers_gate.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import AssistantSettings  # noqa: E402
from assistant.gate import Evidence, judge_evidence  # noqa: E402
from knowledge_base import KnowledgeBase, KnowledgeBaseSettings, QueryOptions  # noqa: E402

DEMO = ROOT / "knowledge_base" / "demo_corpus"
HOSTILE = ROOT / "bench" / "data" / "answers_hostile.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def passes(evidence: Evidence, min_dense: float, settings: AssistantSettings) -> bool:
    dense = evidence.best_dense or 0.0
    by_terms = (
        evidence.best_overlap >= settings.min_term_overlap
        and dense >= settings.min_dense_with_terms
    )
    return dense >= min_dense or by_terms


def main() -> None:
    settings = AssistantSettings()
    with tempfile.TemporaryDirectory() as home:
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(home)))
        kb.collection("demo").ingest([DEMO])
        retriever = kb.collection("demo").retriever()

        def evidence(query: str) -> Evidence:
            hits = retriever.retrieve(query, QueryOptions(k=2 * settings.retrieval_k))
            return judge_evidence(
                query, hits, min_overlap=settings.min_term_overlap,
                min_dense=settings.min_dense_score,
                min_dense_with_terms=settings.min_dense_with_terms,
            )  # fmt: skip

        in_scope = [evidence(row["query"]) for row in load(DEMO / "questions.jsonl")]
        out_of_scope = [evidence(r["query"]) for r in load(HOSTILE) if r["kind"] == "out_of_scope"]
    print("| min_dense_score | in-scope passed | out-of-scope passed |\n|---|---|---|")
    for threshold in (0.34, 0.36, 0.38, 0.40, 0.42, 0.45):
        inside = sum(passes(e, threshold, settings) for e in in_scope)
        outside = sum(passes(e, threshold, settings) for e in out_of_scope)
        print(f"| {threshold:.2f} | {inside}/{len(in_scope)} | {outside}/{len(out_of_scope)} |")
    print("best dense score of each out-of-scope question:",
          sorted(round(e.best_dense or 0, 3) for e in out_of_scope))  # fmt: skip


if __name__ == "__main__":
    main()

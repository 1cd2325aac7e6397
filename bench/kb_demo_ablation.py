"""Effect of Chinese tokenisation (jieba / character bigrams / none) and OpenCC script folding
on the demo questions' recall@5, for BM25 alone and for the full hybrid retriever.

"none" is what a whitespace tokenizer does to Chinese (a whole run of characters is one token).
Also shows the hybrid without language-balanced fusion and without the both-scripts query.
Bounded: the demo corpus is embedded once; each variant rebuilds only its BM25 index.

    .venv/bin/python bench/kb_demo_ablation.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings
from knowledge_base.evaluation import evaluate_collection, load_questions

CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"


def main() -> None:
    questions = load_questions(CORPUS / "questions.jsonl")
    with tempfile.TemporaryDirectory() as home:
        collection = KnowledgeBase(KnowledgeBaseSettings(home=Path(home))).collection("demo")
        started = time.perf_counter()
        collection.ingest([CORPUS])
        print(f"ingested the demo corpus in {time.perf_counter() - started:.1f} s")
        table = Table("variant", "mode", "r@5 en", "r@5 cmn", "r@5 yue", "r@5 all", "MRR")
        variants = [
            ("jieba + OpenCC", "jieba", True, {}),
            ("jieba, no OpenCC", "jieba", False, {}),
            ("bigrams + OpenCC (default)", "bigram", True, {}),
            ("bigrams, no OpenCC", "bigram", False, {}),
            ("no Chinese tokenisation + OpenCC", "none", True, {}),
            ("no Chinese tokenisation, no OpenCC", "none", False, {}),
        ]
        for label, tokenizer, fold, _ in variants:
            collection.update_settings(chinese_tokenizer=tokenizer, fold_scripts=fold)
            for mode, overrides in (
                ("BM25 only", {"dense_weight": 0.0, "bm25_weight": 1.0}),
                ("hybrid", {}),
            ):
                report = evaluate_collection(collection, questions, overrides=overrides)
                _row(table, label, mode, report)
        defaults = KnowledgeBaseSettings().retrieval
        collection.update_settings(
            chinese_tokenizer=defaults.chinese_tokenizer, fold_scripts=defaults.fold_scripts
        )
        collection.update_settings(fold_cantonese=False)
        for mode, overrides in (
            ("BM25 only", {"dense_weight": 0.0, "bm25_weight": 1.0}),
            ("hybrid", {}),
        ):
            report = evaluate_collection(collection, questions, overrides=overrides)
            _row(table, "no Cantonese folding", mode, report)
        collection.update_settings(fold_cantonese=defaults.fold_cantonese)
        for label, overrides in (
            ("hybrid (default settings)", {}),
            ("hybrid, no language balancing", {"balance_languages": False}),
            ("hybrid, no both-scripts query", {"both_scripts": False}),
            ("dense only", {"dense_weight": 1.0, "bm25_weight": 0.0}),
        ):
            _row(table, label, "", evaluate_collection(collection, questions, overrides=overrides))
        Console(width=120).print(table)


def _row(table: Table, label: str, mode: str, report) -> None:
    by = report.by_language
    table.add_row(
        label,
        mode,
        *(f"{by[lang].recall[5]:.3f}" for lang in ("en", "cmn", "yue")),
        f"{report.overall.recall[5]:.3f}",
        f"{report.overall.mrr:.3f}",
    )


if __name__ == "__main__":
    main()

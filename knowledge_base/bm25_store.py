"""Lexical index: bm25s (sparse, precomputed BM25 scores) over our own tokens (see tokenise)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class BM25Index:
    def __init__(self, model: bm25s.BM25, tokenize: Callable[[str], list[str]]) -> None:
        self._model = model
        self._tokenize = tokenize

    @classmethod
    def build(cls, texts: Sequence[str], tokenize: Callable[[str], list[str]]) -> BM25Index:
        model = bm25s.BM25()
        # an empty token list breaks bm25s; "" is its reserved empty token
        model.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(model, tokenize)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text for the query (0 where no query token occurs)."""
        ids = self._model.get_tokens_ids(self._tokenize(query))
        num_docs = int(self._model.scores["num_docs"])
        if not ids:
            return np.zeros(num_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)

    def best_possible(self, query: str) -> float:
        """An upper bound of any text's score for the query: the sum over the query's tokens of
        each token's best score in the index. score / best_possible says how much of the query
        a text matches (1: every query word, as well as any text does), on a scale that is the
        same for every query; 0 when no query token is indexed."""
        ids = self._model.get_tokens_ids(self._tokenize(query))
        if not ids:
            return 0.0
        data, indptr = self._model.scores["data"], self._model.scores["indptr"]
        return float(sum(float(data[indptr[t] : indptr[t + 1]].max(initial=0.0)) for t in ids))

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) of the top k texts with a positive score, best first."""
        scores = self.scores(query)
        if not len(scores):
            return scores, np.zeros(0, dtype=np.int64)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top], top

    def save(self, directory: Path) -> None:
        self._model.save(str(directory))

    @classmethod
    def load(cls, directory: Path, tokenize: Callable[[str], list[str]]) -> BM25Index:
        return cls(bm25s.BM25.load(str(directory)), tokenize)

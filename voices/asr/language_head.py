"""A Cantonese/Mandarin head on Whisper's own encoder: one linear log-odds over the vote's
features and the stat-pooled encoder output.

Whisper base has no `yue` token, but its encoder has heard Cantonese: the mean and standard
deviation of its frames over an utterance (voices.asr.faster_whisper.encoder_embedding) carry
the tones and the sound inventory that its language id then throws away when it says `zh`.
The head is a logistic regression over [the four vote features, that 2d-vector], fitted on the
dev split of bench/data/speech by `bench/voices_language_fit.py fit-head` (fixed seed, test
split never read) and shipped as a small JSON file beside this module. Standardisation and any
projection are folded into the weights, so scoring is one dot product: the encoder pass it
reads is the one the language id and the vote's decodes already share (no extra model run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_HEAD = Path(__file__).with_name("yue_cmn_head.json")
# the embedding alone (feature weights zero), with the margin beyond which it is never wrong on
# dev: lets the vote skip one of its two decodes (AsrSettings.vote_quick_head)
QUICK_HEAD = Path(__file__).with_name("yue_cmn_quick_head.json")
# Chinese (> 0) vs English on an utterance Whisper's id calls English: one feature
# (voices.asr.language_decision.zh_en_feature) and the embedding (AsrSettings.zh_en_head)
ZH_EN_HEAD = Path(__file__).with_name("zh_en_head.json")


@dataclass(frozen=True)
class LanguageHead:
    """Log-odds that an utterance Whisper calls Chinese is Cantonese (> 0) or Mandarin (< 0)."""

    feature_weights: np.ndarray  # over voices.asr.faster_whisper.vote_features
    embedding_weights: np.ndarray  # over voices.asr.faster_whisper.encoder_embedding
    bias: float
    # |score| at or beyond which the head is trusted alone (the quick head); None: not given
    confident_margin: float | None = None

    @classmethod
    def from_json(cls, path: Path) -> LanguageHead:
        try:
            data = json.loads(Path(path).read_text("utf-8"))
            head = cls(
                np.asarray(data["feature_weights"], dtype=np.float64),
                np.asarray(data["embedding_weights"], dtype=np.float64),
                float(data["bias"]),
                None if data.get("confident_margin") is None else float(data["confident_margin"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path} is not a language head file (feature_weights, embedding_weights, "
                f"bias): {exc}"
            ) from exc
        if head.feature_weights.ndim != 1 or head.embedding_weights.ndim != 1:
            raise ValueError(f"{path}: the weights must be flat lists of numbers")
        return head

    def to_json(self, path: Path, **about: object) -> None:
        """Write the head (and `about`: how it was fitted) as JSON."""
        data = {
            **about,
            "feature_weights": [round(float(v), 6) for v in self.feature_weights],
            "embedding_weights": [round(float(v), 6) for v in self.embedding_weights],
            "bias": round(float(self.bias), 6),
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")

    def score(self, features: tuple[float, ...], embedding: np.ndarray) -> float:
        if len(features) != self.feature_weights.size or embedding.size != (
            self.embedding_weights.size
        ):
            raise ValueError(
                f"the head expects {self.feature_weights.size} features and a "
                f"{self.embedding_weights.size}-vector, got {len(features)} and {embedding.size} "
                "(a head fitted for another Whisper model?)"
            )
        return float(
            self.bias
            + np.dot(self.feature_weights, np.asarray(features, dtype=np.float64))
            + np.dot(self.embedding_weights, embedding.astype(np.float64))
        )


@lru_cache(maxsize=4)
def load_head(path: Path) -> LanguageHead:
    return LanguageHead.from_json(path)

"""coqui-tts production voices (XTTS-v2, VITS, ...) loaded from a local model directory.

Nothing is downloaded: the directory named in `voices.tts.coqui_model_dir` holds config.json
and the checkpoint (XTTS-v2: the directory itself, as coqui's loader expects; VITS and other
single-file models: model.pth / best_model.pth / checkpoint_*.pth). Loading goes through
coqui's own `TTS.utils.synthesizer.Synthesizer`, so any model coqui can load works.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from voices.audio_io import float_to_pcm16
from voices.sentences import split_for_speech
from voices.types import AudioChunk, SpokenLanguage

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("COQUI_TOS_AGREED", "1")  # XTTS asks interactively otherwise

_CHECKPOINT_NAMES = ("model.pth", "best_model.pth", "model_file.pth", "model.pth.tar")
# coqui's language names for ours (XTTS-v2 says "zh-cn" for Mandarin; no model says yue yet)
_COQUI_LANGUAGE_NAMES: dict[SpokenLanguage, tuple[str, ...]] = {
    "en": ("en",),
    "cmn": ("zh-cn", "zh", "cmn"),
    "yue": ("yue", "zh-yue"),
}


def find_checkpoint(model_dir: Path) -> tuple[Path, Path]:
    """(checkpoint path or directory, config.json) for a coqui model directory."""
    model_dir = Path(model_dir).expanduser()
    config = model_dir / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{model_dir}: no config.json (not a coqui-tts model directory)")
    model_type = json.loads(config.read_text(encoding="utf-8")).get("model", "")
    if model_type == "xtts":
        return model_dir, config
    for name in _CHECKPOINT_NAMES:
        if (model_dir / name).is_file():
            return model_dir / name, config
    checkpoints = sorted(model_dir.glob("checkpoint_*.pth"))
    if checkpoints:
        return checkpoints[-1], config
    raise FileNotFoundError(f"{model_dir}: no checkpoint ({', '.join(_CHECKPOINT_NAMES)})")


class CoquiSynthesizer:
    """A coqui-tts model; `languages` says what a single-language model speaks."""

    name = "coqui"

    def __init__(
        self,
        model_dir: Path,
        *,
        languages: Sequence[SpokenLanguage] = ("en",),
        speaker: str | None = None,
        speaker_wav: Path | None = None,
        device: str = "cpu",
        max_sentence_chars: int = 300,
    ) -> None:
        from TTS.utils.synthesizer import Synthesizer  # torch import: only when configured

        checkpoint, config = find_checkpoint(model_dir)
        self.synthesizer = Synthesizer(
            tts_checkpoint=str(checkpoint),
            tts_config_path=str(config),
            use_cuda=device.startswith("cuda"),
        )
        self.sample_rate = int(self.synthesizer.output_sample_rate)
        model = self.synthesizer.tts_model
        names = list(getattr(getattr(model, "language_manager", None), "language_names", []) or [])
        self._language_names = self._map_languages(names, languages)
        speakers = list(getattr(getattr(model, "speaker_manager", None), "speaker_names", []) or [])
        self.speaker = speaker or (speakers[0] if speakers and speaker_wav is None else None)
        self.speaker_wav = str(speaker_wav) if speaker_wav else None
        self.max_sentence_chars = max_sentence_chars
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads

    @staticmethod
    def _map_languages(
        model_names: list[str], declared: Sequence[SpokenLanguage]
    ) -> dict[SpokenLanguage, str | None]:
        if not model_names:  # single-language model: what the configuration says it speaks
            return {lang: None for lang in declared}
        mapping: dict[SpokenLanguage, str | None] = {}
        for lang, candidates in _COQUI_LANGUAGE_NAMES.items():
            match = next((c for c in candidates if c in model_names), None)
            if match is not None:
                mapping[lang] = match
        return mapping

    def supports(self, language: SpokenLanguage) -> bool:
        return language in self._language_names

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        if not self.supports(language):
            raise ValueError(f"this coqui model does not speak {language}")
        for sentence in split_for_speech(text, self.max_sentence_chars):
            with self._lock:
                wav = self.synthesizer.tts(
                    sentence,
                    speaker_name=self.speaker,
                    language_name=self._language_names[language] or "",
                    speaker_wav=self.speaker_wav,
                    split_sentences=False,
                )
            yield AudioChunk(float_to_pcm16(np.asarray(wav, dtype=np.float32)), self.sample_rate)

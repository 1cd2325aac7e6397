"""Production Cantonese-strong recogniser: SenseVoice-small through sherpa-onnx, by path.

SenseVoice-small (FunAudioLLM) labels zh / yue / en / ja / ko itself and writes colloquial
Cantonese; published Cantonese CER 6-8 % (Common Voice yue, MDCC) against 13-16 % for
Whisper large-v3. No package ships its weights, so the operator puts a sherpa-onnx SenseVoice
directory on the machine (`model.int8.onnx` or `model.onnx`, plus `tokens.txt`, as in
k2-fsa's `sherpa-onnx-sense-voice-zh-en-ja-ko-yue-*` releases) and names it in
`voices.asr.sensevoice_dir` with `voices.asr.engine = "sensevoice"`. Nothing is downloaded.

Audio is gated by the same Silero VAD as the Whisper engine; the language comes from the
model's own tag (<|yue|> -> yue, <|zh|> -> cmn, <|en|> -> en), refined by the text rule of
voices.language (markers, hint, history) only when the tag is missing or another language.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from voices.audio_io import check_samples
from voices.config import AsrSettings, LanguageSettings, VadSettings, VoiceSettings
from voices.language import cantonese_written_forms, decide_language, to_script
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage, Transcript
from voices.vad import SileroVad, SileroVadModel

MODEL_NAMES = ("model.int8.onnx", "model.onnx")
# SenseVoice's language tags -> ours (and the Whisper-style code kept in detected_language)
SENSEVOICE_LANGUAGES: dict[str, tuple[SpokenLanguage, str]] = {
    "yue": ("yue", "yue"),
    "zh": ("cmn", "zh"),
    "en": ("en", "en"),
}
_TAG = re.compile(r"<\|([a-z]+)\|>")


class SenseVoiceModelError(FileNotFoundError):
    """The configured directory is not a sherpa-onnx SenseVoice model."""


def find_sensevoice_files(model_dir: Path) -> tuple[Path, Path]:
    """(model onnx, tokens.txt) in `model_dir`, or a clear error saying what is missing."""
    model_dir = Path(model_dir).expanduser()
    if not model_dir.is_dir():
        raise SenseVoiceModelError(f"{model_dir}: no such directory (voices.asr.sensevoice_dir)")
    tokens = model_dir / "tokens.txt"
    models = [model_dir / name for name in MODEL_NAMES if (model_dir / name).is_file()]
    if not models or not tokens.is_file():
        missing = [n for n in ("tokens.txt",) if not tokens.is_file()]
        if not models:
            missing.append(" or ".join(MODEL_NAMES))
        raise SenseVoiceModelError(
            f"{model_dir} is not a sherpa-onnx SenseVoice directory: missing {', '.join(missing)}"
        )
    return models[0], tokens


def map_language(tag: str | None) -> tuple[SpokenLanguage | None, str]:
    """SenseVoice tag ('yue', 'zh', 'en', 'ja', '') -> (our language or None, detected code)."""
    tag = (tag or "").strip().strip("<|>")
    if tag in SENSEVOICE_LANGUAGES:
        return SENSEVOICE_LANGUAGES[tag]
    return None, tag


class SenseVoiceTranscriber:
    """Whole-utterance recognition with SenseVoice (thread-safe; one recognizer per process)."""

    def __init__(
        self,
        model_dir: Path,
        *,
        asr: AsrSettings | None = None,
        vad: VadSettings | None = None,
        language: LanguageSettings | None = None,
        vad_model: SileroVadModel | None = None,
        recognizer=None,
    ) -> None:
        self.asr = asr or AsrSettings()
        self.vad = vad or VadSettings()
        self.language_settings = language or LanguageSettings()
        self._vad_model = vad_model
        self._slots = threading.BoundedSemaphore(self.asr.num_workers)
        if recognizer is None:
            import sherpa_onnx

            model, tokens = find_sensevoice_files(model_dir)
            recognizer = sherpa_onnx.OfflineRecognizer.from_sense_voice(
                model=str(model),
                tokens=str(tokens),
                num_threads=max(1, self.asr.cpu_threads),
                use_itn=self.asr.sensevoice_use_itn,
            )
        self._recognizer = recognizer

    @classmethod
    def from_settings(
        cls, settings: VoiceSettings, vad_model: SileroVadModel | None = None
    ) -> SenseVoiceTranscriber:
        if settings.asr.sensevoice_dir is None:
            raise SenseVoiceModelError(
                "voices.asr.engine is sensevoice but voices.asr.sensevoice_dir is not set"
            )
        return cls(
            settings.asr.sensevoice_dir,
            asr=settings.asr,
            vad=settings.vad,
            language=settings.language,
            vad_model=vad_model,
        )

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: SpokenLanguage | None = None,
        history: Sequence[SpokenLanguage] = (),
        vad_gate: bool = True,
        whisper_language: str | None = None,
        provisional: bool = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> Transcript:
        """Same contract as FasterWhisperTranscriber.transcribe (extra arguments accepted;
        one call into sherpa-onnx, so `cancelled` is not asked)."""
        audio = check_samples(audio)
        started = time.perf_counter()
        duration = audio.size / PIPELINE_SAMPLE_RATE
        if vad_gate and not self._has_speech(audio):
            fallback: SpokenLanguage = language or (history[-1] if history else "en")
            return Transcript("", fallback, "", 0.0, duration, time.perf_counter() - started)
        with self._slots:
            stream = self._recognizer.create_stream()
            stream.accept_waveform(PIPELINE_SAMPLE_RATE, audio)
            self._recognizer.decode_stream(stream)
            result = stream.result
        text = _TAG.sub("", result.text).strip()
        spoken, detected = map_language(getattr(result, "lang", ""))
        if spoken is None:  # no tag, or ja/ko: the text rule of voices.language decides
            spoken = decide_language(
                text,
                detected or None,
                hint=language,
                history=history,
                settings=self.language_settings,
            )
        if spoken == "yue":
            text = cantonese_written_forms(text)
        return Transcript(
            text=to_script(text, spoken, self.language_settings),
            language=spoken,
            detected_language=detected,
            language_probability=1.0 if detected else 0.0,
            duration_s=duration,
            elapsed_s=time.perf_counter() - started,
        )

    def _has_speech(self, audio: np.ndarray) -> bool:
        probs = SileroVad(self._vad_model).process(audio)
        windows_needed = max(1, int(self.vad.min_speech_ms / 32))
        return int(np.sum(probs >= self.vad.threshold)) >= windows_needed

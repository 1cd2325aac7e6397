"""Meetings: who said what, when, in which language, from a recording or a live stream.

A recording is decoded in blocks from disk (voices.audio_io: any format PyAV reads), so memory
holds one block and one open speech segment whatever the length. The Silero VAD cuts speech
segments (at `end_silence_ms` of silence, or `max_segment_s`); each segment is recognised
by Whisper with word timestamps (language decided per segment: yue / cmn / en, Cantonese in
HK Traditional) and handed to the diarizer's session for voice embeddings. At the end the
diarizer clusters the voices; a segment whose words belong to different speakers is split at
the word where the speaker changes.

Live capture (`LiveMeeting`) runs the same steps on PCM frames as they arrive, with partial
segments while someone is speaking and provisional speaker labels that the final clustering
at `close()` replaces.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voices.asr.hallucinations import echoes_prompt, is_silence_hallucination
from voices.audio_io import AudioInputError, iter_file_audio
from voices.config import VadSettings
from voices.diarization.types import Diarization, Diarizer, SpeakerSession
from voices.language import decide_language, to_script, whisper_code
from voices.meeting_config import MeetingSpeechSettings
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage
from voices.vad import WINDOW, SileroVad, SileroVadModel

_YUE_PROMPT = "以下係廣東話嘅對話。"  # the same nudge the Transcriber gives declared Cantonese
_ALLOWED = ("zh", "en", "yue")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_HAN = re.compile(r"[\u3400-\u9fff]")

Progress = Callable[[float, float], None]  # (seconds done, seconds total or 0)


class MeetingInputError(AudioInputError):
    """A recording that holds no usable speech (silence, music) or cannot be read."""


# ---- the record ---------------------------------------------------------------------------


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float = 0.0


@dataclass
class MeetingSegment:
    id: int
    start: float
    end: float
    speaker: str
    language: SpokenLanguage
    text: str
    words: list[Word] = field(default_factory=list)
    overlap: bool = False
    edited: bool = False  # corrected by a person on the review page


@dataclass
class MeetingTranscript:
    segments: list[MeetingSegment]
    speakers: list[str]
    duration_s: float
    languages: dict[str, float]  # language -> seconds of speech
    diarizer: str = ""
    elapsed_s: float = 0.0

    @property
    def main_language(self) -> SpokenLanguage:
        if not self.languages:
            return "en"
        return max(self.languages, key=self.languages.__getitem__)  # type: ignore[return-value]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "main_language": self.main_language}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeetingTranscript:
        known = set(MeetingSegment.__dataclass_fields__)
        segments = [
            MeetingSegment(
                **{k: v for k, v in s.items() if k in known and k != "words"},
                words=[Word(**w) for w in s.get("words", [])],
            )
            for s in data["segments"]
        ]
        return cls(
            segments=segments,
            speakers=list(data["speakers"]),
            duration_s=float(data["duration_s"]),
            languages=dict(data.get("languages", {})),
            diarizer=data.get("diarizer", ""),
            elapsed_s=float(data.get("elapsed_s", 0.0)),
        )


# ---- speech segmentation (streaming VAD) ----------------------------------------------------


@dataclass
class SpeechRegion:
    start: int  # sample index in the recording
    audio: np.ndarray

    @property
    def start_s(self) -> float:
        return self.start / PIPELINE_SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return (self.start + self.audio.size) / PIPELINE_SAMPLE_RATE


class SpeechSegmenter:
    """Streaming speech segments: feed 16 kHz float32 of any length, get closed segments.

    Holds only the audio of the open segment (at most `max_segment_s`) plus the padding.
    """

    def __init__(
        self,
        settings: MeetingSpeechSettings,
        vad: VadSettings | None = None,
        vad_model: SileroVadModel | None = None,
    ) -> None:
        self.settings = settings
        self.vad_settings = vad or VadSettings()
        self.vad = SileroVad(vad_model)
        self.pad = int(settings.speech_pad_ms * PIPELINE_SAMPLE_RATE / 1000)
        self.end_windows = max(1, int(settings.end_silence_ms / 32))
        self.max_samples = int(settings.max_segment_s * PIPELINE_SAMPLE_RATE)
        self.min_samples = int(settings.min_speech_ms * PIPELINE_SAMPLE_RATE / 1000)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # sample index of _buffer[0]
        self._seen = 0  # samples whose VAD probability is known (whole windows)
        self._fed = 0
        self._speech_start: int | None = None
        self._last_speech_end = 0
        self._silent_windows = 0

    @property
    def fed_s(self) -> float:
        return self._fed / PIPELINE_SAMPLE_RATE

    @property
    def held_samples(self) -> int:
        """Audio held in memory now (the open segment and padding)."""
        return int(self._buffer.size)

    @property
    def open_region(self) -> SpeechRegion | None:
        """The speech segment still being spoken (for live partials)."""
        if self._speech_start is None:
            return None
        return SpeechRegion(self._speech_start, self._slice(self._speech_start, self._fed))

    def feed(self, samples: np.ndarray) -> list[SpeechRegion]:
        samples = np.asarray(samples, dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, samples])
        self._fed += samples.size
        closed: list[SpeechRegion] = []
        for prob in self.vad.process(samples):
            window_end = self._seen + WINDOW
            self._step(float(prob), window_end, closed)
            self._seen = window_end
        self._trim()
        return closed

    def flush(self) -> list[SpeechRegion]:
        closed: list[SpeechRegion] = []
        if self._speech_start is not None:
            self._close(self._fed, closed)
        return closed

    def _step(self, prob: float, window_end: int, closed: list[SpeechRegion]) -> None:
        vad = self.vad_settings
        if self._speech_start is None:
            if prob >= vad.threshold:
                self._speech_start = max(0, window_end - WINDOW - self.pad, self._last_speech_end)
                self._silent_windows = 0
            return
        if prob < vad.neg_threshold:
            self._silent_windows += 1
        else:
            self._silent_windows = 0
        if self._silent_windows >= self.end_windows:
            speech_end = window_end - self._silent_windows * WINDOW
            self._close(min(speech_end + self.pad, window_end), closed)
        elif window_end - self._speech_start >= self.max_samples:
            self._close(window_end, closed)
            self._speech_start = window_end  # still speaking: a new segment starts here

    def _close(self, end: int, closed: list[SpeechRegion]) -> None:
        start = self._speech_start if self._speech_start is not None else end
        self._speech_start = None
        self._last_speech_end = end
        if end - start >= self.min_samples:
            closed.append(SpeechRegion(start, self._slice(start, end)))

    def _slice(self, start: int, end: int) -> np.ndarray:
        lo, hi = start - self._buffer_start, end - self._buffer_start
        return self._buffer[max(0, lo) : max(0, hi)].copy()

    def _trim(self) -> None:
        keep_from = self._speech_start if self._speech_start is not None else self._seen - self.pad
        keep_from = max(self._buffer_start, keep_from)
        drop = keep_from - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start = keep_from


# ---- recognition with word times -----------------------------------------------------------


@dataclass
class RecognisedSpeech:
    start: float
    end: float
    text: str
    language: SpokenLanguage
    words: list[Word]
    provisional_speaker: str | None = None


def recognise(
    transcriber: Any,
    region: SpeechRegion,
    *,
    hint: SpokenLanguage | None,
    history: list[SpokenLanguage],
    word_timestamps: bool,
    provisional: bool = False,
) -> RecognisedSpeech | None:
    """Whisper on one speech segment through the shared FasterWhisperTranscriber's model and
    filters, with word timestamps (absolute, in seconds). None when nothing was said."""
    audio = region.audio
    if audio.size < WINDOW or not transcriber.has_speech(audio):
        return None
    model, asr = transcriber.model, transcriber.asr
    code = _pick_language(transcriber, audio, hint)
    prompt = _YUE_PROMPT if hint == "yue" and code != "en" else None
    segments, _info = model.transcribe(
        audio,
        language=code,
        beam_size=asr.beam_size,
        temperature=(0.0,) if provisional else (0.0, 0.2, 0.4),
        condition_on_previous_text=False,
        no_speech_threshold=asr.no_speech_threshold,
        log_prob_threshold=asr.log_prob_threshold,
        compression_ratio_threshold=asr.compression_ratio_threshold,
        initial_prompt=prompt,
        word_timestamps=word_timestamps and not provisional,
        without_timestamps=provisional,
        vad_filter=False,
    )
    texts: list[str] = []
    words: list[Word] = []
    for seg in segments:
        if seg.no_speech_prob >= asr.drop_segment_no_speech_prob:
            continue
        if seg.compression_ratio > asr.compression_ratio_threshold:
            continue
        if is_silence_hallucination(
            seg.text, no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob
        ) or echoes_prompt(seg.text, prompt):
            continue
        texts.append(seg.text.strip())
        for w in seg.words or []:
            words.append(
                Word(region.start_s + w.start, region.start_s + w.end, w.word, w.probability)
            )
    text = join_texts(texts)
    if not text:
        return None
    settings = transcriber.language_settings
    language = decide_language(text, code, hint=hint, history=history, settings=settings)
    words = [
        Word(w.start, w.end, to_script(w.text, language, settings), round(w.probability, 3))
        for w in words
    ]
    return RecognisedSpeech(
        region.start_s, region.end_s, to_script(text, language, settings), language, words
    )


def _pick_language(transcriber: Any, audio: np.ndarray, hint: SpokenLanguage | None) -> str:
    """Whisper's language id restricted to zh / en (yue where the model has the token)."""
    _lang, _prob, all_probs = transcriber.model.detect_language(audio)
    probs = dict(all_probs)
    allowed = {code: probs.get(code, 0.0) for code in _ALLOWED}
    code = max(allowed, key=allowed.__getitem__)
    if code == "yue" and "yue" not in transcriber.model.supported_languages:
        code = "zh"
    if hint is not None and allowed[code] < transcriber.asr.min_language_probability:
        code = whisper_code(hint)
    return code


def join_texts(texts: Iterable[str]) -> str:
    """No space between two Chinese pieces, one space next to Latin text."""
    out = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if out and (out[-1].isascii() or text[0].isascii()):
            out += " "
        out += text
    return out.strip()


def segment_language(text: str, fallback: SpokenLanguage) -> SpokenLanguage:
    """The language of a piece of a segment (after a speaker split): English when it has
    Latin words and no Chinese characters, otherwise the segment's Chinese label."""
    if _LATIN_WORD.search(text) and not _HAN.search(text):
        return "en"
    if _HAN.search(text) and fallback == "en":
        return "cmn"
    return fallback


# ---- assembling the record ------------------------------------------------------------------


def assemble(
    pieces: list[RecognisedSpeech], diarization: Diarization, duration_s: float
) -> MeetingTranscript:
    """Speaker-labelled segments: a piece whose words belong to different speakers is split."""
    segments: list[MeetingSegment] = []
    for piece in pieces:
        for speaker, words, start, end in _split_by_speaker(piece, diarization):
            text = join_texts(w.text for w in words) if words else piece.text
            if not text:
                continue
            language = segment_language(text, piece.language) if words else piece.language
            segments.append(
                MeetingSegment(
                    id=len(segments),
                    start=round(start, 2),
                    end=round(end, 2),
                    speaker=speaker,
                    language=language,
                    text=text,
                    words=words,
                    overlap=diarization.overlapped(start, end),
                )
            )
    languages: dict[str, float] = {}
    for seg in segments:
        languages[seg.language] = round(languages.get(seg.language, 0.0) + seg.end - seg.start, 2)
    speakers = list(dict.fromkeys(s.speaker for s in segments))
    return MeetingTranscript(
        segments, speakers, round(duration_s, 2), languages, diarization.engine
    )


def _split_by_speaker(
    piece: RecognisedSpeech, diarization: Diarization
) -> list[tuple[str, list[Word], float, float]]:
    def who(start: float, end: float) -> str:
        return (
            diarization.speaker_at(start, end)
            or diarization.nearest_speaker((start + end) / 2)
            or piece.provisional_speaker
            or "S1"
        )

    if not piece.words:
        return [(who(piece.start, piece.end), [], piece.start, piece.end)]
    groups: list[tuple[str, list[Word]]] = []
    for word in piece.words:
        speaker = who(word.start, max(word.end, word.start + 0.01))
        if groups and groups[-1][0] == speaker:
            groups[-1][1].append(word)
        else:
            groups.append((speaker, [word]))
    groups = _absorb_single_words(groups)
    out = []
    for n, (speaker, words) in enumerate(groups):
        start = piece.start if n == 0 else words[0].start
        end = piece.end if n == len(groups) - 1 else words[-1].end
        out.append((speaker, words, start, end))
    return out


def _absorb_single_words(groups: list[tuple[str, list[Word]]]) -> list[tuple[str, list[Word]]]:
    """A lone word between two runs of one speaker is that speaker's (boundary jitter)."""
    out: list[tuple[str, list[Word]]] = []
    for speaker, words in groups:
        if out and (len(words) == 1 or out[-1][0] == speaker):
            out[-1][1].extend(words)  # a lone word between runs is boundary jitter
        else:
            out.append((speaker, list(words)))
    if len(out) > 1 and len(out[0][1]) == 1:
        out[1] = (out[1][0], out[0][1] + out[1][1])
        out = out[1:]
    return out


# ---- the two entry points ---------------------------------------------------------------------


class MeetingTranscriber:
    """Recordings and live streams -> MeetingTranscript. Share one per process."""

    def __init__(
        self,
        transcriber: Any,
        diarizer: Diarizer,
        settings: MeetingSpeechSettings | None = None,
        *,
        vad: VadSettings | None = None,
        vad_model: SileroVadModel | None = None,
    ) -> None:
        self.transcriber = transcriber
        self.diarizer = diarizer
        self.settings = settings or MeetingSpeechSettings()
        self.vad = vad or VadSettings()
        self.vad_model = vad_model

    def transcribe_file(
        self,
        path: Path,
        *,
        num_speakers: int | None = None,
        language: SpokenLanguage | None = None,
        known_voices: dict[str, np.ndarray] | None = None,
        progress: Progress | None = None,
    ) -> MeetingTranscript:
        started = time.perf_counter()
        live = self.live(
            num_speakers=num_speakers, language=language, known_voices=known_voices, partials=False
        )
        blocks = iter_file_audio(
            Path(path),
            max_duration_s=self.settings.max_duration_s,
            max_bytes=self.settings.max_file_bytes,
            block_s=self.settings.block_s,
        )
        for block in blocks:
            live.accept(block)
            if progress:
                progress(live.segmenter.fed_s, 0.0)
        transcript = live.close(source=Path(path))
        if not transcript.segments:
            raise MeetingInputError(
                f"{path}: no speech found in {transcript.duration_s:.0f} s of audio "
                "(silence, music or noise?)"
            )
        transcript.elapsed_s = round(time.perf_counter() - started, 2)
        return transcript

    def live(
        self,
        *,
        num_speakers: int | None = None,
        language: SpokenLanguage | None = None,
        known_voices: dict[str, np.ndarray] | None = None,
        partials: bool | None = None,
    ) -> LiveMeeting:
        return LiveMeeting(
            self,
            self.diarizer.session(num_speakers=num_speakers, known_voices=known_voices),
            language,
            self.settings.partials if partials is None else partials,
        )


@dataclass
class PartialSegment:
    start: float
    text: str


class LiveMeeting:
    """One meeting fed as 16 kHz float32 frames; `accept` returns finished segments (with a
    provisional speaker) and partials, `close` the final record."""

    def __init__(
        self,
        owner: MeetingTranscriber,
        session: SpeakerSession,
        language: SpokenLanguage | None,
        partials: bool,
    ) -> None:
        self.owner = owner
        self.session = session
        self.language = language
        self.partials = partials
        self.segmenter = SpeechSegmenter(owner.settings, owner.vad, owner.vad_model)
        self.pieces: list[RecognisedSpeech] = []
        self.history: list[SpokenLanguage] = []
        self._last_partial_at = 0

    def accept(self, samples: np.ndarray) -> list[RecognisedSpeech | PartialSegment]:
        events: list[RecognisedSpeech | PartialSegment] = []
        for region in self.segmenter.feed(samples):
            piece = self._finish_region(region)
            if piece is not None:
                events.append(piece)
        partial = self._partial() if self.partials else None
        if partial is not None:
            events.append(partial)
        return events

    def close(self, source: Path | None = None) -> MeetingTranscript:
        for region in self.segmenter.flush():
            self._finish_region(region)
        diarization = self.session.finish(source)
        return assemble(self.pieces, diarization, self.segmenter.fed_s)

    def _finish_region(self, region: SpeechRegion) -> RecognisedSpeech | None:
        self._last_partial_at = 0
        piece = recognise(
            self.owner.transcriber,
            region,
            hint=self.language,
            history=self.history[-3:],
            word_timestamps=self.owner.settings.word_timestamps,
        )
        if piece is None:
            return None
        piece.provisional_speaker = self.session.add_speech(region.audio, region.start_s)
        self.pieces.append(piece)
        self.history.append(piece.language)
        return piece

    def _partial(self) -> PartialSegment | None:
        region = self.segmenter.open_region
        interval = int(self.owner.settings.partial_interval_s * PIPELINE_SAMPLE_RATE)
        if region is None or region.audio.size - self._last_partial_at < interval:
            return None
        self._last_partial_at = region.audio.size
        piece = recognise(
            self.owner.transcriber,
            region,
            hint=self.language,
            history=self.history[-3:],
            word_timestamps=False,
            provisional=True,
        )
        return PartialSegment(region.start_s, piece.text) if piece else None


def diarize_recording(
    path: Path,
    diarizer: Diarizer,
    settings: MeetingSpeechSettings | None = None,
    *,
    num_speakers: int | None = None,
    vad: VadSettings | None = None,
    vad_model: SileroVadModel | None = None,
) -> Diarization:
    """Who spoke when, without transcribing (benchmarks, and a quick look at a recording)."""
    settings = settings or MeetingSpeechSettings()
    segmenter = SpeechSegmenter(settings, vad, vad_model)
    session = diarizer.session(num_speakers=num_speakers)
    blocks = iter_file_audio(
        Path(path),
        max_duration_s=settings.max_duration_s,
        max_bytes=settings.max_file_bytes,
        block_s=settings.block_s,
    )
    for block in blocks:
        for region in segmenter.feed(block):
            session.add_speech(region.audio, region.start_s)
    for region in segmenter.flush():
        session.add_speech(region.audio, region.start_s)
    return session.finish(Path(path))

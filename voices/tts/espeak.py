"""espeak-ng (Debian package) through its command line: English, Mandarin and Cantonese.

Always there, robotic, and the fallback for every language. The text goes in on stdin (so no
caller text can be read as an option) and WAV comes back on stdout, one process per sentence.

Mandarin: Debian's espeak-ng Mandarin dictionary lacks many characters (they are spelt out as
letters), so Mandarin is converted to tone-numbered pinyin with pypinyin and spoken with the
`cmn-latn-pinyin` voice, which reads Latin text as pinyin; the round trip through Whisper in
docs/speech.md measures the difference.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

from pypinyin import Style, lazy_pinyin

from voices.sentences import split_for_speech
from voices.types import AudioChunk, SpokenLanguage

ESPEAK_SAMPLE_RATE = 22050
DEFAULT_VOICES: dict[SpokenLanguage, str] = {
    "en": "en-us",
    "cmn": "cmn-latn-pinyin",
    "yue": "yue",
}
_HAN = re.compile(r"[\u3400-\u9fff]")


class SynthesisError(RuntimeError):
    """An engine failed to produce audio for a sentence."""


def to_pinyin(text: str) -> str:
    """Han characters -> tone-numbered pinyin syllables; everything else kept."""
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    out: list[str] = []
    for syllable in syllables:
        if out and syllable[:1].isalnum() and out[-1][-1:].isalnum():
            out.append(" ")
        out.append(syllable)
    return "".join(out)


class EspeakSynthesizer:
    """Synthesizer over the espeak-ng binary (thread-safe: one subprocess per sentence)."""

    name = "espeak"
    sample_rate = ESPEAK_SAMPLE_RATE

    def __init__(
        self,
        *,
        voices: dict[SpokenLanguage, str] | None = None,
        binary: str = "espeak-ng",
        speed_wpm: int = 160,
        max_sentence_chars: int = 300,
        timeout_s: float = 30.0,
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise SynthesisError(f"{binary} not found: install the Debian package espeak-ng")
        self.binary = path
        self.voices = {**DEFAULT_VOICES, **(voices or {})}
        self.speed_wpm = speed_wpm
        self.max_sentence_chars = max_sentence_chars
        self.timeout_s = timeout_s

    def supports(self, language: SpokenLanguage) -> bool:
        return language in self.voices

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        voice = self.voices[language]
        for sentence in split_for_speech(text, self.max_sentence_chars):
            yield AudioChunk(self._run(self._prepare(sentence, voice), voice), self.sample_rate)

    def _prepare(self, sentence: str, voice: str) -> str:
        if "pinyin" in voice and _HAN.search(sentence):
            return to_pinyin(sentence)
        return sentence

    def _run(self, sentence: str, voice: str) -> bytes:
        try:
            done = subprocess.run(
                [self.binary, "-v", voice, "-s", str(self.speed_wpm), "--stdout", "--stdin"],
                input=sentence.encode("utf-8"),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError(f"espeak-ng timed out after {self.timeout_s} s") from exc
        if done.returncode != 0:
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace')}")
        return _wav_pcm(done.stdout)


def _wav_pcm(wav: bytes) -> bytes:
    """PCM16 payload of espeak's streamed WAV (its header sizes are placeholders)."""
    at = wav.find(b"data", 12)
    if wav[:4] != b"RIFF" or at < 0:
        raise SynthesisError("espeak-ng returned no WAV data")
    pcm = wav[at + 8 :]
    return pcm[: len(pcm) - len(pcm) % 2]

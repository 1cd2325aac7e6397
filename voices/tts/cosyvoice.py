"""Production Cantonese voice: a CosyVoice-compatible TTS server, by URL.

CosyVoice (FunAudioLLM, Apache-2.0) speaks Cantonese; its reference FastAPI server
(`runtime/python/fastapi/server.py`) answers `POST /inference_sft` with the form fields
`tts_text` and `spk_id` by streaming raw PCM16 mono (22050 Hz for CosyVoice-300M, 24000 Hz for
CosyVoice2: set `voices.tts.cosyvoice_sample_rate`). The operator runs the server next to
samyu (on premises, a GPU machine) with a Cantonese-capable model and names it in
`voices.tts.cosyvoice_url`; nothing is downloaded by samyu. Each sentence is one request and
its PCM is yielded as it streams in, so playback starts with the server's first chunk.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from voices.sentences import split_for_speech
from voices.tts.espeak import SynthesisError
from voices.types import AudioChunk, SpokenLanguage

_CHUNK_BYTES = 4800  # 0.1 s at 24 kHz PCM16: small enough to start playback early


class CosyVoiceSynthesizer:
    """Synthesizer over a CosyVoice `/inference_sft` endpoint (thread-safe httpx client)."""

    name = "cosyvoice"

    def __init__(
        self,
        base_url: str,
        *,
        speaker: str = "",
        sample_rate: int = 22050,
        languages: tuple[SpokenLanguage, ...] = ("yue",),
        timeout_s: float = 30.0,
        max_sentence_chars: int = 300,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"cosyvoice_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.speaker = speaker
        self.sample_rate = sample_rate
        self.languages = languages
        self.max_sentence_chars = max_sentence_chars
        self._client = httpx.Client(timeout=timeout_s)

    def supports(self, language: SpokenLanguage) -> bool:
        return language in self.languages

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        if not self.supports(language):
            raise SynthesisError(f"the CosyVoice server is configured for {self.languages}")
        for sentence in split_for_speech(text, self.max_sentence_chars):
            yield from self._sentence(sentence)

    def _sentence(self, sentence: str) -> Iterator[AudioChunk]:
        form = {"tts_text": sentence, "spk_id": self.speaker}
        carry = b""
        try:
            with self._client.stream("POST", f"{self.base_url}/inference_sft", data=form) as resp:
                if resp.status_code != 200:
                    body = resp.read().decode("utf-8", "replace")[:200]
                    raise SynthesisError(f"CosyVoice server answered {resp.status_code}: {body}")
                for block in resp.iter_bytes(_CHUNK_BYTES):
                    data = carry + block
                    cut = len(data) - len(data) % 2  # keep whole PCM16 samples
                    carry = data[cut:]
                    if cut:
                        yield AudioChunk(data[:cut], self.sample_rate)
        except httpx.HTTPError as exc:
            raise SynthesisError(f"CosyVoice server at {self.base_url} failed: {exc}") from exc

    def close(self) -> None:
        self._client.close()

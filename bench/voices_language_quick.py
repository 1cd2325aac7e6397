"""What the quick head saves: `transcribe()` in Auto mode with and without
`AsrSettings.vote_quick_head`, timed in pairs on the same clips at the same load.

Wall times on a shared machine move with the load by more than one greedy decode (an English
clip, which the setting never touches, came out 16 % faster in one whole-set run than in the
one before), so each clip is transcribed by both recognisers alternately, `--reps` times each,
and the fastest of each is compared; the share of clips the quick head was confident on (one
decode) is counted from the greedy decodes each run made.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_quick.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import load_manifest
from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import read_file_audio
from voices.config import VoiceSettings

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def counting(asr: FasterWhisperTranscriber) -> list[int]:
    """Count the recogniser's greedy decodes (the vote's) in a one-item list."""
    calls = [0]
    real = asr._greedy

    def greedy(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    asr._greedy = greedy  # type: ignore[method-assign]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--limit", type=int, default=40, help="clips per language")
    args = parser.parse_args()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    settings = VoiceSettings(cache=cache)
    full = FasterWhisperTranscriber.from_settings(settings)
    quick_settings = settings.model_copy(deep=True)
    quick_settings.asr.vote_quick_head = True
    quick = FasterWhisperTranscriber.from_settings(quick_settings)
    calls = counting(quick)
    print(f"load average at start: {os.getloadavg()}")
    for language in ("yue", "cmn"):
        clips = [
            c
            for c in load_manifest(SPEECH)
            if c["language"] == language and c["split"] == args.split and c["kind"] != "spliced"
        ][: args.limit]
        saved, one_decode, same = [], 0, 0
        for i, clip in enumerate(clips):
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            times = {"full": [], "quick": []}
            order = ("full", "quick") if i % 2 else ("quick", "full")
            for _ in range(args.reps):
                for name in order:
                    asr = full if name == "full" else quick
                    calls[0] = 0
                    started = time.perf_counter()
                    result = asr.transcribe(audio)
                    times[name].append(time.perf_counter() - started)
                    if name == "quick":
                        quick_calls, quick_label = calls[0], result.language
                    else:
                        full_label = result.language
            one_decode += quick_calls == 1
            same += quick_label == full_label
            saved.append((quick_calls == 1, min(times["full"]) - min(times["quick"])))
        n = len(clips)
        sure = [v for confident, v in saved if confident] or [0.0]
        rest = [v for confident, v in saved if not confident] or [0.0]
        print(
            f"{language}: {n} clips, quick head confident (one decode) on {one_decode}; same "
            f"label {same}/{n}; time saved per utterance, median: {statistics.median(sure):.3f} s "
            f"where confident, {statistics.median(rest):.3f} s elsewhere; mean over all "
            f"{statistics.mean(v for _, v in saved):.3f} s"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

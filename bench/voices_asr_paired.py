"""Two values of one `voices.asr` setting, paired per clip: the same transcribe() each way.

Prints, per language, how many clips got the same label and the same text both ways, the
label accuracy, the error rate (CER / WER against the reference) and the wall time of each way
(one model, the two ways alternated per clip, so both see the same load).

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_asr_paired.py \
        --split dev --limit 30                                 # reuse_encoder_output on / off
    ... bench/voices_asr_paired.py --setting encoder_window_s --on 20 --off null

Both values are validated as `AsrSettings` (a value the setting does not accept stops the run
before the model loads); settings the transcriber reads only when it is built (the model, its
threads, the heads it loads) cannot be swapped on one loaded model and are refused.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from pydantic import ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import fixture_clips, load_manifest
from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import read_file_audio
from voices.config import AsrSettings, VoiceSettings
from voices.scoring import error_rate

SPEECH = Path(__file__).resolve().parent / "data" / "speech"
# read by FasterWhisperTranscriber.__init__ / from_settings only: swapping `asr.asr` on a
# loaded transcriber would leave them as loaded, and the two ways would be the same run
READ_AT_LOAD = frozenset(
    {
        "model_dir",
        "device",
        "compute_type",
        "cpu_threads",
        "num_workers",
        "language_head",
        "language_head_path",
        "vote_quick_head",
        "zh_en_head",
    }
)


def paired_settings(asr: AsrSettings, setting: str, on: str, off: str) -> dict[str, AsrSettings]:
    """`asr` with `setting` set to each JSON value, validated; ValueError for a name that is
    no field, one read only when the transcriber is built, or a value the field refuses."""
    if setting not in AsrSettings.model_fields:
        raise ValueError(f"{setting!r} is not an AsrSettings field")
    if setting in READ_AT_LOAD:
        raise ValueError(f"{setting!r} is read when the transcriber is built: compare two runs")
    base = asr.model_dump()
    try:
        return {
            way: AsrSettings.model_validate({**base, setting: json.loads(value)})
            for way, value in (("on", on), ("off", off))
        }
    except ValidationError as error:  # a ValueError too; say which setting, briefly
        raise ValueError(f"{setting}: {error.errors()[0]['msg']}") from error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--limit", type=int, default=30, help="clips per language at most")
    parser.add_argument("--setting", default="reuse_encoder_output", help="an AsrSettings field")
    parser.add_argument("--on", default="true", help="its first value (JSON)")
    parser.add_argument("--off", default="false", help="its second value (JSON)")
    args = parser.parse_args()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    settings = VoiceSettings(cache=cache)
    try:
        ways = paired_settings(settings.asr, args.setting, args.on, args.off)
    except ValueError as error:
        parser.error(str(error))
    asr = FasterWhisperTranscriber.from_settings(settings)
    clips = load_manifest(SPEECH) + fixture_clips()
    clips = [c for c in clips if c.get("split", "test") == args.split]
    per_language: dict[str, list[dict]] = defaultdict(list)
    for clip in clips:
        chosen = per_language[clip["language"]]
        if clip["language"] in ("yue", "cmn", "en") and len(chosen) < args.limit:
            chosen.append(clip)
    print(f"# load average at start: {os.getloadavg()} ({os.cpu_count()} cores)")
    print(f"# {args.setting}: on = {args.on}, off = {args.off}")
    print(
        "| language | clips | same label | same text | label right on / off "
        "| error rate on / off | s on / off |"
    )
    print("|---|---|---|---|---|---|---|")
    for language, items in per_language.items():
        same_label = same_text = 0
        right = {"on": 0, "off": 0}
        seconds: dict[str, list[float]] = {"on": [], "off": []}
        errors: dict[str, list[float]] = {"on": [], "off": []}
        for i, clip in enumerate(items):
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            heard = {}
            for way in ("on", "off") if i % 2 == 0 else ("off", "on"):
                asr.asr = ways[way]
                started = time.perf_counter()
                heard[way] = asr.transcribe(audio)
                seconds[way].append(time.perf_counter() - started)
                right[way] += heard[way].language == language
                error = error_rate(clip["language"], clip.get("text"), heard[way].text)
                if error is not None:
                    errors[way].append(error)
            same_label += heard["on"].language == heard["off"].language
            same_text += heard["on"].text == heard["off"].text
        print(
            f"| {language} | {len(items)} | {same_label} | {same_text} | "
            f"{right['on']} / {right['off']} | "
            f"{_mean(errors['on'])} / {_mean(errors['off'])} | "
            f"{statistics.mean(seconds['on']):.2f} / {statistics.mean(seconds['off']):.2f} |"
        )
    print(f"# load average at end: {os.getloadavg()}")


def _mean(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f}" if values else "-"


if __name__ == "__main__":
    main()

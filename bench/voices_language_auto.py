"""Spoken language through the whole recogniser, as a caller meets it: transcribe() per clip.

bench/voices_language.py and bench/voices_language_fit.py score the Cantonese/Mandarin vote
on every Chinese clip directly (`chinese_vote`), which skips the step before it: Whisper's own
language id, restricted to zh/en, which sends some short Cantonese clips to English first.
This bench runs `FasterWhisperTranscriber.transcribe` on each clip of bench/data/speech (and
the shared fixtures, read by path) in Auto mode (no hint, no history) and with the widget's
hint (the clip's true language), and prints the label accuracy per split, language and kind,
1-3 s clips counted apart, with what the misses were heard as ("nothing heard": every segment
was filtered as silence or hallucination, so no turn starts whatever the label) and the wall
time per utterance.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_auto.py \
        --split test --out /tmp/auto.jsonl
    PYTHONPATH=. .venv/bin/python bench/voices_language_auto.py --summarise /tmp/auto.jsonl

`--match yue-cv-` (repeatable) runs only the clips whose file name contains it, so that a
locked run over a few new clips stays short.

`--no-head` runs the vote with its linear weights instead of the encoder head
(AsrSettings.language_head), for the before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import fixture_clips, load_manifest
from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import read_file_audio
from voices.config import VoiceSettings
from voices.scoring import error_rate

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def run(
    split: str,
    out: Path,
    head: bool,
    limit_s: float,
    asr_overrides: dict,
    match: tuple[str, ...] = (),
) -> None:
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    settings = VoiceSettings(cache=cache)
    settings.asr.language_head = head
    for name, value in asr_overrides.items():
        setattr(settings.asr, name, value)
    if not head:  # the linear vote's own override margin (docs/speech.md)
        settings.asr.vote_override_margin = 4.12
    asr = FasterWhisperTranscriber.from_settings(settings)
    clips = [c for c in load_manifest(SPEECH) + fixture_clips() if c.get("split", "test") == split]
    if match:  # a subset by file name, so that a locked run stays short
        clips = [c for c in clips if any(m in c["file"] for m in match)]
    done = set()
    if out.exists():  # resume: keep what an earlier run measured
        done = {json.loads(line)["file"] for line in out.read_text("utf-8").splitlines() if line}
    print(f"load average at start: {os.getloadavg()} ({os.cpu_count()} cores)")
    started_run = time.perf_counter()
    with out.open("a", encoding="utf-8") as fh:
        for clip in clips:
            if clip["file"] in done or clip["language"] not in ("yue", "cmn", "en"):
                continue
            if time.perf_counter() - started_run > limit_s:
                print("time limit reached: run again to resume")
                break
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            started = time.perf_counter()
            auto = asr.transcribe(audio)
            auto_s = time.perf_counter() - started
            started = time.perf_counter()
            hinted = asr.transcribe(audio, language=clip["language"])
            hint_s = time.perf_counter() - started
            row = {
                "file": clip["file"],
                "language": clip["language"],
                "kind": clip.get("kind", "natural"),
                "split": clip.get("split", "test"),
                "seconds": round(audio.size / 16000, 2),
                "auto": auto.language,
                "auto_detected": auto.detected_language,
                "auto_text": auto.text,
                "auto_s": round(auto_s, 3),
                "hint": hinted.language,
                "hint_text": hinted.text,
                "hint_s": round(hint_s, 3),
                "head": head,
                "asr": asr_overrides,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    print(f"load average at end: {os.getloadavg()}")


def summarise(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    references = {c["file"]: c.get("text", "") for c in load_manifest(SPEECH) + fixture_clips()}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "spliced":
            groups[(r["split"], r["language"], "spliced (apart)")].append(r)
            continue
        groups[(r["split"], r["language"], r["kind"])].append(r)
        groups[(r["split"], r["language"], "ALL real")].append(r)
        if 1.0 <= r["seconds"] <= 3.0:
            groups[(r["split"], r["language"], "real, 1-3 s")].append(r)
    print(
        "| split | language | clips | n | Auto right | heard as | hint right | Auto s p50 "
        "| CER/WER Auto | CER/WER hint |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(groups):
        g = groups[key]
        n = len(g)
        auto = sum(r["auto"] == r["language"] for r in g)
        hint = sum(r["hint"] == r["language"] for r in g)
        wrong: dict[str, int] = defaultdict(int)
        for r in g:
            if not r["auto_text"]:  # nothing kept: "did not catch that", whatever the label
                wrong["nothing heard"] += 1
            elif r["auto"] != r["language"]:
                wrong[r["auto"]] += 1
        heard = ", ".join(f"{k} {v}" for k, v in sorted(wrong.items())) or "-"
        p50 = sorted(r["auto_s"] for r in g)[n // 2]
        rates = []
        for text_key in ("auto_text", "hint_text"):
            values = [error_rate(r["language"], references.get(r["file"]), r[text_key]) for r in g]
            values = [v for v in values if v is not None]
            rates.append(f"{np.mean(values):.3f}" if values else "-")
        print(
            f"| {key[0]} | {key[1]} | {key[2]} | {n} | {auto}/{n} ({100 * auto / n:.0f} %) "
            f"| {heard} | {hint}/{n} | {p50:.2f} | {rates[0]} | {rates[1]} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--out", type=Path, default=Path("/tmp/voices_language_auto.jsonl"))
    parser.add_argument("--no-head", action="store_true", help="the linear vote instead")
    parser.add_argument("--limit-s", type=float, default=270.0, help="stop after this long")
    parser.add_argument("--summarise", type=Path, help="only print the table of this file")
    parser.add_argument(
        "--match",
        action="append",
        default=[],
        help="only clips whose file name contains this (repeatable), e.g. yue-cv-",
    )
    parser.add_argument(
        "--auto-chinese-min-probability",
        type=float,
        help="AsrSettings.auto_chinese_min_probability",
    )
    parser.add_argument(
        "--min-language-probability", type=float, help="AsrSettings.min_language_probability"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other AsrSettings field (JSON value), e.g. speech_gate_low_threshold=0.35",
    )
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise)
        return
    overrides = {
        name: value
        for name, value in (
            ("auto_chinese_min_probability", args.auto_chinese_min_probability),
            ("min_language_probability", args.min_language_probability),
        )
        if value is not None
    }
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = json.loads(value)
    run(args.split, args.out, not args.no_head, args.limit_s, overrides, tuple(args.match))
    summarise(args.out)


if __name__ == "__main__":
    main()

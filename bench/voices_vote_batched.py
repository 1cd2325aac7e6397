"""The Cantonese/Mandarin vote's two greedy decodes: one after the other, or one batched call.

In Auto mode `FasterWhisperTranscriber._vote` decodes the same encoder output under the
written-Cantonese and the Mandarin prompt. This bench times, per clip of bench/data/speech
(yue and cmn clips of one split, cut to their speech as `transcribe` cuts them), the two
sequential `_greedy` calls against one `_greedy_batch` call of batch 2 over the repeated
encoder output (`batched_greedy`), for each way of padding the shorter prompt to the longer
one's length (`equal_length`, --pad: CTranslate2 batches Whisper prompts only when
<|startoftranscript|> sits at the same position). It alternates the order over `--repeats`
rounds and keeps each variant's fastest round per clip. It also says what the padding does
to the vote: texts that changed, the largest change of a feature, of the head's score, and
the clips whose score changed sign.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_vote_batched.py \
        --split dev --out /tmp/vote_batched.jsonl      # resumable: run again until done
    PYTHONPATH=. .venv/bin/python bench/voices_vote_batched.py --summarise /tmp/vote_batched.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import ctranslate2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import load_manifest
from voices.asr.faster_whisper import (
    _WINDOW_S,
    Decode,
    FasterWhisperTranscriber,
    encoder_embedding,
    vote_features,
)
from voices.audio_io import read_file_audio
from voices.config import VoiceSettings
from voices.types import PIPELINE_SAMPLE_RATE

SPEECH = Path(__file__).resolve().parent / "data" / "speech"
PADS = ("startofprev", "space")
SPACE_TOKEN = 220  # " " in Whisper's multilingual vocabulary


def equal_length(batch: list[list[int]], sot_prev: int, pad: str) -> list[list[int]]:
    """Each prompt padded to the longest one's length, so that <|startoftranscript|> sits at
    the same position in each (CTranslate2 batches Whisper prompts no other way): "startofprev"
    repeats <|startofprev|> before the prompt, "space" inserts space tokens right after it (the
    prompt text already starts with one). Both prompts have previous text here."""
    longest = max(len(ids) for ids in batch)
    out = []
    for ids in batch:
        missing = longest - len(ids)
        if pad == "space" and missing:
            out.append([sot_prev, *[SPACE_TOKEN] * missing, *ids[1:]])
        else:
            out.append([sot_prev] * missing + ids)
    return out


def batched_greedy(
    asr: FasterWhisperTranscriber,
    encoder_output,
    prompts: tuple[str, str],
    duration: float,
    pad: str,
) -> tuple[Decode, Decode]:
    """`_greedy` under both prompts in one `generate` call of batch 2 (the encoder output
    repeated), through the same `_greedy_batch` (length bound, Decode fields)."""
    sot_prev = asr._tokenizer("zh").sot_prev
    batch = equal_length([asr._greedy_ids(p) for p in prompts], sot_prev, pad)
    frames = np.asarray(encoder_output, dtype=np.float32)
    repeated = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(frames, 2, 0)))
    yue, cmn = asr._greedy_batch(repeated, batch, duration)
    return yue, cmn


def _timed(call) -> tuple[float, tuple[Decode, Decode]]:
    started = time.perf_counter()
    decodes = call()
    return time.perf_counter() - started, decodes


def measure(
    asr: FasterWhisperTranscriber, audio: np.ndarray, repeats: int, pads: list[str]
) -> dict | None:
    cut = asr.speech_only(audio)
    if cut is None:
        return None
    encoder_output = asr._encode_window(cut)
    probs = asr._language_probs(encoder_output)
    duration = min(cut.size / PIPELINE_SAMPLE_RATE, _WINDOW_S)
    prompts = (asr.asr.yue_prompt, asr.asr.cmn_prompt)
    embedding = encoder_embedding(encoder_output, duration)

    def sequential():
        return tuple(asr._greedy(encoder_output, p, duration) for p in prompts)

    def batched(pad: str):
        return lambda: batched_greedy(asr, encoder_output, prompts, duration, pad)

    variants = {"sequential": sequential, **{pad: batched(pad) for pad in pads}}
    best: dict[str, float] = {}
    decodes: dict[str, tuple[Decode, Decode]] = {}
    names = list(variants)
    for round_ in range(repeats):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            seconds, result = _timed(variants[name])
            best[name] = min(best.get(name, float("inf")), seconds)
            decodes[name] = result
    row: dict = {"seconds": round(duration, 2)}
    for name, (yue, cmn) in decodes.items():
        features = vote_features(yue, cmn, probs, duration)
        score = asr._head.score(features, embedding) if asr._head is not None else None
        row[name] = {
            "s": round(best[name], 4),
            "yue": yue.text,
            "cmn": cmn.text,
            "features": [round(f, 4) for f in features],
            "score": None if score is None else round(float(score), 4),
        }
    return row


def run(split: str, out: Path, repeats: int, limit_s: float, pads: list[str]) -> None:
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    clips = [
        c
        for c in load_manifest(SPEECH)
        if c.get("split", "test") == split and c["language"] in ("yue", "cmn")
    ]
    done = set()
    if out.exists():
        done = {json.loads(line)["file"] for line in out.read_text("utf-8").splitlines() if line}
    print(f"load average at start: {os.getloadavg()} ({os.cpu_count()} cores)")
    started = time.perf_counter()
    with out.open("a", encoding="utf-8") as fh:
        for clip in clips:
            if clip["file"] in done:
                continue
            if time.perf_counter() - started > limit_s:
                print("time limit reached: run again to resume")
                break
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            row = measure(asr, audio, repeats, pads)
            if row is None:
                row = {"gated": True}
            row |= {"file": clip["file"], "language": clip["language"], "load": os.getloadavg()}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
        else:
            print("done")
    print(f"load average at end: {os.getloadavg()}")


def summarise(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [r for r in rows if not r.get("gated")]
    loads = [r["load"][0] for r in rows]
    print(
        f"{len(rows)} clips, {sum(r['seconds'] for r in rows):.1f} s of speech; 1-min load "
        f"during the run: min {min(loads):.2f}, median {np.median(loads):.2f}, max {max(loads):.2f}"
    )
    base = sum(r["sequential"]["s"] for r in rows)
    print(
        "| variant | decode s total | vs sequential | per-clip ratio p50 | texts changed "
        "| max |d feature| | max |d score| | score sign flips |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in ("sequential", *PADS):
        if any(name not in r for r in rows):
            continue
        total = sum(r[name]["s"] for r in rows)
        ratios = [r[name]["s"] / r["sequential"]["s"] for r in rows]
        changed = sum(
            (r[name]["yue"], r[name]["cmn"]) != (r["sequential"]["yue"], r["sequential"]["cmn"])
            for r in rows
        )
        d_feature = max(
            abs(a - b)
            for r in rows
            for a, b in zip(r[name]["features"], r["sequential"]["features"], strict=True)
        )
        scores = [(r[name]["score"], r["sequential"]["score"]) for r in rows]
        scored = [(a, b) for a, b in scores if a is not None and b is not None]
        d_score = max((abs(a - b) for a, b in scored), default=float("nan"))
        flips = sum((a > 0) != (b > 0) for a, b in scored)
        print(
            f"| {name} | {total:.2f} | {100 * (total / base - 1):+.1f} % "
            f"| {np.median(ratios):.2f} | {changed}/{len(rows)} | {d_feature:.3f} "
            f"| {d_score:.3f} | {flips} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--out", type=Path, default=Path("/tmp/voices_vote_batched.jsonl"))
    parser.add_argument("--repeats", type=int, default=3, help="rounds per clip (best kept)")
    parser.add_argument("--limit-s", type=float, default=240.0, help="stop after this long")
    parser.add_argument("--summarise", type=Path, help="only print the table of this file")
    parser.add_argument(
        "--pad",
        action="append",
        choices=PADS,
        help="AsrSettings.vote_prompt_pad values to time (default: all)",
    )
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise)
        return
    args.pad = args.pad or list(PADS)
    run(args.split, args.out, args.repeats, args.limit_s, args.pad)
    summarise(args.out)


if __name__ == "__main__":
    main()

"""Fit and check the Cantonese/Mandarin vote on the speech set's dev / test split.

`dump` runs Whisper once per Chinese clip of bench/data/speech (one encoder pass, the language
id, the two prompted greedy decodes: exactly what the vote in transcribe() computes) and
writes the raw values to a JSON-lines file; Mandarin clips are also run band-limited to 8 kHz
(telephone band), because the SpiCE/Forvo Cantonese clips are 8 kHz recordings and a vote
must not learn the bandwidth. `fit` reads that file, fits the vote's log-odds weights on the
`dev` split only (speakers never cross splits, see the manifest's `split` field), and prints
accuracy on `dev` and on `test` for the current settings and for the refit, in Auto mode,
with 1-3 s clips counted apart. No tuning ever reads the test split.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_fit.py \
        dump /tmp/vote.jsonl
    PYTHONPATH=. .venv/bin/python bench/voices_language_fit.py fit /tmp/vote.jsonl
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
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voices.asr.faster_whisper import FasterWhisperTranscriber, vote_features
from voices.audio_io import read_file_audio
from voices.config import AsrSettings, VoiceSettings
from voices.language import cantonese_markers, decide_language

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def telephone_band(audio: np.ndarray) -> np.ndarray:
    return resample_poly(resample_poly(audio, 1, 2), 2, 1).astype(np.float32)


def dump(out: Path) -> None:
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    rows = [
        json.loads(line)
        for line in (SPEECH / "manifest.jsonl").read_text("utf-8").split("\n")
        if line
    ]
    done = set()
    if out.exists():  # resume: keep what an earlier run measured
        done = {json.loads(line)["file"] for line in out.read_text("utf-8").splitlines() if line}
    print(f"load average at start: {os.getloadavg()} (2 cores shared by 7 helpers)")
    with out.open("a", encoding="utf-8") as fh:
        for clip in rows:
            if clip["language"] not in ("yue", "cmn") or clip["file"] in done:
                continue
            audio = read_file_audio(SPEECH / clip["file"], max_duration_s=60, max_bytes=10**8)
            variants = [("", audio)]
            if clip["language"] == "cmn":
                variants.append(("-8k", telephone_band(audio)))
            for suffix, samples in variants:
                started = time.perf_counter()
                vote = asr.chinese_vote(samples)
                row = {
                    "file": clip["file"] + suffix,
                    "language": clip["language"],
                    "kind": clip["kind"] + suffix,
                    "speaker": clip["speaker"],
                    "split": clip.get("split", "test"),
                    "seconds": round(samples.size / 16000, 2),
                    "text": clip["text"],
                    "elapsed_s": round(time.perf_counter() - started, 3),
                    "lang_probs": vote.language_probs,
                    "yue": vote.yue.__dict__,
                    "cmn": vote.cmn.__dict__,
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
    print(f"load average at end: {os.getloadavg()}")


def features(row: dict, settings: AsrSettings) -> tuple[float, ...]:
    from voices.asr.faster_whisper import Decode

    return vote_features(Decode(**row["yue"]), Decode(**row["cmn"]), row["lang_probs"], settings)


def label(row: dict, score: float, settings: AsrSettings) -> str:
    """The Auto-mode label transcribe() gives: markers first, then a confident vote, else the
    default (no hint, no history)."""
    confident = score >= settings.vote_yue_margin or score <= -settings.vote_cmn_margin
    from voices.language import AcousticVote

    return decide_language(row["cmn"]["text"], "zh", acoustic=AcousticVote(score, confident))


def report(rows: list[dict], weights: np.ndarray, bias: float, settings: AsrSettings, name: str):
    groups: dict[tuple, list] = defaultdict(list)
    for r in rows:
        score = bias + float(np.dot(weights, features(r, settings)))
        lab = label(r, score, settings)
        unsure = not (score >= settings.vote_yue_margin or score <= -settings.vote_cmn_margin)
        key = (r["split"], r["language"], r["kind"])
        groups[key].append((lab == r["language"], unsure))
        if 1.0 <= r["seconds"] <= 3.0:
            groups[(r["split"], r["language"], r["kind"] + " 1-3 s")].append(
                (lab == r["language"], unsure)
            )
    print(f"\n{name}\n| split | language | clips | n | right | unsure (default) |")
    print("|---|---|---|---|---|---|")
    for key in sorted(groups):
        g = groups[key]
        right = sum(ok for ok, _ in g)
        print(
            f"| {key[0]} | {key[1]} | {key[2]} | {len(g)} | {right}/{len(g)} "
            f"({100 * right / len(g):.0f} %) | {sum(u for _, u in g)} |"
        )


def fit_weights(rows: list[dict], settings: AsrSettings, l2: float) -> tuple[np.ndarray, float]:
    x = np.array([features(r, settings) for r in rows])
    y = np.array([r["language"] == "yue" for r in rows], dtype=float)
    # balance the two languages so the larger side does not set the bias
    w_cls = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(6000):  # L2-regularised logistic regression, plain gradient descent
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = w_cls * (p - y)
        w -= 0.3 * (z.T @ g / len(y) + l2 * w)
        b -= 0.3 * float(np.mean(g))
    weights = w / sd
    return weights, b - float(weights @ mu)


def fit(path: Path, l2: float) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [r for r in rows if r["kind"] != "spliced"]
    settings = AsrSettings()
    report(rows, np.array(settings.vote_weights), settings.vote_bias, settings, "current settings")
    dev = [r for r in rows if r["split"] == "dev"]
    weights, bias = fit_weights(dev, settings, l2)
    print(
        f"\nfitted on {len(dev)} dev clips: vote_weights={tuple(np.round(weights, 3))} "
        f"vote_bias={bias:.3f}"
    )
    report(rows, weights, bias, settings, "refit on dev (test never read)")
    for r in rows:
        r["markers"] = "".join(cantonese_markers(r["yue"]["text"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("dump", "fit"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--l2", type=float, default=0.05)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path)
    else:
        fit(args.path, args.l2)


if __name__ == "__main__":
    main()

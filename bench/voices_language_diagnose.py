"""Why an utterance is missed before the Cantonese/Mandarin head: one line of evidence per clip.

For every yue / cmn / en clip of bench/data/speech (and the shared fixtures, read by path) this
writes what the recogniser sees before it labels an utterance: the Silero VAD's windows (how
many pass `vad.threshold`, the peak), Whisper's language id (zh, en, the mass on zh and the
tonal languages), the greedy decodes under the Cantonese, Mandarin and English prompts (text,
log-prob, no-speech probability, whether the silence filters keep it), the yue/cmn head's
score and the stat-pooled encoder embedding (what a zh/en head would read: docs/speech.md).
Mandarin and 16 kHz English clips are also run
band-limited to 8 kHz, as the fit's dump does. Clips the VAD gate rejects are encoded whole
(`gated`), so their evidence is there too. Every encoder pass reads the window `transcribe()`
reads (`voices.asr.encoder_window_s`, 20 s by default; each row records it as `window_s`), so
the heads fitted on this dump (`voices_language_fit.py fit-quick-head`, `fit-zh-en-head`) see
the embeddings and language probabilities the shipped recogniser computes.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_diagnose.py \
        dump /tmp/diag.jsonl [--split dev]  # resumable: run again until it says done
    PYTHONPATH=. .venv/bin/python bench/voices_language_diagnose.py show /tmp/diag.jsonl \
        --split test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.voices_language import fixture_clips, load_manifest
from bench.voices_language_fit import print_encoder_passes, telephone_band
from voices.asr.faster_whisper import (
    FasterWhisperTranscriber,
    encoder_embedding,
    vote_features,
)
from voices.asr.language_decision import chinese_mass
from voices.audio_io import read_file_audio
from voices.config import VoiceSettings
from voices.types import PIPELINE_SAMPLE_RATE
from voices.vad import SileroVad

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def clip_variants(clip: dict, audio: np.ndarray) -> list[tuple[str, np.ndarray]]:
    variants = [("", audio)]
    native_8k = "8k" in clip["file"] or clip.get("kind") in ("spice", "forvo", "words")
    if clip["language"] in ("cmn", "en") and not native_8k and "osr" not in clip["file"]:
        variants.append(("-8k", telephone_band(audio)))
    return variants


def evidence(asr: FasterWhisperTranscriber, audio: np.ndarray) -> dict:
    vad = SileroVad(asr._vad_model).process(audio)
    cut = asr.speech_only(audio)
    gated = cut is None
    samples = audio if gated else cut
    seconds = min(samples.size / PIPELINE_SAMPLE_RATE, 30.0)
    with asr.utterance_window(), asr._slots:
        encoder_output = asr._encode_window(samples)
        probs = asr._language_probs(encoder_output)
        yue = asr._greedy(encoder_output, asr.asr.yue_prompt, seconds)
        cmn = asr._greedy(encoder_output, asr.asr.cmn_prompt, seconds)
        en = asr._greedy(encoder_output, "", seconds, language="en")
    embedding = encoder_embedding(encoder_output, seconds)
    features = vote_features(yue, cmn, probs, seconds)
    head = asr._head.score(features, embedding) if asr._head is not None else None
    top = sorted(probs.items(), key=lambda kv: -kv[1])[:4]
    return {
        "gated": gated,
        "vad_peak": round(float(vad.max()) if vad.size else 0.0, 3),
        "vad_over": int((vad >= asr.vad.threshold).sum()),
        "vad_over_035": int((vad >= 0.35).sum()),
        "cut_s": round(samples.size / PIPELINE_SAMPLE_RATE, 2),
        "zh": round(probs.get("zh", 0.0), 4),
        "en": round(probs.get("en", 0.0), 4),
        "chinese_mass": round(chinese_mass(probs), 4),
        "top": [[k, round(v, 3)] for k, v in top],
        "lang_probs": {k: v for k, v in probs.items() if v >= 1e-6},
        "decodes": {
            name: dict(d.__dict__, kept=asr._passes_filters(d, prompt))
            for name, d, prompt in (
                ("yue", yue, asr.asr.yue_prompt),
                ("cmn", cmn, asr.asr.cmn_prompt),
                ("en", en, ""),
            )
        },
        "head": None if head is None else round(head, 3),
        "embedding": [round(float(v), 4) for v in embedding],
        "window_s": asr.asr.encoder_window_s,  # None: Whisper's whole 30 s window
    }


def dump(
    out: Path, limit_s: float, split: str | None = None, evidence_of: Callable | None = None
) -> None:
    """One JSON line per clip (resumable): its labels and `evidence_of(asr, samples)`
    (default: this module's `evidence`)."""
    evidence_of = evidence_of or evidence
    started = time.perf_counter()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    asr = FasterWhisperTranscriber.from_settings(VoiceSettings(cache=cache))
    clips = [
        c
        for c in load_manifest(SPEECH) + fixture_clips()
        if c["language"] in ("yue", "cmn", "en")
        and c.get("kind") != "spliced"
        and (split is None or c.get("split", "test") == split)
    ]
    done = set()
    if out.exists():
        done = {json.loads(line)["file"] for line in out.read_text("utf-8").splitlines() if line}
    print(f"load average at start: {os.getloadavg()}")
    with out.open("a", encoding="utf-8") as fh:
        for clip in clips:
            audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
            for suffix, samples in clip_variants(clip, audio):
                name = clip["file"] + suffix
                if name in done:
                    continue
                if time.perf_counter() - started > limit_s:
                    print("time limit reached: run again to resume")
                    print(f"load average at end: {os.getloadavg()}")
                    print_encoder_passes(asr)
                    return
                row = {
                    "file": name,
                    "language": clip["language"],
                    "kind": clip.get("kind", "fixture") + suffix,
                    "speaker": clip.get("speaker", clip["file"]),
                    "split": clip.get("split", "test"),
                    "seconds": round(samples.size / PIPELINE_SAMPLE_RATE, 2),
                    **evidence_of(asr, samples),
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
    print("done")
    print(f"load average at end: {os.getloadavg()}")
    print_encoder_passes(asr)


def show(path: Path, split: str) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    for r in rows:
        if r["split"] != split:
            continue
        d = r["decodes"]
        print(
            f"{r['language']} {r['kind']:>10} {r['seconds']:5.2f}s {r['file'][-34:]:>34} "
            f"vad {r['vad_over']:>3}/{r['vad_peak']:.2f}{' GATED' if r['gated'] else ''} "
            f"zh {r['zh']:.3f} en {r['en']:.3f} mass {r['chinese_mass']:.3f} "
            f"head {r['head']:+.1f} | "
            + " | ".join(
                f"{k}{'' if v['kept'] else '(x)'} {v['text'][:14]!r} "
                f"lp {v['avg_logprob']:.2f} ns {v['no_speech_prob']:.2f}"
                for k, v in d.items()
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("dump", "show"))
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--split", help="show: this split (default test); dump: only this split (default all)"
    )
    parser.add_argument("--limit-s", type=float, default=270.0)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path, args.limit_s, args.split)
    else:
        show(args.path, args.split or "test")


if __name__ == "__main__":
    main()

"""Diarization figures: DER (0.25 s collar and none) and speaker-count accuracy.

    .venv/bin/python bench/meetings_diarization.py [--mixtures 8] [--seed 11] [--transcribe 2]

Two sets:
- AMI excerpts: bench/data/meetings/ami-excerpts (6 far-field meeting excerpts, 30 s scored
  each, 2-4 speakers, heavy overlap; reference RTTM; see its README for the source).
- Mixtures built here from real single-speaker clips of 8 different people (the shared
  fixtures ../shared/fixtures/audio and bench/data/meetings/clips): for each mixture a fixed
  seed draws 2-4 people, cuts each clip into its pause-separated halves, and lays the turns
  out in alternation with 0.2-1.0 s gaps; a quarter of turn changes overlap by 0.3-1.0 s.
Per set: DER with the embedded engine at the automatic count and at the oracle count, and the
share of recordings whose automatic count is right. `--transcribe N` also runs the whole
meeting pipeline on the first N mixtures and scores the words against the clips' reference
transcripts (CER for Chinese, WER for English) with speaker attribution. The load average
is printed with each figure: this 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.meeting_audio import build, clip  # noqa: E402
from voices.diarization import DiarizationSettings, build_diarizer  # noqa: E402
from voices.diarization.metrics import Turn, diarization_error, read_rttm  # noqa: E402
from voices.meeting import diarize_recording  # noqa: E402

AMI = ROOT / "bench" / "data" / "meetings" / "ami-excerpts"
SHARED = ROOT.parent / "shared" / "fixtures" / "audio"
CLIPS = ROOT / "bench" / "data" / "meetings" / "clips"
PEOPLE = {  # clip -> (reference text, language)
    SHARED / "0-en.wav": None,
    SHARED / "8k-en.wav": None,
    SHARED / "1-zh.wav": None,
    SHARED / "2-zh-en.wav": None,
    SHARED / "yue.wav": None,
    CLIPS / "jfk.flac": (
        "and so my fellow americans ask not what your country can do for you ask what you "
        "can do for your country",
        "en",
    ),
    CLIPS / "stereo-left.flac": (
        "he began a confused complaint against the wizard who had vanished behind the "
        "curtain on the left",
        "en",
    ),
    CLIPS / "stereo-right.flac": ("the horizon seems extremely distant", "en"),
}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def references() -> dict[Path, tuple[str, str]]:
    entries = json.loads((SHARED / "transcripts.json").read_text(encoding="utf-8"))
    out = {p: ref for p, ref in PEOPLE.items() if ref is not None}
    for entry in entries:
        lang = "en" if entry["language"] == "en" else "zh"
        out[SHARED / entry["file"]] = (entry["text"].lower(), lang)
    return out


def halves(audio: np.ndarray) -> list[np.ndarray]:
    """Cut at the quietest 100 ms in the middle third (a pause, not a word)."""
    if audio.size < 16000 * 4:
        return [audio]
    frame = 1600
    lo, hi = audio.size // 3 // frame, 2 * audio.size // 3 // frame
    energy = [float(np.mean(audio[i * frame : (i + 1) * frame] ** 2)) for i in range(lo, hi)]
    cut = (lo + int(np.argmin(energy))) * frame + frame // 2
    return [audio[:cut], audio[cut:]]


def mixture(rng: np.random.Generator, folder: Path, n: int) -> tuple[object, list]:
    people = sorted(PEOPLE)
    chosen = rng.choice(len(people), size=int(rng.integers(2, 5)), replace=False)
    turns = {int(i): halves(clip(people[int(i)])) for i in chosen}
    order: list[tuple[int, np.ndarray]] = []
    while any(turns.values()):
        for i in [int(x) for x in rng.permutation(list(turns))]:
            if turns[i] and (not order or order[-1][0] != i):
                order.append((i, turns[i].pop(0)))
    parts = []
    for k, (i, audio) in enumerate(order):
        overlap = k > 0 and rng.random() < 0.25
        offset = -float(rng.uniform(0.3, 1.0)) if overlap else float(rng.uniform(0.0, 0.6))
        parts.append((people[i].stem, audio, offset))
    built = build(folder / f"mix{n}.wav", parts, gap_s=0.2)
    return built, [people[i] for i, _a in order]


def score(reference: list[Turn], diarization, uem=None) -> tuple[float, float]:
    hyp = [Turn(t.start, t.end, t.speaker) for t in diarization.turns]
    return (
        diarization_error(reference, hyp, collar=0.25, scored=uem).der,
        diarization_error(reference, hyp, collar=0.0, scored=uem).der,
    )


def run_set(name: str, items, diarizer) -> dict:
    rows = []
    started = time.perf_counter()
    audio_s = 0.0
    for uri, path, reference, uem in items:
        auto = diarize_recording(path, diarizer)
        oracle = diarize_recording(path, diarizer, num_speakers=len({t.speaker for t in reference}))
        der25, der0 = score(reference, auto, uem)
        oder25, oder0 = score(reference, oracle, uem)
        n_ref = len({t.speaker for t in reference})
        rows.append(
            {
                "uri": uri,
                "ref_speakers": n_ref,
                "found": len(auto.speakers),
                "der_0.25": der25,
                "der_0": der0,
                "oracle_der_0.25": oder25,
                "oracle_der_0": oder0,
            }
        )
        audio_s += (uem[1] - uem[0]) if uem else max(t.end for t in reference)
    mean = {
        k: round(float(np.mean([r[k] for r in rows])), 3)
        for k in ("der_0.25", "der_0", "oracle_der_0.25", "oracle_der_0")
    }
    count_ok = sum(r["found"] == r["ref_speakers"] for r in rows)
    elapsed = time.perf_counter() - started
    return {
        "set": name,
        "recordings": len(rows),
        "mean": mean,
        "count_accuracy": f"{count_ok}/{len(rows)}",
        "rows": rows,
        "diarize_seconds_per_audio_second": round(elapsed / 2 / audio_s, 3),
        "loadavg": load(),
    }


def wer_cer(hyp: str, ref: str, lang: str) -> float:
    import jiwer
    import opencc

    if lang == "zh":
        to_simple = opencc.OpenCC("t2s")
        keep = lambda s: "".join(c for c in to_simple.convert(s) if c.isalnum())  # noqa: E731
        return jiwer.cer(keep(ref), keep(hyp))
    clean = lambda s: " ".join("".join(c if c.isalnum() else " " for c in s.lower()).split())  # noqa: E731
    return jiwer.wer(clean(ref), clean(hyp))


def transcribe_mixtures(mixtures, count: int) -> dict:
    from serving.meeting_service import build_engines
    from serving.settings import Settings

    engines = build_engines(Settings())
    refs = references()
    scores: dict[str, list[float]] = {"en": [], "zh": []}
    attributed = total = 0
    for built, people in mixtures[:count]:
        transcript = engines.meetings.transcribe_file(built.path)
        said: dict[Path, list[str]] = {}
        time_by_label: dict[Path, dict[str, float]] = {}
        for turn, person in zip(built.reference, people, strict=True):
            for seg in transcript.segments:
                shared = min(seg.end, turn.end) - max(seg.start, turn.start)
                if shared <= 0:
                    continue
                votes = time_by_label.setdefault(person, {})
                votes[seg.speaker] = votes.get(seg.speaker, 0.0) + shared
                if shared > 0.5 * (seg.end - seg.start):  # the segment belongs to this turn
                    said.setdefault(person, []).append(seg.text)
        for person, texts in said.items():  # a person's turns together = the whole clip
            if person in refs:
                ref_text, lang = refs[person]
                scores[lang].append(wer_cer(" ".join(texts), ref_text, lang))
        # attribution: the label with most of a person's time is nobody else's
        majority = {p: max(v, key=v.__getitem__) for p, v in time_by_label.items()}
        for label in majority.values():
            total += 1
            attributed += sum(other == label for other in majority.values()) == 1
        print(
            json.dumps(
                {
                    "mixture": built.path.stem,
                    "people": len(set(people)),
                    "speakers_found": len(transcript.speakers),
                    "elapsed_s": transcript.elapsed_s,
                    "audio_s": transcript.duration_s,
                }
            )
        )
    return {
        "mixtures_transcribed": min(count, len(mixtures)),
        "english_wer_mean": round(float(np.mean(scores["en"])), 3) if scores["en"] else None,
        "chinese_cer_mean": round(float(np.mean(scores["zh"])), 3) if scores["zh"] else None,
        "people_scored": {k: len(v) for k, v in scores.items()},
        "people_with_a_label_of_their_own": f"{attributed}/{total}",
        "loadavg": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixtures", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--transcribe", type=int, default=0)
    args = parser.parse_args()
    diarizer = build_diarizer(DiarizationSettings())
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "loadavg": load()}))
    reference = read_rttm(AMI / "reference.rttm")
    ami = [
        (uri, AMI / f"{uri}.flac", turns, (0.0, 30.0)) for uri, turns in sorted(reference.items())
    ]
    print(json.dumps(run_set("ami-excerpts", ami, diarizer)))
    if not (SHARED / "transcripts.json").exists():
        print(json.dumps({"mixtures": f"skipped: {SHARED} not found"}))
        return
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="meeting-mixtures-"))
    mixtures = [mixture(rng, folder, n) for n in range(args.mixtures)]
    items = [(f"mix{n}", b.path, b.reference, None) for n, (b, _p) in enumerate(mixtures)]
    print(json.dumps(run_set(f"mixtures(seed={args.seed})", items, diarizer)))
    if args.transcribe:
        print(json.dumps(transcribe_mixtures(mixtures, args.transcribe)))


if __name__ == "__main__":
    main()

"""Does the decoder's likelihood tell Cantonese that Whisper calls English from English speech?

For every clip of one split of bench/data/speech (and the 8 kHz copies the diagnosis dump makes)
that the VAD gate passes and that Whisper's id puts on English (over zh and yue), this writes the
greedy decodes under the Cantonese prompt, the Mandarin prompt, plain `zh` and plain `en` (text,
tokens, summed log-prob, no-speech probability), Whisper's zh / en / Chinese mass, the zh/en
head's score and the cut's length. Every encoder pass reads the window `transcribe()` reads
(`FasterWhisperTranscriber.utterance_window()`, `voices.asr.encoder_window_s`; each row records
it as `window_s`). `show` prints, for the clips the zh/en gate leaves on English,
each candidate evidence (> 0: Chinese) against the largest value of an English clip + 1.0 (the
zh/en head's margin rule; its out-of-fold scores come from the fit, so the head row reads the
`--oof` file that `bench/voices_language_fit.py fit-zh-en-head --oof-out` writes: omit it to
skip that row). Measured in
docs/speech.md ("a phrase margin for the zh/en head").

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language_likelihood.py \
        dump /tmp/likelihood_dev.jsonl --split dev   # resumable: run again until it says done
    PYTHONPATH=. .venv/bin/python bench/voices_language_likelihood.py show /tmp/likelihood_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import voices_language_diagnose
from voices.asr.faster_whisper import FasterWhisperTranscriber, encoder_embedding
from voices.asr.language_decision import chinese_mass, zh_en_feature
from voices.config import AsrSettings
from voices.types import PIPELINE_SAMPLE_RATE


def greedy(asr: FasterWhisperTranscriber, encoded, prompt: str, seconds: float, language: str):
    """One greedy decode (as the vote's) with its summed log-prob and token count."""
    tokenizer = asr._tokenizer(language)
    ids = asr._greedy_ids(prompt, language)
    result = asr.model.model.generate(
        encoded,
        [ids],
        beam_size=1,
        max_length=min(len(ids) + 8 + int(8 * seconds), 448),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=[-1],
    )[0]
    tokens = result.sequences_ids[0]
    total = float(result.scores[0] * len(tokens))  # the score is length-normalised
    return {
        "text": tokenizer.decode(tokens).strip(),
        "n": len(tokens),
        "sum": total,
        "avg": total / (len(tokens) + 1),
        "ns": float(result.no_speech_prob),
    }


def evidence(asr: FasterWhisperTranscriber, audio) -> dict:
    cut = asr.speech_only(audio)
    if cut is None:
        return {"gated": True}
    seconds = min(cut.size / PIPELINE_SAMPLE_RATE, 30.0)
    with asr.utterance_window(), asr._slots:  # the window transcribe() reads (20 s)
        encoded = asr._encode_window(cut)
        probs = asr._language_probs(encoded)
        row = {
            "gated": False,
            "window_s": asr.asr.encoder_window_s,  # None: Whisper's whole 30 s window
            "cut_s": round(cut.size / PIPELINE_SAMPLE_RATE, 2),
            "zh": probs.get("zh", 0.0),
            "en": probs.get("en", 0.0),
            "mass": chinese_mass(probs),
            "en_pick": probs.get("en", 0.0) > max(probs.get("zh", 0.0), probs.get("yue", 0.0)),
        }
        if not row["en_pick"]:
            return row
        if asr._zh_en_head is not None:
            embedding = encoder_embedding(encoded, seconds)
            row["head"] = asr._zh_en_head.score((zh_en_feature(probs),), embedding)
        row["decodes"] = {
            "yue": greedy(asr, encoded, asr.asr.yue_prompt, seconds, "zh"),
            "cmn": greedy(asr, encoded, asr.asr.cmn_prompt, seconds, "zh"),
            "zh": greedy(asr, encoded, "", seconds, "zh"),
            "en": greedy(asr, encoded, "", seconds, "en"),
        }
    return row


def dump(out: Path, split: str, limit_s: float) -> None:
    voices_language_diagnose.dump(out, limit_s, split, evidence_of=evidence)


def candidates(row: dict, oof: dict[str, float]) -> dict[str, float | None]:
    d = row["decodes"]
    chinese = ("yue", "cmn", "zh")
    return {
        "log-prob per token, best Chinese - English": max(d[k]["avg"] for k in chinese)
        - d["en"]["avg"],
        "log-prob per second, best Chinese - English": (
            max(d[k]["sum"] for k in chinese) - d["en"]["sum"]
        )
        / row["cut_s"],
        "zh/en head, out of fold": oof.get(row["file"]),
    }


def show(path: Path, oof_path: Path | None, min_s: float) -> None:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    oof = json.loads(oof_path.read_text("utf-8")) if oof_path else {}
    gate = AsrSettings().auto_chinese_min_probability
    reach = [
        r
        for r in rows
        if r.get("en_pick") and r["mass"] < gate and r["cut_s"] >= min_s and "decodes" in r
    ]
    print(
        f"{len(reach)} clips the gate leaves on English (>= {min_s} s of speech): "
        f"{sum(r['language'] == 'en' for r in reach)} English, "
        f"{sum(r['language'] != 'en' for r in reach)} Chinese"
    )
    for name in candidates(reach[0], oof):
        english = [candidates(r, oof)[name] for r in reach if r["language"] == "en"]
        english = [v for v in english if v is not None]
        if not english:
            continue
        threshold = max(0.0, max(english) + 1.0)
        chinese = [(r["file"], candidates(r, oof)[name]) for r in reach if r["language"] != "en"]
        past = sum(v is not None and v >= threshold for _, v in chinese)
        print(
            f"{name}: largest English {max(english):+.2f}, threshold {threshold:+.2f}, "
            f"Chinese past it {past}/{len(chinese)}: "
            + ", ".join(f"{Path(f).stem} {v:+.2f}" for f, v in chinese if v is not None)
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("dump", "show"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit-s", type=float, default=270.0)
    parser.add_argument("--oof", type=Path, help="show: {file: out-of-fold zh/en head score}")
    parser.add_argument("--min-s", type=float, default=0.0, help="show: only this much speech")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path, args.split, args.limit_s)
    else:
        show(args.path, args.oof, args.min_s)


if __name__ == "__main__":
    main()

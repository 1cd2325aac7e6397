"""Spoken language (yue / cmn / en) and transcription quality on the speech evaluation set.

For every clip of bench/data/speech (and the shared fixtures, read by path when present):
- the label in Auto mode (no hint) and with the widget's hint (the clip's true language); for
  Chinese clips both come from one encoder pass and the two prompted greedy decodes, exactly
  what transcribe() computes (the auto RTF is that cost); with the hint a decisive vote may
  still overrule it (AsrSettings.vote_with_hint / vote_override_margin);
- the Cantonese/Mandarin vote's score (voices.asr.faster_whisper.ChineseVote);
- CER (yue, cmn; after OpenCC to Simplified) / WER (en) and the real-time factor for each
  decoding choice: greedy without prompt, greedy with the language's prompt, beam 5 with it
  (the prompt-free and beam decodes only on the first --plain-clips / --beam-clips clips of
  each language and kind, to bound the run on a shared CPU).
Accuracy is printed per language, kind of clip (natural, spice, forvo, words, spliced) and
split (dev / test: the manifest's `split`; the vote's weights were fitted on dev only by
bench/voices_language_fit.py), with 1-3 s clips counted apart.

    PYTHONPATH=. flock /work/notes/cpu.lock .venv/bin/python bench/voices_language.py
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

from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.audio_io import read_file_audio
from voices.config import AsrSettings, VoiceSettings
from voices.language import cantonese_written_forms, decide_language, to_script
from voices.scoring import cer, wer

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT / "bench" / "data" / "speech"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "audio"


def load_manifest(directory: Path) -> list[dict]:
    rows = []
    for line in (directory / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row["path"] = directory / row["file"]
        rows.append(row)
    return rows


def fixture_clips() -> list[dict]:
    if not (FIXTURES / "transcripts.json").exists():
        return []
    out = []
    for entry in json.loads((FIXTURES / "transcripts.json").read_text(encoding="utf-8")):
        if entry["language"] in ("yue", "cmn", "en"):
            out.append(
                {
                    "file": entry["file"],
                    "path": FIXTURES / entry["file"],
                    "language": entry["language"],
                    "text": entry["text"],
                    "kind": "fixture",
                    "speaker": entry["file"],
                }
            )
    return out


def written(vote, language: str) -> str:
    """The transcript transcribe() would return for this side of the vote."""
    if language == "yue":
        return to_script(cantonese_written_forms(vote.yue.text), "yue")
    return to_script(vote.cmn.text, "cmn")


def raw_vote(clip: dict, vote, seconds: float) -> dict:
    return {
        "file": clip["file"],
        "language": clip["language"],
        "kind": clip.get("kind", "natural"),
        "speaker": clip.get("speaker", ""),
        "split": clip.get("split", "test"),
        "seconds": round(seconds, 2),
        "text": clip["text"],
        "lang_probs": vote.language_probs,
        "yue": vote.yue.__dict__,
        "cmn": vote.cmn.__dict__,
    }


def score(language: str, ref: str, hyp: str) -> float:
    return min(1.0, wer(ref, hyp) if language == "en" else cer(ref, hyp))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beam-clips", type=int, default=3)
    parser.add_argument("--plain-clips", type=int, default=6)
    parser.add_argument("--dev", type=Path, help="extra manifest directory (development clips)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips (0: all)")
    parser.add_argument("--dev-only", action="store_true", help="only the --dev clips")
    parser.add_argument("--dump", type=Path, help="also write each raw vote (JSON lines) here")
    args = parser.parse_args()
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    settings = VoiceSettings(cache=cache)
    asr = FasterWhisperTranscriber.from_settings(settings)
    plain = FasterWhisperTranscriber(
        asr.model_dir, asr=AsrSettings(yue_prompt="", cmn_prompt="", chinese_vote=False)
    )
    beam = FasterWhisperTranscriber(
        asr.model_dir, asr=AsrSettings(beam_size=5, yue_beam_size=5, chinese_vote=False)
    )
    clips = [] if args.dev_only else load_manifest(SPEECH) + fixture_clips()
    if args.dev:
        clips += [dict(c, kind=c.get("kind", "dev") + "-dev") for c in load_manifest(args.dev)]
    if args.limit:
        clips = clips[: args.limit]
    print(f"load average at start: {os.getloadavg()} (2 cores shared by 7 helpers)")
    rows, beam_done, plain_done = [], defaultdict(int), defaultdict(int)
    dump = args.dump.open("a", encoding="utf-8") if args.dump else None
    for clip in clips:
        audio = read_file_audio(clip["path"], max_duration_s=60, max_bytes=10**8)
        seconds, lang = audio.size / 16000, clip["language"]
        started = time.perf_counter()
        if lang == "en":
            auto = asr.transcribe(audio)
            auto_s = time.perf_counter() - started
            hinted = asr.transcribe(audio, language="en")
            auto_label, auto_text, hint_label, hint_text = (
                auto.language,
                auto.text,
                hinted.language,
                hinted.text,
            )
            vote = None
        elif asr.speech_only(audio) is None:  # the VAD gate: transcribe() hears nothing
            auto_label, auto_text, hint_label, hint_text = "en", "", lang, ""
            auto_s, vote = time.perf_counter() - started, None
        else:
            # one encoder pass and the two prompted decodes give what transcribe() does in
            # Auto mode (the vote, then the winner's decode) and with the hint (that side's)
            vote = asr.chinese_vote(audio)
            auto_s = time.perf_counter() - started
            if dump is not None:  # the raw vote, for bench/voices_language_fit.py fit
                dump.write(json.dumps(raw_vote(clip, vote, seconds), ensure_ascii=False) + "\n")
                dump.flush()
            auto_label = decide_language(vote.cmn.text, "zh", acoustic=vote.acoustic)
            auto_text = written(vote, auto_label)
            hint_side = vote.yue.text if lang == "yue" else vote.cmn.text
            # transcribe() votes with a hint too (vote_with_hint): a decisive vote overrules it
            hint_label = decide_language(hint_side, "zh", hint=lang, acoustic=vote.acoustic)
            hint_text = written(vote, hint_label)
        row = {
            "file": clip["file"],
            "language": lang,
            "kind": clip.get("kind", "natural"),
            "speaker": clip.get("speaker", ""),
            "split": clip.get("split", "test"),
            "seconds": round(seconds, 2),
            "auto": auto_label,
            "hint": hint_label,
            "auto_text": auto_text,
            "hint_text": hint_text,
            "auto_rtf": auto_s / seconds,
            "score_auto": score(lang, clip["text"], auto_text),
            "score_hint": score(lang, clip["text"], hint_text),
        }
        if vote is not None:
            row["vote"] = round(vote.score, 2)
            row["features"] = [round(f, 4) for f in vote.features]
            row["vote_label"] = auto_label
            row["vote_confident"] = vote.confident
        kind = clip.get("kind", "natural")
        natural = kind not in ("spliced",) and not kind.endswith("-dev")
        if plain_done[(lang, kind)] < args.plain_clips and natural:
            plain_done[(lang, kind)] += 1
            started = time.perf_counter()
            hyp = plain.transcribe(audio, language=lang).text
            row["score_plain"] = score(lang, clip["text"], hyp)
            row["plain_rtf"] = (time.perf_counter() - started) / seconds
        if beam_done[(lang, kind)] < args.beam_clips and natural:
            beam_done[(lang, kind)] += 1
            started = time.perf_counter()
            row["score_beam"] = score(
                lang, clip["text"], beam.transcribe(audio, language=lang).text
            )
            row["beam_rtf"] = (time.perf_counter() - started) / seconds
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    summarise(rows)


def summarise(rows: list[dict]) -> None:
    print(f"\nload average at end: {os.getloadavg()}")
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["language"], r["kind"], r["split"])].append(r)
        if r["kind"] != "spliced" and 1.0 <= r["seconds"] <= 3.0:
            groups[(r["language"], "all real, 1-3 s", r["split"])].append(r)
    print("| language | clips | split | n | auto right | hint right | vote decided (right) |")
    print("|---|---|---|---|---|---|---|")
    for (lang, kind, split), rs in sorted(groups.items()):
        auto = sum(r["auto"] == lang for r in rs)
        hint = sum(r["hint"] == lang for r in rs)
        voted = [r for r in rs if "vote" in r]
        decided = [r for r in voted if r["vote_confident"]]
        right = sum(r["vote_label"] == lang for r in decided)
        print(
            f"| {lang} | {kind} | {split} | {len(rs)} | {auto}/{len(rs)} | {hint}/{len(rs)} | "
            f"{len(decided)} ({right}) |"
        )
    print("\n| language | clips | decoding | n | CER/WER | RTF (median) |")
    print("|---|---|---|---|---|---|")
    for lang in ("yue", "cmn", "en"):
        for kind in sorted({r["kind"] for r in rows if r["language"] == lang} - {"spliced"}):
            decoding_rows(
                lang, kind, [r for r in rows if (r["language"], r["kind"]) == (lang, kind)]
            )


def decoding_rows(lang: str, kind: str, rs: list[dict]) -> None:
    for name, key, rtf in (
        ("greedy, no prompt", "score_plain", "plain_rtf"),
        ("greedy + prompt, hint", "score_hint", None),
        ("auto (vote)", "score_auto", "auto_rtf"),
        ("beam 5 + prompt, hint", "score_beam", "beam_rtf"),
    ):
        have = [r for r in rs if key in r]
        if have:
            speed = f"{np.median([r[rtf] for r in have]):.2f}" if rtf else "-"
            print(
                f"| {lang} | {kind} | {name} | {len(have)} | "
                f"{np.mean([r[key] for r in have]):.3f} | {speed} |"
            )


if __name__ == "__main__":
    main()

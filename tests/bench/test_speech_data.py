"""The speech evaluation set (bench/data/speech) is what its README says it is.

The benches fit on `dev` and report `test`; a clip listed but missing, a row without a split
or licence, or a speaker on both sides of the split would make their figures wrong silently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import soundfile as sf

SPEECH = Path(__file__).resolve().parents[2] / "bench" / "data" / "speech"
FIELDS = {"file", "language", "text", "speaker", "kind", "duration_s", "source", "licence", "split"}
# the one stated exception (README): the Mandarin words have one speaker, split by word
SPEAKERS_SPLIT_BY_ITEM = {"shtooka-tan"}


def manifest() -> list[dict]:
    lines = (SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def test_every_row_has_the_fields_a_split_and_a_licence():
    rows = manifest()
    assert rows
    for row in rows:
        assert set(row) == FIELDS, row["file"]
        assert row["split"] in ("dev", "test"), row["file"]
        assert row["language"] in ("yue", "cmn", "en"), row["file"]
        assert row["licence"].strip() and row["source"].strip(), row["file"]


def test_every_clip_is_there_as_mono_flac_of_its_stated_length():
    files = [row["file"] for row in manifest()]
    assert len(files) == len(set(files))
    for row in manifest():
        info = sf.info(SPEECH / row["file"])
        assert info.format == "FLAC" and info.channels == 1, row["file"]
        assert info.samplerate in (8000, 16000), row["file"]
        assert abs(info.duration - row["duration_s"]) < 0.05, row["file"]


def test_no_speaker_is_on_both_sides_of_the_split():
    splits: dict[str, set[str]] = defaultdict(set)
    for row in manifest():
        splits[row["speaker"]].add(row["split"])
    crossing = {speaker for speaker, sides in splits.items() if len(sides) > 1}
    assert crossing == SPEAKERS_SPLIT_BY_ITEM

"""The DER scorer the benchmarks rely on, on hand-made turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from voices.diarization.metrics import Turn, diarization_error, read_rttm, write_rttm

REF = [Turn(0.0, 10.0, "a"), Turn(10.0, 20.0, "b")]


def test_a_perfect_hypothesis_under_other_names_scores_zero() -> None:
    report = diarization_error(REF, [Turn(0.0, 10.0, "S2"), Turn(10.0, 20.0, "S1")], collar=0.0)
    assert report.der == 0.0 and report.ref_speakers == report.hyp_speakers == 2


def test_nothing_found_is_all_missed() -> None:
    report = diarization_error(REF, [], collar=0.0)
    assert report.der == 1.0 and report.missed == pytest.approx(20.0)


def test_one_label_for_two_people_confuses_half() -> None:
    report = diarization_error(REF, [Turn(0.0, 20.0, "S1")], collar=0.0)
    assert report.der == pytest.approx(0.5, abs=0.01)
    assert report.confusion == pytest.approx(10.0, abs=0.1)


def test_the_collar_forgives_boundaries_only() -> None:
    late = [Turn(0.0, 10.2, "x"), Turn(10.2, 20.0, "y")]
    assert diarization_error(REF, late, collar=0.0).der > 0
    assert diarization_error(REF, late, collar=0.25).der == 0.0


def test_false_alarm_and_overlap_count_per_speaker() -> None:
    ref = [Turn(0.0, 10.0, "a"), Turn(5.0, 10.0, "b")]  # 5 s overlap: 15 s of speech
    hyp = [Turn(0.0, 12.0, "S1")]
    report = diarization_error(ref, hyp, collar=0.0)
    assert report.reference == pytest.approx(15.0, abs=0.05)
    assert report.missed == pytest.approx(5.0, abs=0.05)
    assert report.false_alarm == pytest.approx(2.0, abs=0.05)


def test_rttm_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.rttm"
    path.write_text(write_rttm("meet", REF))
    assert read_rttm(path) == {"meet": REF}

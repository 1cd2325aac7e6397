"""Output pacing: the caller's playback, estimated from the audio sent or reported."""

from __future__ import annotations

from assistant.stages.pacing import PlaybackClock


def test_the_estimate_runs_at_real_time_from_the_first_audio() -> None:
    clock = PlaybackClock()
    clock.on_audio(1.0, now=10.0)
    clock.on_audio(0.5, now=10.1)  # sent faster than real time: queued after the first
    assert clock.started_at == 10.0 and clock.ends_at == 11.5
    assert clock.playing(11.4) and not clock.playing(11.5)


def test_a_report_replaces_the_estimate_and_names_what_was_heard() -> None:
    clock = PlaybackClock()
    for text in ["First.", " Second.", " Third."]:
        clock.on_delta(text)
        clock.on_sentence()
        clock.on_audio(1.0, now=0.0)
    assert clock.heard_text() is None  # no report: unknown
    clock.on_report(sentence=2, played_ms=2200, now=5.0)
    assert clock.heard_text() == "First. Second."
    assert clock.ends_at == 5.0 + 0.8  # 3 s sent, 2.2 s played
    clock.on_report(sentence=0, played_ms=0, now=6.0)
    assert clock.heard_text() == ""
    clock.stop()
    assert not clock.playing(6.0)

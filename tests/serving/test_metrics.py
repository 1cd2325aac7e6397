"""Turn outcomes tell the truth: a timeout or a quoted fallback is not a model answer."""

from __future__ import annotations

from assistant.types import TurnEnd
from serving.metrics import Metrics, turn_outcome


def _end(**fields: object) -> TurnEnd:
    return TurnEnd(**{"answer": "a", "refused": False, "language": "en", **fields})


def test_every_turn_end_maps_to_one_outcome() -> None:
    assert turn_outcome(_end()) == "model"
    assert turn_outcome(_end(fallback="extractive")) == "extractive_fallback"
    assert turn_outcome(_end(refused=True)) == "refused"
    assert turn_outcome(_end(fallback="extractive", error="timeout")) == "timeout"
    assert turn_outcome(_end(fallback="extractive", error="unreachable")) == "error"
    assert turn_outcome(_end(cancelled=True, error="timeout")) == "cancelled"


def test_the_metric_outcome_is_the_turn_end_outcome_itself() -> None:
    ends = [
        _end(),
        _end(refused=True),
        _end(fallback="extractive"),
        _end(fallback="extractive", error="timeout"),
        _end(fallback="extractive", error="unreachable"),
    ]
    assert [turn_outcome(e) for e in ends] == [e.outcome for e in ends]
    assert len({e.outcome for e in ends}) == len(ends)  # five different outcomes


def test_failed_turns_are_counted_and_timed() -> None:
    metrics = Metrics()
    timed_out = _end(fallback="extractive", error="timeout", timings={"retrieval": 40.0})
    assert metrics.record_turn(timed_out, input="text") == "timeout"
    metrics.record_turn(_end(timings={"retrieval": 20.0, "first_audio": 900.0}))
    text = metrics.render().decode()
    assert 'samyu_turns_total{input="text",outcome="timeout"} 1.0' in text
    assert 'samyu_turns_total{input="voice",outcome="model"} 1.0' in text
    assert 'samyu_turn_failures_total{cause="timeout",outcome="timeout"} 1.0' in text
    assert 'samyu_errors_total{code="model_timeout"} 1.0' in text
    assert 'samyu_turn_stage_seconds_count{stage="retrieval"} 2.0' in text  # the failed one too

"""k-fold held-out scoring of the tuning grid (on recorded rankings: no index needed)."""

from __future__ import annotations

import pytest

from knowledge_base.evaluation import Question, QuestionResult, report_of
from knowledge_base.tune import Trial, cross_validate, fold_indexes


def _trial(name: str, answered: list[bool]) -> Trial:
    results = [
        QuestionResult(Question(f"q{i}", frozenset({"right"}), "en"), ["right" if ok else "wrong"])
        for i, ok in enumerate(answered)
    ]
    return Trial({"name": name}, report_of(results))


def test_folds_cover_every_question_once_and_are_fixed_by_the_seed() -> None:
    folds = fold_indexes(10, 3, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(10))
    assert folds == fold_indexes(10, 3, seed=1) != fold_indexes(10, 3, seed=2)
    with pytest.raises(ValueError):
        fold_indexes(3, 4)


def test_held_out_scores_expose_a_setting_that_only_fits_some_questions() -> None:
    # "lucky" answers the first half perfectly and nothing else; "steady" answers 3 of 4
    lucky = _trial("lucky", [True] * 6 + [False] * 6)
    steady = _trial("steady", [True, True, True, False] * 3)
    validation = cross_validate([lucky, steady], folds=4, seed=0)
    assert len(validation.folds) == 4
    for fold in validation.folds:  # chosen on the other folds, scored on its own only
        assert fold.held_out.overall.count == 3
        assert fold.train.overall.count == 9
    summary = validation.summary()
    assert summary["held_out_recall@5_min"] <= summary["held_out_recall@5_mean"]
    assert summary["held_out_recall@5_mean"] <= summary["held_out_recall@5_max"]
    assert summary["held_out_recall@5_stdev"] >= 0
    # held-out recall is never better than what the chosen setting scored while being chosen
    assert summary["held_out_recall@5_mean"] <= summary["train_recall@5_mean"]
    assert validation.recommended in ({"name": "lucky"}, {"name": "steady"})

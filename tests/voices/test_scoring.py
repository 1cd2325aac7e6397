"""voices.scoring: the error rates the benches and the real-model tests report."""

from __future__ import annotations

import pytest

from voices.scoring import cer, error_rate, wer


def test_english_is_scored_by_words() -> None:
    assert error_rate("en", "the passport fee", "the password fee") == pytest.approx(1 / 3)
    assert error_rate("en", "the passport fee", "the password fee") == wer(
        "the passport fee", "the password fee"
    )


@pytest.mark.parametrize("language", ["yue", "cmn"])
def test_chinese_is_scored_by_characters_whatever_the_script(language: str) -> None:
    # Traditional against Simplified is no error; one wrong character of four is 0.25
    assert error_rate(language, "補領身份證", "补领身份证") == 0.0
    assert error_rate(language, "護照費用", "护照费由") == pytest.approx(0.25)
    assert error_rate(language, "護照費用", "护照费由") == cer("護照費用", "护照费由")


@pytest.mark.parametrize("reference", [None, ""])
def test_no_reference_is_no_score(reference: str | None) -> None:
    assert error_rate("yue", reference, "anything") is None
    assert error_rate("en", reference, "anything") is None

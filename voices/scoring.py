"""Word and character error rates for tests and benchmarks (jiwer, from the `dev` extra).

Texts are compared after the same normalisation on both sides: NFKC, lower case, punctuation
removed, Chinese converted to Simplified with OpenCC (so Traditional and Simplified output
score alike), and for CER all spaces removed.
"""

from __future__ import annotations

import re
import unicodedata

from voices.language import to_script

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)


def normalise_for_scoring(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_script(text, "cmn")  # Simplified, whatever the hypothesis script
    return " ".join(_PUNCT.sub(" ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalise_for_scoring(reference), normalise_for_scoring(hypothesis)
    return float(jiwer.wer(ref, hyp)) if ref else float(bool(hyp))


def cer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref = normalise_for_scoring(reference).replace(" ", "")
    hyp = normalise_for_scoring(hypothesis).replace(" ", "")
    return float(jiwer.cer(ref, hyp)) if ref else float(bool(hyp))


def error_rate(language: str, reference: str | None, hypothesis: str) -> float | None:
    """WER for English, CER for Chinese (scripts folded by the normalisation above) of one
    transcript against its reference; None without a reference (a clip kept for language id
    only)."""
    if not reference:
        return None
    return wer(reference, hypothesis) if language == "en" else cer(reference, hypothesis)

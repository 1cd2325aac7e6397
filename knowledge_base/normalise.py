"""Text normalisation for matching: width folding, one Chinese script, a script tag per chunk.

Only the search side is normalised; chunks keep their original text for display and citation.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

from knowledge_base.types import ScriptTag

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN = re.compile(r"[A-Za-z]")
# OpenCC converters are not documented as thread-safe; one per thread costs ~3 ms once.
_local = threading.local()


def _converter(config: str) -> opencc.OpenCC:
    cache = _local.__dict__.setdefault("converters", {})
    if config not in cache:
        cache[config] = opencc.OpenCC(config)
    return cache[config]


def fold_width(text: str) -> str:
    """Full-width letters, digits and ASCII punctuation -> half-width (NFKC).

    NFKC is safe for matching: it never changes a CJK ideograph into another one, and the
    ideographic full stop 。 is left alone (it has no compatibility decomposition).
    """
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str) -> str:
    """Hong Kong Traditional (and Taiwan/standard Traditional) -> Simplified, with HK variants."""
    return _converter("hk2s").convert(text)


def to_traditional_hk(text: str) -> str:
    return _converter("s2hk").convert(text)


def for_matching(text: str, fold_scripts: bool = True) -> str:
    """What BM25 sees: width-folded, lower-cased, and (optionally) one Chinese script."""
    text = fold_width(text).lower()
    return to_simplified(text) if fold_scripts else text


@lru_cache(maxsize=4096)
def script_tag(text: str) -> ScriptTag:
    """'en', 'zh-Hant' or 'zh-Hans' by which script dominates the text.

    A Chinese text is Simplified when converting it to Traditional changes it and converting it
    to Simplified does not; text written only in characters common to both is called zh-Hant,
    the usual script of Hong Kong documents.
    """
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if cjk == 0 or latin_words > cjk:
        return "en"
    if to_simplified(text) != text:
        return "zh-Hant"
    if to_traditional_hk(text) != text:
        return "zh-Hans"
    return "zh-Hant"


def other_script_variants(text: str) -> list[str]:
    """The query in the other Chinese script(s), for fusing results over both (deduplicated)."""
    if not _CJK.search(text):
        return []
    variants = {to_simplified(text), to_traditional_hk(text)} - {text}
    return sorted(variants)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def has_latin(text: str) -> bool:
    return bool(_LATIN.search(text))

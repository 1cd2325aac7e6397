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


_SURROGATES = re.compile("([\ud800-\udfff]+)")


def convert_script(config: str, text: str) -> str:
    """OpenCC conversion that survives lone surrogates (OpenCC encodes to UTF-8 and would
    raise): the text between them is converted, the surrogates are kept for the caller's own
    encoder to refuse or replace."""
    converter = _converter(config)
    if not _SURROGATES.search(text):
        return converter.convert(text)
    return "".join(
        part if _SURROGATES.fullmatch(part) else converter.convert(part)
        for part in _SURROGATES.split(text)
    )


def to_simplified(text: str) -> str:
    """Hong Kong Traditional (and Taiwan/standard Traditional) -> Simplified, with HK variants."""
    return convert_script("hk2s", text)


def to_traditional_hk(text: str) -> str:
    return convert_script("s2hk", text)


# Colloquial written Cantonese -> standard written Chinese, for matching only. Callers write
# the way they speak (點樣, 幾多錢, 使唔使); government documents use the standard forms (如何,
# 多少, 是否需要), and OpenCC converts scripts, not registers. No maintained package does this
# (pycantonese segments and parses but does not convert), so this short table is hand-written:
# grammatical words and everyday verbs only, no service names. Longest forms are replaced first.
CANTONESE_TO_WRITTEN = {
    "使唔使": "需不需要",
    "要唔要": "要不要",
    "可唔可以": "可不可以",
    "得唔得": "可不可以",
    "係唔係": "是不是",
    "有冇": "有沒有",
    "點樣": "怎樣",
    "點解": "為甚麼",
    "點先": "怎樣才",
    "乜嘢": "甚麼",
    "咩嘢": "甚麼",
    "幾多": "多少",
    "幾耐": "多久",
    "幾時": "何時",
    "邊度": "哪裡",
    "邊個": "誰",
    "邊間": "哪間",
    "邊啲": "哪些",
    "佢哋": "他們",
    "我哋": "我們",
    "你哋": "你們",
    "而家": "現在",
    "屋企": "家",
    "細路仔": "兒童",
    "細路": "小孩",
    "搭車": "乘車",
    "兩蚊": "兩元",
    "蚊": "元",
    "嘅": "的",
    "係": "是",
    "唔": "不",
    "咗": "了",
    "喺": "在",
    "冇": "沒有",
    "咩": "甚麼",
    "攞": "取",
    "畀": "給",
    "俾": "給",
    "佢": "他",
    "啲": "些",
    "嚟": "來",
    "睇": "看",
    "搵": "找",
    "揾": "找",
    "諗": "想",
    "咁": "這樣",
    "咭": "卡",  # HK's written form of "card" (八達通咭, 樂悠咭)
}
_CANTONESE = re.compile(
    "|".join(sorted(map(re.escape, CANTONESE_TO_WRITTEN), key=len, reverse=True))
)


def cantonese_to_written(text: str) -> str:
    return _CANTONESE.sub(lambda m: CANTONESE_TO_WRITTEN[m.group(0)], text)


def for_matching(text: str, fold_scripts: bool = True, fold_cantonese: bool = True) -> str:
    """What BM25 sees: width-folded, lower-cased, colloquial Cantonese in standard written
    forms, and (optionally) one Chinese script."""
    text = fold_width(text).lower()
    if fold_cantonese:
        text = cantonese_to_written(text)
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

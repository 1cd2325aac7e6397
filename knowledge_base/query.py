"""Query understanding for spoken questions, before retrieval.

Callers talk: "唔該，我想問下，呢個即係長者咭點樣申請呀？" or "um, so I wanted to ask, like,
how do I renew my ID card?". The words that carry the question are a fraction of the
transcript; the rest (fillers, politeness, discourse particles) adds BM25 noise and pulls the
query vector away from the document. `understand` returns:

- `semantic`: the question with fillers stripped (what the embedder sees);
- `lexical`: that, plus expansions for BM25: Chinese numerals also written in digits
  (六十五歲 -> 65歲, as documents write them), HK department short names and places also
  written in full and in the other language (入境處 -> 入境事務處 Immigration Department).

Colloquial Cantonese is folded to standard written forms inside the BM25 tokenizer
(`normalise.cantonese_to_written`), for documents and queries alike, so it is not repeated
here. Expansions are appended, never substituted: a word the caller said always stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Said before or around a question, carrying no content. Longest first (regex alternation).
# Cantonese and Mandarin openers/politeness; sentence-final particles are handled apart.
_ZH_FILLERS = (
    "可唔可以話我知",
    "可不可以告訴我",
    "你知唔知",
    "我想問一問",
    "我想問一下",
    "我想問下",
    "我想問吓",
    "想問一問",
    "想問一下",
    "想問下",
    "想問吓",
    "我想問",
    "我想知道",
    "我想知",
    "想知道",
    "請問一下",
    "請問",
    "唔該晒",
    "唔該你",
    "唔該",
    "麻煩你",
    "麻煩晒",
    "不好意思",
    "唔好意思",
    "你好",
    "喂",
    "呢個",
    "嗰個",
    "即係",
    "就係",
    "其實",
    "咁樣",
    "那個",
    "這個",
    "就是",
    "然後",
    "嗯",
    "呃",
    "誒",
    "哦",
)
# particles that end a spoken clause: dropped only before punctuation or at the end
_ZH_PARTICLES = "呀啊啦喇喎囉嘛吖呢咩嗎㗎架噃"
_EN_FILLERS = (
    r"\bi (?:just )?(?:want(?:ed)?|would like|'d like) to (?:ask|know)(?: (?:about|if|whether))?\b",
    r"\b(?:can|could) you (?:please )?tell me\b",
    r"\bdo you know\b",
    r"\bi was wondering(?: if| whether)?\b",
    r"\byou know\b",
    r"\bi mean\b",
    r"\bkind of\b",
    r"\bsort of\b",
    r"\b(?:um+|uh+|erm+|er|ah+|hmm+|mm+)\b",
    r"\blike,",
    r"\b(?:so|well|okay|ok|hi|hello|hey),",
    r"^\W*(?:so|and|well|okay|ok)\b",
    r"\bplease\b",
    r"\bbasically\b",
    r"\bactually\b",
)
_ZH_FILLER_RE = re.compile("|".join(map(re.escape, sorted(_ZH_FILLERS, key=len, reverse=True))))
_ZH_PARTICLE_RE = re.compile(f"[{_ZH_PARTICLES}]+(?=[，,。？?！!\\s]|$)")
_EN_FILLER_RE = re.compile("|".join(_EN_FILLERS), re.IGNORECASE)
_PUNCT_RUN = re.compile(r"(?:\s*(?:[，、]|,(?!\d))\s*)+")  # not the comma of 1,000
_SPACES = re.compile(r"\s+")
_DANGLING_COMMA = re.compile(r"\s*[，,、]\s*(?=[?？!！。.]|$)")

# HK departments and places, as callers say them -> how documents write them (both
# languages). Public names from the HK Government directory; a collection adds its own
# through `aliases`.
HK_NAMES: dict[str, tuple[str, ...]] = {
    "入境處": ("入境事務處", "Immigration Department"),
    "入境事務處": ("Immigration Department",),
    "immd": ("Immigration Department", "入境事務處"),
    "immigration": ("入境事務處",),
    "運輸署": ("Transport Department",),
    "transport department": ("運輸署",),
    "房署": ("房屋署", "Housing Department"),
    "房屋署": ("Housing Department",),
    "housing department": ("房屋署",),
    "社署": ("社會福利署", "Social Welfare Department"),
    "社會福利署": ("Social Welfare Department",),
    "swd": ("Social Welfare Department", "社會福利署"),
    "食環署": ("食物環境衞生署", "Food and Environmental Hygiene Department"),
    "fehd": ("Food and Environmental Hygiene Department", "食物環境衞生署"),
    "稅局": ("稅務局", "Inland Revenue Department"),
    "稅務局": ("Inland Revenue Department",),
    "ird": ("Inland Revenue Department", "稅務局"),
    "勞工處": ("Labour Department",),
    "康文署": ("康樂及文化事務署", "Leisure and Cultural Services Department"),
    "lcsd": ("Leisure and Cultural Services Department", "康樂及文化事務署"),
    "差館": ("警署", "police station"),
    "警察": ("警務處", "police"),
    "郵局": ("郵政局", "post office"),
    "醫管局": ("醫院管理局", "Hospital Authority"),
    "衞生署": ("Department of Health",),
    "衛生署": ("衞生署", "Department of Health"),
    "生死註冊": ("生死登記", "births and deaths registry"),
    "身份證": ("身分證", "identity card"),
    "身分證": ("身份證", "identity card"),
    "id card": ("identity card", "身份證"),
    "hkid": ("identity card", "身份證"),
    "八達通": ("Octopus",),
    "長者咭": ("長者卡", "Senior Citizen Card"),
    "長者卡": ("Senior Citizen Card",),
    "生果金": ("高齡津貼", "Old Age Allowance"),
    "綜援": ("綜合社會保障援助", "CSSA"),
    "公屋": ("公共屋邨", "公共租住房屋", "public rental housing"),
    "居屋": ("居者有其屋", "Home Ownership Scheme"),
    "強積金": ("MPF",),
    "mpf": ("強積金",),
    "旺角": ("Mong Kok",),
    "尖沙咀": ("Tsim Sha Tsui",),
    "銅鑼灣": ("Causeway Bay",),
    "中環": ("Central",),
    "金鐘": ("Admiralty",),
    "灣仔": ("Wan Chai",),
    "沙田": ("Sha Tin",),
    "荃灣": ("Tsuen Wan",),
    "屯門": ("Tuen Mun",),
    "元朗": ("Yuen Long",),
    "觀塘": ("Kwun Tong",),
    "將軍澳": ("Tseung Kwan O",),
    "大埔": ("Tai Po",),
    "上水": ("Sheung Shui",),
    "東涌": ("Tung Chung",),
    "北角": ("North Point",),
    "深水埗": ("Sham Shui Po",),
    "九龍灣": ("Kowloon Bay",),
    "mong kok": ("旺角",),
    "tsim sha tsui": ("尖沙咀",),
    "causeway bay": ("銅鑼灣",),
    "wan chai": ("灣仔",),
    "sha tin": ("沙田",),
    "tsuen wan": ("荃灣",),
    "tuen mun": ("屯門",),
    "yuen long": ("元朗",),
    "kwun tong": ("觀塘",),
    "tseung kwan o": ("將軍澳",),
    "tung chung": ("東涌",),
}
_NAME_RE = re.compile(
    "|".join(
        (re.escape(n) if re.search(r"[\u4e00-\u9fff]", n) else rf"\b{re.escape(n)}\b")
        for n in sorted(HK_NAMES, key=len, reverse=True)
    ),
    re.IGNORECASE,
)

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "萬": 10_000, "万": 10_000}
# a numeral followed by a measure word (or after 第): a quantity, not part of a word like 一般
_MEASURES = "歲岁元蚊個个日天月年號号點点分次人張张本層层倍成折週周%％"
_DIGIT_UNITS = set("歲岁元蚊號号%％")
_NUMERAL_RE = re.compile(
    rf"(?:(?<=第)[零〇一二兩两三四五六七八九十百千萬万]+|"
    rf"[零〇一二兩两三四五六七八九十百千萬万]+(?=[{_MEASURES}]|個月|小時|星期|鐘))"
)
_EN_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_NUMBER_RE = re.compile(
    r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](one|two|three|four|five|"
    r"six|seven|eight|nine)\b|\b(" + "|".join(_EN_NUMBERS) + r")\b",
    re.IGNORECASE,
)


def chinese_numeral_value(text: str) -> int | None:
    """六十五 -> 65, 一百二十 -> 120, 兩萬 -> 20000, 二零二四 -> 2024; None if not a numeral."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if not any(ch in _UNITS for ch in text):  # digit by digit, as years are read
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif _UNITS[ch] == 10_000:
            section = (section + (digit or 0)) or 1
            total += section * 10_000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + section + (digit or 0)


def strip_fillers(text: str) -> str:
    """The question without spoken fillers; the text itself when nothing would be left."""
    stripped = _EN_FILLER_RE.sub(" ", text)
    stripped = _ZH_FILLER_RE.sub("，", stripped)
    stripped = _ZH_PARTICLE_RE.sub("", stripped)
    stripped = _PUNCT_RUN.sub(
        lambda m: m.group(0).strip()[0] + ("" if m.group(0).strip()[0] == "，" else " "), stripped
    )
    stripped = _EN_FILLER_RE.sub(" ", stripped)  # an opener uncovered by the first pass
    stripped = _DANGLING_COMMA.sub("", _SPACES.sub(" ", stripped)).strip(" ，,、")
    return stripped if re.search(r"\w", stripped) else text.strip()


def expansions(text: str) -> list[str]:
    """Extra words for BM25: digits for Chinese and English numerals, HK names in full and
    in the other language. Deduplicated, in order of appearance."""
    extra: list[str] = []
    for match in _NUMERAL_RE.finditer(text):
        value = chinese_numeral_value(match.group(0))
        following = text[match.end() : match.end() + 1]
        # small counts (三個, 兩次) are written in words in documents too, and a lone digit
        # matches half a corpus; ages, money and numbers (兩蚊, 六十五歲, 三號) are digits
        if value is not None and (value >= 10 or following in _DIGIT_UNITS):
            extra.append(str(value))
    for match in _EN_NUMBER_RE.finditer(text):
        if match.group(3):
            value = _EN_NUMBERS[match.group(3).lower()]
        else:
            value = _EN_NUMBERS[match.group(1).lower()] + _EN_NUMBERS[match.group(2).lower()]
        if value >= 10:
            extra.append(str(value))
    for match in _NAME_RE.finditer(text):
        extra.extend(HK_NAMES[match.group(0).lower()])
    seen: set[str] = set()
    return [e for e in extra if not (e in seen or seen.add(e))]  # type: ignore[func-returns-value]


@dataclass(frozen=True)
class UnderstoodQuery:
    original: str
    semantic: str  # fillers stripped: for the embedder
    lexical: str  # semantic + expansions: for BM25


def understand(query: str) -> UnderstoodQuery:
    semantic = strip_fillers(query)
    extra = expansions(semantic)
    lexical = semantic + (" " + " ".join(extra) if extra else "")
    return UnderstoodQuery(query, semantic, lexical)

"""Language versions of one document that disagree on numbers (an old fee left on one).

Two documents are versions of each other when one is English and the other Chinese and they
share a file stem (`en/passport-fees.md`, `zh-hant/passport-fees.md`; a language suffix such
as `.zh`, `-tc`, `_en` is ignored: `passport-fees.zh.md`) or a title. They
disagree when a number of two or more digits (fees, days, ages, phone numbers) appears in
one and not in the other. Single digits are left out: Chinese often writes them as words.
The report is advice for the department at ingest: nothing is blocked or changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from knowledge_base.index import DocumentRecord

_NUMBER = re.compile(
    r"((?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.,])\d+(?:\.\d+)?)"
    r"(\s?(?:萬|万|億|亿|million\b|billion\b))?",
    re.IGNORECASE,
)
_SCALE = {"萬": 10**4, "万": 10**4, "億": 10**8, "亿": 10**8, "million": 10**6, "billion": 10**9}
_CJK = re.compile(r"[\u3400-\u9fff]")
_LANGUAGE_SUFFIX = re.compile(
    r"[._-](?:en|eng|english|zh|zh-hant|zh-hans|zh-hk|zh-tw|zh-cn|hant|hans|tc|sc|chi|chs|cht)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Disagreement:
    """Numbers found in only one of two language versions of a document."""

    documents: tuple[str, str]  # (English id, Chinese id)
    only_in_first: tuple[str, ...]
    only_in_second: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        first, second = self.documents
        return {
            "documents": list(self.documents),
            "only_in": {first: list(self.only_in_first), second: list(self.only_in_second)},
        }


def numbers(text: str) -> dict[Decimal, str]:
    """Numbers of two or more digits by value (1,000 == 1000; 500萬 == 5 million), with one
    written form each. Single digits alone are left out (Chinese often writes them as words)."""
    found: dict[Decimal, str] = {}
    for digits, scale in _NUMBER.findall(text):
        try:
            value = Decimal(digits.replace(",", ""))
        except InvalidOperation:
            continue
        if scale:
            value *= _SCALE[scale.strip().lower()]
        elif len(digits.replace(",", "").split(".")[0]) < 2:
            continue
        found.setdefault(value.normalize(), (digits + scale).strip())
    return found


def _is_chinese(record: DocumentRecord) -> bool:
    sample = record.text[:2000]
    return len(_CJK.findall(sample)) > 0.1 * max(1, len(sample.strip()))


def _key(record: DocumentRecord) -> set[str]:
    keys = {f"title:{record.title.strip().casefold()}"}
    if record.source == record.id:  # a whole file (not an FAQ row)
        stem = _LANGUAGE_SUFFIX.sub("", PurePosixPath(record.source).stem.lower())
        keys.add(f"stem:{stem}")
    return keys


def version_pairs(records: Iterable[DocumentRecord]) -> list[tuple[DocumentRecord, DocumentRecord]]:
    """(English, Chinese) pairs that share a file stem or a title."""
    english: dict[str, list[DocumentRecord]] = {}
    chinese: list[DocumentRecord] = []
    for record in records:
        if _is_chinese(record):
            chinese.append(record)
        else:
            for key in _key(record):
                english.setdefault(key, []).append(record)
    pairs: dict[tuple[str, str], tuple[DocumentRecord, DocumentRecord]] = {}
    for zh in chinese:
        for key in _key(zh):
            for en in english.get(key, []):
                pairs.setdefault((en.id, zh.id), (en, zh))
    return [pairs[k] for k in sorted(pairs)]


def disagreements(records: Iterable[DocumentRecord]) -> list[Disagreement]:
    out = []
    for en, zh in version_pairs(records):
        a, b = numbers(en.text), numbers(zh.text)
        only_a = tuple(a[v] for v in sorted(a.keys() - b.keys()))
        only_b = tuple(b[v] for v in sorted(b.keys() - a.keys()))
        if only_a or only_b:
            out.append(Disagreement((en.id, zh.id), only_a, only_b))
    return out

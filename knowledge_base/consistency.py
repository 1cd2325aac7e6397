"""Language versions of one document that disagree on numbers (an old fee left on one).

Two documents are versions of each other when one is English and the other Chinese and they
share a file stem (`en/passport-fees.md`, `zh-hant/passport-fees.md`) or a title. They
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

_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.,])\d{2,}(?:\.\d+)?")
_CJK = re.compile(r"[\u3400-\u9fff]")


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
    """Numbers of two or more digits, by value (1,000 == 1000), with one written form each."""
    found: dict[Decimal, str] = {}
    for raw in _NUMBER.findall(text):
        try:
            found.setdefault(Decimal(raw.replace(",", "")).normalize(), raw)
        except InvalidOperation:
            continue
    return found


def _is_chinese(record: DocumentRecord) -> bool:
    sample = record.text[:2000]
    return len(_CJK.findall(sample)) > 0.1 * max(1, len(sample.strip()))


def _key(record: DocumentRecord) -> set[str]:
    keys = (
        {f"stem:{PurePosixPath(record.source).stem.lower()}"}
        if record.source == record.id
        else set()
    )
    return keys | {f"title:{record.title.strip().casefold()}"}


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

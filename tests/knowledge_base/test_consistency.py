"""Language versions of a document that disagree on numbers (no index needed)."""

from __future__ import annotations

from decimal import Decimal

from knowledge_base.consistency import disagreements, numbers, version_pairs
from knowledge_base.index import DocumentRecord


def _doc(doc_id: str, title: str, text: str) -> DocumentRecord:
    return DocumentRecord(doc_id, doc_id, title, "hash", text)


def test_numbers_are_compared_by_value_across_scripts() -> None:
    found = numbers("HK$1,000 or 1000; 首500萬元 = HK$5 million; 3 days; 10 years; 2.5億")
    assert set(found) == {Decimal(1000), Decimal(5_000_000), Decimal(10), Decimal(250_000_000)}
    assert found[Decimal(5_000_000)] == "500萬"  # one written form kept for the report


def test_versions_pair_by_stem_with_language_suffixes_or_by_title() -> None:
    records = [
        _doc("en/fees.md", "Fees", "HK$370 and HK$460"),
        _doc("zh-hant/fees.md", "費用", "港幣370元及港幣420元"),
        _doc("hours.en.md", "Hours", "Open 9 to 17"),
        _doc("hours-tc.md", "辦公時間", "開放時間為9時至17時"),
        _doc("faq.csv#q-1", "Library", "Cards cost HK$20"),
        _doc("faq.csv#q-2", "Library", "借書證費用港幣30元"),
        _doc("en/other.md", "Other", "Nothing in Chinese"),
    ]
    pairs = {(en.id, zh.id) for en, zh in version_pairs(records)}
    assert pairs == {
        ("en/fees.md", "zh-hant/fees.md"),
        ("hours.en.md", "hours-tc.md"),
        ("faq.csv#q-1", "faq.csv#q-2"),  # same title
    }
    found = {d.documents: (d.only_in_first, d.only_in_second) for d in disagreements(records)}
    assert found == {
        ("en/fees.md", "zh-hant/fees.md"): (("460",), ("420",)),
        ("faq.csv#q-1", "faq.csv#q-2"): (("20",), ("30",)),
    }

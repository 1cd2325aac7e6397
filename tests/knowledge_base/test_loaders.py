from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from knowledge_base.loaders import (
    Limits,
    LoadError,
    check_zip,
    discover,
    load_file,
    question_key,
)
from tests.bombs import MiB, html_bomb, pdf_bomb, zip_bomb
from tests.knowledge_base.files import write_docx, write_pdf

LIMITS = {"max_bytes": 1_000_000, "max_faq_rows": 100}


def test_markdown_front_matter_url_title_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "id.md"
    path.write_text(
        "---\nurl: https://www.gov.hk/id\n---\n# Identity cards\nIntro.\n## Fees\nFree.\n",
        encoding="utf-8",
    )
    [doc] = load_file(path, "id.md", **LIMITS)
    assert doc.url == "https://www.gov.hk/id"
    assert doc.title == "Identity cards"
    assert "url:" not in doc.text
    assert doc.section_at(doc.text.index("Free.")) == "Fees"


def test_html_canonical_title_headings_and_no_script(tmp_path: Path) -> None:
    path = tmp_path / "p.html"
    path.write_text(
        '<html><head><title>護照費用</title><link rel="canonical" href="https://x.gov.hk/p">'
        "<script>var junk=1;</script></head><body><h1>費用</h1><p>32頁護照 <b>370元</b>。</p>"
        "<ul><li>48頁</li></ul></body></html>",
        encoding="utf-8",
    )
    [doc] = load_file(path, "p.html", **LIMITS)
    assert doc.url == "https://x.gov.hk/p"
    assert doc.title == "護照費用"
    assert "370元" in doc.text and "48頁" in doc.text and "junk" not in doc.text
    assert doc.section_at(doc.text.index("370")) == "費用"


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "guide.pdf", ["Passport fees are 370 dollars.", "Apply online."])
    [doc] = load_file(path, "guide.pdf", **LIMITS)
    assert "370" in doc.text
    assert doc.section_at(doc.text.index("Apply")) == "p. 2"


def test_docx_headings(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "tax.docx", "Salaries tax", ["File your return in 1 month."])
    [doc] = load_file(path, "tax.docx", **LIMITS)
    assert doc.title == "Salaries tax"
    assert "1 month" in doc.text


def test_faq_csv_rows_are_documents_with_ids(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,question,answer,url\nfaq-1,How much is a passport?,HK$370.,https://a\n"
        ",點樣補領身份證？,去人事登記處。,\n",
        encoding="utf-8",
    )
    first, second = load_file(path, "faq/faq.csv", **LIMITS)
    assert (first.id, first.url, first.source) == ("faq-1", "https://a", "faq/faq.csv")
    assert second.id == f"faq/faq.csv#q-{question_key('點樣補領身份證？')}"
    assert second.text == "點樣補領身份證？\n去人事登記處。"


def test_faq_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    rows = [
        {"id": "q1", "question": "Q?", "answer": "A.", "title": "T"},
        {"question": "Q2?", "answer": "B."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    docs = load_file(path, "faq.jsonl", **LIMITS)
    assert [d.id for d in docs] == ["q1", f"faq.jsonl#q-{question_key('Q2?')}"]
    assert docs[0].title == "T"


def test_faq_row_ids_without_an_id_column_survive_removing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    rows = [
        "How much is a passport?,HK$370.",
        "Where do I renew it?,Immigration Tower.",
        "How long?,10 days.",
    ]
    path.write_text("question,answer\n" + "\n".join(rows) + "\n", encoding="utf-8")
    before = {d.text: d.id for d in load_file(path, "faq.csv", **LIMITS)}
    path.write_text("question,answer\n" + "\n".join(rows[1:]) + "\n", encoding="utf-8")
    after = {d.text: d.id for d in load_file(path, "faq.csv", **LIMITS)}
    assert len(set(before.values())) == 3
    assert all(before[text] == row_id for text, row_id in after.items())  # no renumbering
    # the same question twice (case and spacing folded) still gets two distinct ids
    path.write_text("question,answer\nHow long?,10 days.\nhow  LONG?,ten days.\n", "utf-8")
    first, second = load_file(path, "faq.csv", **LIMITS)
    assert second.id == first.id + "-2"


def test_big5_text_is_decoded_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    text = "香港身份證補領手續。申請人須親身前往人事登記辦事處辦理，費用為三百七十元。" * 3
    path.write_bytes(text.encode("big5"))
    [doc] = load_file(path, "old.txt", **LIMITS)
    assert "身份證補領" in doc.text
    assert doc.note is not None and "big5" in doc.note.lower()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("x.xyz", b"hello", "unsupported file type"),
        ("junk.txt", bytes(range(256)) * 4, "binary"),
        ("broken.pdf", b"%PDF-1.4\n garbage without objects", "PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt DOCX"),
        ("bad.csv", b"title,body\nx,y\n", "'question' and 'answer'"),
        ("bad.jsonl", b'{"question": "q", "answer": "a"}\nnot json\n', "line 2 is not JSON"),
    ],
)
def test_bad_files_raise_clear_reasons(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_file(path, name, **LIMITS)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("a" * 2000, encoding="utf-8")
    with pytest.raises(LoadError, match="size limit"):
        load_file(path, "big.txt", max_bytes=1000, max_faq_rows=10)


def test_discover_ids_are_relative_posix_paths(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.md").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")
    assert [i for _p, i in discover([tmp_path])] == ["en/a.md"]
    assert [i for _p, i in discover([tmp_path / "en" / "a.md"])] == ["a.md"]


def test_kbignore_skips_listed_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    (tmp_path / "questions.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "doc.md").write_text("x", encoding="utf-8")
    (tmp_path / ".kbignore").write_text("# comment\nREADME.md\n*.jsonl\n", encoding="utf-8")
    assert [i for _p, i in discover([tmp_path])] == ["doc.md"]


# ---- hostile files: decompression limits enforced while reading, any failure a LoadError ----

SMALL = Limits(max_inflated_bytes=16 * MiB, max_inflation_ratio=100, ratio_floor_bytes=MiB)


@pytest.mark.parametrize(
    ("build", "name", "reason"),
    [
        (pdf_bomb, "bomb.pdf", "PDF inflates past its limit"),
        (zip_bomb, "bomb.docx", "DOCX declares"),
    ],
)
def test_decompression_bombs_are_refused_while_reading(
    tmp_path: Path, build, name: str, reason: str
) -> None:
    path = build(tmp_path / name, inflated_bytes=256 * MiB)
    assert path.stat().st_size < 2 * MiB  # small on disk, 256 MiB when inflated
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LoadError, match=reason):
        load_file(path, name, max_bytes=20 * MiB, max_faq_rows=10, limits=SMALL)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 100, f"peak RSS grew {grown_mib:.0f} MiB reading a bomb"


def test_zip_member_inflation_is_counted_not_trusted(tmp_path: Path) -> None:
    """Sizes declared under the limit do not help: each part's inflated bytes are counted."""
    path = zip_bomb(tmp_path / "bomb.docx", inflated_bytes=40 * MiB)
    limits = Limits(max_inflated_bytes=8 * MiB, max_inflation_ratio=1000, ratio_floor_bytes=MiB)
    with pytest.raises(LoadError, match="DOCX"):
        load_file(path, "bomb.docx", max_bytes=20 * MiB, max_faq_rows=10, limits=limits)
    check_zip(
        path.read_bytes(), Limits(max_inflated_bytes=64 * MiB, max_inflation_ratio=1e6), "DOCX"
    )


def test_inflation_ratio_is_enforced_past_the_floor(tmp_path: Path) -> None:
    path = pdf_bomb(tmp_path / "ratio.pdf", inflated_bytes=8 * MiB)  # ~8 KB inflating 1000x
    limits = Limits(max_inflated_bytes=64 * MiB, max_inflation_ratio=50, ratio_floor_bytes=MiB)
    with pytest.raises(LoadError, match="max_inflation_ratio=50"):
        load_file(path, "ratio.pdf", max_bytes=20 * MiB, max_faq_rows=10, limits=limits)


def test_html_with_too_many_tags_is_refused_before_parsing(tmp_path: Path) -> None:
    path = html_bomb(tmp_path / "tags.html", tags=300_000)
    with pytest.raises(LoadError, match="max_html_tags"):
        load_file(path, "tags.html", max_bytes=20 * MiB, max_faq_rows=10, limits=SMALL)


def test_every_parser_exception_becomes_the_files_load_error(tmp_path: Path) -> None:
    """Deeply nested PDF arrays make the parser recurse: a report line, not a traceback."""
    nested = b"[" * 50_000 + b"]" * 50_000
    path = tmp_path / "deep.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + nested + b" >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    with pytest.raises(LoadError):
        load_file(path, "deep.pdf", max_bytes=20 * MiB, max_faq_rows=10)


def test_ordinary_pdf_and_docx_load_under_the_limits(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "a.pdf", ["Passport fees", "HK$370"])
    docx_path = write_docx(tmp_path / "b.docx", "Heading", ["Paragraph " * 50])
    assert "370" in load_file(pdf, "a.pdf", max_bytes=MiB, max_faq_rows=1, limits=SMALL)[0].text
    assert "Paragraph" in load_file(docx_path, "b.docx", max_bytes=MiB, max_faq_rows=1)[0].text

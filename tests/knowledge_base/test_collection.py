from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge_base import CollectionError, KnowledgeBase, KnowledgeBaseSettings, QueryOptions

PROJECT = Path(__file__).resolve().parents[2]


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "passport.md").write_text(
        "# Passport fees\nA 32-page HKSAR passport costs HK$370 and a 48-page one HK$460.\n",
        encoding="utf-8",
    )
    (root / "id.md").write_text(
        "# 補領身份證\n遺失香港身份證，須親身到人事登記處申請補領，費用為港幣370元。\n",
        encoding="utf-8",
    )
    (root / "faq.csv").write_text(
        "id,question,answer\nfare,What is the $2 fare concession?,Elderly people aged 60 or "
        "above pay HK$2 per trip on most public transport.\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(KnowledgeBaseSettings(home=tmp_path / "home", max_file_bytes=50_000))


def _statuses(report) -> dict[str, str]:
    return {f.path: f.status for f in report.files}


def test_ingest_is_incremental_and_sync_removes_vanished(kb: KnowledgeBase, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    col = kb.collection("dept")
    first = col.ingest([corpus])
    assert _statuses(first) == {"faq.csv": "added", "id.md": "added", "passport.md": "added"}
    assert {d.id for d in col.documents()} == {"fare", "id.md", "passport.md"}

    again = col.ingest([corpus])
    assert set(_statuses(again).values()) == {"unchanged"}
    assert again.version == first.version  # nothing changed: no new version
    assert again.chunks_embedded == 0

    (corpus / "passport.md").write_text("# Passport fees\nNow HK$999 for all passports.\n", "utf-8")
    (corpus / "id.md").unlink()
    updated = col.ingest([corpus], sync=True)
    assert _statuses(updated) == {
        "faq.csv": "unchanged",
        "passport.md": "updated",
        "id.md": "removed",
    }
    assert {d.id for d in col.documents()} == {"fare", "passport.md"}
    [hit] = col.retriever().retrieve("passport fee", QueryOptions(k=1))
    assert "999" in hit.chunk.text


def test_bad_files_are_reported_and_nothing_indexed_is_lost(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    corpus = _corpus(tmp_path / "docs")
    col = kb.collection("dept")
    col.ingest([corpus])
    (corpus / "passport.md").write_bytes(b"\x00\x01\x02 binary now" * 10)  # was good, now junk
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.7 truncated")
    (corpus / "table.xlsx").write_bytes(b"PK")
    (corpus / "huge.txt").write_text("x" * 60_000, encoding="utf-8")
    (corpus / "new.md").write_text("# Driving licence\nRenew it every 10 years.\n", "utf-8")
    report = col.ingest([corpus])
    reasons = {f.path: f.reason for f in report.files if f.status == "failed"}
    assert set(reasons) == {"passport.md", "empty.txt", "scan.pdf", "table.xlsx", "huge.txt"}
    assert "binary" in reasons["passport.md"]
    assert "empty" in reasons["empty.txt"]
    assert "PDF" in reasons["scan.pdf"]
    assert "unsupported" in reasons["table.xlsx"]
    assert "size limit" in reasons["huge.txt"]
    assert _statuses(report)["new.md"] == "added"
    assert not report.ok
    ids = {d.id for d in col.documents()}
    assert {"passport.md", "new.md", "id.md", "fare"} <= ids  # the old passport.md survives
    assert "370" in col.retriever().retrieve("passport cost", QueryOptions(k=1))[0].chunk.text


def test_delete_and_bad_names(kb: KnowledgeBase, tmp_path: Path) -> None:
    col = kb.collection("dept")
    col.ingest([_corpus(tmp_path / "docs")])
    col.delete("fare")
    assert "fare" not in {d.id for d in col.documents()}
    with pytest.raises(CollectionError):
        col.delete("fare")
    with pytest.raises(CollectionError):
        kb.collection("../etc")
    assert kb.collections() == ["dept"]


def test_a_file_is_deleted_with_all_its_rows(kb: KnowledgeBase, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    (corpus / "more.jsonl").write_text(
        '{"question": "Where?", "answer": "Here."}\n{"question": "When?", "answer": "Now."}\n',
        encoding="utf-8",
    )
    col = kb.collection("dept")
    col.ingest([corpus])
    assert {f.path: f.documents for f in col.files()}["more.jsonl"] == 2
    removed = col.delete("more.jsonl")
    assert len(removed) == 2 and all(r.startswith("more.jsonl#q-") for r in removed)
    assert "more.jsonl" not in {f.path for f in col.files()}
    assert col.delete("faq.csv") == ["fare"]  # a table whose rows have their own ids


def test_ingest_outcome_and_a_broken_sync_removes_nothing(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    col = kb.collection("dept")
    good = col.ingest([_corpus(tmp_path / "docs")])
    assert good.outcome == "done"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scan.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = col.ingest([broken], sync=True)
    assert report.outcome == "failed" and report.failures()[0].startswith("scan.pdf: ")
    assert {d.id for d in col.documents()} == {"fare", "id.md", "passport.md"}  # all kept
    (broken / "ok.md").write_text("# Clinics\nOpen on Mondays.\n", "utf-8")
    report = col.ingest([broken], sync=True)
    assert report.outcome == "partial"
    assert {d.id for d in col.documents()} == {"ok.md"}  # sync: the rest removed


def test_language_versions_that_disagree_on_numbers_are_reported(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    corpus = tmp_path / "docs"
    (corpus / "en").mkdir(parents=True)
    (corpus / "zh-hant").mkdir()
    (corpus / "en" / "fees.md").write_text(
        "# Passport fees\nA 32-page passport costs HK$370 and a 48-page one HK$460.\n", "utf-8"
    )
    (corpus / "zh-hant" / "fees.md").write_text(
        "# 護照費用\n32頁護照收費港幣370元，48頁護照收費港幣420元。\n", "utf-8"
    )
    (corpus / "en" / "hours.md").write_text("# Hours\nOpen 9 to 17, 5 days.\n", "utf-8")
    (corpus / "zh-hant" / "hours.md").write_text("# 辦公時間\n辦公時間為9時至17時。\n", "utf-8")
    report = kb.collection("dept").ingest([corpus])
    [found] = report.disagreements
    assert found.documents == ("en/fees.md", "zh-hant/fees.md")
    assert (found.only_in_first, found.only_in_second) == (("460",), ("420",))
    assert kb.collection("dept").disagreements() == [found]


def test_redirect_settings_are_stored_per_collection(kb: KnowledgeBase) -> None:
    col = kb.collection("dept")
    assert col.redirect.text("en", "Call {hotline}.", "1823") == "Call 1823."
    col.update_redirect(hotline="2835 1473", yue="請致電運輸署熱線{hotline}。")
    fresh = KnowledgeBase(kb.settings).collection("dept").redirect
    assert fresh.text("yue", "請致電{hotline}。", "1823") == "請致電運輸署熱線2835 1473。"
    assert fresh.text("cmn", "请致电{hotline}。", "1823") == "请致电2835 1473。"
    assert kb.collection("other").redirect.hotline is None
    with pytest.raises(ValueError):
        col.update_redirect(hotline="x" * 100)


def test_settings_are_stored_and_index_time_changes_rebuild(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    col = kb.collection("dept")
    col.ingest([_corpus(tmp_path / "docs")])
    before = col.live_version()
    col.update_settings(bm25_weight=0.8)
    assert col.live_version() == before  # query-time only
    col.update_settings(index_type="hnsw", chinese_tokenizer="jieba")
    assert col.live_version() != before
    fresh = KnowledgeBase(kb.settings).collection("dept")  # another process's view
    assert fresh.settings.index_type == "hnsw" and fresh.settings.bm25_weight == 0.8
    assert fresh.index().build_settings["chinese_tokenizer"] == "jieba"
    assert fresh.retriever().retrieve("补领身份证")[0].chunk.doc_id == "id.md"
    versions = [p for p in (col.path / "versions").iterdir()]
    assert len(versions) <= kb.settings.keep_versions


def test_readers_reload_when_another_writer_publishes(kb: KnowledgeBase, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    reader = kb.collection("dept")
    reader.ingest([corpus])
    retriever = reader.retriever()
    assert (
        retriever.retrieve("driving licence renewal", QueryOptions(k=3))[0].chunk.doc_id != "new.md"
    )
    (corpus / "new.md").write_text("# Driving licence renewal\nRenew every 10 years.\n", "utf-8")
    KnowledgeBase(kb.settings).collection("dept").ingest([corpus])  # a second writer
    assert (
        retriever.retrieve("driving licence renewal", QueryOptions(k=3))[0].chunk.doc_id == "new.md"
    )


def test_sigkill_mid_ingest_leaves_previous_index_usable(tmp_path: Path) -> None:
    """Kill a real `samyu kb ingest` process while it works; the old index still answers."""
    home = tmp_path / "home"
    corpus = _corpus(tmp_path / "docs")
    env = {**os.environ, "SAMYU_HOME": str(home)}
    samyu = [sys.executable, "-m", "serving.cli"]
    subprocess.run(
        [*samyu, "kb", "ingest", str(corpus), "-c", "dept"],
        env=env,
        check=True,
        cwd=PROJECT,
        capture_output=True,
    )
    live = json.loads((home / "collections/dept/manifest.json").read_text())["version"]

    big = tmp_path / "big"
    big.mkdir()
    for i in range(400):
        (big / f"notice-{i:03d}.md").write_text(
            f"# Notice {i}\n" + f"Public notice number {i} about services and opening hours. " * 30,
            encoding="utf-8",
        )
    process = subprocess.Popen(
        [*samyu, "kb", "ingest", str(corpus), str(big), "-c", "dept"],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # wait until it is really ingesting (the progress bar names notice files), then kill it
    seen = b""
    deadline = time.monotonic() + 120
    while b"notice-0" not in seen and time.monotonic() < deadline and process.poll() is None:
        seen += process.stderr.read1(4096)  # type: ignore[union-attr]
    assert process.poll() is None, "ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    manifest = json.loads((home / "collections/dept/manifest.json").read_text())
    assert manifest["version"] == live
    kb = KnowledgeBase(KnowledgeBaseSettings(home=home))
    col = kb.collection("dept")
    assert {d.id for d in col.documents()} == {"fare", "id.md", "passport.md"}
    assert (
        col.retriever().retrieve("passport fee", QueryOptions(k=1))[0].chunk.doc_id == "passport.md"
    )

    rerun = subprocess.run(
        [*samyu, "kb", "ingest", str(corpus), str(big), "-c", "dept", "--json"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(rerun.stdout)
    assert sum(f["status"] == "added" for f in report["files"]) == 400
    assert (
        len(KnowledgeBase(KnowledgeBaseSettings(home=home)).collection("dept").documents()) == 403
    )
    assert not list((home / "collections/dept/versions").glob(".tmp-*"))


def test_queries_keep_working_while_another_thread_ingests(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    import threading

    corpus = _corpus(tmp_path / "docs")
    collection = kb.collection("dept")
    collection.ingest([corpus])
    retriever = collection.retriever()
    for i in range(30):
        (corpus / f"extra-{i}.md").write_text(f"# Extra {i}\nOpening hours notice {i}.\n", "utf-8")
    errors: list[BaseException] = []
    answers: list[str] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            try:
                answers.append(
                    retriever.retrieve("passport fee", QueryOptions(k=1))[0].chunk.doc_id
                )
            except BaseException as exc:  # any failure while the index is swapped is a bug
                errors.append(exc)

    readers = [threading.Thread(target=ask) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        collection.ingest([corpus])
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert not errors
    assert answers and set(answers) == {"passport.md"}
    assert len(collection.documents()) == 33


def test_weights_follow_the_embedder_unless_chosen(kb: KnowledgeBase) -> None:
    from knowledge_base.config import RetrievalSettings, default_weights

    gemma = RetrievalSettings(embedder="embeddinggemma")
    assert (gemma.dense_weight, gemma.bm25_weight) == default_weights("embeddinggemma")
    use = RetrievalSettings(embedder="use-multilingual")
    assert (use.dense_weight, use.bm25_weight) == (0.3, 0.7)
    col = kb.collection("w")
    col.update_settings(embedder="use-multilingual")
    moved = col.update_settings(embedder="openai")  # nothing ingested: no request sent
    assert (moved.dense_weight, moved.bm25_weight) == default_weights("openai")
    col.update_settings(dense_weight=0.45)
    kept = col.update_settings(embedder="use-multilingual")
    assert kept.dense_weight == 0.45  # a weight someone chose is kept


def test_one_table_holds_every_embedders_retrieval_defaults() -> None:
    from knowledge_base.config import (
        EMBEDDER_DEFAULTS,
        FALLBACK_DEFAULTS,
        RetrievalSettings,
        embedder_defaults,
    )

    for embedder in (*EMBEDDER_DEFAULTS, "use-multilingual"):
        row = embedder_defaults(embedder)
        assert set(row) == set(FALLBACK_DEFAULTS)  # weights and fusion knobs in one row
        settings = RetrievalSettings(embedder=embedder)
        assert {name: getattr(settings, name) for name in row} == row


def test_fusion_knobs_follow_the_embedder_unless_chosen(kb: KnowledgeBase) -> None:
    from knowledge_base.config import RetrievalSettings, default_fusion

    gemma = RetrievalSettings(embedder="embeddinggemma")
    assert gemma.bm25_coverage and gemma.language_gap_penalty == 2.0
    assert gemma.bm25_normalisation == "min-max"
    use = RetrievalSettings(embedder="use-multilingual")
    assert not use.bm25_coverage and use.language_gap_penalty == 0.0
    assert use.bm25_normalisation == "max"
    # a collection stored before these knobs existed reads its embedder's defaults
    old = RetrievalSettings.model_validate({"embedder": "embeddinggemma", "dense_weight": 0.6})
    assert old.bm25_coverage is True
    col = kb.collection("f")
    col.update_settings(embedder="use-multilingual")
    moved = col.update_settings(embedder="embeddinggemma")  # nothing ingested: no model loads
    assert moved.bm25_coverage == default_fusion("embeddinggemma")["bm25_coverage"]
    col.update_settings(language_gap_penalty=0.5)
    kept = col.update_settings(embedder="use-multilingual")
    assert kept.language_gap_penalty == 0.5 and kept.bm25_coverage is False


def test_an_untuned_collection_keeps_the_embedder_it_was_built_with(tmp_path: Path) -> None:
    """A collection built before the default embedder changed, with no settings.json, keeps
    its build's index-time settings (it used to take the new default: every query failed
    "built with another embedder" and the next ingest re-embedded everything)."""
    from knowledge_base.config import RetrievalSettings, default_weights

    home = tmp_path / "home"
    version = home / "collections" / "old" / "versions" / "v1"
    version.mkdir(parents=True)
    (home / "collections" / "old" / "manifest.json").write_text('{"version": "v1"}')
    (version / "meta.json").write_text(
        json.dumps(
            {
                "embedder": "use-multilingual-v3",
                "dimension": 512,
                "build_settings": {"embedder": "use-multilingual", "chunk_size": 640},
            }
        )
    )
    kb = KnowledgeBase(
        KnowledgeBaseSettings(home=home, retrieval=RetrievalSettings(embedder="embeddinggemma"))
    )
    settings = kb.collection("old").settings
    assert settings.embedder == "use-multilingual" and settings.chunk_size == 640
    assert (settings.dense_weight, settings.bm25_weight) == default_weights("use-multilingual")
    # a collection with nothing built yet takes the knowledge base's defaults
    assert kb.collection("new").settings.embedder == "embeddinggemma"
    # stored settings win over what the build recorded
    stored = RetrievalSettings(embedder="embeddinggemma", k=3)
    (home / "collections" / "old" / "settings.json").write_text(stored.model_dump_json())
    assert kb.collection("old").settings == stored

"""Sample the public retrieval sets in this folder from their upstream files (fixed seed).

    python bench/data/retrieval/build_sets.py RAW_DIR

RAW_DIR holds the upstream files, named as in README.md: cmrc2018_dev.json (squad-style),
xquad.en.json, xquad.zh.json, scifact_corpus_candidate.jsonl, scifact_queries.jsonl,
scifact_qrels_test.tsv, scifact_qrels_train.tsv. Each set is written as corpus.jsonl
({"id", "title", "text"}) and questions.jsonl ({"query", "relevant", "language"}).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import opencc

SEED = 12
HERE = Path(__file__).resolve().parent
TO_HK = opencc.OpenCC("s2hk")


def _write(name: str, corpus: list[dict], questions: list[dict]) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for doc in corpus:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    with (folder / "questions.jsonl").open("w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{name}: {len(corpus)} documents, {len(questions)} questions")


def _squad(path: Path) -> list[tuple[str, str, str, list[str]]]:
    """(article title, paragraph id, context, questions) for every paragraph."""
    out = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for number, paragraph in enumerate(article["paragraphs"]):
            questions = [qa["question"].strip() for qa in paragraph["qas"]]
            out.append(
                (article["title"], f"{article['title']}-{number}", paragraph["context"], questions)
            )
    return out


def cmrc2018_hant(raw: Path) -> None:
    """CMRC 2018 dev paragraphs in HK Traditional; half the questions left in Simplified."""
    rng = random.Random(SEED)
    paragraphs = _squad(raw / "cmrc2018_dev.json")
    rng.shuffle(paragraphs)
    paragraphs = paragraphs[:300]
    corpus = [
        {"id": f"cmrc-{i:03d}", "title": TO_HK.convert(title), "text": TO_HK.convert(context)}
        for i, (title, _pid, context, _qs) in enumerate(paragraphs)
    ]
    questions = []
    for i, (_t, _pid, _c, qs) in enumerate(paragraphs[:200]):
        query = rng.choice(qs)
        questions.append(
            {
                "query": query if i % 2 else TO_HK.convert(query),
                "relevant": [f"cmrc-{i:03d}"],
                "language": "cmn",
            }
        )
    _write("cmrc2018-hant", corpus, questions)


def _xquad(raw: Path) -> tuple[list, list]:
    en = _squad(raw / "xquad.en.json")
    zh = _squad(raw / "xquad.zh.json")
    assert [p[1] for p in en] == [p[1] for p in zh]
    return en, zh


def xquad_mono(raw: Path) -> None:
    en, zh = _xquad(raw)
    for name, paragraphs, language in (("xquad-en", en, "en"), ("xquad-zh", zh, "cmn")):
        rng = random.Random(SEED)
        corpus = [
            {"id": f"xq-{i:03d}", "title": title.replace("_", " "), "text": context}
            for i, (title, _pid, context, _qs) in enumerate(paragraphs)
        ]
        picks = rng.sample(range(len(paragraphs)), 200)
        questions = []
        for n, i in enumerate(picks):
            query = rng.choice(paragraphs[i][3])
            if language == "cmn" and n % 2:
                query = TO_HK.convert(query)  # HK callers type Traditional
            questions.append({"query": query, "relevant": [f"xq-{i:03d}"], "language": language})
        _write(name, corpus, questions)


def xquad_cross(raw: Path) -> None:
    """Half the articles in Chinese, half in English; each question in the other language."""
    en, zh = _xquad(raw)
    rng = random.Random(SEED)
    titles = sorted({p[0] for p in en})
    rng.shuffle(titles)
    chinese_articles = set(titles[: len(titles) // 2])
    corpus, by_language = [], {"en": [], "cmn": []}
    for i, (en_p, zh_p) in enumerate(zip(en, zh, strict=True)):
        doc_id = f"xq-{i:03d}"
        if en_p[0] in chinese_articles:
            corpus.append({"id": doc_id, "title": zh_p[0].replace("_", " "), "text": zh_p[2]})
            by_language["en"].append((doc_id, en_p[3]))  # English questions, Chinese paragraph
        else:
            corpus.append({"id": doc_id, "title": en_p[0].replace("_", " "), "text": en_p[2]})
            by_language["cmn"].append((doc_id, zh_p[3]))
    questions = []
    for language, items in by_language.items():
        for doc_id, qs in rng.sample(items, 100):
            questions.append({"query": rng.choice(qs), "relevant": [doc_id], "language": language})
    _write("xquad-cross", corpus, questions)


def scifact(raw: Path) -> None:
    """BEIR SciFact claims over a sample of its abstracts (relevant ones plus distractors)."""
    rng = random.Random(SEED)
    docs = {}
    for line in (raw / "scifact_corpus_candidate.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs[str(row["doc_id"])] = row["text"]
    claims = {}
    for line in (raw / "scifact_queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        claims[row["_id"]] = row["text"]
    relevant: dict[str, list[str]] = {}
    for name in ("scifact_qrels_test.tsv", "scifact_qrels_train.tsv"):
        for line in (raw / name).read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split()
            query_id, doc_id = parts[0], parts[-2]
            if doc_id in docs and query_id in claims:
                relevant.setdefault(query_id, []).append(doc_id)
    chosen = rng.sample(sorted(relevant), 150)
    needed = sorted({d for q in chosen for d in relevant[q]})
    others = sorted(set(docs) - set(needed))
    sample = needed + rng.sample(others, 450 - len(needed))
    corpus = [{"id": f"sf-{d}", "title": "", "text": docs[d]} for d in sample]
    questions = [
        {"query": claims[q], "relevant": [f"sf-{d}" for d in relevant[q]], "language": "en"}
        for q in chosen
    ]
    _write("scifact", corpus, questions)


if __name__ == "__main__":
    raw_dir = Path(sys.argv[1])
    cmrc2018_hant(raw_dir)
    xquad_mono(raw_dir)
    xquad_cross(raw_dir)
    scifact(raw_dir)

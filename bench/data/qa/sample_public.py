"""How public.jsonl and public_docs/ were sampled (kept for the record; needs local copies of
the two public files, not shipped here).

    python bench/data/qa/sample_public.py CMRC_DEV_JSON SQUAD_V2_DEV_JSON

- CMRC 2018 dev (ymcui/cmrc2018, data/cmrc2018_dev.json, CC BY-SA 4.0): 12 contexts drawn with
  random.Random(14), one question each (the first); 6 asked in Simplified Chinese (cmn), 6
  converted to Traditional with OpenCC s2hk (typed Traditional: yue). 8 more contexts are
  ingested as distractors.
- SQuAD 2.0 dev, article "Normans" (as in rabinadk1/ReadIt dev-v2.0.json, CC BY-SA 4.0):
  10 answerable and 5 unanswerable (is_impossible) questions drawn with random.Random(14);
  their paragraphs plus 8 distractor paragraphs are ingested.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import opencc

HERE = Path(__file__).resolve().parent
SEED = 14


def write_doc(folder: Path, name: str, title: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")


def main(cmrc_path: str, squad_path: str) -> None:
    rng = random.Random(SEED)
    docs = HERE / "public_docs"
    rows: list[dict] = []
    to_hk = opencc.OpenCC("s2hk.json")
    contexts = json.loads(Path(cmrc_path).read_text(encoding="utf-8"))
    picked = rng.sample(contexts, 20)
    for i, context in enumerate(picked):
        name = f"cmrc2018-{context['context_id']}"
        write_doc(docs / "zh", name, context["title"], context["context_text"])
        if i >= 12:
            continue  # a distractor
        qa = context["qas"][0]
        language = "cmn" if i < 6 else "yue"
        question = qa["query_text"] if language == "cmn" else to_hk.convert(qa["query_text"])
        rows.append({
            "id": qa["query_id"], "set": "cmrc2018", "language": language,
            "question": question, "answers": sorted(set(qa["answers"])),
            "answerable": True, "documents": [f"zh/{name}.md"],
        })  # fmt: skip
    article = json.loads(Path(squad_path).read_text(encoding="utf-8"))["data"][0]
    paragraphs = article["paragraphs"]
    qas = [(i, qa) for i, p in enumerate(paragraphs) for qa in p["qas"]]
    answerable = [x for x in qas if not x[1]["is_impossible"]]
    impossible = [x for x in qas if x[1]["is_impossible"]]
    chosen = rng.sample(answerable, 10) + rng.sample(impossible, 5)
    used = {i for i, _ in chosen}
    others = [i for i in range(len(paragraphs)) if i not in used]
    for i in sorted(used | set(rng.sample(others, 8))):
        name, context = f"squad2-normans-{i:02d}", paragraphs[i]["context"]
        write_doc(docs / "en", name, f"Normans ({i})", context)
    for i, qa in chosen:
        rows.append({
            "id": qa["id"], "set": "squad2", "language": "en", "question": qa["question"],
            "answers": sorted({a["text"] for a in qa["answers"]}),
            "answerable": not qa["is_impossible"],
            "documents": [f"en/squad2-normans-{i:02d}.md"] if not qa["is_impossible"] else [],
        })  # fmt: skip
    with (HERE / "public.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

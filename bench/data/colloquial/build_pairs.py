"""Draw the colloquial Cantonese / written Chinese pairs of bench/kb_function_words.py from the
UD Cantonese-HK and UD Chinese-HK treebanks (CC BY-SA 4.0; README.md here).

    .venv/bin/python bench/data/colloquial/build_pairs.py YUE_CONLLU ZH_CONLLU

The 1,004 sentences are parallel (same sent_id). Kept: the 826 whose Cantonese side has at
least five Chinese characters (a sentence, not an interjection), shuffled with
`random.Random(15)`; the first 300 are the test pairs (`pairs.jsonl`, the same draw as branch
wip/lex's build.py), the other 526 the development pairs (`dev.jsonl`), on which any choice is
made.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
TEST_PAIRS = 300


def read_conllu(path: Path) -> dict[str, str]:
    out, sid = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id ="):
            sid = line.split("=", 1)[1].strip()
        elif line.startswith("# text =") and sid is not None:
            out[sid] = line.split("=", 1)[1].strip()
    return out


def draw(yue: Path, zh: Path) -> list[dict[str, str]]:
    cantonese, written = read_conllu(yue), read_conllu(zh)
    ids = [
        i
        for i in cantonese
        if i in written and sum(len(r) for r in _CJK.findall(cantonese[i])) >= 5
    ]
    random.Random(15).shuffle(ids)
    part = {i: ("legco" if int(i) > 650 else "film") for i in ids}
    return [{"id": i, "part": part[i], "yue": cantonese[i], "zh": written[i]} for i in ids]


def main(yue: str, zh: str) -> None:
    pairs = draw(Path(yue), Path(zh))
    for name, chosen in (("pairs.jsonl", pairs[:TEST_PAIRS]), ("dev.jsonl", pairs[TEST_PAIRS:])):
        text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in chosen)
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"{name}: {len(chosen)} pairs")


if __name__ == "__main__":
    main(*sys.argv[1:3])

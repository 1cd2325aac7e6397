"""BM25 tokens: English words stemmed with PyStemmer (Snowball), Chinese cut by jieba or into
character bigrams, after width folding and (optionally) OpenCC folding to Simplified.

Chinese has no spaces, so a whitespace tokenizer turns a whole Chinese sentence into one
token and BM25 never matches it; this is the part most RAG stacks get wrong.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping

import jieba
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from knowledge_base.config import ChineseTokenizer
from knowledge_base.normalise import for_matching

_RUNS = re.compile(
    r"(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|(?P<word>[a-z0-9]+(?:['.][a-z0-9]+)*)"
)
_STOP_EN = frozenset(STOPWORDS_EN)
_jieba_lock = threading.Lock()
_jieba: jieba.Tokenizer | None = None
_stemmers = threading.local()  # PyStemmer objects are not thread-safe


def _jieba_tokenizer() -> jieba.Tokenizer:
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in hk_dictionary():
                tokenizer.add_word(word, freq=2000)
            _jieba = tokenizer
    return _jieba


def hk_dictionary() -> list[str]:
    """HK department, scheme and place names (knowledge_base.query.HK_NAMES), as BM25 sees them
    (folded to Simplified), so jieba keeps 入境事务处 or 长者卡 as one word."""
    from knowledge_base.query import HK_NAMES

    words = {w for key, values in HK_NAMES.items() for w in (key, *values)}
    return sorted({for_matching(w) for w in words if re.fullmatch(r"[\u3400-\u9fff]{2,}", w)})


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _whole_run(run: str) -> list[str]:
    return [run]


def _jieba_words(run: str) -> list[str]:
    # search mode adds the short words inside long ones (身份证 -> 身份, 身份证): better recall
    return [w for w in _jieba_tokenizer().lcut_for_search(run) if w.strip()]


def _jieba_and_bigrams(run: str) -> list[str]:
    # words where jieba knows them, bigrams where it cuts a name or term it has never seen
    return _jieba_words(run) + (_bigrams(run) if len(run) > 2 else [])


def _alias_replacer(
    aliases: Mapping[str, str], fold_scripts: bool, fold_cantonese: bool
) -> Callable[[str], str]:
    folded = {
        for_matching(k, fold_scripts, fold_cantonese): for_matching(v, fold_scripts, fold_cantonese)
        for k, v in aliases.items()
        if k.strip()
    }
    if not folded:
        return lambda text: text
    pattern = re.compile("|".join(sorted(map(re.escape, folded), key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: folded[m.group(0)], text)


def make_tokenizer(
    chinese: ChineseTokenizer,
    fold_scripts: bool = True,
    fold_cantonese: bool = True,
    aliases: Mapping[str, str] | None = None,
) -> Callable[[str], list[str]]:
    """`aliases` maps words to the word BM25 should read instead (a collection's synonyms, e.g.
    a product name written two ways); both sides are folded like any text first."""
    cut = {
        "jieba": _jieba_words,
        "bigram": _bigrams,
        "both": _jieba_and_bigrams,
        "none": _whole_run,
    }[chinese]
    replace = _alias_replacer(aliases or {}, fold_scripts, fold_cantonese)

    def tokenize(text: str) -> list[str]:
        tokens: list[str] = []
        for match in _RUNS.finditer(replace(for_matching(text, fold_scripts, fold_cantonese))):
            if match.group("cjk"):
                tokens.extend(cut(match.group("cjk")))
            else:
                word = match.group("word")
                if word not in _STOP_EN:
                    tokens.append(_stem(word))
        return tokens

    return tokenize

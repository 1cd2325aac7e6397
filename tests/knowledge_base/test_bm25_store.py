from __future__ import annotations

import pytest

from knowledge_base.bm25_store import BM25Index
from knowledge_base.tokenise import make_tokenizer


def test_best_possible_bounds_every_score_and_tells_a_full_match_from_a_partial_one() -> None:
    texts = [
        "passport fee for adults",
        "identity card replacement fee",
        "bus routes in Kowloon",
        "passport photo rules",
    ]
    index = BM25Index.build(texts, make_tokenizer("jieba"))
    query = "passport fee"
    bound = index.best_possible(query)
    scores = index.scores(query)
    assert bound > 0 and scores.max() <= bound + 1e-6
    # the text holding both words scores near the bound; one word alone well below it
    assert scores[0] / bound > 0.9
    assert scores[1] / bound < 0.6
    assert index.best_possible("weather tomorrow") == 0.0  # no query word is indexed


@pytest.mark.parametrize("query", ["護照費用", "护照费用"])
def test_best_possible_in_both_chinese_scripts(query: str) -> None:
    index = BM25Index.build(["護照費用及申請", "巴士路線"], make_tokenizer("jieba"))
    assert index.scores(query)[0] == pytest.approx(index.best_possible(query), rel=0.05)

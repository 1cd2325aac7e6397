from __future__ import annotations

from knowledge_base.tokenise import make_tokenizer


def test_jieba_cuts_chinese_words_in_either_script() -> None:
    tokenize = make_tokenizer("jieba")
    simplified = tokenize("补领身份证")
    assert "身份证" in simplified
    assert tokenize("補領身份證") == simplified  # OpenCC folding: one script for BM25


def test_bigrams() -> None:
    assert make_tokenizer("bigram")("身份證") == ["身份", "份证"]


def test_english_stemmed_and_stopwords_dropped() -> None:
    tokens = make_tokenizer("jieba")("The applications for Passports")
    assert tokens == ["applic", "passport"]


def test_without_folding_scripts_differ() -> None:
    tokenize = make_tokenizer("jieba", fold_scripts=False)
    assert tokenize("補領身份證") != tokenize("补领身份证")


def test_mixed_and_full_width() -> None:
    assert make_tokenizer("bigram")("ＨＫ＄２ 乘車") == ["hk", "2", "乘车"]


def test_none_keeps_a_chinese_run_whole_as_whitespace_tokenizers_do() -> None:
    assert make_tokenizer("none")("補領身份證 passport") == ["补领身份证", "passport"]


def test_aliases_and_hk_card_character() -> None:
    tokenize = make_tokenizer("bigram", aliases={"JoyYou": "樂悠咭"})
    assert tokenize("乐悠卡") == tokenize("樂悠咭") == tokenize("joyyou")
    assert make_tokenizer("bigram")("樂悠咭") == make_tokenizer("bigram")("乐悠卡")


def test_jieba_and_bigrams_together_keep_words_and_unseen_names() -> None:
    from knowledge_base.tokenise import make_tokenizer

    tokens = make_tokenizer("both")("長者咭申請")
    assert "长者卡" in tokens or "长者" in tokens  # jieba words, HK dictionary included
    assert "申请" in tokens and "者卡" in tokens  # and every bigram


def test_hk_department_names_stay_one_jieba_word() -> None:
    from knowledge_base.tokenise import make_tokenizer

    assert "入境事务处" in make_tokenizer("jieba")("去入境事務處續證")

from assistant.speakable import (
    cited_numbers,
    clean_for_display,
    clean_for_speech,
    has_speakable_content,
)


def test_markdown_urls_tables_and_emoji_are_removed():
    text = "**Fee**: HK$370 [1]. See https://www.gov.hk/fees or [the page](http://x.y). 😀"
    assert clean_for_display(text) == "Fee: HK$370 [1]. See or the page."
    assert clean_for_speech(text) == "Fee: HK$370. See or the page."
    assert clean_for_display("| 32-page | HK$370 |") == "32-page HK$370"
    assert clean_for_display("## Heading\n- item one") == "Heading\nitem one"


def test_citations_are_collected_in_order():
    assert cited_numbers("a [2] b [1, 3] c 【2】") == [2, 1, 3]
    assert clean_for_speech("費用為370元[1]。") == "費用為370元。"


def test_only_emoji_or_punctuation_has_nothing_to_say():
    assert not has_speakable_content("😀🙏 ！？")
    assert has_speakable_content("護照")
    assert has_speakable_content("HK$370")

"""Which of the vote's two decodes the label is read from (no model: pure functions)."""

from __future__ import annotations

import pytest

from voices.asr.faster_whisper import ChineseVote, Decode, _label_text


def _vote(yue: str, cmn: str) -> ChineseVote:
    def decode(text: str) -> Decode:
        return Decode(text, -1.0, 0.1, 1.0)

    return ChineseVote((0.0,) * 4, 3.0, True, decode(yue), decode(cmn), {"zh": 0.1})


@pytest.mark.parametrize(
    ("yue", "cmn", "label_text"),
    [
        # a Cantonese phrase (萬事如意) the Mandarin pass spelled out: read the Chinese one
        ("慢啲云", "mind see you e", "慢啲云"),
        # both Chinese: the Mandarin decode, as before
        ("大嘅大嘅", "大吉大利。", "大吉大利。"),
        # both Latin: stays Latin (the utterance is decoded again as English)
        ("Joykin", "Joykin", "Joykin"),
        # English speech the Cantonese prompt wrote a word of Chinese into stays English
        ("係咗 telephone operator", "Is that the telephone", "Is that the telephone"),
        # the Mandarin decode kept nothing at all: the Cantonese one's Chinese is read
        ("唔該", "", "唔該"),
    ],
)
def test_the_label_is_read_from_the_decode_that_wrote_chinese(yue, cmn, label_text) -> None:
    assert _label_text(_vote(yue, cmn)) == label_text

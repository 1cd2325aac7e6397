"""Short acknowledgements (嗯, 係, ok, 好) said while an answer plays are not a new turn.

Peers' users ask for this most after echo: "yeah" or 嗯 while the assistant talks must not
stop it. The session waits for the first words of speech heard over an answer: when they are
only acknowledgements the answer goes on, anything else interrupts it (barge-in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_ACKNOWLEDGEMENTS = [
    "嗯",
    "係",
    "系",
    "是",
    "好",
    "好的",
    "好嘅",
    "哦",
    "噢",
    "喔",
    "啊",
    "呀",
    "對",
    "对",
    "明白",
    "知道",
    "冇問題",
    "ok",
    "okay",
    "yeah",
    "yes",
    "yep",
    "yup",
    "right",
    "sure",
    "mm",
    "mhm",
    "hmm",
    "uh-huh",
    "uhhuh",
    "ah",
    "oh",
    "got",
    "it",
    "i",
    "see",
    "alright",
]
_PARTICLES = "呀啊啦喇嘅的吖"  # sentence-final particles: 係呀, 好啊
_WORD = re.compile(r"[a-z][a-z'\-]*|[\u3400-\u9fff]+")


def is_acknowledgement(
    text: str, acknowledgements: Iterable[str] = DEFAULT_ACKNOWLEDGEMENTS
) -> bool:
    """Whether `text` (a partial or final transcript) says nothing but acknowledgements.

    Empty text is not one (nothing heard yet decides nothing). Repeats count ("嗯嗯", "ok ok"),
    and so does a run of acknowledgement characters ("係呀" is 係 + a particle).
    """
    words = set(acknowledgements)
    chars = {w for w in words if len(w) == 1}
    tokens = _WORD.findall(text.lower())
    if not tokens or len(tokens) > 4:
        return False
    phrase = " ".join(tokens)
    if phrase in words:
        return True
    for token in tokens:
        if token in words:
            continue
        if all(c in chars or c in "呀啊啦喇嘅的吖" for c in token) and any(
            c in chars for c in token
        ):
            continue
        return False
    return True

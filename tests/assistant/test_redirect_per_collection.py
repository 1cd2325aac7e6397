"""The polite redirect names the collection's own hotline and wording (set by the department
through the admin API), and the server-wide default for collections that set none."""

from __future__ import annotations

import pytest

from assistant.answerer import Answerer
from assistant.config import AssistantSettings
from knowledge_base import KnowledgeBase, KnowledgeBaseSettings
from tests.assistant.turns import collect


class _NeverAsked:
    """A generator the refusal path must not call (the evidence gate decides first)."""

    def stream(self, *args: object, **kwargs: object):
        raise AssertionError("the model was asked")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    kb = KnowledgeBase(KnowledgeBaseSettings(home=tmp_path_factory.mktemp("redirect-kb")))
    docs = tmp_path_factory.mktemp("redirect-docs")
    (docs / "lamps.md").write_text("# Street lamps\nFaulty street lamps are repaired in 3 days.\n")
    for name in ("highways", "plain"):
        assert kb.collection(name).ingest([docs]).ok
    kb.collection("highways").update_redirect(
        hotline="2926 4111", yue="請致電路政署熱線{hotline}查詢。"
    )
    return kb


async def test_the_redirect_uses_the_collections_hotline(kb: KnowledgeBase) -> None:
    answerer = Answerer(
        AssistantSettings(),
        _NeverAsked(),  # type: ignore[arg-type]
        lambda name: kb.collection(name).retriever(),
        kb.collections,
        redirect_for=lambda name: kb.collection(name).redirect,
    )
    asked = "How do I apply for a fishing licence on the moon?"
    english = await collect(answerer.answer(asked, language="en", collection="highways"))
    assert english.end.refused and "2926 4111" in english.end.answer
    assert "1823" not in english.end.answer  # the default wording, the department's number
    cantonese = await collect(
        answerer.answer("月球釣魚牌點申請？", language="yue", collection="highways")
    )
    assert cantonese.end.refused and cantonese.end.answer == "請致電路政署熱線2926 4111查詢。"
    plain = await collect(answerer.answer(asked, language="en", collection="plain"))
    assert plain.end.refused and "1823" in plain.end.answer

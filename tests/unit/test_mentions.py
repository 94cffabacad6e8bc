"""Quoted phrases and "where does the document mention X" questions (rag.text.quoted_terms, rag.mentions)."""

from __future__ import annotations

import pytest

from rag.document import Unit
from rag.mentions import holds, mention_phrases
from rag.text import quoted_terms

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("question", "terms"), [
    ("文件里有没有提到“氢”？", ["氢"]),
    ("里面怎么还有「海洋牧场」？它跟“集成电路”并列吗？", ["海洋牧场", "集成电路"]),
    ("Where does 'Lingnan' come up, and is 'Lingnan' in Part I?", ["Lingnan"]),
    ('What does "new-type" mean here?', ["new-type"]),
    ("What's the plan's goal? Don't guess.", []),  # apostrophes are not quotes
])
def test_quoted_terms(question: str, terms: list[str]) -> None:
    assert quoted_terms(question) == terms


@pytest.mark.parametrize(("question", "find", "leave_out"), [
    ("文件里有没有提到“氢”？", ["氢"], []),
    ("这份意见里，南沙一共在哪几条出现？", ["南沙"], []),
    ("除了“核心引擎”那条，意见还在哪几条点到了深圳？", ["深圳"], ["核心引擎"]),
    ("Apart from the 'core engine' article, where else does the plan name Guangzhou?", ["广州"], ["core engine"]),
    ("Apart from the Hengqin part, does Macao get named anywhere else in the plan?", ["澳门"], ["横琴"]),
    ("Where does 'Lingnan' actually come up in this plan?", ["Lingnan"], []),
    # a place the question is about, not asked where: an ordinary question
    ("深圳在文件里是什么定位？", [], []),
    ("What is Shenzhen's role?", [], []),
    # a count of something real is not a count of mentions
    ("If the government takes my factory in Guangdong, how many times the market value must it pay?", [], []),
    ("文件里说的“升级版园区”是个什么要求？", [], []),  # quoted, but asks what, not where
])
def test_mention_phrases(question: str, find: list[str], leave_out: list[str]) -> None:
    assert mention_phrases(question) == (find, leave_out)


def test_a_phrase_is_matched_in_the_text_of_its_own_language() -> None:
    unit = Unit(doc_id="d", unit_id="A24", kind="article", number=24, marker="（二十四）", section_number=9,
                section_title="", title="", text="加快构建新型能源体系。",
                text_en="Build a new energy system and a new-type power system.")
    assert holds(unit, "新型") and holds(unit, "New type") and holds(unit, "new-type power")
    assert not holds(unit, "氢") and not holds(unit, "type power station")

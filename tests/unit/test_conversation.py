"""The offline condenser: a follow-up continues the topic only when it says so (rag/conversation.py docstring)."""

from __future__ import annotations

import pytest
from conversation_cases import CASES, chat

from rag.colloquial import expand_colloquial, formal_wording
from rag.conversation import (
    condense_question,
    continues_topic,
    elliptical_topic,
    needs_condensing,
    normalize_history,
    points_back,
    previous_citations,
    topic_question,
    without_opening,
    without_pointers,
)


@pytest.mark.parametrize(("history", "question", "standalone"), CASES,
                         ids=[f"{i}-{c[1][:16]}" for i, c in enumerate(CASES)])
def test_condense_question(history: list, question: str, standalone: str) -> None:
    messages = normalize_history(history)
    assert condense_question(question, messages) == standalone
    assert needs_condensing(question, messages) == (standalone != without_opening(question))


@pytest.mark.parametrize("question", ["那深圳呢？", "这一条讲了什么？", "And Shenzhen?", "What does it say?"])
def test_without_history_every_question_stands_alone(question: str) -> None:
    assert not needs_condensing(question, [])
    assert condense_question(question, []) == without_opening(question)


@pytest.mark.parametrize(("question", "expected"), [
    ("And imports?", "imports?"), ("Thanks. Separately, what about food security?", "what about food security?"),
    ("好的。顺便问一下，外资企业投诉多久有结果？", "外资企业投诉多久有结果？"), ("谢谢！换个话题：养老怎么安排？", "养老怎么安排？"),
    ("Andorra?", "Andorra?"), ("Thanks!", "Thanks!"), ("那深圳呢？", "那深圳呢？"),
    ("Totally different thing — does it say anything about local laws?", "does it say anything about local laws?"),
])
def test_an_opening_that_asks_nothing_is_left_out(question: str, expected: str) -> None:
    assert without_opening(question) == expected


@pytest.mark.parametrize(("question", "expected"), [
    ("这一条还提到了哪些国家公园？", True), ("该条怎么说？", True), ("它提到了哪些试点？", True),
    ("What does it say about pensions?", True), ("Which parks does that article mention?", True),
    ("How long do they have to keep the dispute records?", True), ("Is there any subsidy for running them?", True),
    ("那同一条里说的“竞争中性”，具体怎么提的？", True),
    ("If foreign firms are infringed, can they complain to the office?", False),
    ("What does that same article say about SMEs?", True), ("How long must the organiser keep those records?", True),
    ("Is it easier to start a business?", False), ("It is possible to buy a flat?", False),
    ("粮食安全方面文件怎么说？", False), ("What does the plan say about food security?", False),
])
def test_points_back(question: str, expected: bool) -> None:
    assert points_back(question) is expected


@pytest.mark.parametrize(("question", "topic"), [
    ("那深圳呢？", "深圳"), ("前海呢？", "前海"), ("那么南沙怎么样？", "南沙"), ("那2035年呢？", "2035年"),
    ("今天天气怎么样？", None), ("粮食安全有什么要求？", None),
    ("And Shenzhen?", "Shenzhen"), ("What about Qianhai?", "Qianhai"), ("And for 2035?", "2035"),
    ("And what about housing?", "housing"), ("What does the plan say about chips?", None),
])
def test_elliptical_topic(question: str, topic: str | None) -> None:
    assert elliptical_topic(question) == topic


def test_previous_citations_come_from_the_last_answer_in_its_order() -> None:
    history = chat("广州在文件里的定位是什么？", "第四条（…）提出：…[第四条]。第十七条（…）提出：…[第十七条]。")
    assert previous_citations(history) == ["A4", "A17"]
    assert continues_topic("那深圳呢？", history) and not continues_topic("这一条还说了什么？", history)
    assert previous_citations(chat("第八条讲了什么？")) == []


def test_history_may_be_pairs_messages_or_gradio_blocks() -> None:
    pairs = [("第八条讲了什么？", "…[第八条]。")]
    blocks = [{"role": "user", "content": [{"type": "text", "text": "第八条讲了什么？"}]},
              {"role": "assistant", "content": "…[第八条]。"}]
    assert normalize_history(pairs) == normalize_history(blocks) == chat("第八条讲了什么？", "…[第八条]。")


def test_pointers_are_not_topic_terms() -> None:
    assert without_pointers("What traditional industries does this article mention?") == \
        "What traditional industries does mention?"
    assert without_pointers("这一条还提到了哪些国家公园？") == "还提到了哪些国家公园？"


@pytest.mark.parametrize(("question", "language", "formal"), [
    ("电动车充电难的问题，文件里有说法吗？", "zh", "新能源汽车"),
    ("老百姓看病难，有什么措施？", "zh", "医疗"),
    ("How will officials avoid red tape and box-ticking?", "en", "formalism bureaucratism"),
    ("What does the plan say about EV charging?", "en", "new energy vehicles"),
    ("What's the plan for chips?", "en", "integrated circuits"),
    ("How will the plan help lab results get turned into products?", "en", "scientific and technological achievements"),
    ("外资企业向政府投诉，多久有结果？", "zh", "外商投资企业"),
    ("政府部门会看到不少商业机密，条例有没有要求他们保密？", "zh", "商业秘密"),
    ("有人说广东以后要彻底不烧煤了，文件是这么说的吗？", "zh", "煤炭"),
    ("And for people who need to retrain later in their careers?", "en", "vocational skills training"),
    ("开发商接连暴雷，楼市会怎么样？", "zh", "房地产"),
    ("农民进城落户有什么说法？", "zh", "农业转移人口"),
    ("乡下的学校跟城里差距大，有办法吗？", "zh", "城乡"),
    ("听说广东要停掉煤电，文件怎么说？", "zh", "煤炭"),
    ("Is Guangdong trying to be more business-friendly?", "en", "business environment"),
    ("What will the provincial labs have to deliver?", "en", "laboratories"),
])
def test_everyday_words_bring_the_documents_terms(question: str, language: str, formal: str) -> None:
    expanded = expand_colloquial(question, language)
    assert expanded.startswith(question.replace("老百姓", "")) and formal in expanded  # the user's words stay
    assert formal in formal_wording(question, language)


def test_questions_in_formal_wording_are_left_alone() -> None:
    for question, language in [("新能源汽车消费有什么支持？", "zh"), ("What does Article 8 say?", "en")]:
        assert expand_colloquial(question, language) == question


def test_an_everyday_word_is_read_as_people_say_it_not_as_any_substring() -> None:
    """进城 is people moving to the city (农民进城, 进城打工), not vegetables sent into town nor 推进城中村改造."""
    for question in ("合作社的菜想直接送进城里的超市，文件有说法吗？", "意见说要稳妥推进城中村改造，要改造多少个？"):
        assert "农业转移人口" not in expand_colloquial(question, "zh")
    assert "农业转移人口" in expand_colloquial("从农村进城打工的人能落户吗？", "zh")


def test_a_long_chain_of_follow_ups_is_condensed_in_one_pass() -> None:
    """Each turn is made standalone once (the window is the last MAX_TURNS messages), not re-derived per turn."""
    history = chat("横琴有什么安排？", "…[第三条]。")
    for place in ["前海", "南沙", "前海", "横琴"] * 25:
        history += chat(f"那{place}呢？", "…[第三条]。")
    assert condense_question("那南沙呢？", history) in ("南沙有什么安排？", "那南沙呢？")
    short = chat("横琴有什么安排？", "…[第三条]。", "前海呢？", "…[第三条]。")
    assert condense_question("那南沙呢？", short) == "南沙有什么安排？"


def test_topic_question_is_the_question_with_the_previous_one_after_it() -> None:
    """What "it" means when the cited unit does not speak to the question (the chain decides, by retrieval)."""
    history = chat("Can a foreign-invested company complain about a department?", "… [Article 24 of …].")
    assert topic_question("Once they've filed it, how soon must the office decide?", history) == (
        "Once they've filed it, how soon must the office decide? "
        "Can a foreign-invested company complain about a department?")


def test_a_place_pointer_carries_the_place_not_the_topic() -> None:
    history = chat("横琴合作区的企业所得税有什么优惠？", "…[第三十六条]。")
    assert condense_question("那在那边上班的澳门人，个税怎么算？", history) == "那在横琴上班的澳门人，个税怎么算？"
    assert not continues_topic("那在那边上班的澳门人，个税怎么算？", history)  # 个税 is its own topic
    for question in ("那里面还提到什么？", "该地区有什么政策？"):  # 那里面 is "in it", 该地区 "that region"
        assert "横琴" not in condense_question(question, history), question


@pytest.mark.parametrize(("question", "expected"), [
    ("How can foreign companies protect their trademarks?", False),  # "their": the companies
    ("What about those who move to Hengqin?", False),
    ("If foreign firms are infringed there, can they complain to the office?", False),  # "they": the firms
    ("另外，这一条对住房有什么要求？", True), ("还有个问题，该条适用于港澳居民吗？", True),  # a named unit stays
    ("Different question: what does it say about pay?", False), ("另外想问下，它对落户有什么说法？", False),
])
def test_a_change_of_subject_cancels_a_pronoun_never_a_named_unit(question: str, expected: bool) -> None:
    history = chat("What does Article 4 say?", "… [Art. 4].")
    assert needs_condensing(question, history) is expected

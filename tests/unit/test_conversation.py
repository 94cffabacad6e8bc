"""The offline condenser: a follow-up continues the topic only when it says so (rag/conversation.py docstring)."""

from __future__ import annotations

import pytest

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
    without_pointers,
)


def chat(*turns: str) -> list[dict[str, str]]:
    """Alternating user / assistant messages, as the UI and the API pass them."""
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]


# (history, question, standalone question) — the question itself when it must be answered as if asked alone.
CASES = [
    # new questions: a topic switch is answered alone
    (chat("How will Guangdong attract foreign talent?", "Art. 16 (…) states: … [Art. 16]."),
     "And what about housing?", "And what about housing?"),
    (chat("第四十条讲了什么？", "文件中没有第四十条：本文件共 33 条、11 个部分。"),
     "今天天气怎么样？", "今天天气怎么样？"),
    (chat("What does Article 8 say?", "Art. 8 (…) states: … [Art. 8]."),
     "Thanks. Separately, what does the plan say about food security?",
     "Thanks. Separately, what does the plan say about food security?"),
    (chat("文件对教育有什么安排？", "第二十五条（…）提出：…[第二十五条]。"), "那养老呢？", "那养老呢？"),
    (chat("芯片产业在规划中是怎么部署的？", "第八条（…）提出：…[第八条]。"), "那量子技术呢？", "那量子技术呢？"),
    (chat("What does Article 8 say?", "… [Art. 8]."),
     "Is it easier for Hong Kong people to work in the Bay Area?",
     "Is it easier for Hong Kong people to work in the Bay Area?"),
    (chat("第八条讲了什么？", "…[第八条]。"), "第九条呢？", "第九条呢？"),  # names its own unit
    (chat("How can consumer spending be boosted?", "Art. 5 (…) states: … [Art. 5]."),
     "Different question: what does it say about workers' pay?",
     "Different question: what does it say about workers' pay?"),  # a change of subject: "it" is the document
    (chat("新能源汽车产业在文件里是怎么布局的？", "…[第八条]。"), "顺便问一下，它对农民工落户有什么说法？",
     "顺便问一下，它对农民工落户有什么说法？"),
    # elliptical follow-ups with a slot of the same kind: the previous question with the new topic
    (chat("广州在文件里的定位是什么？", "第四条（…）提出：…[第四条]。"), "那深圳呢？", "深圳在文件里的定位是什么？"),
    (chat("横琴在文件里是什么定位？", "…[第三条]。"), "前海呢？", "前海在文件里是什么定位？"),
    (chat("横琴有什么安排？", "…[第三条]。", "前海呢？", "…[第三条]。"), "那南沙呢？", "南沙有什么安排？"),
    (chat("What does the plan say about Hengqin?", "… [Art. 3].", "What about Qianhai?", "… [Art. 3]."),
     "And Nansha?", "What does the plan say about Nansha?"),
    (chat("What role does Guangzhou play in the plan?", "… [Art. 4]."), "And Shenzhen?",
     "What role does Shenzhen play in the plan?"),
    (chat("What are the 2027 goals?", "… [Part I]."), "And for 2035?", "What are the 2035 goals?"),
    # across languages: a place or a year is swapped into the previous question in its own language
    (chat("广州在文件里的定位是什么？", "…[第四条]。"), "What about Shenzhen?", "深圳在文件里的定位是什么？"),
    (chat("What does the plan say about Hengqin?", "… [Art. 3]."), "那前海呢？",
     "What does the plan say about Qianhai?"),
    (chat("What are the 2027 goals?", "… [Part I]."), "那2035年呢？", "What are the 2035 goals?"),
    # pointing back: the unit the previous answer cited first
    (chat("第二十二条讲了什么？", "第二十二条（…）提出：…[第二十二条]。"), "这一条还提到了哪些国家公园？",
     "第二十二条 这一条还提到了哪些国家公园？"),
    (chat("Which article covers food security?", "Art. 28 (…) states: … [Art. 28]. Art. 20 (…) states: … [Art. 20]."),
     "What seed industry project does it mention?", "Article 28 What seed industry project does it mention?"),
    (chat("第八条讲了什么？", "第八条（…）提出：…[第八条]。"), "What traditional industries does this article mention?",
     "Article 8 What traditional industries does this article mention?"),
    (chat("What are the 2027 goals?", "Part I (…) states: … [Part I]."), "它还说了什么？", "第一部分 它还说了什么？"),
    (["第五条讲了什么？"], "它对住房有什么要求？", "第五条 它对住房有什么要求？"),  # plain previous questions
    # pointing back to a place (那边, there): the previous question's place in its stead, the topic the question's own
    (chat("横琴合作区的企业所得税有什么优惠？", "…[第三十六条]。"), "那在那边上班的澳门人，个税怎么算？",
     "那在横琴上班的澳门人，个税怎么算？"),  # 澳门 is named by the question itself: not the place meant
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "当地有什么金融政策？", "前海有什么金融政策？"),
    (chat("深圳在文件里的定位是什么？", "…[第四条]。"), "Are there any rules on housing there?",
     "Are there any rules on housing in Shenzhen?"),
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "Is there anything on pensions?",
     "Is there anything on pensions?"),  # existential "is there"
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "Anything in there about EV charging?",
     "Anything in there about EV charging?"),  # "in there": the document
]


@pytest.mark.parametrize(("history", "question", "standalone"), CASES,
                         ids=[f"{i}-{c[1][:16]}" for i, c in enumerate(CASES)])
def test_condense_question(history: list, question: str, standalone: str) -> None:
    messages = normalize_history(history)
    assert condense_question(question, messages) == standalone
    assert needs_condensing(question, messages) == (standalone != question)


@pytest.mark.parametrize("question", ["那深圳呢？", "这一条讲了什么？", "And Shenzhen?", "What does it say?"])
def test_without_history_every_question_stands_alone(question: str) -> None:
    assert not needs_condensing(question, [])
    assert condense_question(question, []) == question


@pytest.mark.parametrize(("question", "expected"), [
    ("这一条还提到了哪些国家公园？", True), ("该条怎么说？", True), ("它提到了哪些试点？", True),
    ("What does it say about pensions?", True), ("Which parks does that article mention?", True),
    ("How long do they have to keep the dispute records?", True),
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
])
def test_everyday_words_bring_the_documents_terms(question: str, language: str, formal: str) -> None:
    expanded = expand_colloquial(question, language)
    assert expanded.startswith(question.replace("老百姓", "")) and formal in expanded  # the user's words stay
    assert formal in formal_wording(question, language)


def test_questions_in_formal_wording_are_left_alone() -> None:
    for question, language in [("新能源汽车消费有什么支持？", "zh"), ("What does Article 8 say?", "en")]:
        assert expand_colloquial(question, language) == question


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
    assert not continues_topic("那在那边上班的澳门人，个税怎么算？", chat("横琴合作区的企业所得税有什么优惠？", "…"))

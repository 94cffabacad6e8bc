"""How the offline answer is written: a titled lead-in per unit, verbatim quotes, each cited, in the answer language."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag.config import DEFAULT_DATA_FILE, LIBRARY_DIR
from rag.document import Unit, parse_policy_document
from rag.extractive import CALIBRATION, Calibration, _group_text, quotable_sentences

A5 = Unit(doc_id="doc", unit_id="A5", kind="article", number=5, marker="(五)", section_number=3,
          section_title="持续有效扩大内需", title="促进消费提质升级",
          text="(五) 促进消费提质升级。支持新能源汽车消费，加强充电桩建设。增加养老育幼服务消费。",
          title_en="Promote consumption upgrading",
          text_en="(5) Promote consumption upgrading. Support the consumption of new energy vehicles, and build "
                  "charging piles. Increase consumption of elderly care services.")
UNTRANSLATED = dataclasses.replace(A5, doc_id="regulation", title_en="", text_en="")


def test_the_heading_is_a_title_never_a_quote() -> None:
    assert quotable_sentences(A5, "zh") == ["支持新能源汽车消费，加强充电桩建设。", "增加养老育幼服务消费。"]
    assert quotable_sentences(A5, "en")[0].startswith("Support the consumption")


DOCUMENTS = [DEFAULT_DATA_FILE, *sorted(LIBRARY_DIR.glob("*.md"))]  # the featured plan and the six regulations


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem.split("(")[-1].rstrip(")"))
def test_every_article_has_a_sentence_to_quote(path: Path) -> None:
    # A regulation article of one short sentence has that sentence as its title (第三十四条 支持合作区建设……枢纽港。):
    # it is still quoted, or the answer would be an empty "根据文件：".
    for unit in parse_policy_document(path).units:
        if unit.kind == "article":
            assert quotable_sentences(unit, "zh"), unit.unit_id


def test_a_one_sentence_article_is_quoted_under_its_label_alone() -> None:
    one = dataclasses.replace(UNTRANSLATED, title="增加养老育幼服务消费", text="第五条 增加养老育幼服务消费。")
    assert quotable_sentences(one, "zh") == ["第五条 增加养老育幼服务消费。"]
    assert _group_text(one, quotable_sentences(one, "zh"), "zh") == "第五条提出：增加养老育幼服务消费[第五条]。"


def test_lead_in_names_the_unit_and_its_title_in_the_answer_language() -> None:
    zh = _group_text(A5, quotable_sentences(A5, "zh"), "zh")
    assert zh == "第五条（促进消费提质升级）提出：支持新能源汽车消费，加强充电桩建设[第五条]。增加养老育幼服务消费[第五条]。"
    en = _group_text(A5, quotable_sentences(A5, "en")[:1], "en")
    assert en == ("Art. 5 (Promote consumption upgrading) states: Support the consumption of new energy vehicles, "
                  "and build charging piles [Art. 5].")


def test_a_missing_translation_is_said_not_hidden() -> None:
    text = _group_text(UNTRANSLATED, ["支持新能源汽车消费，加强充电桩建设。"], "en")
    assert text.startswith("Art. 5 states: (Chinese original; this document has no English translation) ")
    assert "支持新能源汽车消费，加强充电桩建设[Art. 5]。" in text


def test_every_tuned_constant_lives_in_the_calibration() -> None:
    fields = {f.name for f in dataclasses.fields(Calibration)}
    assert {"min_support", "dense_weight", "year_mismatch", "evidence_units", "other_units", "lookup_units",
            "name_units", "name_max_share", "keep", "max_sentences"} <= fields
    assert 0 < CALIBRATION.min_support < 1 and CALIBRATION.evidence_units >= 1


def test_an_organisation_abbreviation_matches_its_full_name_in_one_phrase() -> None:
    from rag.extractive import _abbreviates

    text = "市场监督管理部门、共产主义青年团委员会应当引导青年。设立国有资产监督管理委员会；中国科学院"
    assert _abbreviates("共青团", text) and _abbreviates("国资委", text) and _abbreviates("中科院", text)
    assert not _abbreviates("北京大学", text)
    assert not _abbreviates("共青团", "共产，青年团")  # not across a phrase break


def test_not_much_is_not_a_quantity_question() -> None:
    from rag.extractive import quantity_asked

    assert quantity_asked("工业园圈了一大片地却没多少产出，怎么治？", "zh") is None
    assert quantity_asked("文件里没有多少关于菜价的内容吗？", "zh") is None
    assert quantity_asked("要建多少个充电桩？", "zh") is not None
    assert quantity_asked("农村结婚动不动就要几十万彩礼，条例有说法吗？", "zh") is None  # an estimate, not a question
    assert quantity_asked("一个部门要对同一家企业查好几项，能合并吗？", "zh") is None
    assert quantity_asked("要建几个国家公园？", "zh") is not None
    # 几 in the topic of a yes/no question is "a few"; asked about, or after 有没有说, it is "how many"
    assert quantity_asked("广东跟隔壁几个省之间的合作，这份文件有没有提？", "zh") is None
    assert quantity_asked("文件有没有说要建几个充电站？", "zh") is not None
    assert quantity_asked("广东会不会跟隔壁几个省的国家级大平台搞对接？", "zh") is None
    assert quantity_asked("打工的想多学几门手艺，政府搞的职业培训是不是一辈子都能参加？", "zh") is None
    assert quantity_asked("碳排放权期货大概啥时候能交易？", "zh") == quantity_asked("哪一年？", "zh")
    # a figure named without a cue is asked for, unless the question asks who or where about it
    assert quantity_asked("合作区一年的预算是？", "zh") is not None
    assert quantity_asked("What's the total budget for the Digital Bay Area?", "en") is not None
    assert quantity_asked("横琴合作区的预算草案由谁来编？最后报哪里审批？", "zh") is None
    assert quantity_asked("Who approves the zone's budget?", "en") is None


def test_places_given_as_examples_or_outside_what_is_asked_are_context() -> None:
    from rag.extractive import _as_context

    question = "湛江、阳江这些海边城市，文件有没有说海上和陆地上的开发要放在一起规划？"
    assert _as_context(question, "湛江") and _as_context(question, "阳江")
    question = "Do coastal cities like Zhanjiang or Yangjiang get anything on marine planning?"
    assert _as_context(question, "Zhanjiang") and _as_context(question, "Yangjiang")
    assert not _as_context("湛江有什么安排？", "湛江") and not _as_context("What about Zhanjiang?", "Zhanjiang")
    # the asker's clause, then a sentence that does not ask
    assert _as_context("我们在越南想建个仓库，文件支不支持企业去海外建基地？麻烦用英文答，越南那边的合伙人要看。", "越南")
    assert not _as_context("文件支不支持企业去越南建基地？麻烦用英文答。", "越南")


def test_only_a_whole_capitalised_word_is_read_as_a_name() -> None:
    from rag.extractive import _EN_NAME

    assert [m.group(0) for m in _EN_NAME.finditer("bringing IoT or AI into retail in Foshan")] == ["Foshan"]


def test_an_open_question_beside_a_figure_is_asked_for_the_rest() -> None:
    from rag.extractive import _asks_more

    assert _asks_more("横琴有什么安排，要投多少亿元？", "zh")
    assert _asks_more("What are the plans for national parks, and how many hectares will they cover?", "en")
    assert not _asks_more("到2027年广东新能源汽车产量要达到多少万辆？", "zh")
    assert not _asks_more("Does the plan set a GDP target, and how much is it?", "en")  # yes/no: its answer is the gap
    # another sentence does not count: a follow-up condensed with the previous question has it beside it
    assert not _asks_more("Will it open next summer, and how much are tickets? What does the plan say about it?", "en")


def test_when_opening_a_condition_does_not_ask_for_a_date() -> None:
    from rag.extractive import quantity_asked

    assert quantity_asked("When deregistering a company, what if the tax check is late?", "en") is None
    assert quantity_asked("When will the charging network be finished?", "en") == quantity_asked("Which year?", "en")
    assert quantity_asked("Which quarries get approved, and when do they start operating?", "en") == \
        quantity_asked("Which year?", "en")  # a second question asking when


def test_only_real_places_count_as_place_names() -> None:
    from rag.places import is_place

    for place in ("东莞", "东莞市", "顺德区", "浦东新区", "北京", "海南省", "广西壮族自治区", "德国", "美国", "欧洲", "东盟"):
        assert is_place(place), place
    for word in ("太极", "大城市", "山区", "拉闸", "上门", "粤北", "西北"):  # jieba tags these as places
        assert not is_place(word), word


def test_the_askers_own_situation_is_not_what_the_question_is_about() -> None:
    from rag.extractive import _ABOUT_THE_ASKER, _ADVICE, _RELATIVE_TIME_ZH, _clause

    q = "We make industrial pumps in Dongguan. What does the plan say about Fujian's ports?"
    assert _ABOUT_THE_ASKER.search(_clause(q, q.index("Dongguan"), q.index("Dongguan") + 8))
    assert not _ABOUT_THE_ASKER.search(_clause(q, q.index("Fujian"), q.index("Fujian") + 6))
    assert not _RELATIVE_TIME_ZH.search("我今年26，刚在广州注册了一家公司")  # an age
    assert _RELATIVE_TIME_ZH.search("今年3月出台了什么政策？") and _RELATIVE_TIME_ZH.search("今年要完成什么？")
    assert _ADVICE.search("你觉得我该做跨境电商还是做AI应用？") and _ADVICE.search("Should I open in Shenzhen or Guangzhou?")
    assert _ADVICE.search("那我现在该不该买点广东民营企业的股票？") and _ADVICE.search("我打算在东莞买套房，现在入手划算吗？")
    assert not _ADVICE.search("刚需买房有没有支持？")
    assert _ADVICE.search("我想在附近买套房自住，现在这个时机入手合适吗？")
    assert _ADVICE.search("So is now a good time for me to move my savings into Shenzhen-listed tech stocks?")
    assert _ADVICE.search("手里有二十来万闲钱，想买新能源车板块的基金，现在入场是好时机吗？")
    assert not _ADVICE.search("What does the plan say about household savings?")
    for question in ("Is it a good time to move to Hengqin for work?", "Is my money in a Hong Kong bank taxed?",
                     "我们外企可以投资哪些行业？", "购买新能源汽车的补贴值得申请吗？"):
        assert not _ADVICE.search(question), question
    assert not _ADVICE.search("文件对中小企业融资有什么支持？")


def test_a_place_in_a_chinese_clause_about_the_asker_is_context() -> None:
    from rag.extractive import _as_context

    assert _as_context("我在湛江做海鲜批发，文件里有没有说要搞冷链？", "湛江")
    assert not _as_context("湛江的港口有什么规划？", "湛江")
    assert not _as_context("我国对海南自由贸易港有什么部署？", "海南")  # 我国 is China, not the asker
    assert not _as_context("我在佛山开店。文件对佛山有什么安排？", "佛山")  # asked about as well


def test_a_few_in_a_yes_no_question_is_not_a_quantity_question() -> None:
    from rag.extractive import quantity_asked

    assert quantity_asked("家里承包的几亩地这两年一直荒着没种，会有什么后果吗？", "zh") is None
    assert quantity_asked("文件提到几个试点？", "zh") is not None
    assert quantity_asked("几亩地荒着有后果吗？文件提到几个试点？", "zh") is not None  # the second sentence asks
    assert quantity_asked("我们几个朋友凑了点钱想投实业，民间资本可以往哪些方向投？", "zh") is None  # the asker's clause
    assert quantity_asked("我们想知道要建几个充电站？", "zh") is not None  # the asker's clause, but it asks
    assert quantity_asked("What R&D spending as a share of GDP does the plan aim for?", "en") is not None
    assert quantity_asked("我们企业能拿到多少补贴，文件里有规定吗？", "zh") is not None  # 多少 always asks
    assert quantity_asked("你知道文件要建几个充电站吗？", "zh") is not None  # a number asked inside 你知道…吗
    assert quantity_asked("我家在农村，承包的几亩地一直荒着没种，按规定会有什么后果？", "zh") is None  # still the asker's story
    assert quantity_asked("广东有几个国家公园，分别是哪些？", "zh") is not None  # no asker: 几 asks


def test_a_relative_time_in_the_askers_own_clause_is_context_unless_that_clause_asks() -> None:
    from rag.extractive import _asker_context

    q = "我们下个月在广州办一场展会，作为主办方，知识产权方面有什么必须做的？"
    assert _asker_context(q, q.index("下个月"), q.index("下个月") + 3)
    q = "Should I retrain and switch into that industry next year?"
    assert not _asker_context(q, q.index("next year"), q.index("next year") + 9)  # asked about
    q = "孩子明年高考，想了解一下省里对大学建设有什么打算？"
    assert _asker_context(q, q.index("明年"), q.index("明年") + 2)  # the asker's family
    q = "下个月有什么新政策？"
    assert not _asker_context(q, 0, 3)  # no asker


def test_a_unit_names_the_places_in_its_documents_title() -> None:
    from rag.extractive import _mentions_all

    article = dataclasses.replace(UNTRANSLATED, doc_title="横琴粤澳深度合作区发展促进条例", text="合作区内的澳门居民……")
    assert _mentions_all(article, ["横琴"], "zh")
    assert not _mentions_all(A5, ["横琴"], "zh")

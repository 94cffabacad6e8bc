"""Parsing the real document and synthetic documents of both numbering styles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.document import parse_policy_document, parse_policy_text
from rag.errors import DocumentError
from rag.text import int_to_cn
from tests.conftest import DATA


@pytest.fixture(scope="module")
def doc():
    return parse_policy_document(DATA)


def test_units_and_metadata(doc) -> None:
    ids = [u.unit_id for u in doc.units]
    assert ids[0] == "P"
    assert [i for i in ids if i.startswith("S")] == [f"S{n}" for n in range(1, 12)]
    assert [i for i in ids if i.startswith("A")] == [f"A{n}" for n in range(1, 34)]
    assert doc.title == "中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见"
    assert (doc.date, doc.source) == ("2023-05-29", "南方日报网络版")
    assert not any("收藏" in u.text or "People's Government" in u.text for u in doc.units)


def test_both_parenthesis_styles_and_labels(doc) -> None:
    a1, a8 = doc.unit("A1"), doc.unit("A8")
    assert a1.marker == "（一）" and a1.title == "加快建设粤港澳大湾区国际科技创新中心"
    assert a8.marker == "(八)" and a8.title == "建设现代化产业集群"
    assert (a8.label_zh, a8.label_en, a8.section_number) == ("第八条", "Art. 8", 4)
    assert a8.section_title == "坚持制造业当家，强化高质量发展的产业根基"
    assert (doc.unit("S1").label_zh, doc.unit("S1").label_en) == ("第一部分", "Part I")


def test_page_break_continuations_are_joined(doc) -> None:
    assert "先进制造业中心为抓手" in doc.unit("A4").text
    assert "开展全域土地综合整治" in doc.unit("A20").text
    assert not any(u.text.startswith(("业中心", "土地综合")) for u in doc.units)


def test_section_one_is_its_own_unit_with_both_goals(doc) -> None:
    s1 = doc.unit("S1")
    assert s1.text.startswith("一、总体要求\n") and "到2027年" in s1.text and "到2035年" in s1.text
    assert doc.unit("S11").text == "十一、强化组织保障"


def test_defects_of_the_published_text_are_kept(doc) -> None:
    assert "促进产业优化布局 and 有序转移" in doc.unit("A11").text
    assert "补试试点" in doc.unit("A22").text


def test_translation_is_attached_to_every_unit(doc) -> None:
    assert all(u.text_en and u.title_en for u in doc.units)
    assert doc.unit("A8").text_en.startswith("(8) ")


TIAO = """某市公共数据管理办法
发布日期：2024年3月1日 来源：某市人民政府
第一章 总则
第一条 为了规范公共数据管理，制定本办法。
第二条 本办法适用于本市行政区域内的公共数据
管理活动。
第二章 数据共享
第三条 公共数据以共享为原则，不共享为例外。
"""

ITEMS = """某省关于促进就业的若干措施
为稳定和扩大就业，提出如下措施。
一、稳定就业岗位
（一）支持企业稳岗。对不裁员的企业给予补贴。
（二）扩大招聘。鼓励国有企业扩大招聘规模。
二、加强技能培训
（一）开展职业培训。每年培训十万人次。
"""


def test_document_numbered_by_tiao_with_chapters() -> None:
    d = parse_policy_text(TIAO, "tiao")
    assert [u.unit_id for u in d.units] == ["S1", "A1", "A2", "S2", "A3"]
    assert d.title == "某市公共数据管理办法" and d.date == "2024-03-01"
    assert d.unit("A2").text == "第二条 本办法适用于本市行政区域内的公共数据管理活动。"
    assert d.unit("A3").section_number == 2 and d.unit("A3").label_zh == "第三条"


def test_items_numbered_afresh_in_each_section_get_scoped_ids() -> None:
    d = parse_policy_text(ITEMS, "items")
    assert [u.unit_id for u in d.units] == ["P", "S1", "S1A1", "S1A2", "S2", "S2A1"]
    assert d.unit("S2A1").label_zh == "第二部分（一）" and d.unit("S2A1").label_en == "Part II (1)"


def test_unstructured_file_is_ingested_as_paragraphs_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="rag.document"):
        d = parse_policy_text("一份普通的说明\n这只是一段普通的文字，没有任何编号。\n第二段也是普通的文字，\n只是被换行打断了。\n", "plain")
    assert [u.unit_id for u in d.units] == ["P1", "P2"]
    assert d.unit("P2").text == "第二段也是普通的文字，只是被换行打断了。"
    assert (d.unit("P1").label_zh, d.unit("P1").label_en, d.unit("P1").kind) == ("第1段", "Para. 1", "paragraph")
    assert d.title == "一份普通的说明"
    assert len(d.warnings) == 1 and "2 paragraphs" in d.warnings[0].en and "2 个段落" in d.warnings[0].message("zh")
    assert "no sections" in caplog.text


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="empty"):
        parse_policy_text("\n  \n", "blank")
    bad = tmp_path / "bad.zh.txt"
    bad.write_bytes("（一）".encode("gbk") + b"\xff\xfe")
    with pytest.raises(DocumentError, match="not UTF-8"):
        parse_policy_document(bad)
    with pytest.raises(DocumentError, match="not found"):
        parse_policy_document(tmp_path / "missing.zh.txt")


# --- The library: six real regulations, counted independently of the parser ---------------------------------------

LIBRARY = sorted((DATA.parent / "library").glob("*.md"))
_TIAO_LINE = re.compile(r"^第([一二三四五六七八九十百千零〇]+)条", re.M)
_CHAPTER_LINE = re.compile(r"^(?:#+\s*)?第([一二三四五六七八九十]+)章", re.M)


def test_the_six_library_regulations_are_shipped() -> None:
    assert len(LIBRARY) == 6
    assert {p.name.split("(")[0] for p in LIBRARY} == {
        "广东省优化营商环境条例", "广东省外商投资权益保护条例", "横琴粤澳深度合作区发展促进条例",
        "广东省知识产权保护条例", "广东省乡村振兴促进条例", "广州市青年创新创业促进条例",
    }


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_unit_counts_are_exact(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    articles = len(_TIAO_LINE.findall(text))
    chapters = len(_CHAPTER_LINE.findall(text))
    d = parse_policy_document(path)
    assert articles > 20  # every one of the six has more than twenty articles
    assert [u.unit_id for u in d.units if u.kind == "article"] == [f"A{n}" for n in range(1, articles + 1)]
    assert [u.unit_id for u in d.units if u.kind == "section"] == [f"S{n}" for n in range(1, chapters + 1)]
    assert all(u.kind in ("article", "section") for u in d.units)  # the adoption line is not a preamble
    assert not any(u.text.startswith("（") for u in d.units)  # （一） items never open a unit


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_text_is_kept_whole(path: Path) -> None:
    """Every line of the body is in exactly one unit, verbatim; the header (title, adoption line) in none."""
    body = path.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)[1]
    d = parse_policy_document(path)
    unit_lines = [ln for u in d.units for ln in u.text.split("\n")]
    expected = [ln.lstrip("# ").strip() for ln in body.splitlines() if ln.strip()]
    assert unit_lines == expected
    assert not any(d.title in ln for ln in unit_lines[:1])


def test_library_metadata() -> None:
    docs = {parse_policy_document(p).title: parse_policy_document(p) for p in LIBRARY}
    ip = docs["广东省知识产权保护条例"]
    assert (ip.date, ip.effective_date, ip.kind, ip.short_title) == ("2022-03-29", "2022-05-01", "条例", "知识产权保护条例")
    assert ip.sections[1] == "总则" and ip.sections[7] == "附则"  # 总 则 / 附 则 are typeset with a space
    assert (ip.unit("S7").label_zh, ip.unit("S7").label_en) == ("第七章", "Chapter VII")
    a30 = ip.unit("A30")
    assert (a30.label_zh, a30.label_en, a30.doc_title) == ("第三十条", "Art. 30", "广东省知识产权保护条例")
    assert a30.document_label("zh") == "《广东省知识产权保护条例》第三十条"
    assert a30.document_label("en") == "《广东省知识产权保护条例》, Art. 30"  # no English title: the Chinese one
    assert ip.languages == ("zh",) and not ip.has_translation
    youth = docs["广州市青年创新创业促进条例"]
    assert youth.date == "2023-01-09"  # adopted by the city 2022-11-25, approved by the province 2023-01-09
    source = next(p for p in LIBRARY if "青年" in p.name).read_text(encoding="utf-8")
    items = [ln for ln in source.split("第四条", 1)[1].split("第五条", 1)[0].splitlines() if ln.startswith("（")]
    assert len(items) == 11  # list items stay in article 4, one per line
    assert [ln for ln in youth.unit("A4").text.split("\n") if ln.startswith("（")] == items
    assert docs["横琴粤澳深度合作区发展促进条例"].short_title == "横琴粤澳深度合作区发展促进条例"
    for d in docs.values():
        assert re.fullmatch(r"[a-z0-9-]+", d.doc_id), d.doc_id
        assert all(u.doc_id == d.doc_id for u in d.units)
    assert ip.doc_id == "guang-dong-sheng-zhi-shi-chan-quan-bao-hu-tiao-li-2022-03-29"


def test_first_document_metadata(doc) -> None:
    assert (doc.kind, doc.short_title) == ("意见", "新时代广东高质量发展的若干意见")
    assert doc.languages == ("zh", "en") and doc.warnings == ()
    assert doc.unit("A8").document_label("en").endswith(", Art. 8")


# --- Synthetic regulations: 节, 附则, list items, multi-paragraph articles, references, a table of contents -------

WITH_JIE = """# 某省数据条例

（2024年1月5日某省第十四届人民代表大会常务委员会第八次会议通过　2024年6月1日修正）

目　录
第一章　总　则
第二章　数据管理
第三章　附　则

第一章　总　则

第一条　为了规范数据管理，制定本条例。

第二条　本条例适用于本省行政区域内的数据活动。

第二章　数据管理

第一节　一般规定

第三条　数据处理者应当履行下列义务：

（一）建立数据安全管理制度；

（二）开展风险评估

（三）及时报告安全事件。

第三条规定的义务，由县级以上人民政府监督落实。

第二节　数据共享

第四条【共享原则】公共数据以共享为原则，不共享为例外。

各部门应当按照第二条的规定，通过平台共享数据，并对共享数据的质量负责。

第三章　附　则

第五条　本条例自2024年7月1日起施行。
"""

BANFA = """《某某市公共资源交易管理办法》
（2023年3月1日市人民政府第二十次常务会议通过，2023年3月20日公布）
第一条 为了规范公共资源交易活动，根据有关法律法规，结合本市实际，制定本办法。
第二条 本办法适用于本市行政区域内的公共资源交易活动，包括工程建设项目招标投标、土地使用权和矿业
权出让、国有产权交易、政府采购等。
第三条 中共某某市委、市人民政府统一领导公共资源交易工作。
附则
第四条 本办法自2023年5月1日起施行。
"""


def test_regulation_with_jie_table_of_contents_and_list_items() -> None:
    d = parse_policy_text(WITH_JIE, "with-jie")
    assert [u.unit_id for u in d.units] == ["S1", "A1", "A2", "S2", "A3", "A4", "S3", "A5"]
    assert (d.title, d.date, d.kind, d.effective_date) == ("某省数据条例", "2024-06-01", "条例", "2024-07-01")
    assert d.sections == {1: "总则", 2: "数据管理", 3: "附则"}
    a3, a4 = d.unit("A3"), d.unit("A4")
    # list items (one without final punctuation) and the paragraph citing 第三条 stay in article 3
    assert a3.text.split("\n") == [
        "第三条 数据处理者应当履行下列义务：", "（一）建立数据安全管理制度；", "（二）开展风险评估",
        "（三）及时报告安全事件。", "第三条规定的义务，由县级以上人民政府监督落实。",
    ]
    assert (a3.subsection_number, a3.subsection_title, a3.section_number) == (1, "一般规定", 2)
    assert (a4.subsection_number, a4.subsection_title, a4.title) == (2, "数据共享", "共享原则")
    assert "第二条的规定" in a4.text and d.unit("A1").subsection_number == 0
    assert d.unit("S2").text == "第二章 数据管理"  # the 节 headings are metadata, not text of any unit
    assert d.unit("A5").subsection_title == ""  # a new chapter closes the 节


def test_banfa_without_chapters_with_bare_fuze_and_page_break() -> None:
    d = parse_policy_text(BANFA, "banfa")
    assert [u.unit_id for u in d.units] == ["A1", "A2", "A3", "S1", "A4"]
    assert (d.title, d.date, d.kind, d.short_title) == ("某某市公共资源交易管理办法", "2023-03-20", "办法", "公共资源交易管理办法")
    assert "土地使用权和矿业权出让" in d.unit("A2").text and "\n" not in d.unit("A2").text
    assert d.unit("A3").text.startswith("第三条 中共某某市委")  # 中… after 第三条 is text, not a reference
    s1 = d.unit("S1")
    assert (s1.marker, s1.label_zh, s1.label_en, d.unit("A4").section_title) == ("附则", "附则", "Supplementary Provisions", "附则")


def test_a_regulation_of_1199_articles() -> None:
    lines = ["# 某法典", "<!-- INFO END -->"]
    for n in range(1, 1200):
        if n in (1, 500, 1000):
            lines.append(f"## 第{int_to_cn(n // 500 + 1)}章 分则")
        lines.append(f"第{int_to_cn(n)}条 这是第{n}条的内容。")
    d = parse_policy_text("\n".join(lines), "code")
    assert d.article_count == 1199 and d.section_count == 3
    assert d.unit("A1199").marker == "第一千一百九十九条" and d.unit("A1199").label_zh == "第一千一百九十九条"
    assert d.unit("A1005").text == "第一千零五条 这是第1005条的内容。"
    assert d.unit("A1005").section_number == 3


AMENDED = """# 某市养犬管理条例
2010年5月1日某市人民代表大会常务委员会通过 2021年9月29日修正
<!-- INFO END -->
第一条 为了规范养犬行为，制定本条例。
第二条 本条例适用于本市行政区域内的养犬活动。
第二条之一 养犬人应当依法办理养犬登记。
第二条之一规定的登记，由公安机关办理。
第二条之二 禁止饲养烈性犬。
第三条 本条例自2022年1月1日起施行。
"""


def test_articles_inserted_by_an_amendment() -> None:
    d = parse_policy_text(AMENDED, "amended")
    assert [u.unit_id for u in d.units] == ["A1", "A2", "A2-1", "A2-2", "A3"]
    a = d.unit("A2-1")
    assert (a.label_zh, a.label_en, a.marker, a.number) == ("第二条之一", "Art. 2-1", "第二条之一", 2)
    assert a.text == "第二条之一 养犬人应当依法办理养犬登记。\n第二条之一规定的登记，由公安机关办理。"
    assert a.title == "养犬人应当依法办理养犬登记"
    assert d.date == "2021-09-29"
    lines = [ln for ln in AMENDED.splitlines() if _TIAO_LINE.match(ln)]
    assert len(lines) == 6 and d.article_count == 5  # the reference line is text, not an article


@pytest.mark.parametrize("more_models", [(), ("e5",)])
def test_the_progress_total_counts_the_records_ingest_writes(doc, more_models: tuple[str, ...]) -> None:
    """rag.index.record_count predicts document_records without tokenising: translated and untranslated units."""
    from rag.index import document_records, record_count

    library = sorted((DATA.parent / "library").glob("*.md"))[0]
    for d in (doc, parse_policy_document(library)):
        assert record_count(d, more_models) == len(document_records(d, more_models))


def test_a_part_or_chapter_that_is_only_a_heading_is_marked(doc) -> None:
    """Unit.heading_only: retrieval never returns such a unit for a search (it has no text to quote)."""
    units = {u.unit_id: u for u in doc.units}
    assert units["S11"].heading_only and not units["S1"].heading_only and not units["A8"].heading_only
    regulation = parse_policy_document(sorted((DATA.parent / "library").glob("*知识产权*.md"))[0])
    chapters = [u for u in regulation.units if u.kind == "section"]
    assert chapters and all(u.heading_only for u in chapters)

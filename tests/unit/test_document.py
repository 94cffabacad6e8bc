"""Parsing the real document and synthetic documents of both numbering styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.document import parse_policy_document, parse_policy_text
from rag.errors import DocumentError
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


def test_unstructured_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no sections"):
        parse_policy_text("这只是一段普通的文字。\n没有任何编号。\n", "plain")
    bad = tmp_path / "bad.zh.txt"
    bad.write_bytes("（一）".encode("gbk") + b"\xff\xfe")
    with pytest.raises(DocumentError, match="not UTF-8"):
        parse_policy_document(bad)
    with pytest.raises(DocumentError, match="not found"):
        parse_policy_document(tmp_path / "missing.zh.txt")

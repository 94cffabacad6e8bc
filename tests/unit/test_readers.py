"""Documents as .docx, .pdf and .html files, built at test time with real writers, parsed through the real readers.

The .pdf fixtures are written by reportlab with its STSong-Light CID font: one of the standard Adobe CJK fonts a
PDF may use without embedding, so the text layer is real CJK text encoded the way many Chinese PDFs are, with no
font file needed on the machine. (fpdf2 with Debian's Noto CJK .ttc writes glyph widths that do not match its
glyph ids, so extractors read its output as spaced-out or empty text: not an honest fixture.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.document import doc_id_for, parse_policy_document
from rag.errors import DocumentError
from rag.readers import MAX_DOCUMENT_BYTES, despace_cjk, read_document_text

TITLE = "某省数据安全条例"
ADOPTED = "2024年1月5日某省第十四届人民代表大会常务委员会第八次会议通过"
BODY = [
    "第一章 总 则",
    "第一条 为了保障数据安全，促进数据开发利用，根据有关法律、行政法规，结合本省实际，制定本条例。",
    "第二条 数据处理者应当履行下列义务：",
    "（一）建立数据安全管理制度；",
    "（二）开展风险评估。",
    "县级以上人民政府应当加强监督。",
    "第二章 附 则",
    "第三条 本条例自2024年3月1日起施行。",
]


def _check_structure(path: Path) -> None:
    d = parse_policy_document(path)
    assert [u.unit_id for u in d.units] == ["S1", "A1", "A2", "S2", "A3"]
    assert d.title == TITLE
    assert d.unit("A2").text.split("\n") == BODY[2:6]
    assert d.unit("A1").text == BODY[1]
    assert d.sections == {1: "总则", 2: "附则"} and d.effective_date == "2024-03-01"


def test_docx(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(ADOPTED)
    for line in BODY:
        document.add_paragraph(line)
    path = tmp_path / "数据安全条例.docx"
    document.save(str(path))
    _check_structure(path)
    assert parse_policy_document(path).date == "2024-01-05"


def _write_pdf(path: Path, lines: list[str], per_page: int = 100) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for start in range(0, len(lines), per_page):
        c.setFont("STSong-Light", 11)
        y = 800
        for line in lines[start:start + per_page]:
            c.drawString(40, y, line)
            y -= 18
        c.drawCentredString(300, 30, f"- {start // per_page + 1} -")  # a page number, as printed documents have
        c.showPage()
    c.save()


def test_pdf_with_wrapped_lines_page_breaks_and_page_numbers(tmp_path: Path) -> None:
    # As a printed page shows it: article one wraps mid-sentence, and a page break (with its page number) falls
    # inside it.
    first = BODY[1]
    lines = [TITLE, ADOPTED, BODY[0], first[:20], first[20:40], first[40:], *BODY[2:]]
    path = tmp_path / "regulation.pdf"
    _write_pdf(path, lines, per_page=4)
    text = read_document_text(path)
    assert "- 1 -" not in text and first[:20] in text
    _check_structure(path)


def test_html_saved_from_a_government_site(tmp_path: Path) -> None:
    nav = "".join(f'<li><a href="/n{i}">栏目{i}</a></li>' for i in range(8))
    paragraphs = "".join(
        f'<p style="text-align:center">{ln}</p>' if "章" in ln[:4] else f"<p>{ln}</p>" for ln in BODY
    )
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="gb2312">
<title>{TITLE}_某省人民政府门户网站</title><meta name="ArticleTitle" content="{TITLE}">
<meta name="PubDate" content="2024-01-08"></head><body>
<div class="header"><a href="/">首页</a> <a href="/zwgk">政务公开</a> <a href="/bsfw">办事服务</a></div>
<ul class="nav">{nav}</ul>
<div class="position">当前位置：<a href="/">首页</a> &gt; 法规规章</div>
<div class="article"><h1>{TITLE}</h1>
<div class="info">发布时间：2024-01-08 来源：某省人大常委会</div>
<div class="content">{paragraphs}</div></div>
<div class="footer"><p>主办：某省人民政府办公厅 版权所有</p><a href="/map">网站地图</a> <a href="/c">联系我们</a></div>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gb2312"))  # government pages are often GB2312/GBK, declared in <meta>
    _check_structure(path)
    d = parse_policy_document(path)
    assert d.date == "2024-01-08"
    everything = "\n".join(u.text for u in d.units)
    assert not any(noise in everything for noise in ("首页", "栏目", "网站地图", "版权所有", "当前位置"))


def test_markdown_and_text_names_give_ascii_ids(tmp_path: Path) -> None:
    assert doc_id_for(Path("广东省版权条例(2022-03-29).md")) == "guang-dong-sheng-ban-quan-tiao-li-2022-03-29"
    assert doc_id_for(Path("guangdong-high-quality-development-2023.zh.txt")) == "guangdong-high-quality-development-2023"
    assert doc_id_for(Path("My Policy (v2).DOCX")) == "my-policy-v2"


def test_file_size_cap_names_size_and_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(MAX_DOCUMENT_BYTES + 1024 * 1024)  # sparse: 11 MB on paper, nothing written
    with pytest.raises(DocumentError) as err:
        parse_policy_document(big)
    assert err.value.exit_code == 3
    assert "11.0 MB" in err.value.en and "10.0 MB limit" in err.value.en
    assert "11.0 MB" in err.value.zh and "上限" in err.value.zh
    assert "\n" not in err.value.en and "\n" not in err.value.zh


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.rtf", b"{\\rtf1}", "unsupported file type"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
    ("broken.pdf", b"%PDF-1.4\n garbage", "not a readable .pdf"),
    ("empty.html", b"<html><head><title>t</title></head><body><div></div></body></html>", "no main text"),
])
def test_bad_files_are_one_line_document_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=message) as err:
        parse_policy_document(path)
    assert err.value.exit_code == 3 and err.value.zh != err.value.en


def test_scanned_pdf_without_text_is_an_error(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(50, 50, 400, 600, fill=1)  # an image-only page stands for a scan
    c.showPage()
    c.save()
    with pytest.raises(DocumentError, match="no text layer"):
        parse_policy_document(path)


def test_directory_is_not_a_document(tmp_path: Path) -> None:
    folder = tmp_path / "folder.md"
    os.mkdir(folder)
    with pytest.raises(DocumentError, match="directory"):
        parse_policy_document(folder)


@pytest.mark.parametrize(("extracted", "line"), [
    # as pypdf extracts a page fpdf2 wrote with Noto Sans CJK (its glyph widths make every glyph a "word")
    (" 第 一 章   总   则", " 第一章总则"),
    (" 第 二 条   本 条 例 自 2 0 2 4 年 1 月 1 日 起 施 行 。", " 第二条本条例自2024年1月1日起施行。"),
    # ordinary lines keep their spaces
    ("第一章 总 则", "第一章 总 则"),
    ("促进产业优化布局 and 有序转移", "促进产业优化布局 and 有序转移"),
    ("到2027年 GDP 达到 15 万亿元", "到2027年 GDP 达到 15 万亿元"),
])
def test_letter_spaced_pdf_text_is_closed_up(extracted: str, line: str) -> None:
    assert despace_cjk(extracted) == line


@pytest.mark.parametrize("page_title", [f"{TITLE}_某省人民政府门户网站", f"某省人大网 | {TITLE}", f"{TITLE} - 某省人大网"])
def test_html_title_without_site_name_and_date_from_the_page_not_guessed(tmp_path: Path, page_title: str) -> None:
    paragraphs = "".join(f"<p>{ln}</p>" for ln in BODY)
    page = f"""<html><head><meta charset="utf-8"><title>{page_title}</title></head><body>
<div class="info">发布时间：2024-01-08 10:30 来源：某省人大常委会</div>
<div class="content">{paragraphs}</div></body></html>"""
    path = tmp_path / "page.htm"
    path.write_text(page, encoding="utf-8")
    d = parse_policy_document(path)
    assert d.title == TITLE
    assert d.date == "2024-01-08"  # from the 发布时间 line, not a year guessed from 自2024年3月1日起施行
    assert [u.unit_id for u in d.units] == ["S1", "A1", "A2", "S2", "A3"]

"""Recognise a document's structure line by line: its header, its headings and the lines of each unit.

Why by line and by numbering convention: see rag/document.py. This module knows nothing of units' ids or labels;
it turns text into an Outline (title, date, drafts of units in reading order), which rag/document.py turns into
Units.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.readers import HEADER_END
from rag.text import CJK_CHARS, CN_NUMERAL, cn_to_int

_SECTION = re.compile(rf"^(?:({CN_NUMERAL})、|第({CN_NUMERAL}|\d+)[章部分]+\s*)(.+)$")
_ARTICLE_PAREN = re.compile(rf"^[（(]\s*({CN_NUMERAL})\s*[）)]\s*(.*)$")
_ARTICLE_TIAO = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*条\s*(.*)$")
_ARTICLE_SUB = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*条\s*之\s*([一二三四五六七八九十]+)\s*(.*)$")  # 第十条之一
_CHAPTER = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*章\s*(.*)$")
_JIE = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*节\s*(.*)$")
_FUZE = re.compile(r"^附\s*则$")
_REFERENCE_START = re.compile(r"^(?:规定|所称|所列|所指|的|之|、|，|,|[至和及或]第|或者第|中规定|中所|第|款|项)")  # 第三十条规定的…
_LIST_ITEM = re.compile(rf"^(?:[（(]\s*{CN_NUMERAL}\s*[）)]|{CN_NUMERAL}、|\d+[.、．]\D)")
_DATE_LINE = re.compile(r"(?:时间|日期|发布日期|发布时间)[:：]\s*(\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?)(?:[^来]*来源[:：]\s*(\S+))?")
_SOURCE_LINE = re.compile(r"来源[:：]\s*(\S+)")
_ADOPTION_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日[^。]*?(?:通过|批准|公布|发布|印发|修正|修订|颁布)")
_EFFECTIVE_DATE = re.compile(r"自\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日起施行")
_NOISE = re.compile(r"^\[[^\]]*\]\([^)]*\)$|^[\x00-\x7f]+$")  # markdown links, pure-ASCII site banners
_BOOK_TITLE = re.compile(r"^《([^》]{2,80})》$")
_SENTENCE_END = "。！？；：”」"
_KINDS = ("实施细则", "实施办法", "实施意见", "意见", "通知", "办法", "规定", "决定", "方案", "条例", "规划", "纲要",
          "细则", "措施", "规则", "章程", "指引", "公告", "法")
_TITLE_WORDS = re.compile(rf"({'|'.join(_KINDS)})$")
_REGION_PREFIX = re.compile(rf"^(?:中华人民共和国|[{CJK_CHARS}]{{2,6}}?(?:省|自治区|特别行政区|市|自治州|县|区))")
_CJK_GAP = re.compile(f"(?<=[{CJK_CHARS}])\\s+(?=[{CJK_CHARS}])")
_MAX_HEADING = 40
_Classifier = Callable[[str], tuple[str, int, str, str] | None]
_MAX_ARTICLE_TITLE = 40


@dataclass
class Draft:
    """The lines of one future unit, with what the headings above it said."""

    kind: str
    number: int
    marker: str
    section_number: int
    lines: list[str]
    subsection: tuple[int, str] = (0, "")

    @property
    def inserted(self) -> int:
        """K of an article 第N条之K inserted by an amendment, else 0."""
        m = re.search(r"之\s*([一二三四五六七八九十]+)$", self.marker) if self.kind == "article" else None
        return cn_to_int(m.group(1)) if m else 0


def first_sentence(text: str) -> str:
    m = re.match(r"[^。！？；]+", text)
    return (m.group(0) if m else text).strip()


def article_title(body: str) -> str:
    """A bracketed title (第一条【立法目的】 / 第一条（立法目的）) if the article has one, else its first sentence."""
    if m := re.match(r"^[【\[（(]([^】\]）)]{1,20})[】\]）)]", body):
        return m.group(1).strip()
    title = first_sentence(body)
    return title if len(title) <= _MAX_ARTICLE_TITLE else title[: _MAX_ARTICLE_TITLE - 1] + "…"


def join_lines(lines: list[str], heading: bool = False) -> str:
    """Join a unit's lines: a line after one that ends mid-sentence is a page-break continuation.

    A section's first line is its heading, which ends without punctuation but is never continued; a list item
    （一） always starts a line of its own.
    """
    out = ""
    for i, line in enumerate(lines):
        if not out:
            out = line
        elif out[-1] in _SENTENCE_END or (heading and i == 1) or _LIST_ITEM.match(line):
            out += "\n" + line
        else:
            out += line
    return out


def _is_heading(line: str) -> bool:
    return len(line) <= _MAX_HEADING and line[-1] not in "。；，,："


def _classify(line: str) -> tuple[str, int, str, str] | None:
    """意见 style: ('section'|'article', number, marker, rest) for a structural line, else None."""
    if m := _ARTICLE_PAREN.match(line):
        return "article", cn_to_int(m.group(1)), line[: m.start(2)].strip(), m.group(2)
    if m := _ARTICLE_TIAO.match(line):
        return "article", cn_to_int(m.group(1)), line[: m.start(2)].strip(), m.group(2)
    if (m := _SECTION.match(line)) and len(line) <= 80 and line[-1] not in "。；":
        return "section", cn_to_int(m.group(1) or m.group(2)), line[: m.start(3)].strip(), m.group(3).strip()
    return None


class _TiaoClassifier:
    """条例 style, stateful: chapters and articles must increase, so references inside paragraphs stay text."""

    def __init__(self) -> None:
        self.chapter = 0
        self.article = 0
        self.inserted = 0  # 第十条之一, 之二 …: articles inserted by an amendment after 第十条

    def __call__(self, line: str) -> tuple[str, int, str, str] | None:
        if (m := _ARTICLE_SUB.match(line)) and not _REFERENCE_START.match(m.group(3)):
            number, inserted = cn_to_int(m.group(1)), cn_to_int(m.group(2))
            if number == self.article and inserted == self.inserted + 1:
                self.inserted = inserted
                return "article", number, line[: m.start(3)].strip(), m.group(3)
        if (m := _ARTICLE_TIAO.match(line)) and not _REFERENCE_START.match(m.group(2)):
            number = cn_to_int(m.group(1))
            if number > self.article:
                self.article, self.inserted = number, 0
                return "article", number, line[: m.start(2)].strip(), m.group(2)
        if (m := _CHAPTER.match(line)) and _is_heading(line) and not _REFERENCE_START.match(m.group(2)):
            number = cn_to_int(m.group(1))
            if number > self.chapter:
                self.chapter = number
                return "section", number, line[: m.start(2)].strip(), m.group(2).strip()
        if _FUZE.match(line):
            self.chapter += 1
            return "section", self.chapter, line, line
        if (m := _JIE.match(line)) and _is_heading(line) and not _REFERENCE_START.match(m.group(2)):
            return "subsection", cn_to_int(m.group(1)), line[: m.start(2)].strip(), m.group(2).strip()
        return None


def _prepare_lines(text: str) -> tuple[list[str], int | None]:
    """Non-empty stripped lines without Markdown heading marks, and the index where an explicit header ends."""
    lines: list[str] = []
    header_end = None
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        ln = raw.strip().replace("\u3000", " ").replace("\xa0", " ").strip()
        if ln == HEADER_END and header_end is None:
            header_end = len(lines)
            continue
        if not ln or (ln.startswith("<!--") and ln.endswith("-->")):
            continue
        if re.match(r"^#{2,6}\s", ln):  # ## 第一章 总则 → 第一章 总则 (a single # is the title: kept for the header)
            ln = ln.lstrip("#").strip()
        ln = re.sub(r"^\*\*(.+?)\*\*", r"\1", ln)
        lines.append(ln)
    return lines, header_end


def _drop_table_of_contents(lines: list[str]) -> list[str]:
    """Remove a 目录 block: from the 目录 line to where its first entry appears again as a real heading."""
    for i, ln in enumerate(lines):
        if re.sub(r"\s", "", ln) == "目录" and i + 1 < len(lines):
            first = re.sub(r"\s", "", lines[i + 1])
            again = next((j for j in range(i + 2, len(lines)) if re.sub(r"\s", "", lines[j]) == first), None)
            if again is not None:
                return lines[:i] + lines[again:]
    return lines


def norm_date(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def _read_header(header: list[str], doc_id: str) -> tuple[str, str, str]:
    """(title, date, source) from the header lines (title line, date/adoption lines, site noise)."""
    date = source = ""
    dates: list[str] = []
    markdown_title = ""
    candidates: list[str] = []
    for ln in header:
        if ln.startswith("# ") and not markdown_title:
            markdown_title = ln[2:].strip()
        elif m := _DATE_LINE.search(ln):
            parts = re.split(r"[-年月./日]", m.group(1))
            date = norm_date(parts[0], parts[1], parts[2])
            source = m.group(2) or source
        elif m := _SOURCE_LINE.search(ln):
            source = m.group(1)
        elif found := _ADOPTION_DATE.findall(ln):
            dates.extend(norm_date(*f) for f in found)
        elif not _NOISE.match(ln):
            candidates.append(ln)
    if markdown_title:
        title = _page_title(markdown_title)
    else:
        booked = [m.group(1) for c in candidates if (m := _BOOK_TITLE.match(c))]
        titled = [c for c in candidates if _TITLE_WORDS.search(c)]
        title = (booked or titled or sorted(candidates, key=len, reverse=True) or [doc_id])[0]
    title = title.strip("《》 ")
    return title, date or max(dates, default=""), source


def _page_title(title: str) -> str:
    """A web page's title without the site name: 某某条例_某省人民政府门户网站 / 网站 | 某某条例 → 某某条例."""
    parts = [p for p in re.split(r"\s*[_|｜]\s*|\s+[-—–]\s+", title) if p]
    if len(parts) < 2:
        return title
    return next((p for p in parts if _TITLE_WORDS.search(p)), max(parts, key=len))


def _split_header(lines: list[str], header_end: int | None, first_struct: int | None) -> int:
    """Index where the body starts: the explicit header end, else the first paragraph or heading."""
    if header_end is not None:
        return header_end
    limit = len(lines) if first_struct is None else first_struct
    return next((i for i, ln in enumerate(lines[:limit]) if len(ln) >= 10 and ln[-1] in "。！？"), limit)


def _paragraph_drafts(body: list[str]) -> tuple[list[Draft], dict[int, str]]:
    paragraphs = join_lines(body).split("\n")
    return [Draft("paragraph", i, "", 0, [p]) for i, p in enumerate(paragraphs, 1)], {}


def _structured_drafts(body: list[str], classify: _Classifier) -> tuple[list[Draft], dict[int, str]]:
    drafts: list[Draft] = []
    sections: dict[int, str] = {}
    section, subsection = 0, (0, "")
    for ln in body:
        found = classify(ln)
        if found is None:
            if not drafts:
                drafts.append(Draft("preamble", 0, "", 0, []))
            drafts[-1].lines.append(ln)
            continue
        kind, number, marker, rest = found
        if kind == "subsection":
            subsection = (number, _CJK_GAP.sub("", rest))
            continue
        if kind == "section":
            section, subsection = number, (0, "")
            sections[number] = _CJK_GAP.sub("", rest)
        drafts.append(Draft(kind, number, marker, section, [ln], subsection if kind == "article" else (0, "")))
    return drafts, sections


def is_supplementary(marker: str) -> bool:
    """True for a bare 附则 heading (附则 / 附 则), a section without a number of its own."""
    return bool(_FUZE.match(marker))


def document_kind(title: str) -> str:
    """意见 / 条例 / 办法 / … from the title's last word; "" when it has none."""
    m = _TITLE_WORDS.search(title)
    return m.group(1) if m else ""


def short_title_for(title: str) -> str:
    """A short title for lists and lookups: the subject after 关于, else the title without its issuing region.

    中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见 → 新时代广东高质量发展的若干意见;
    广东省知识产权保护条例 → 知识产权保护条例; a title that would shrink below four characters stays whole.
    """
    short = title.split("关于", 1)[1] if "关于" in title else _REGION_PREFIX.sub("", title)
    return short if len(short) >= 4 else title


def effective_date(text: str) -> str:
    """YYYY-MM-DD from 本条例自2024年3月1日起施行, else ""."""
    m = _EFFECTIVE_DATE.search(text)
    return norm_date(*m.groups()) if m else ""


@dataclass(frozen=True)
class Outline:
    """What the text says before it becomes units: header metadata and unit drafts in reading order."""

    title: str
    date: str
    source: str
    drafts: list[Draft]
    sections: dict[int, str]
    structured: bool  # False: no headings or articles were found, drafts are plain paragraphs


def outline(text: str, fallback_title: str) -> Outline | None:
    """The outline of a document's text, or None when it has no text at all."""
    lines, header_end = _prepare_lines(text)
    start = header_end or 0
    lines = lines[:start] + _drop_table_of_contents(lines[start:])
    if not lines:
        return None
    tiao = any(re.match(r"^第\s*一\s*条", ln) for ln in lines[start:])
    probe = (lambda ln: _TiaoClassifier()(ln)) if tiao else _classify  # a fresh classifier accepts any number
    first_struct = next((i for i in range(start, len(lines)) if probe(lines[i])), None)
    body_start = _split_header(lines, header_end, first_struct)
    title, date, source = _read_header(lines[:body_start], fallback_title)
    body = [ln for ln in lines[body_start:] if ln.lstrip("# ") != title]
    if first_struct is None:
        drafts, sections = _paragraph_drafts(body or [ln for ln in lines if ln.lstrip("# ") != title] or lines)
    else:
        drafts, sections = _structured_drafts(body, _TiaoClassifier() if tiao else _classify)
    return Outline(title, date, source, drafts, sections, structured=first_struct is not None)

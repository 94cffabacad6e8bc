"""Parse a Chinese policy document into citable units: preamble P, sections S1…, articles A1….

Why a hand-written parser: these documents are structured by numbering conventions (一、 / （一） / 第一章 /
第一条), not by markup, and published copies carry page-break splits and web-page noise that generic splitters
would cut in the wrong place. One unit is never split; a line that opens nothing continues the unit before it.

Two styles, told apart by whether the body has a line opening 第一条:
- 意见 style (the first document): sections 一、… hold articles （一）…; items numbered afresh in each section
  get section-scoped ids (S2A1).
- 条例/办法 style: chapters 第X章 (and a bare 附则) are section units, 第X条 are article units; （一） items and
  later paragraphs belong to their article. Article numbers must increase, so a paragraph that opens with a
  reference (第三十条规定的…) is not taken for an article. A 第X节 is *not* a unit: its number restarts in every
  chapter and statutes are cited by 条, which is numbered through the whole document; it is kept as metadata
  (subsection number and title) on the articles it holds, so retrieval and display still see it.
A file with neither style is kept as paragraph units (P1…) with a warning, rather than refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.readers import HEADER_END, MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES, read_document_text
from rag.text import CN_NUMERAL, cn_to_int, int_to_cn, int_to_roman

logger = logging.getLogger(__name__)

_SECTION = re.compile(rf"^(?:({CN_NUMERAL})、|第({CN_NUMERAL}|\d+)[章部分]+\s*)(.+)$")
_ARTICLE_PAREN = re.compile(rf"^[（(]\s*({CN_NUMERAL})\s*[）)]\s*(.*)$")
_ARTICLE_TIAO = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*条\s*(.*)$")
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
_REGION_PREFIX = re.compile(r"^(?:中华人民共和国|[\u4e00-\u9fff]{2,6}?(?:省|自治区|特别行政区|市|自治州|县|区))")
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_MAX_HEADING = 40
_Classifier = Callable[[str], tuple[str, int, str, str] | None]
_MAX_ARTICLE_TITLE = 40


@dataclass(frozen=True)
class DocumentWarning:
    """Something the parser accepted but a user should know (e.g. no structure found), in both languages."""

    en: str
    zh: str

    def message(self, language: str = "en") -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class Unit:
    """One citable unit of a document, with the metadata stored beside its chunk."""

    doc_id: str
    unit_id: str  # P, S1…, A1… (S2A1… when items restart numbering in each section; P1… for plain paragraphs)
    kind: str  # "preamble" | "section" | "article" | "paragraph"
    number: int
    marker: str  # as printed: （八） / 第八条 / 一、 / 第一章 / 附则 / ""
    section_number: int
    section_title: str
    title: str  # article title (its first sentence, or a bracketed 【标题】) or section title
    text: str  # verbatim Chinese text of the unit
    title_en: str = ""
    text_en: str = ""
    subsection_number: int = 0  # 第X节 inside the chapter, 0 when none
    subsection_title: str = ""
    doc_title: str = ""  # the document's full title, for citations that name the document
    doc_title_en: str = ""

    @property
    def label_zh(self) -> str:
        """The citation label in Chinese answers: 第八条 / 第一部分 / 第一章 / 附则 / 序言 / 第3段."""
        if self.kind == "article":
            if self.unit_id.startswith("S"):
                return f"第{int_to_cn(self.section_number)}部分（{int_to_cn(self.number)}）"
            return f"第{int_to_cn(self.number)}条"
        if self.kind == "section":
            if _FUZE.match(self.marker):
                return "附则"
            if self.marker.endswith("章"):
                return f"第{int_to_cn(self.number)}章"
            return f"第{int_to_cn(self.number)}部分"
        if self.kind == "paragraph":
            return f"第{self.number}段"
        return "序言"

    @property
    def label_en(self) -> str:
        """The citation label in English answers: Art. 8 / Part I / Chapter I / Preamble / Para. 3."""
        if self.kind == "article":
            if self.unit_id.startswith("S"):
                return f"Part {int_to_roman(self.section_number)} ({self.number})"
            return f"Art. {self.number}"
        if self.kind == "section":
            if _FUZE.match(self.marker):
                return "Supplementary Provisions"
            if self.marker.endswith("章"):
                return f"Chapter {int_to_roman(self.number)}"
            return f"Part {int_to_roman(self.number)}"
        if self.kind == "paragraph":
            return f"Para. {self.number}"
        return "Preamble"

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en

    def document_label(self, language: str) -> str:
        """The label naming the document, for answers over several: 《广东省版权条例》第三十条 / <title>, Art. 30."""
        if language == "zh":
            return f"《{self.doc_title or self.doc_id}》{self.label_zh}"
        return f"{self.doc_title_en or '《' + (self.doc_title or self.doc_id) + '》'}, {self.label_en}"

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for the vector store (Chroma accepts scalars only)."""
        return {
            "doc_id": self.doc_id,
            "unit_id": self.unit_id,
            "kind": self.kind,
            "number": self.number,
            "marker": self.marker,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "section_number": self.section_number,
            "section_title": self.section_title,
            "subsection_number": self.subsection_number,
            "subsection_title": self.subsection_title,
            "title": self.title,
            "title_en": self.title_en,
            "text_en": self.text_en,
            "doc_title": self.doc_title,
            "doc_title_en": self.doc_title_en,
        }

    @classmethod
    def from_metadata(cls, text: str, meta: dict) -> Unit:
        return cls(
            doc_id=str(meta["doc_id"]),
            unit_id=str(meta["unit_id"]),
            kind=str(meta["kind"]),
            number=int(meta["number"]),
            marker=str(meta.get("marker", "")),
            section_number=int(meta["section_number"]),
            section_title=str(meta.get("section_title", "")),
            title=str(meta.get("title", "")),
            text=text,
            title_en=str(meta.get("title_en", "")),
            text_en=str(meta.get("text_en", "")),
            subsection_number=int(meta.get("subsection_number", 0)),
            subsection_title=str(meta.get("subsection_title", "")),
            doc_title=str(meta.get("doc_title", "")),
            doc_title_en=str(meta.get("doc_title_en", "")),
        )


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed document: its metadata and its units in reading order."""

    doc_id: str
    title: str
    date: str  # YYYY-MM-DD: the publication date, or the latest adoption/approval/amendment date in the header
    source: str
    sha256: str
    units: tuple[Unit, ...]
    title_en: str = ""
    path: str = ""
    sections: dict[int, str] = field(default_factory=dict)
    short_title: str = ""  # see short_title_for
    kind: str = ""  # 意见 / 条例 / 办法 / … from the title's last word; "" when the title has none
    effective_date: str = ""  # from 自YYYY年M月D日起施行, when the text says so
    warnings: tuple[DocumentWarning, ...] = ()

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)

    @property
    def article_count(self) -> int:
        return sum(1 for u in self.units if u.kind == "article")

    @property
    def section_count(self) -> int:
        return sum(1 for u in self.units if u.kind == "section")

    @property
    def has_translation(self) -> bool:
        """True when an aligned English translation is attached (every other document is Chinese-only)."""
        return any(u.text_en for u in self.units)

    @property
    def languages(self) -> tuple[str, ...]:
        """The language views the document has: ('zh',) or ('zh', 'en')."""
        return ("zh", "en") if self.has_translation else ("zh",)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def doc_id_for(path: Path) -> str:
    """Stable ASCII document id from the file name: `name.zh.txt` → `name`; a Chinese name is written in pinyin.

    `广东省版权条例(2022-03-29).md` → `guang-dong-sheng-ban-quan-tiao-li-2022-03-29` (one syllable per character,
    so anyone can derive it); ids only ever contain a-z, 0-9 and '-', so they are safe in URLs, anchors and flags.
    """
    name = path.name
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = name.removesuffix(".zh")
    if not name.isascii():
        from pypinyin import lazy_pinyin

        name = "-".join(lazy_pinyin(name))
    return _slug(name) or "document"


def translation_path(path: Path) -> Path:
    return path.with_name(f"{doc_id_for(path)}.en.json")


def short_title_for(title: str) -> str:
    """A short title for lists and lookups: the subject after 关于, else the title without its issuing region.

    中共广东省委 广东省人民政府关于新时代广东高质量发展的若干意见 → 新时代广东高质量发展的若干意见;
    广东省知识产权保护条例 → 知识产权保护条例; a title that would shrink below four characters stays whole.
    """
    short = title.split("关于", 1)[1] if "关于" in title else _REGION_PREFIX.sub("", title)
    return short if len(short) >= 4 else title


def _kind_of(title: str) -> str:
    m = _TITLE_WORDS.search(title)
    return m.group(1) if m else ""


@dataclass
class _Draft:
    kind: str
    number: int
    marker: str
    section_number: int
    lines: list[str]
    subsection: tuple[int, str] = (0, "")


def _first_sentence(text: str) -> str:
    m = re.match(r"[^。！？；]+", text)
    return (m.group(0) if m else text).strip()


def _article_title(body: str) -> str:
    """A bracketed title (第一条【立法目的】 / 第一条（立法目的）) if the article has one, else its first sentence."""
    if m := re.match(r"^[【\[（(]([^】\]）)]{1,20})[】\]）)]", body):
        return m.group(1).strip()
    title = _first_sentence(body)
    return title if len(title) <= _MAX_ARTICLE_TITLE else title[: _MAX_ARTICLE_TITLE - 1] + "…"


def _join(lines: list[str], heading: bool = False) -> str:
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

    def __call__(self, line: str) -> tuple[str, int, str, str] | None:
        if (m := _ARTICLE_TIAO.match(line)) and not _REFERENCE_START.match(m.group(2)):
            number = cn_to_int(m.group(1))
            if number > self.article:
                self.article = number
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
            first = lines[i + 1]
            again = next((j for j in range(i + 2, len(lines)) if lines[j] == first), None)
            if again is not None:
                return lines[:i] + lines[again:]
    return lines


def _norm_date(y: str, m: str, d: str) -> str:
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
            date = _norm_date(parts[0], parts[1], parts[2])
            source = m.group(2) or source
        elif m := _SOURCE_LINE.search(ln):
            source = m.group(1)
        elif found := _ADOPTION_DATE.findall(ln):
            dates.extend(_norm_date(*f) for f in found)
        elif not _NOISE.match(ln):
            candidates.append(ln)
    if markdown_title:
        title = markdown_title
    else:
        booked = [m.group(1) for c in candidates if (m := _BOOK_TITLE.match(c))]
        titled = [c for c in candidates if _TITLE_WORDS.search(c)]
        title = (booked or titled or sorted(candidates, key=len, reverse=True) or [doc_id])[0]
    title = title.strip("《》 ")
    return title, date or max(dates, default=""), source


def _split_header(lines: list[str], header_end: int | None, first_struct: int | None) -> int:
    """Index where the body starts: the explicit header end, else the first paragraph or heading."""
    if header_end is not None:
        return header_end
    limit = len(lines) if first_struct is None else first_struct
    return next((i for i, ln in enumerate(lines[:limit]) if len(ln) >= 10 and ln[-1] in "。！？"), limit)


def parse_policy_text(text: str, doc_id: str, path: str = "") -> PolicyDocument:
    """Parse the text of a policy document (see module docstring); DocumentError only if it holds no text at all."""
    lines, header_end = _prepare_lines(text)
    lines = _drop_table_of_contents(lines)
    if header_end is not None:
        header_end = min(header_end, len(lines))
    if not lines:
        raise DocumentError(f"{path or doc_id}: the document is empty", f"{path or doc_id}：文档没有任何文字")
    tiao = any(re.match(r"^第\s*一\s*条", ln) for ln in lines[header_end or 0:])
    classify: _Classifier = _TiaoClassifier() if tiao else _classify
    probe = (lambda ln: _TiaoClassifier()(ln)) if tiao else _classify  # a fresh classifier accepts any number
    first_struct = next((i for i in range(header_end or 0, len(lines)) if probe(lines[i])), None)
    body_start = _split_header(lines, header_end, first_struct)
    title, date, source = _read_header(lines[:body_start], doc_id)
    body = [ln for ln in lines[body_start:] if ln.lstrip("# ") != title]
    warnings: tuple[DocumentWarning, ...] = ()
    if first_struct is None:
        drafts, sections = _paragraph_drafts(body or [ln for ln in lines if ln.lstrip("# ") != title] or lines)
        warnings = (DocumentWarning(
            f"{path or doc_id}: no sections (一、 / 第一章) or articles (（一） / 第一条) found; "
            f"ingested as {len(drafts)} paragraphs",
            f"{path or doc_id}：找不到章节（一、/第一章）或条目（（一）/第一条），已按 {len(drafts)} 个段落收录",
        ),)
        logger.warning(warnings[0].en)
    else:
        drafts, sections = _structured_drafts(body, classify)
    units = _build_units(drafts, sections, doc_id, title, path)
    effective = next((_norm_date(*m.groups()) for u in units if (m := _EFFECTIVE_DATE.search(u.text))), "")
    return PolicyDocument(
        doc_id=doc_id, title=title, date=date, source=source, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        units=tuple(units), path=path, sections=sections, short_title=short_title_for(title), kind=_kind_of(title),
        effective_date=effective, warnings=warnings,
    )


def _paragraph_drafts(body: list[str]) -> tuple[list[_Draft], dict[int, str]]:
    paragraphs = _join(body).split("\n")
    return [_Draft("paragraph", i, "", 0, [p]) for i, p in enumerate(paragraphs, 1)], {}


def _structured_drafts(body: list[str], classify: _Classifier) -> tuple[list[_Draft], dict[int, str]]:
    drafts: list[_Draft] = []
    sections: dict[int, str] = {}
    section, subsection = 0, (0, "")
    for ln in body:
        found = classify(ln)
        if found is None:
            if not drafts:
                drafts.append(_Draft("preamble", 0, "", 0, []))
            drafts[-1].lines.append(ln)
            continue
        kind, number, marker, rest = found
        if kind == "subsection":
            subsection = (number, _CJK_GAP.sub("", rest))
            continue
        if kind == "section":
            section, subsection = number, (0, "")
            sections[number] = _CJK_GAP.sub("", rest)
        drafts.append(_Draft(kind, number, marker, section, [ln], subsection if kind == "article" else (0, "")))
    return drafts, sections


def _build_units(drafts: list[_Draft], sections: dict[int, str], doc_id: str, doc_title: str,
                 path: str) -> list[Unit]:
    # Items numbered （一） afresh inside every section get section-scoped ids, so ids stay unique.
    article_numbers = [d.number for d in drafts if d.kind == "article"]
    scoped = len(article_numbers) != len(set(article_numbers))
    units: list[Unit] = []
    seen: set[str] = set()
    for d in drafts:
        text_joined = _join(d.lines, heading=d.kind == "section")
        if d.kind == "preamble":
            uid, title_u = "P", _first_sentence(text_joined)
        elif d.kind == "paragraph":
            uid, title_u = f"P{d.number}", _article_title(text_joined)
        elif d.kind == "section":
            uid, title_u = f"S{d.number}", sections[d.number]
        else:
            uid = f"S{d.section_number}A{d.number}" if scoped else f"A{d.number}"
            title_u = _article_title(text_joined[len(d.marker):].strip())
        if uid in seen:
            raise DocumentError(
                f"{path or doc_id}: unit {uid} ({d.marker}) appears twice; numbering is ambiguous",
                f"{path or doc_id}：编号 {d.marker} 重复出现，无法确定条目",
            )
        seen.add(uid)
        units.append(Unit(
            doc_id=doc_id, unit_id=uid, kind=d.kind, number=d.number, marker=d.marker,
            section_number=d.section_number, section_title=sections.get(d.section_number, ""),
            title=title_u, text=text_joined, subsection_number=d.subsection[0], subsection_title=d.subsection[1],
            doc_title=doc_title,
        ))
    return units


def _attach_translation(doc: PolicyDocument, data: dict) -> PolicyDocument:
    units_en = data.get("units", {})
    title_en = data.get("doc_title", "")
    units = tuple(
        Unit(**{**u.__dict__, "title_en": units_en.get(u.unit_id, {}).get("title", ""),
                "text_en": units_en.get(u.unit_id, {}).get("text", ""), "doc_title_en": title_en})
        for u in doc.units
    )
    return PolicyDocument(**{**doc.__dict__, "units": units, "title_en": title_en})


def parse_policy_document(path: str | Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> PolicyDocument:
    """Read and parse a document file (.txt/.md/.docx/.pdf/.html), attaching `<doc_id>.en.json` when present."""
    path = Path(path)
    text = read_document_text(path, max_bytes)
    doc = parse_policy_text(text, doc_id_for(path), str(path))
    tpath = translation_path(path)
    if tpath.exists():
        try:
            doc = _attach_translation(doc, json.loads(tpath.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DocumentError(f"translation {tpath} is not valid JSON: {exc}", f"译文 {tpath} 不是有效的 JSON") from None
    return doc

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
  (subsection number and title) on the articles it holds, so retrieval and display still see it. An article
  inserted by an amendment (第十条之一) is a unit of its own, A10-1.
A file with neither style is kept as paragraph units (P1…) with a warning, rather than refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.readers import MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES, read_document_text
from rag.structure import (
    Outline,
    article_title,
    document_kind,
    effective_date,
    first_sentence,
    is_supplementary,
    join_lines,
    outline,
    short_title_for,
)
from rag.text import int_to_cn, int_to_roman

logger = logging.getLogger(__name__)
_MAX_CITED_TITLE = 24  # longer titles are cited by their short title


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
    unit_id: str  # P, S1…, A1…, A10-1 (第十条之一); S2A1… when items restart in each section; P1… plain paragraphs
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
    doc_title_en: str = ""  # the translation's short title (else its full title): what English citations show

    @property
    def label_zh(self) -> str:
        """The citation label in Chinese answers: 第八条 / 第一部分 / 第一章 / 附则 / 序言 / 第3段."""
        if self.kind == "article":
            if self.unit_id.startswith("S"):
                return f"第{int_to_cn(self.section_number)}部分（{int_to_cn(self.number)}）"
            if "-" in self.unit_id:
                return f"第{int_to_cn(self.number)}条之{int_to_cn(int(self.unit_id.rsplit('-', 1)[1]))}"
            return f"第{int_to_cn(self.number)}条"
        if self.kind == "section":
            if is_supplementary(self.marker):
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
            return f"Art. {self.unit_id[1:]}"  # Art. 8, or Art. 10-1 for 第十条之一
        if self.kind == "section":
            if is_supplementary(self.marker):
                return "Supplementary Provisions"
            if self.marker.endswith("章"):
                return f"Chapter {int_to_roman(self.number)}"
            return f"Part {int_to_roman(self.number)}"
        if self.kind == "paragraph":
            return f"Para. {self.number}"
        return "Preamble"

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en

    @property
    def heading_only(self) -> bool:
        """A part or chapter with no text of its own (第四章 促进产业发展): found by lookup, never an answer to a search."""
        return self.kind == "section" and re.sub(r"\s", "", self.text) == re.sub(r"\s", "", self.marker + self.title)

    def document_label(self, language: str) -> str:
        """The label naming the document, for answers over several: 《广东省版权条例》第三十条 / <title>, Art. 30."""
        title = self.doc_title or self.doc_id
        if len(title) > _MAX_CITED_TITLE:  # 中共广东省委 广东省人民政府关于…若干意见 → 新时代广东高质量发展的若干意见
            title = short_title_for(title)
        if language == "zh":
            return f"《{title}》{self.label_zh}"
        return f"{self.doc_title_en or '《' + title + '》'}, {self.label_en}"  # no transliteration: 《…》 as is

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


def parse_policy_text(text: str, doc_id: str, path: str = "") -> PolicyDocument:
    """Parse the text of a policy document (see module docstring); DocumentError only if it holds no text at all."""
    found = outline(text, doc_id)
    if found is None:
        raise DocumentError(f"{path or doc_id}: the document is empty", f"{path or doc_id}：文档没有任何文字")
    warnings: tuple[DocumentWarning, ...] = ()
    if not found.structured:
        warnings = (DocumentWarning(
            f"{path or doc_id}: no sections (一、 / 第一章) or articles (（一） / 第一条) found; "
            f"ingested as {len(found.drafts)} paragraphs",
            f"{path or doc_id}：找不到章节（一、/第一章）或条目（（一）/第一条），已按 {len(found.drafts)} 个段落收录",
        ),)
        logger.warning(warnings[0].en)
    units = _build_units(found, doc_id, path)
    return PolicyDocument(
        doc_id=doc_id, title=found.title, date=found.date, source=found.source,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), units=tuple(units), path=path,
        sections=found.sections, short_title=short_title_for(found.title), kind=document_kind(found.title),
        effective_date=next((e for u in units if (e := effective_date(u.text))), ""), warnings=warnings,
    )


def _build_units(found: Outline, doc_id: str, path: str) -> list[Unit]:
    drafts, sections = found.drafts, found.sections
    # Items numbered （一） afresh inside every section get section-scoped ids, so ids stay unique.
    article_numbers = [(d.number, d.inserted) for d in drafts if d.kind == "article"]
    scoped = len(article_numbers) != len(set(article_numbers))
    units: list[Unit] = []
    seen: set[str] = set()
    for d in drafts:
        text_joined = join_lines(d.lines, heading=d.kind == "section")
        if d.kind == "preamble":
            uid, title_u = "P", first_sentence(text_joined)
        elif d.kind == "paragraph":
            uid, title_u = f"P{d.number}", article_title(text_joined)
        elif d.kind == "section":
            uid, title_u = f"S{d.number}", sections[d.number]
        else:
            uid = f"S{d.section_number}A{d.number}" if scoped else f"A{d.number}"
            uid += f"-{d.inserted}" if d.inserted else ""  # 第十条之一 → A10-1
            title_u = article_title(text_joined[len(d.marker):].strip())
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
            doc_title=found.title,
        ))
    return units


def _attach_translation(doc: PolicyDocument, data: dict) -> PolicyDocument:
    units_en = data.get("units", {})
    title_en = data.get("doc_title", "")
    cited_en = data.get("short_title") or title_en  # what citations naming the document show
    units = tuple(
        Unit(**{**u.__dict__, "title_en": units_en.get(u.unit_id, {}).get("title", ""),
                "text_en": units_en.get(u.unit_id, {}).get("text", ""), "doc_title_en": cited_en})
        for u in doc.units
    )
    return PolicyDocument(**{**doc.__dict__, "units": units, "title_en": title_en})


def parse_policy_document(path: str | Path, max_bytes: int = MAX_DOCUMENT_BYTES,
                          translations: Path | None = None) -> PolicyDocument:
    """Read and parse a document file (.txt/.md/.docx/.pdf/.html), attaching its English translation when there is
    one: `<doc_id>.en.json` beside the file, else in `translations` (the cache `policyqa translate` writes).

    The content hash covers the translation too, so a new translation re-ingests the document."""
    path = Path(path)
    text = read_document_text(path, max_bytes)
    doc = parse_policy_text(text, doc_id_for(path), str(path))
    tpath = translation_path(path)
    if not tpath.exists() and translations is not None:
        tpath = translations / tpath.name
    if tpath.exists():
        raw = tpath.read_text(encoding="utf-8")
        try:
            doc = _attach_translation(doc, json.loads(raw))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DocumentError(f"translation {tpath} is not valid JSON: {exc}", f"译文 {tpath} 不是有效的 JSON") from None
        if translations is not None and tpath.parent == translations:
            digest = hashlib.sha256((doc.sha256 + raw).encode("utf-8")).hexdigest()
            doc = PolicyDocument(**{**doc.__dict__, "sha256": digest})
    return doc

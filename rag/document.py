"""Parse a Chinese policy document into citable units: preamble P, sections S1…, articles A1….

Why a hand-written parser: these documents are structured by numbering conventions (一、 / （一） / 第一条),
not by markup, and published copies carry page-break splits and web-page noise that generic splitters
would cut in the wrong place. One unit is never split; a line that opens nothing continues the unit before it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.text import CN_NUMERAL, cn_to_int, int_to_cn, int_to_roman

_SECTION = re.compile(rf"^(?:({CN_NUMERAL})、|第({CN_NUMERAL}|\d+)[章部分]+\s*)(.+)$")
_ARTICLE_PAREN = re.compile(rf"^[（(]\s*({CN_NUMERAL})\s*[）)]\s*(.*)$")
_ARTICLE_TIAO = re.compile(rf"^第\s*({CN_NUMERAL}|\d+)\s*条\s*(.*)$")
_DATE_LINE = re.compile(r"(?:时间|日期|发布日期|发布时间)[:：]\s*(\d{4}[-年./]\d{1,2}[-月./]\d{1,2}日?)(?:[^来]*来源[:：]\s*(\S+))?")
_SOURCE_LINE = re.compile(r"来源[:：]\s*(\S+)")
_NOISE = re.compile(r"^\[[^\]]*\]\([^)]*\)$|^[\x00-\x7f]+$")  # markdown links, pure-ASCII site banners
_SENTENCE_END = "。！？；：”」"
_TITLE_WORDS = re.compile(r"(意见|通知|办法|规定|决定|方案|条例|规划|纲要|细则|措施)$")


@dataclass(frozen=True)
class Unit:
    """One citable unit of a document, with the metadata stored beside its chunk."""

    doc_id: str
    unit_id: str  # P, S1…, A1… (or S2A1… when items restart numbering in each section)
    kind: str  # "preamble" | "section" | "article"
    number: int
    marker: str  # as printed: （八） / 第八条 / 一、 / ""
    section_number: int
    section_title: str
    title: str  # first sentence (article title) or section title
    text: str  # verbatim Chinese text of the unit
    title_en: str = ""
    text_en: str = ""

    @property
    def label_zh(self) -> str:
        """The citation label in Chinese answers: 第八条 / 第一部分 / 序言."""
        if self.kind == "article":
            if self.unit_id.startswith("S"):
                return f"第{int_to_cn(self.section_number)}部分（{int_to_cn(self.number)}）"
            return f"第{int_to_cn(self.number)}条"
        if self.kind == "section":
            return f"第{int_to_cn(self.number)}部分"
        return "序言"

    @property
    def label_en(self) -> str:
        """The citation label in English answers: Art. 8 / Part I / Preamble."""
        if self.kind == "article":
            if self.unit_id.startswith("S"):
                return f"Part {int_to_roman(self.section_number)} ({self.number})"
            return f"Art. {self.number}"
        if self.kind == "section":
            return f"Part {int_to_roman(self.number)}"
        return "Preamble"

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en

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
            "title": self.title,
            "title_en": self.title_en,
            "text_en": self.text_en,
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
        )


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed document: its metadata and its units in reading order."""

    doc_id: str
    title: str
    date: str
    source: str
    sha256: str
    units: tuple[Unit, ...]
    title_en: str = ""
    path: str = ""
    sections: dict[int, str] = field(default_factory=dict)

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)

    @property
    def article_count(self) -> int:
        return sum(1 for u in self.units if u.kind == "article")

    @property
    def section_count(self) -> int:
        return sum(1 for u in self.units if u.kind == "section")


def doc_id_for(path: Path) -> str:
    """Stable document id from the file name: `name.zh.txt` → `name`."""
    name = path.name
    for suffix in (".txt", ".md"):
        name = name.removesuffix(suffix)
    return name.removesuffix(".zh")


def translation_path(path: Path) -> Path:
    return path.with_name(f"{doc_id_for(path)}.en.json")


@dataclass
class _Draft:
    kind: str
    number: int
    marker: str
    section_number: int
    lines: list[str]


def _first_sentence(text: str) -> str:
    m = re.match(r"[^。！？；]+", text)
    return (m.group(0) if m else text).strip()


def _join(lines: list[str], heading: bool = False) -> str:
    """Join a unit's lines: a line after one that ends mid-sentence is a page-break continuation.

    A section's first line is its heading, which ends without punctuation but is never continued.
    """
    out = ""
    for i, line in enumerate(lines):
        if not out:
            out = line
        elif out[-1] in _SENTENCE_END or (heading and i == 1):
            out += "\n" + line
        else:
            out += line
    return out


def _classify(line: str) -> tuple[str, int, str, str] | None:
    """('section'|'article', number, marker, rest) for a structural line, else None."""
    if m := _ARTICLE_PAREN.match(line):
        return "article", cn_to_int(m.group(1)), line[: m.start(2)].strip(), m.group(2)
    if m := _ARTICLE_TIAO.match(line):
        return "article", cn_to_int(m.group(1)), line[: m.start(2)].strip(), m.group(2)
    if (m := _SECTION.match(line)) and len(line) <= 80 and line[-1] not in "。；":
        return "section", cn_to_int(m.group(1) or m.group(2)), line[: m.start(3)].strip(), m.group(3).strip()
    return None


def parse_policy_text(text: str, doc_id: str, path: str = "") -> PolicyDocument:
    """Parse the text of a policy document (see module docstring). Raises DocumentError if it has no structure."""
    lines = [ln.strip().replace("\u3000", " ") for ln in text.replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    first_struct = next((i for i, ln in enumerate(lines) if _classify(ln)), None)
    if first_struct is None:
        raise DocumentError(
            f"{path or doc_id}: no sections (一、 / 第一章) or articles (（一） / 第一条) found; cannot structure it",
            f"{path or doc_id}：找不到章节（一、/第一章）或条目（（一）/第一条），无法解析该文件",
        )
    # Header: everything before the first long sentence-ending paragraph (the preamble) or the first heading.
    body_start = next(
        (i for i, ln in enumerate(lines[:first_struct]) if len(ln) >= 10 and ln[-1] in "。！？"), first_struct
    )
    header, preamble = lines[:body_start], lines[body_start:first_struct]
    date = source = ""
    candidates: list[str] = []
    for ln in header:
        if m := _DATE_LINE.search(ln):
            date = re.sub(r"[年月./]", "-", m.group(1)).rstrip("日-")
            date = "-".join(p.zfill(2) if i else p for i, p in enumerate(date.split("-")))
            source = m.group(2) or source
        elif m := _SOURCE_LINE.search(ln):
            source = m.group(1)
        elif not _NOISE.match(ln):
            candidates.append(ln)
    titled = [c for c in candidates if _TITLE_WORDS.search(c)]
    title = (titled or sorted(candidates, key=len, reverse=True) or [doc_id])[0]

    drafts: list[_Draft] = []
    if preamble:
        drafts.append(_Draft("preamble", 0, "", 0, list(preamble)))
    section = 0
    for ln in lines[first_struct:]:
        kind = _classify(ln)
        if kind is None:
            drafts[-1].lines.append(ln)
            continue
        k, number, marker, _rest = kind
        if k == "section":
            section = number
        drafts.append(_Draft(k, number, marker, section, [ln]))

    # Items numbered （一） afresh inside every section get section-scoped ids, so ids stay unique.
    article_numbers = [d.number for d in drafts if d.kind == "article"]
    scoped = len(article_numbers) != len(set(article_numbers))
    sections = {d.number: _SECTION.match(d.lines[0]).group(3).strip() for d in drafts if d.kind == "section"}  # type: ignore[union-attr]
    units: list[Unit] = []
    seen: set[str] = set()
    for d in drafts:
        text_joined = _join(d.lines, heading=d.kind == "section")
        if d.kind == "preamble":
            uid, title_u = "P", _first_sentence(text_joined)
        elif d.kind == "section":
            uid, title_u = f"S{d.number}", sections[d.number]
        else:
            uid = f"S{d.section_number}A{d.number}" if scoped else f"A{d.number}"
            body = text_joined[len(d.marker):].strip()
            title_u = _first_sentence(body)
        if uid in seen:
            raise DocumentError(
                f"{path or doc_id}: unit {uid} ({d.marker}) appears twice; numbering is ambiguous",
                f"{path or doc_id}：编号 {d.marker} 重复出现，无法确定条目",
            )
        seen.add(uid)
        units.append(Unit(
            doc_id=doc_id, unit_id=uid, kind=d.kind, number=d.number, marker=d.marker,
            section_number=d.section_number, section_title=sections.get(d.section_number, ""),
            title=title_u, text=text_joined,
        ))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicyDocument(doc_id=doc_id, title=title, date=date, source=source, sha256=digest,
                          units=tuple(units), path=path, sections=sections)


def _attach_translation(doc: PolicyDocument, data: dict) -> PolicyDocument:
    units_en = data.get("units", {})
    units = tuple(
        Unit(**{**u.__dict__, "title_en": units_en.get(u.unit_id, {}).get("title", ""),
                "text_en": units_en.get(u.unit_id, {}).get("text", "")})
        for u in doc.units
    )
    return PolicyDocument(**{**doc.__dict__, "units": units, "title_en": data.get("doc_title", "")})


def parse_policy_document(path: str | Path) -> PolicyDocument:
    """Read and parse a document file, attaching its English translation (`<doc_id>.en.json`) when present."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"document not found: {path}", f"找不到文档：{path}") from None
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{path} is not UTF-8 text", f"{path} 不是 UTF-8 文本") from None
    doc = parse_policy_text(text, doc_id_for(path), str(path))
    tpath = translation_path(path)
    if tpath.exists():
        try:
            doc = _attach_translation(doc, json.loads(tpath.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DocumentError(f"translation {tpath} is not valid JSON: {exc}", f"译文 {tpath} 不是有效的 JSON") from None
    return doc

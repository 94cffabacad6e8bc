"""Explicit references in a question — 第十二条, 第12条, （十二）, Article 12, art. 12, 第一部分, Part I, Section 1 —
and citation markers in an answer ([第八条], [Art. 8], [A8]). One set of patterns serves both directions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import CN_NUMERAL, cn_to_int, roman_to_int

_EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_EN_WORDS = rf"(?:(?:{'|'.join(_EN_TENS)})(?:[- ](?:{'|'.join(_EN_ONES[1:10])}))?|{'|'.join(_EN_ONES[1:])})"
# Numerals beyond the document's range (万, 亿; a sign) are read too, so "Article -1" and 第一万条 name a unit
# that does not exist (→ "no such article") instead of being misread as Art. 1 or ignored.
_CN_NUM = r"[零〇一二两三四五六七八九十百千万亿]+"
_NUM = rf"(?:[-−]?\d+|负?{_CN_NUM})"
_EN_NUM = r"(?:(?<=\s)[-−]\d+|\d+)"  # a sign only after a space: "Article -1", not the hyphen of "Article-1"
_ROMAN = r"(?:[IVXLC]+)"
_SUB = r"(?:\s*之\s*([一二三四五六七八九十]+))?"  # 第十条之一: an article inserted by an amendment (A10-1)
_EN_SUB = r"(?:-(\d+)(?!\d))?"  # Art. 10-1
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("article", re.compile(rf"第\s*({_NUM})\s*条{_SUB}")),
    ("article", re.compile(rf"[（(]\s*({CN_NUMERAL})\s*[）)]")),
    ("article", re.compile(rf"\b(?:articles?|arts?\.?)\s*({_EN_NUM}|{_EN_WORDS}){_EN_SUB}\b", re.I)),
    ("article", re.compile(r"\[\s*A(\d+)(?:-(\d+))?\s*\]")),
    ("section", re.compile(rf"第\s*({_NUM})\s*(?:部分|章|节)")),
    ("section", re.compile(rf"\b(?:parts?|sections?|chapters?)\s+({_ROMAN}|\d+|{_EN_WORDS})\b", re.I)),
    ("section", re.compile(r"\[\s*S(\d+)\s*\]")),
    ("preamble", re.compile(r"序言|\[\s*P\s*\]|\bpreamble\b", re.I)),
]
# In answer text only the forms the prompts ask for count as citations: any bracketed marker, 第X条/第X部分,
# "Article 12"/"Art. 12" and "Part I" (capital P, Roman numeral). A list item （一） and English prose such as
# "part 2" or "as part of Section 3" are not citations.
_ANSWER_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("article", re.compile(rf"第\s*({_NUM})\s*条{_SUB}")),
    ("article", re.compile(rf"\b(?:Articles?|Arts?\.?)\s*({_EN_NUM}){_EN_SUB}\b")),
    ("article", re.compile(r"\[\s*A(\d+)(?:-(\d+))?\s*\]")),
    ("section", re.compile(rf"第\s*({_NUM})\s*部分")),
    ("section", re.compile(rf"\bPart\s+({_ROMAN})\b")),
    ("section", re.compile(r"\[\s*S(\d+)\s*\]")),
    ("preamble", re.compile(r"序言|\[\s*P\s*\]|\bPreamble\b")),
]


@dataclass(frozen=True)
class Reference:
    """A reference to a unit by number, as written in the text (`raw`) at `start`."""

    kind: str  # "article" | "section" | "preamble"
    number: int
    raw: str
    start: int
    inserted: int = 0  # K of 第N条之K (an article inserted by an amendment), else 0

    @property
    def unit_id(self) -> str:
        if self.kind == "article" and self.inserted:
            return f"A{self.number}-{self.inserted}"
        return {"article": f"A{self.number}", "section": f"S{self.number}", "preamble": "P"}[self.kind]


def english_number(words: str) -> int:
    """'twenty-one' -> 21 (1..99 written in English words)."""
    total = 0
    for w in re.split(r"[- ]+", words.lower()):
        total += _EN_TENS.get(w, 0) or (_EN_ONES.index(w) if w in _EN_ONES else 0)
    return total


def _cn_int(token: str) -> int:
    """A Chinese numeral of any size (一万, 一万零五, 三亿); cn_to_int covers the smaller ones."""
    for unit, value in (("亿", 10**8), ("万", 10**4)):
        if unit in token:
            high, _, low = token.partition(unit)
            return (_cn_int(high) if high else 1) * value + (_cn_int(low.lstrip("零")) if low.strip("零") else 0)
    return cn_to_int(token)


def _to_int(token: str) -> int:
    token = token.strip()
    if token[:1] in "-−负" and len(token) > 1:
        return -_to_int(token[1:])  # a negative number names no unit
    if token.isdigit():
        return int(token)
    if re.fullmatch(_EN_WORDS, token, re.I):
        return english_number(token)
    try:
        return roman_to_int(token)
    except ValueError:
        return _cn_int(token)


def find_references(text: str, *, in_answer: bool = False) -> list[Reference]:
    """Every explicit unit reference in `text`, in order of appearance, without duplicates.

    `in_answer`: read `text` as an answer, where only citation forms count (see _ANSWER_PATTERNS).
    """
    found: dict[tuple[str, int, int], Reference] = {}
    taken: list[range] = []
    for kind, pattern in _ANSWER_PATTERNS if in_answer else _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() in r for r in taken):
                continue
            token = m.group(1) if m.groups() else ""
            sub = m.group(2) if m.re.groups >= 2 else None
            try:
                number = _to_int(token) if token else 0
                inserted = _to_int(sub) if sub else 0
            except ValueError:
                continue
            taken.append(range(m.start(), m.end()))
            key = (kind, number, inserted)
            if key not in found or m.start() < found[key].start:  # where it is first named, by whichever form
                found[key] = Reference(kind, number, m.group(0), m.start(), inserted)
    return sorted(found.values(), key=lambda r: r.start)


# "下面有哪几条？" / "How many articles sit under that part?": a part asked for the articles it holds.
_ASKS_FOR_ARTICLES = re.compile(r"哪几条|哪些条|几条|多少条|\b(?:how many|which|what) articles\b|"
                                r"\barticles (?:sit|are|fall|come) (?:under|in)\b|\b(?:list|name) (?:the|its|all) articles\b",
                                re.I)


def asks_for_articles(question: str) -> bool:
    """Whether the question asks which articles a part holds (answered with the part and its articles)."""
    return _ASKS_FOR_ARTICLES.search(question) is not None

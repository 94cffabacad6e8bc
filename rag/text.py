"""Small text utilities shared by parsing, retrieval and answering: numerals, language, cleaning, sentences."""

from __future__ import annotations

import re
import unicodedata

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千]+"


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral up to 9999 (一, 十二, 一百零五, 一千零五, 两千) or ASCII digits to an int.

    Lenient on purpose (it also reads numerals in user questions such as 百分之五六十); 万 and above are a ValueError.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def int_to_cn(n: int) -> str:
    """Convert 1..9999 to a Chinese numeral as documents write them (十二, 一百零五, 一千零五, 一千一百九十九).

    One 零 stands for any run of zeros between non-zero digits; a leading 一十 is written 十 (十二, but 一百一十).
    """
    if not 0 < n < 10_000:
        raise ValueError(f"out of range: {n}")
    digits = "零一二三四五六七八九"
    out, zero_pending = "", False
    for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // place % 10
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out += "零"
            zero_pending = False
        out += unit if (place == 10 and d == 1 and not out) else digits[d] + unit
    return out


_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def int_to_roman(n: int) -> str:
    out = ""
    for value, symbol in _ROMAN:
        while n >= value:
            out += symbol
            n -= value
    return out


def roman_to_int(text: str) -> int:
    text = text.upper()
    if not text or not re.fullmatch(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})", text):
        raise ValueError(f"not a Roman numeral: {text!r}")
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for i, ch in enumerate(text):
        v = values[ch]
        total += -v if i + 1 < len(text) and values[text[i + 1]] > v else v
    return total


#: Han characters (CJK unified ideographs, extension A, compatibility ideographs): the one definition of "Chinese".
CJK_CHARS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_CHARS}]")


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> str:
    """'zh' or 'en': Chinese when CJK characters outweigh Latin words (a name like 横琴 in English stays English)."""
    cjk = len(CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return "zh" if cjk and cjk >= words * 2 else "en"


# A phrase the asker quotes: “氢” / 「新型」 / "core engine" / 'new-type' (straight single quotes only around a phrase,
# not an apostrophe: the plan's, don't).
_QUOTED = re.compile(r"“([^”]{1,40})”|「([^」]{1,40})」|‘([^’]{2,40})’|\"([^\"]{1,40})\"|(?<![A-Za-z])'([^']{2,40})'(?![A-Za-z])")


def quoted_terms(text: str) -> list[str]:
    """The phrases a question quotes, in order, without repeats: a quoted phrase is the asker pointing at the
    document's own wording, so where it occurs matters more than what it resembles."""
    terms = (next(g for g in m.groups() if g is not None).strip(" ，,。.") for m in _QUOTED.finditer(text))
    return list(dict.fromkeys(t for t in terms if t))


def clean_question(text: str) -> str:
    """Drop control/format characters and collapse whitespace, keeping every printable character."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t\r":
            kept.append(" ")
        elif cat.startswith("C"):
            continue
        else:
            kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


_ZH_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
_EN_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(\"'“])")
_EN_HEADING = re.compile(r"^[IVXLC]+\.\s+[^.]+$")  # "I. General Requirements": one piece, not "I." + rest


def split_sentences(text: str, language: str) -> list[str]:
    """Split a unit's text into sentences (Chinese on 。！？；, English on sentence punctuation)."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        if language == "zh":
            parts = _ZH_SENTENCE.findall(para)
        else:
            parts = [para] if _EN_HEADING.match(para) else _EN_SENTENCE.split(para)
        out.extend(p.strip() for p in parts if p.strip())
    return out

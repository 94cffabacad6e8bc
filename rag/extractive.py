"""The offline answerer: no LLM. It quotes the sentences of the best units that best match the question,
each with its citation, in the question's language (English from the aligned translation). Deterministic.

Why extractive: no instruct model that installs offline is good enough (see DESIGN.md); quoting the document
is always faithful, and a refusal below a calibrated confidence keeps it from answering what it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prompts import load_prompt
from rag.answer import Citation
from rag.document import Unit
from rag.retrieval import HybridRetriever, SearchOutcome
from rag.text import split_sentences

# Refuse when the best unit covers less than this IDF-weighted share of the question's terms.
# Calibrated on eval/cases.jsonl (answerable vs unanswerable questions); see README "Answer quality".
REFUSAL_THRESHOLD = {"zh": 0.45, "en": 0.45}
MAX_SENTENCES = 3
LOOKUP_SENTENCES = 4
_MARKER_PREFIX = re.compile(r"^(?:[（(]\s*[一二三四五六七八九十百]+\s*[）)]|\(\d+\)|第[一二三四五六七八九十百\d]+条)\s*")


@dataclass(frozen=True)
class Extract:
    """An extractive answer before it becomes an Answer."""

    text: str
    citations: list[Citation]
    refused: bool
    confidence: float


def unit_sentences(unit: Unit, language: str) -> list[str]:
    """Sentences of a unit in `language` (English from the translation, Chinese if there is none)."""
    if language == "en" and unit.text_en:
        return split_sentences(unit.text_en, "en")
    return split_sentences(unit.text, "zh")


def aligned_quotes(unit: Unit, sentence: str, language: str) -> tuple[str, str]:
    """(Chinese, English) versions of a quoted sentence: the translation is aligned sentence by sentence."""
    zh, en = split_sentences(unit.text, "zh"), split_sentences(unit.text_en, "en") if unit.text_en else []
    mine, other = (en, zh) if language == "en" else (zh, en)
    if sentence in mine and len(zh) == len(en):
        i = mine.index(sentence)
        return (other[i], sentence) if language == "en" else (sentence, other[i])
    return (sentence, "") if language == "zh" else ("", sentence)


def _strip_marker(sentence: str) -> str:
    return _MARKER_PREFIX.sub("", sentence).strip()


def _with_citation(sentence: str, label: str, language: str) -> str:
    body = _strip_marker(sentence).rstrip("。；;.!?！？ ")
    return f"{body}[{label}]。" if language == "zh" else f"{body} [{label}]."


def refusal_text(language: str) -> str:
    return load_prompt(f"refusal_{language}")


def extractive_answer(outcome: SearchOutcome, retriever: HybridRetriever, language: str,
                      question: str | None = None) -> Extract:
    """Compose the answer for `outcome` (see module docstring)."""
    question = question or outcome.question
    if outcome.missing:
        return Extract(outcome.notice, [], True, 0.0)
    if not outcome.results:
        return Extract(refusal_text(language), [], True, 0.0)
    joiner = "" if language == "zh" else " "
    intro = load_prompt(f"intro_{language}")

    if outcome.results[0].match == "lookup":  # 第八条讲了什么 → the unit's own opening sentences
        parts, citations = [], []
        for r in outcome.results[:3]:
            label = r.unit.label(language)
            chosen = [s for s in unit_sentences(r.unit, language) if _strip_marker(s)][:LOOKUP_SENTENCES]
            parts.append(joiner.join(_with_citation(s, label, language) for s in chosen))
            citations.append(Citation(r.unit.unit_id, r.unit.doc_id, label, r.unit.title, chosen[0] if chosen else ""))
        return Extract(intro + "\n" + "\n".join(parts), citations, False, 1.0)

    top = outcome.results[0].unit
    confidence = retriever.coverage(question, _text(top, language), language)
    if confidence < REFUSAL_THRESHOLD[language]:
        return Extract(refusal_text(language), [], True, confidence)

    scored: list[tuple[float, int, int, str, Unit]] = []
    for rank, r in enumerate(outcome.results[:3]):
        for pos, sentence in enumerate(unit_sentences(r.unit, language)):
            if not _strip_marker(sentence) or re.match(r"^[IVXLC]+\.\s|^[一二三四五六七八九十]+、", sentence):
                continue  # bare headings say nothing by themselves
            score = retriever.coverage(question, sentence, language) - 0.08 * rank
            scored.append((score, rank, pos, sentence, r.unit))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    best = scored[0][0] if scored else 0.0
    chosen = [t for t in scored if t[0] >= best * 0.6 and t[0] > 0][:MAX_SENTENCES]
    if len({t[4].unit_id for t in chosen}) > 2:
        keep = {chosen[0][4].unit_id, chosen[1][4].unit_id}
        chosen = [t for t in chosen if t[4].unit_id in keep]
    if not chosen:  # nothing matches at sentence level: quote the top unit's opening
        first = next(s for s in unit_sentences(top, language) if _strip_marker(s))
        chosen = [(0.0, 0, 0, first, top)]
    chosen.sort(key=lambda t: (t[1], t[2]))  # reading order: by unit rank, then position in the unit
    sentences = [_with_citation(t[3], t[4].label(language), language) for t in chosen]
    citations = [Citation(t[4].unit_id, t[4].doc_id, t[4].label(language), t[4].title, t[3]) for t in chosen]
    return Extract(intro + "\n" + joiner.join(sentences), citations, False, confidence)


def _text(unit: Unit, language: str) -> str:
    return unit.text_en if language == "en" and unit.text_en else unit.text

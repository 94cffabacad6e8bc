"""The public functions the CLI, UI and eval call: ingest, search, answer. Nothing else reaches inside rag."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from rag.answer_types import Answer, AnswerEvent, Final
from rag.chain import AnswerChain, run_chain
from rag.config import Settings, load_settings
from rag.document import PolicyDocument, parse_policy_document
from rag.question import prepare_question
from rag.retrieval import HybridRetriever, SearchOutcome
from vectorstore import StoreEmpty, StoreUnavailable

log = logging.getLogger(__name__)
_lock = threading.Lock()
_retrievers: dict[tuple, HybridRetriever] = {}


def _store_key(settings: Settings) -> tuple:
    """What identifies an index: answering options (backend, k, language) share one retriever."""
    return (settings.store_dir, settings.chroma_host, settings.chroma_port, settings.collection, settings.embeddings)


def get_retriever(settings: Settings) -> HybridRetriever:
    """One retriever per index, built on first use (loads units, builds BM25, loads the embedding model).

    It is rebuilt when the index's live generation changes, so a running UI picks up a new `policyqa ingest`.
    """
    key = _store_key(settings)
    with _lock:
        cached = _retrievers.get(key)
        try:
            if cached is not None and cached.generation == cached.store.generation():
                return cached
            from rag.index import open_store

            retriever = HybridRetriever(open_store(settings))  # read-only: opens, never creates
            retriever.store.embed_query("warm up")  # load the model now, not on the first question
        except (StoreEmpty, StoreUnavailable) as exc:
            from rag.index import store_error

            log.info("cannot open the index", exc_info=True)
            raise store_error(settings, exc) from None
        _retrievers[key] = retriever
        return retriever


def reset() -> None:
    """Forget cached retrievers (after an ingest in the same process)."""
    with _lock:
        _retrievers.clear()


def search(question: str, *, settings: Settings | None = None, k: int | None = None, language: str = "auto",
           mode: str = "hybrid") -> SearchOutcome:
    """Units relevant to `question`: explicit references by lookup, else hybrid search, best first."""
    settings = settings or load_settings()
    q = prepare_question(question, max_chars=settings.max_question_chars, language=language)
    retriever = get_retriever(settings)
    try:
        return retriever.search(q.text, q.language, k or settings.top_k, mode)
    except (StoreEmpty, StoreUnavailable) as exc:
        from rag.index import store_error

        raise store_error(settings, exc) from None


def stream_answer(question: str, *, history: Sequence[Any] | None = None, settings: Settings | None = None,
                  backend: str | None = None, language: str = "auto", k: int | None = None) -> Iterator[AnswerEvent]:
    """Answer a question (with the conversation so far), yielding checked text deltas and then the Answer.

    `history` is the conversation before this question: Gradio-style messages, (user, assistant) pairs, or
    plain previous questions. Input errors raise InputError before anything is yielded.
    """
    settings = settings or load_settings()
    if backend:
        settings = settings.with_overrides(backend=backend)
    lang = language if language in ("zh", "en") else settings.language
    q = prepare_question(question, max_chars=settings.max_question_chars, language=lang)
    chain = AnswerChain(get_retriever(settings), settings)
    yield from run_chain(chain, q.text, q.language, list(history or []), k or settings.top_k)


def answer(question: str, **kwargs: Any) -> Answer:
    """Answer a question (see `stream_answer` for the arguments) and return the complete Answer."""
    for event in stream_answer(question, **kwargs):
        if isinstance(event, Final):
            return event.answer
    raise RuntimeError("the answer chain ended without an answer")


def list_documents(settings: Settings) -> list[PolicyDocument]:
    """The configured documents, parsed (for tables of contents and full-text views)."""
    return [parse_policy_document(p) for p in settings.data_files]

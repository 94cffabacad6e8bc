"""The public functions the CLI, UI and eval call: ingest, search, answer. Nothing else reaches inside rag."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from rag.answer_types import Answer, AnswerEvent, Final
from rag.chain import AnswerChain, run_chain
from rag.colloquial import expand_colloquial
from rag.config import Settings, load_settings
from rag.document import PolicyDocument, Unit, doc_id_for, parse_policy_document
from rag.question import prepare_history, prepare_question
from rag.retrieval import HybridRetriever, SearchOutcome
from vectorstore import StoreEmpty, StoreUnavailable

log = logging.getLogger(__name__)
_lock = threading.Lock()
_retrievers: dict[tuple, HybridRetriever] = {}


def _store_key(settings: Settings) -> tuple:
    """What identifies an index: answering options (backend, k, language) share one retriever."""
    return (settings.store_dir, settings.chroma_host, settings.chroma_port, settings.collection, settings.embeddings)


def get_retriever(settings: Settings) -> HybridRetriever:
    """One retriever per index, built on first use (loads units, builds BM25; the embedding model loads on the
    first search that needs it, so a lookup such as 第八条 never pays for it).

    It is rebuilt when the index's live generation changes, so a running UI picks up a new `policyqa ingest`.
    """
    key = _store_key(settings)
    with _lock:
        cached = _retrievers.get(key)
        try:
            if cached is not None and cached.generation == cached.store.generation():
                return cached
            from rag.index import open_store

            _ingest_if_new(settings)
            retriever = HybridRetriever(open_store(settings), cache_dir=settings.cache_dir)  # opens, never creates
        except (StoreEmpty, StoreUnavailable) as exc:
            from rag.index import store_error

            log.info("cannot open the index", exc_info=True)
            raise store_error(settings, exc) from None
        _retrievers[key] = retriever
        return retriever


def _ingest_if_new(settings: Settings) -> None:
    """The embedded default just works: where no store exists yet, ingest the configured documents first
    (with a progress bar on a terminal). An existing store, even an empty or broken one, is never touched."""
    if settings.uses_chroma_server or settings.store_dir.exists():
        return
    import sys

    from rag.index import ingest

    log.info("no store at %s: ingesting %d document(s)", settings.store_dir, len(settings.data_files))
    print(f"policyqa: first use — indexing the documents into {settings.store_dir} …", file=sys.stderr, flush=True)
    ingest(settings, progress=sys.stderr.isatty())


def reset() -> None:
    """Forget cached retrievers (after an ingest in the same process)."""
    with _lock:
        _retrievers.clear()


def search(question: str, *, settings: Settings | None = None, k: int | None = None, language: str = "auto",
           mode: str = "hybrid", documents: Sequence[str] | None = None) -> SearchOutcome:
    """Units relevant to `question`: explicit references by lookup, else hybrid search, best first.

    `documents`: the ids of the documents to search (None: all stored ones; an unknown id is an InputError)."""
    settings = settings or load_settings()
    q = prepare_question(question, max_chars=settings.max_question_chars, language=language)
    retriever = get_retriever(settings)
    try:
        return retriever.search(expand_colloquial(q.text, q.language), q.language, k or settings.top_k, mode,
                                documents=documents)
    except (StoreEmpty, StoreUnavailable) as exc:
        from rag.index import store_error

        raise store_error(settings, exc) from None


def stream_answer(question: str, *, history: Sequence[Any] | None = None, settings: Settings | None = None,
                  backend: str | None = None, language: str = "auto", k: int | None = None,
                  documents: Sequence[str] | None = None) -> Iterator[AnswerEvent]:
    """Answer a question (with the conversation so far), yielding checked text deltas and then the Answer.

    `history` is the conversation before this question: Gradio-style messages, (user, assistant) pairs, or
    plain previous questions. `language` ("zh" / "en") fixes the answer language; "auto" answers in the
    question's. Retrieval always uses the question's language. Input errors raise InputError before anything
    is yielded. `documents` limits the question to those document ids (None: every stored document).
    """
    settings = settings or load_settings()
    if backend:
        settings = settings.with_overrides(backend=backend)
    lang = language if language in ("zh", "en") else settings.language
    q = prepare_question(question, max_chars=settings.max_question_chars, language=lang)
    turns = prepare_history(history, max_chars=settings.max_question_chars, turns=settings.history_turns)
    retriever = get_retriever(settings)
    scope = retriever.scope(documents) if documents else None  # an unknown id fails before anything is yielded
    chain = AnswerChain(retriever, settings)
    yield from run_chain(chain, q.text, q.language, turns, k or settings.top_k, documents=scope)


def answer(question: str, **kwargs: Any) -> Answer:
    """Answer a question (see `stream_answer` for the arguments) and return the complete Answer."""
    for event in stream_answer(question, **kwargs):
        if isinstance(event, Final):
            return event.answer
    raise RuntimeError("the answer chain ended without an answer")


def list_documents(settings: Settings) -> list[PolicyDocument]:
    """The configured documents, parsed (for tables of contents and full-text views)."""
    return [parse_policy_document(p) for p in settings.data_files]


def documents_in_store(settings: Settings) -> list[PolicyDocument]:
    """Every stored document as indexed (uploads and LLM translations included), configured ones first.

    Rebuilt from the store's units, so a full-text view shows exactly what questions are answered from."""
    from rag.index import stored_document_info

    retriever = get_retriever(settings)
    units: dict[str, list[Unit]] = {}
    for (doc_id, _uid), unit in retriever.units.items():  # in stored (reading) order
        units.setdefault(doc_id, []).append(unit)
    info = stored_document_info(settings)
    configured = [doc_id_for(p) for p in settings.data_files]
    order = [d for d in configured if d in units] + [d for d in units if d not in configured]

    def field(doc_id: str, name: str, default: str = "") -> str:
        return str(info.get(doc_id, {}).get(name, "") or default)

    return [PolicyDocument(doc_id=d, title=field(d, "title", units[d][0].doc_title), date=field(d, "date"),
                           source=field(d, "source"), sha256="", units=tuple(units[d]),
                           title_en=field(d, "title_en", units[d][0].doc_title_en))
            for d in order]

"""policyqa core: parse → store → retrieve → answer. The CLI, UI and eval use only what is exported here.

Exports load lazily (PEP 562): `policyqa ingest` needs the parser and the store, not the answer chain's
LangChain, tokenizer and jieba imports, and starts ~1 s faster for it.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

# A library logs; the application decides where to: without its configuration nothing (no traceback) is printed.
logging.getLogger(__name__).addHandler(logging.NullHandler())

_EXPORTS = {
    "rag.answer_types": ["Answer", "AnswerEvent", "Citation", "Final", "Source", "TextDelta"],
    "rag.api": ["answer", "documents_in_store", "get_retriever", "list_documents", "reset", "search", "stream_answer"],
    "rag.config": ["Settings", "load_settings"],
    "rag.document": ["PolicyDocument", "Unit", "parse_policy_document"],
    "rag.errors": ["DocumentError", "InputError", "LLMError", "PolicyQAError", "SettingsError", "StoreError"],
    "rag.index": ["StoredDocument", "build_synthetic_store", "ingest", "remove_document", "stored_documents"],
    "rag.llm": ["available_backends", "backend_label", "resolve_backend"],
    "rag.retrieval": ["SearchOutcome", "SearchResult"],
    "rag.text": ["CJK_CHARS", "detect_language", "has_cjk", "split_sentences"],
    "rag.translate": ["store_translation", "translate_document"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [  # noqa: RUF022 — grouped like _EXPORTS
    "Answer", "AnswerEvent", "Citation", "Final", "Source", "TextDelta",
    "answer", "documents_in_store", "get_retriever", "list_documents", "reset", "search", "stream_answer",
    "Settings", "load_settings",
    "PolicyDocument", "Unit", "parse_policy_document",
    "DocumentError", "InputError", "LLMError", "PolicyQAError", "SettingsError", "StoreError",
    "StoredDocument", "build_synthetic_store", "ingest", "remove_document", "stored_documents",
    "available_backends", "backend_label", "resolve_backend",
    "SearchOutcome", "SearchResult",
    "CJK_CHARS", "detect_language", "has_cjk", "split_sentences",
    "store_translation", "translate_document",
]
assert sorted(__all__) == sorted(_MODULE_OF)

if TYPE_CHECKING:
    from rag.answer_types import Answer, AnswerEvent, Citation, Final, Source, TextDelta
    from rag.api import answer, documents_in_store, get_retriever, list_documents, reset, search, stream_answer
    from rag.config import Settings, load_settings
    from rag.document import PolicyDocument, Unit, parse_policy_document
    from rag.errors import DocumentError, InputError, LLMError, PolicyQAError, SettingsError, StoreError
    from rag.index import StoredDocument, build_synthetic_store, ingest, remove_document, stored_documents
    from rag.llm import available_backends, backend_label, resolve_backend
    from rag.retrieval import SearchOutcome, SearchResult
    from rag.text import CJK_CHARS, detect_language, has_cjk, split_sentences
    from rag.translate import store_translation, translate_document


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)

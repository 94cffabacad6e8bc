"""policyqa core: parse → store → retrieve → answer. The CLI, UI and eval use only what is exported here."""

from rag.answer import Answer, AnswerEvent, Citation, Final, Source, TextDelta
from rag.api import answer, get_retriever, reset, search, stream_answer
from rag.config import Settings, load_settings
from rag.document import PolicyDocument, Unit, parse_policy_document
from rag.errors import DocumentError, InputError, LLMError, PolicyQAError, StoreError
from rag.index import build_synthetic_store, ingest
from rag.llm import backend_label, resolve_backend
from rag.retrieval import SearchOutcome, SearchResult
from rag.text import detect_language


def list_documents(settings: Settings) -> list[PolicyDocument]:
    """The configured documents, parsed (for tables of contents and full-text views)."""
    return [parse_policy_document(p) for p in settings.data_files]


__all__ = [
    "Answer", "AnswerEvent", "Citation", "DocumentError", "Final", "InputError", "LLMError", "PolicyDocument",
    "PolicyQAError", "SearchOutcome", "SearchResult", "Settings", "Source", "StoreError", "TextDelta", "Unit",
    "answer", "backend_label", "build_synthetic_store", "detect_language", "get_retriever", "ingest", "list_documents", "load_settings", "parse_policy_document",
    "reset", "resolve_backend", "search", "stream_answer",
]

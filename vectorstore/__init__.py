"""Embeddings and Chroma collection management. Knows nothing of policy documents: texts, ids, metadata."""

from vectorstore.embeddings import USEEmbeddings, make_embeddings
from vectorstore.store import (
    WRITE_LOCK,
    CollectionMissing,
    Record,
    StoreEmpty,
    StoreUnavailable,
    VectorStore,
    make_chroma_client,
    split_text,
)

__all__ = [
    "WRITE_LOCK",
    "CollectionMissing",
    "Record",
    "StoreEmpty",
    "StoreUnavailable",
    "USEEmbeddings",
    "VectorStore",
    "make_chroma_client",
    "make_embeddings",
    "split_text",
]

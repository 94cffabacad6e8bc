"""Embeddings and Chroma collection management. Knows nothing of policy documents: texts, ids, metadata."""

from vectorstore.embeddings import USEEmbeddings, make_embeddings
from vectorstore.store import (
    CollectionMissing,
    Record,
    StoreEmpty,
    StoreUnavailable,
    VectorStore,
    make_chroma_client,
    split_text,
)

__all__ = [
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

"""Embeddings and Chroma collection management. Knows nothing of policy documents: texts, ids, metadata."""

from vectorstore.embeddings import USEEmbeddings, make_embeddings
from vectorstore.store import Record, StoreEmpty, StoreUnavailable, VectorStore, make_chroma_client

__all__ = [
    "Record",
    "StoreEmpty",
    "StoreUnavailable",
    "USEEmbeddings",
    "VectorStore",
    "make_chroma_client",
    "make_embeddings",
]

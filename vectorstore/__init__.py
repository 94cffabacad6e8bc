"""Embeddings and Chroma collection management. Knows nothing of policy documents: texts, ids, metadata."""

from vectorstore.client import make_chroma_client
from vectorstore.embeddings import E5Embeddings, USEEmbeddings, make_embeddings
from vectorstore.failures import CollectionMissing, StoreEmpty, StoreUnavailable
from vectorstore.locks import WRITE_LOCK
from vectorstore.store import Record, VectorStore, split_text

__all__ = [
    "WRITE_LOCK",
    "CollectionMissing",
    "E5Embeddings",
    "Record",
    "StoreEmpty",
    "StoreUnavailable",
    "USEEmbeddings",
    "VectorStore",
    "make_chroma_client",
    "make_embeddings",
    "split_text",
]

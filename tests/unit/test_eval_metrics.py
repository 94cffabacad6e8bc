"""Hand-computed values for every metric in eval.metrics, so a wrong definition cannot pass silently."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from eval.metrics import (
    METRIC_ALIASES,
    METRICS,
    check_thresholds,
    citation_precision,
    citation_recall,
    citations_in_context,
    context_precision_ids,
    context_recall_ids,
    faithfulness_lexical,
    full_summary,
    hit_at_k,
    key_point_coverage,
    language_match,
    load_thresholds,
    missing_key_points,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    refusal_correct,
    score_row,
    split_answer_sentences,
    strip_citation_markers,
    summarize,
)

THRESHOLDS = Path(__file__).resolve().parents[2] / "eval" / "thresholds.toml"


# ---------------------------------------------------------------------------------------------- retrieval


def test_hit_at_k_counts_only_the_first_k():
    retrieved, gold = ["A2", "A8", "A5"], ["A8"]
    assert hit_at_k(retrieved, gold, 1) == 0.0
    assert hit_at_k(retrieved, gold, 2) == 1.0
    assert hit_at_k(retrieved, gold, 3) == 1.0
    assert hit_at_k(["A1", "A2"], ["A8"], 5) == 0.0
    assert hit_at_k(retrieved, [], 3) is None
    with pytest.raises(ValueError):
        hit_at_k(retrieved, gold, 0)


def test_reciprocal_rank():
    assert reciprocal_rank(["A2", "A8", "A5"], ["A8"]) == 0.5
    assert reciprocal_rank(["A8"], ["A8"]) == 1.0
    assert reciprocal_rank(["A2", "A5", "A8", "A9"], ["A9", "A8"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["A2", "A5"], ["A8"]) == 0.0
    assert reciprocal_rank(["A2"], []) is None
    # a duplicate does not push the gold unit down the ranking
    assert reciprocal_rank(["A2", "A2", "A8"], ["A8"]) == 0.5


def test_ndcg_single_gold():
    # DCG = 1/log2(3); IDCG = 1/log2(2) = 1
    assert ndcg_at_k(["A2", "A8", "A5"], ["A8"], 5) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["A8", "A2"], ["A8"]) == pytest.approx(1.0)
    assert ndcg_at_k(["A1", "A2", "A3", "A4", "A5", "A8"], ["A8"], 5) == 0.0
    assert ndcg_at_k(["A1"], [], 5) is None


def test_ndcg_multiple_gold_uses_min_of_gold_and_k_for_the_ideal():
    # relevant at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal: ranks 1, 2 → 1 + 1/log2(3)
    expected = 1.5 / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["A1", "X", "A2"], ["A1", "A2"], 5) == pytest.approx(expected)
    # 3 gold but k=2: ideal is 2 relevant in the top 2; one relevant at rank 2 → (1/log2 3) / (1 + 1/log2 3)
    got = ndcg_at_k(["X", "A1"], ["A1", "A2", "A3"], 2)
    assert got == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_context_precision_and_recall_ids_follow_ragas():
    # RAGAS IDBasedContextPrecision/Recall: |ret ∩ ref| / |ret| and |ret ∩ ref| / |ref|
    retrieved, reference = ["A2", "A8", "A5"], ["A8", "A9"]
    assert context_precision_ids(retrieved, reference) == pytest.approx(1 / 3)
    assert context_recall_ids(retrieved, reference) == pytest.approx(1 / 2)
    # rank-insensitive
    assert context_precision_ids(["A8", "A2", "A5"], reference) == pytest.approx(1 / 3)
    # truncation to k
    assert context_precision_ids(retrieved, reference, k=2) == pytest.approx(1 / 2)
    assert context_recall_ids(retrieved, reference, k=1) == 0.0
    # duplicates count once (RAGAS uses sets)
    assert context_precision_ids(["A8", "A8", "A2"], ["A8"]) == pytest.approx(1 / 2)
    # undefined denominators
    assert context_precision_ids([], reference) is None
    assert context_recall_ids(retrieved, []) is None
    assert context_recall_ids([], ["A8"]) == 0.0


# ---------------------------------------------------------------------------------------------- citations


def test_citation_precision_with_an_unretrieved_citation():
    retrieved = ["A2", "A8", "A5"]
    citations = ["A8", "A30"]  # A30 was never retrieved and is not gold
    gold = ["A8"]
    assert citation_precision(citations, gold) == 0.5
    assert citation_recall(citations, gold) == 1.0
    assert citations_in_context(citations, retrieved) == 0.5


def test_citation_metrics_on_empty_inputs():
    assert citation_precision([], ["A8"]) is None  # undefined, excluded from means
    assert citation_recall([], ["A8"]) == 0.0
    assert citation_precision(["A8"], []) is None
    assert citation_recall(["A8"], []) is None
    assert citations_in_context([], ["A8"]) is None


def test_citation_metrics_are_exact_on_ids_and_ignore_duplicates():
    assert citation_precision(["S4"], ["A13"]) == 0.0  # a section does not stand for its article
    assert citation_precision(["A8", "A8", "A9"], ["A8", "A9", "A10"]) == 1.0
    assert citation_recall(["A8", "A8", "A9"], ["A8", "A9", "A10"]) == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------------------------- key points


def test_key_point_coverage_zh_ignores_whitespace_punctuation_and_markers():
    answer = "重点发展集成电路、新能源 汽车等产业[第八条]。"
    assert key_point_coverage(answer, ["集成电路", "新能源汽车", "生物医药"], "zh") == pytest.approx(2 / 3)
    assert missing_key_points(answer, ["集成电路", "新能源汽车", "生物医药"], "zh") == ["生物医药"]
    # punctuation inside the key point is ignored too
    assert key_point_coverage("到2027年，GDP达到15万亿元", ["2027年", "15万亿"], "zh") == 1.0
    # a marker between the words does not break the match
    assert key_point_coverage("发展集成[第八条]电路", ["集成电路"], "zh") == 1.0
    assert key_point_coverage(answer, [], "zh") is None


def test_key_point_coverage_en_uses_content_words_with_60_percent_rule():
    answer = "Guangdong will develop integrated circuits and new energy vehicles [Art. 8]."
    # "integrated circuit industry": content words integrat, circuit, industry → 2/3 ≥ 0.6 → found
    # "new energy vehicles": 3/3 → found
    # "biomedicine and medical devices": biomedicin, medical, devic → 0/3 → missing
    kps = ["integrated circuit industry", "new energy vehicles", "biomedicine and medical devices"]
    assert key_point_coverage(answer, kps, "en") == pytest.approx(2 / 3)
    assert missing_key_points(answer, kps, "en") == ["biomedicine and medical devices"]
    # 1 of 2 content words = 0.5 < 0.6 → missing
    assert key_point_coverage(answer, ["energy storage"], "en") == 0.0
    # stemming: "developing vehicle" matches "develop … vehicles"
    assert key_point_coverage(answer, ["developing vehicle"], "en") == 1.0


def test_key_point_with_han_characters_uses_the_zh_rule_in_an_english_answer():
    assert key_point_coverage("The Hengqin (横琴) zone deepens cooperation.", ["横琴"], "en") == 1.0


# ---------------------------------------------------------------------------------------------- refusal, language


def test_refusal_correct():
    assert refusal_correct(True, False) is True
    assert refusal_correct(False, True) is True
    assert refusal_correct(True, True) is False
    assert refusal_correct(False, False) is False


def test_language_match():
    assert language_match("zh", "zh") is True
    assert language_match("en", "zh") is False
    assert language_match("zh-CN", "zh") is True
    assert language_match(None, "en") is False


# ---------------------------------------------------------------------------------------------- faithfulness


def test_citation_markers_are_stripped():
    text = "a[第八条] b[Art. 8] c[Part I] d[第一部分] e[A8] f[第八条、第九条] g[Part II (3)] h[序言] i[note]"
    assert strip_citation_markers(text).split() == ["a", "b", "c", "d", "e", "f", "g", "h", "i[note]"]


def test_split_answer_sentences():
    zh = "第一句[第八条]。第二句！第三句？第四句；"
    assert split_answer_sentences(zh, "zh") == ["第一句。", "第二句！", "第三句？", "第四句；"]
    en = "First one [Art. 8]. Second one! Third?\n- fourth item"
    assert split_answer_sentences(en, "en") == ["First one.", "Second one!", "Third?", "- fourth item"]


def test_faithfulness_zh_one_supported_one_invented():
    cited = {"A8": "加快发展集成电路、新能源汽车等战略性新兴产业。"}
    answer = "根据文件，要加快发展集成电路和新能源汽车等战略性新兴产业[第八条]。文件还要求每个村建设一座火箭发射场。"
    assert faithfulness_lexical(answer, cited, "zh") == 0.5


def test_faithfulness_en_one_supported_one_invented():
    cited = {"A8": "Accelerate the development of integrated circuits and new energy vehicles."}
    answer = (
        "According to the document, the province will accelerate integrated circuits and new energy vehicles "
        "[Art. 8]. It also promises free rocket launches for every village."
    )
    assert faithfulness_lexical(answer, cited, "en") == 0.5


def test_faithfulness_skips_boilerplate_and_handles_no_content():
    cited = {"A8": "加快发展集成电路产业。"}
    # "根据文件：" and "如下。" carry no claim; only the middle sentence counts, and it is supported
    answer = "根据文件：\n加快发展集成电路产业[第八条]。\n如下。"
    assert faithfulness_lexical(answer, cited, "zh") == 1.0
    assert faithfulness_lexical("[第八条]。", cited, "zh") is None
    assert faithfulness_lexical("", cited, "en") is None
    # nothing cited: every content sentence is unsupported
    assert faithfulness_lexical("加快发展集成电路产业。", {}, "zh") == 0.0


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_answers_caveat_on_a_missing_figure_is_not_a_claim(language: str) -> None:
    """The extractive answer's caveat (prompts/no_figure_*) names no content of the document; eval/metrics.py lists
    its words as boilerplate, and this keeps that list in step with the prompt."""
    from prompts import load_prompt

    quote = "加快发展集成电路产业" if language == "zh" else "Accelerate the integrated circuit industry"
    answer = f"{load_prompt(f'intro_{language}')}\n{load_prompt(f'no_figure_{language}')}\n{quote} [A8]."
    assert faithfulness_lexical(answer, {"A8": quote}, language) == 1.0


def test_faithfulness_threshold_is_sixty_percent_of_sentence_tokens():
    cited = {"A1": "alpha beta gamma"}
    assert faithfulness_lexical("Alpha beta gamma delta epsilon.", cited, "en") == 1.0  # 3/5 = 0.6
    assert faithfulness_lexical("Alpha beta delta epsilon.", cited, "en") == 0.0  # 2/4 = 0.5


# ---------------------------------------------------------------------------------------------- percentile


def test_percentile_linear_interpolation():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 0) == 1
    assert percentile([1, 2, 3, 4], 100) == 4
    assert percentile([10, 20], 95) == pytest.approx(19.5)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None
    assert percentile([None, 3.0], 50) == 3.0
    with pytest.raises(ValueError):
        percentile([1], 101)


# ---------------------------------------------------------------------------------------------- rows


def _row(**over):
    row = {
        "id": "zh-fact-001",
        "type": "factual",
        "language": "zh",
        "question": "重点发展哪些产业？",
        "history": [],
        "gold_units": ["A8"],
        "answerable": True,
        "key_points": ["集成电路", "生物医药"],
        "reference_answer": "集成电路、新能源汽车。",
        "retrieved": ["A2", "A8", "A5"],
        "contexts": ["…", "加快发展集成电路、新能源汽车等战略性新兴产业。", "…"],
        "answer": "要加快发展集成电路、新能源汽车等战略性新兴产业[第八条]。",
        "answer_language": "zh",
        "citations": ["A8"],
        "cited_texts": {"A8": "加快发展集成电路、新能源汽车等战略性新兴产业。"},
        "refused": False,
        "backend": "extractive",
        "latency_ms": 120.0,
    }
    row.update(over)
    return row


def test_score_row_answerable():
    s = score_row(_row())
    assert set(METRICS) <= set(s)
    assert s["hit@1"] == 0.0
    assert s["hit@3"] == 1.0
    assert s["hit@5"] == 1.0
    assert s["mrr"] == 0.5
    assert s["ndcg@5"] == pytest.approx(1 / math.log2(3))
    assert s["context_precision"] == pytest.approx(1 / 3)
    assert s["context_recall"] == 1.0
    assert s["citation_precision"] == 1.0
    assert s["citation_recall"] == 1.0
    assert s["citations_in_context"] == 1.0
    assert s["key_point_coverage"] == 0.5
    assert s["refusal_correct"] == 1.0
    assert s["language_match"] == 1.0
    assert s["faithfulness"] == 1.0
    assert s["latency_ms"] == 120.0


def test_score_row_unanswerable_has_no_retrieval_or_citation_scores():
    s = score_row(_row(type="unanswerable", answerable=False, gold_units=[], key_points=[], refused=True,
                       answer="文件中没有提到这一内容。", citations=[], cited_texts={}))
    for m in ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "context_precision", "context_recall",
              "citation_precision", "citation_recall", "citations_in_context", "key_point_coverage", "faithfulness"):
        assert s[m] is None, m
    assert s["refusal_correct"] == 1.0
    assert s["language_match"] == 1.0


def test_score_row_false_refusal_only_for_answerable_cases():
    assert score_row(_row(refused=True, citations=[]))["false_refusal"] == 1.0
    assert score_row(_row())["false_refusal"] == 0.0
    assert score_row(_row(answerable=False, gold_units=[], refused=True))["false_refusal"] is None


def test_answered_right_needs_the_right_refusal_language_and_a_gold_citation():
    """Refusal accuracy alone counts an answer from the wrong article as right; answered_right does not."""
    assert score_row(_row())["answered_right"] == 1.0
    assert score_row(_row(citations=["A9"]))["answered_right"] == 0.0  # answered from the wrong article
    assert score_row(_row(citations=["A9"]))["refusal_correct"] == 1.0
    assert score_row(_row(refused=True, citations=[]))["answered_right"] == 0.0  # a false refusal
    assert score_row(_row(answerable=False, gold_units=[], refused=True, citations=[]))["answered_right"] == 1.0
    assert score_row(_row(answerable=False, gold_units=[], citations=["A5"]))["answered_right"] == 0.0
    assert score_row(_row(requested_language="en"))["answered_right"] == 0.0  # a Chinese answer, English asked


def test_score_row_expects_the_requested_answer_language():
    """A Chinese question with English requested is right in English and wrong in Chinese."""
    english = _row(answer="Accelerate integrated circuits [Art. 8].", answer_language="en", requested_language="en",
                   key_points=["integrated circuits"])
    assert score_row(english)["language_match"] == 1.0 and score_row(english)["key_point_coverage"] == 1.0
    assert score_row(_row(requested_language="en"))["language_match"] == 0.0
    assert score_row(_row(requested_language=None))["language_match"] == 1.0


def test_score_row_wrong_language_and_wrongful_refusal():
    s = score_row(_row(answer="The document does not say.", answer_language="en", refused=True, citations=[]))
    assert s["language_match"] == 0.0
    assert s["refusal_correct"] == 0.0
    assert s["citation_precision"] is None
    assert s["citation_recall"] == 0.0
    assert s["faithfulness"] is None


def test_score_row_judge_values_are_carried():
    s = score_row(_row(judge={"correctness": 4, "verdict": "ok", "flag": True}))
    assert s["judge_correctness"] == 4.0
    assert "judge_verdict" not in s and "judge_flag" not in s


# ---------------------------------------------------------------------------------------------- summary, gates


def _scored(rows):
    return [{**score_row(r), "type": r["type"], "language": r["language"]} for r in rows]


def test_summarize_means_ignore_none_and_groups():
    rows = [
        _row(),
        _row(id="en-fact-001", language="en", answer_language="en", retrieved=["A8"], latency_ms=300.0,
             answer="Develop integrated circuits [Art. 8].", key_points=[],
             cited_texts={"A8": "Develop integrated circuits."}),
        _row(id="zh-un-001", type="unanswerable", answerable=False, gold_units=[], refused=True, citations=[],
             key_points=[], answer="没有相关内容。", latency_ms=200.0),
    ]
    scored = _scored(rows)
    overall = summarize(scored)["all"]
    assert overall["n"] == 3
    assert overall["hit@1"] == pytest.approx(0.5)  # (0 + 1) / 2 answerable cases
    assert overall["n_hit@1"] == 2
    assert overall["mrr"] == pytest.approx(0.75)
    assert overall["key_point_coverage"] == pytest.approx(0.5)  # only the first case has key points
    assert overall["refusal_correct"] == 1.0
    assert overall["latency_ms"] == pytest.approx(620 / 3)
    assert overall["latency_p50_ms"] == 200.0
    assert overall["latency_p95_ms"] == pytest.approx(290.0)  # 200 + 0.9 * (300 - 200)

    by_type = summarize(scored, by="type")
    assert list(by_type) == ["factual", "unanswerable"]
    assert by_type["factual"]["n"] == 2
    assert by_type["unanswerable"]["hit@1"] is None
    assert list(summarize(scored, by="language")) == ["zh", "en"]
    with pytest.raises(ValueError):
        summarize(scored, by="backend")


def test_check_thresholds_reports_failures_with_values():
    summary = {
        "all": {"n": 40, "citation_precision": 0.91, "hit@3": 0.97, "latency_p95_ms": 1500.0},
        "by_type": {"unanswerable": {"n": 5, "refusal_correct": 0.8}},
    }
    gates = {
        "citation_precision": 0.95,
        "hit_at_3": 0.95,
        "latency_p95_ms": 1000.0,
        "min_n": 50,
        "by_type": {"unanswerable": {"refusal_accuracy": 1.0}, "injection": {"refusal_accuracy": 1.0}},
    }
    failures = check_thresholds(summary, gates)
    assert "citation_precision 0.91 < 0.95" in failures
    assert "latency_p95_ms 1500.0 > 1000.0" in failures
    assert "n 40 < 50" in failures
    assert "by_type.unanswerable: refusal_accuracy 0.8 < 1.0" in failures
    assert any(f.startswith("by_type.injection: no cases") for f in failures)
    assert not any("hit_at_3" in f for f in failures)
    assert len(failures) == 5


def test_check_thresholds_passes_and_flags_undefined_metrics():
    assert check_thresholds({"all": {"n": 3, "faithfulness": 0.95}}, {"faithfulness": 0.9}) == []
    assert check_thresholds({"n": 3, "faithfulness": 0.9}, {"faithfulness": 0.9}) == []  # a bare group works
    failures = check_thresholds({"all": {"n": 3, "faithfulness": None}}, {"faithfulness": 0.9})
    assert failures and failures[0].startswith("faithfulness undefined")


def test_thresholds_file_loads_and_every_key_is_a_known_metric():
    gates = load_thresholds(THRESHOLDS, "extractive")
    assert gates["hit_at_3"] > 0
    assert gates["by_type"]["unanswerable"]["refusal_accuracy"] == 1.0
    assert gates["by_type"]["nonexistent"]["refusal_accuracy"] == 1.0
    assert load_thresholds(THRESHOLDS, "no-such-backend") == {}

    rows = [_row(id=f"c{i}") for i in range(3)]
    known = set(full_summary(_scored(rows))["all"]) | {"min_n"}
    gated = [k for k, v in gates.items() if not isinstance(v, dict)]
    for section in ("by_type", "by_language"):
        for table in gates.get(section, {}).values():
            gated += list(table)
    unknown = {k for k in gated if METRIC_ALIASES.get(k, k) not in known}
    assert not unknown


def test_faithfulness_reads_a_quoted_chinese_original_in_an_english_answer() -> None:
    """Over an untranslated document the English answer quotes the Chinese text under a document-naming marker."""
    from eval.metrics import faithfulness_lexical, split_answer_sentences

    unit = "电子商务平台经营者应当制定平台知识产权保护规则，建立知识产权投诉举报机制。"
    answer = ("According to the document:\n《广东省知识产权保护条例》, Art. 30 states: (Chinese original; this document has "
              "no English translation) 电子商务平台经营者应当制定平台知识产权保护规则[《广东省知识产权保护条例》, Art. 30]。")
    assert len(split_answer_sentences(answer, "en")) == 2  # no split after "Art.", the long marker removed
    assert faithfulness_lexical(answer, {"ip:A30": unit}, "en") == 1.0
    invented = answer.replace("电子商务平台经营者应当制定平台知识产权保护规则", "所有企业必须每年缴纳高额的保护费用")
    assert faithfulness_lexical(invented, {"ip:A30": unit}, "en") == 0.0

"""eval.report: the files of a run, their content, and the comparison of two runs."""

from __future__ import annotations

import json

from eval.metrics import score_row
from eval.report import _width, compare_runs, load_run, md_table, split_table, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RAGAS_FIELDS = {
    "user_input",
    "retrieved_contexts",
    "response",
    "reference",
    "retrieved_context_ids",
    "reference_context_ids",
}
A8_ZH = "加快发展集成电路、新能源汽车等战略性新兴产业。"
A8_EN = "Accelerate strategic emerging industries such as integrated circuits and new energy vehicles."


def _rows() -> list[dict]:
    base = {"history": [], "backend": "extractive", "answer_language": "zh", "refused": False, "answerable": True}
    return [
        {**base, "id": "zh-fact-001", "type": "factual", "language": "zh", "question": "广东重点发展哪些新兴产业？",
         "gold_units": ["A8"], "key_points": ["集成电路", "新能源汽车"], "reference_answer": "集成电路、新能源汽车等。",
         "retrieved": ["A8", "A13"], "contexts": [A8_ZH, "……"], "answer": f"{A8_ZH[:-1]}[第八条]。",
         "citations": ["A8"], "cited_texts": {"A8": A8_ZH}, "latency_ms": 110.0},
        {**base, "id": "zh-fact-002", "type": "factual", "language": "zh", "question": "文件对生物医药有什么安排？",
         "gold_units": ["A9"], "key_points": ["生物医药"], "reference_answer": "发展生物医药。",
         "retrieved": ["A2", "A8", "A5"], "contexts": ["…", A8_ZH, "…"],
         "answer": "加快发展集成电路[第八条]。每个村都要建设火箭发射场。", "citations": ["A8", "A30"],
         "cited_texts": {"A8": A8_ZH, "A30": "……"}, "latency_ms": 240.0},
        {**base, "id": "en-fact-001", "type": "factual", "language": "en", "answer_language": "en",
         "question": "Which emerging industries does Guangdong prioritise?", "gold_units": ["A8"],
         "key_points": ["integrated circuits", "new energy vehicles"], "reference_answer": "ICs and NEVs.",
         "retrieved": ["A8"], "contexts": [A8_EN], "answer": f"{A8_EN} [Art. 8]", "citations": ["A8"],
         "cited_texts": {"A8": A8_EN}, "latency_ms": 180.0},
        {**base, "id": "en-unans-001", "type": "unanswerable", "language": "en", "answer_language": "en",
         "question": "What is the 2030 budget for Mars exploration?", "gold_units": [], "key_points": [],
         "reference_answer": "", "answerable": False, "retrieved": ["A5"], "contexts": ["…"],
         "answer": "The document does not cover this.", "citations": [], "cited_texts": {}, "refused": True,
         "latency_ms": 90.0},
    ]


def _write(run_dir, rows, **meta):
    scored = [score_row(r) for r in rows]
    return write_report(run_dir, rows, scored, {"backend": "extractive", **meta})


def test_write_report_creates_every_file(tmp_path):
    run = tmp_path / "run-a"
    paths = _write(run, _rows(), run_name="baseline")
    names = {"results.jsonl", "report.md", "scores_by_type.png", "scores_by_language.png", "latency.png",
             "ragas_dataset.jsonl", "meta.json"}
    assert set(paths) == names
    for name in names:
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    for png in ("scores_by_type.png", "scores_by_language.png", "latency.png"):
        assert (run / png).read_bytes()[:8] == PNG_MAGIC, png


def test_results_and_meta(tmp_path):
    rows = _rows()
    _write(tmp_path, rows, run_name="baseline", git_commit="abc123")
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == [r["id"] for r in rows]
    assert results[1]["scores"]["citation_precision"] == 0.0  # cited A8, A30; gold A9
    assert results[1]["scores"]["citations_in_context"] == 0.5  # A30 was not retrieved
    assert results[0]["question"] == "广东重点发展哪些新兴产业？"  # stored verbatim, not \u-escaped
    assert "广东重点发展" in (tmp_path / "results.jsonl").read_text(encoding="utf-8")
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    assert meta["run_name"] == "baseline"
    assert meta["backend"] == "extractive"
    assert meta["n_cases"] == 4
    assert meta["git_commit"] == "abc123"
    assert meta["summary"]["all"]["n"] == 4
    assert "date" in meta


def test_report_markdown(tmp_path):
    _write(tmp_path, _rows(), run_name="baseline", date="2025-01-01 00:00 UTC",
           thresholds={"citation_precision": 0.95, "by_type": {"unanswerable": {"refusal_accuracy": 1.0}}})
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report: baseline")
    assert "**Backend:** extractive" in md
    assert "**Date:** 2025-01-01 00:00 UTC" in md
    assert "**Cases:** 4" in md
    # summary table: overall and per language, in that order
    header = next(line for line in md.splitlines() if line.startswith("| metric "))
    assert [c.strip() for c in header.strip("|").split("|")] == ["metric", "all", "zh", "en"]
    # per-type table
    assert "## By question type" in md
    type_header = next(line for line in md.splitlines() if line.startswith("| type "))
    assert "citation_precision" in type_header and "hit@3" in type_header
    assert any(line.startswith("| factual ") for line in md.splitlines())
    assert any(line.startswith("| unanswerable ") for line in md.splitlines())
    # every table row of a table has the same number of cells as its header
    for block in md.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if lines:
            assert len({ln.count(" | ") for ln in lines}) == 1, block
    # worst cases: the invented-sentence case is listed with its question, gold/cited units and missed key point
    assert "## Worst cases" in md
    assert "`zh-fact-002`" in md
    assert "文件对生物医药有什么安排？" in md
    assert "cited: A8, A30" in md
    assert "key points missed: 生物医药" in md
    # gates: citation precision (mean of 1, 0, 1 = 0.667) fails, refusal on unanswerable passes
    assert "## Quality gates (extractive)" in md
    assert "**FAIL**" in md
    assert "citation_precision 0.667 < 0.95" in md
    assert "refusal_accuracy" not in md.split("## Quality gates")[1].split("## Summary")[0]


def test_report_without_thresholds_has_no_gate_section(tmp_path):
    _write(tmp_path, _rows())
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Quality gates" not in md
    assert md.startswith(f"# Evaluation report: {tmp_path.name}")


def test_ragas_export(tmp_path):
    rows = _rows()
    _write(tmp_path, rows)
    records = [json.loads(x) for x in (tmp_path / "ragas_dataset.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 4
    for rec, row in zip(records, rows, strict=True):
        assert set(rec) == RAGAS_FIELDS
        assert rec["user_input"] == row["question"]
        assert rec["response"] == row["answer"]
        assert rec["retrieved_contexts"] == row["contexts"]
        assert rec["retrieved_context_ids"] == row["retrieved"]
        assert rec["reference_context_ids"] == row["gold_units"]
    assert records[0]["reference"] == "集成电路、新能源汽车等。"
    assert records[3]["reference"] is None  # no reference answer for the unanswerable case


def test_compare_runs_shows_delta(tmp_path):
    rows_a = _rows()
    rows_b = _rows()
    rows_b[1] = {**rows_b[1], "retrieved": ["A9", "A8"], "citations": ["A9"], "cited_texts": {"A9": "发展生物医药。"},
                 "answer": "发展生物医药[第九条]。"}
    rows_b[0] = {**rows_b[0], "refused": True, "answer": "文件没有相关内容。", "citations": [], "cited_texts": {}}
    _write(tmp_path / "a", rows_a, run_name="before")
    _write(tmp_path / "b", rows_b, run_name="after")
    md = compare_runs(tmp_path / "a", tmp_path / "b")
    header = next(line for line in md.splitlines() if line.startswith("| metric "))
    assert [c.strip() for c in header.strip("|").split("|")] == ["metric", "A", "B", "Δ"]
    assert "before" in md and "after" in md
    assert "## Overall" in md and "## Type: factual" in md and "## Type: unanswerable" in md
    # hit@1 over 3 answerable cases: A = 2/3, B = 3/3 → +0.333
    hit1 = next(line for line in md.split("## Overall")[1].splitlines() if line.startswith("| hit@1 "))
    assert [c.strip() for c in hit1.strip("|").split("|")] == ["hit@1", "0.667", "1.000", "+0.333"]
    # zh-fact-001 regressed (wrongful refusal)
    assert "## Regressed cases (1)" in md
    assert "| zh-fact-001 " in md


def test_load_run_rescored_when_scores_missing(tmp_path):
    rows = _rows()
    _write(tmp_path, rows)
    stripped = [{k: v for k, v in json.loads(line).items() if k != "scores"}
                for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in stripped) + "\n", encoding="utf-8")
    _, scored, meta = load_run(tmp_path)
    assert scored[1]["citation_precision"] == 0.0
    assert scored[1]["citations_in_context"] == 0.5
    assert meta["n_cases"] == 4


def test_md_table_escapes_and_aligns():
    table = md_table(["id", "answer", "score"], [["zh-1", "甲|乙\n丙", 0.5]], ["l", "l", "r"])
    lines = table.splitlines()
    assert lines[0].startswith("| id ")
    assert lines[1] == "| ---- | " + "-" * _width("甲\\|乙<br>丙") + " | ----: |"
    assert "甲\\|乙<br>丙" in lines[2]
    # padded by display width: Chinese characters count double, so all lines have the same width
    assert len({_width(line) for line in lines}) == 1


def test_split_table_puts_tune_and_test_side_by_side_with_the_gap(tmp_path):
    rows = _rows()
    for row, split in zip(rows, ("tune", "test", "tune", "test"), strict=True):
        row["split"] = split
    scored = [score_row(r) for r in rows]
    table = split_table(rows, scored)
    lines = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in table.splitlines()[2:]}
    assert [c.strip() for c in table.splitlines()[0].split("|")[1:-1]] == ["metric", "tune", "test",
                                                                           "gap (test − tune)"]
    assert lines["n"][:2] == ["2", "2"]
    assert lines["hit@1"] == ["1.000", "0.000", "-1.000"]  # tune: zh-fact-001, en-fact-001 hit; test: zh-fact-002
    assert lines["false_refusal"] == ["0.000", "0.000", "+0.000"]
    assert split_table(rows[:1] + rows[2:3], scored[:1] + scored[2:3]) is None  # one split only: no table
    _write(tmp_path / "run", rows, thresholds={"hit_at_1": 0.9})
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "## Tune vs test" in report
    assert "hit_at_1 0.0 < 0.9" in report  # the gate scores only the test split (hit@1 0.0 there, 1.0 on tune)

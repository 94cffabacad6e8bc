"""Feedback from the UI is stored as JSONL and comes back out as draft eval cases (never gated unreviewed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.feedback import draft_cases, read_feedback, write_draft_cases
from eval.runner import load_cases
from rag import InputError, load_settings
from ui.feedback import append_feedback, feedback_record

TURN = {"question": "第八条讲了什么？", "answer": "……[第八条]。", "language": "zh", "backend": "extractive",
        "citations": [{"unit_id": "A8", "doc_id": "gd", "label": "第八条", "title": "建设现代化产业集群",
                       "quote": "推动……", "attributed": False}]}


def test_feedback_path_defaults_beside_the_store(tmp_path: Path) -> None:
    settings = load_settings(env={}, store_dir=tmp_path / "store")
    assert settings.feedback_path == tmp_path / "feedback.jsonl"
    assert load_settings(env={"POLICYQA_FEEDBACK": str(tmp_path / "f.jsonl")}).feedback_path == tmp_path / "f.jsonl"


def test_records_round_trip_and_a_comment_updates_its_record(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.jsonl"
    good = feedback_record(TURN, "helpful")
    bad = feedback_record({**TURN, "question": "到2035年呢？"}, "wrong")
    for record in (good, bad, {**bad, "comment": "cites the wrong part"}):
        append_feedback(path, record)
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3 and lines[0]["time"] and lines[0]["citations"][0]["unit_id"] == "A8"
    records = read_feedback(path)
    assert [r["rating"] for r in records] == ["helpful", "wrong"]
    assert records[1]["comment"] == "cites the wrong part"

    out = tmp_path / "drafts.jsonl"
    assert write_draft_cases(path, out) == 2
    cases = load_cases(out)  # the drafts are valid eval cases for the runner
    assert cases[0]["gold_units"] == ["A8"] and cases[0]["reference_answer"] == "……[第八条]。"
    assert cases[1]["gold_units"] == [] and cases[1]["feedback"]["comment"] == "cites the wrong part"
    assert all(c["status"] == "draft" and c["id"].startswith("fb-") for c in cases)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="helpful or wrong"):
        feedback_record(TURN, "meh")
    assert draft_cases([{"id": "x", "question": " "}]) == []
    with pytest.raises(InputError):
        read_feedback("/nonexistent/feedback.jsonl")


def test_eval_from_feedback_writes_drafts_for_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from policyqa.cli import main

    feedback = tmp_path / "feedback.jsonl"
    monkeypatch.setenv("POLICYQA_FEEDBACK", str(feedback))
    assert main(["eval", "--from-feedback", str(tmp_path / "drafts.jsonl")]) == 2  # nothing given yet
    turn = {"question": "第八条讲了什么？", "answer": "建设现代化产业集群。[第八条]", "language": "zh", "backend": "extractive",
            "citations": [{"unit_id": "A8", "label": "第八条", "quote": "建设现代化产业集群。"}]}
    append_feedback(feedback, feedback_record(turn, "helpful"))
    assert main(["eval", "--from-feedback", str(tmp_path / "drafts.jsonl")]) == 0
    drafts = [json.loads(line) for line in (tmp_path / "drafts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(drafts) == 1 and drafts[0]["status"] == "draft" and drafts[0]["gold_units"] == ["A8"]
    assert "1 draft case(s)" in capsys.readouterr().out

"""Feedback given in the UI → draft eval cases for review (`policyqa eval --from-feedback`).

Drafts are written to their own file with `"status": "draft"`: nothing enters the gated eval set unreviewed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from eval.jsonl import read_jsonl


def read_feedback(path: str | Path) -> list[dict[str, Any]]:
    """The feedback records of a UI feedback file, the last line per id (a comment is a later line)."""
    latest: dict[str, dict[str, Any]] = {}
    for _, record in read_jsonl(path, "feedback file", "反馈文件"):
        latest[str(record.get("id", len(latest)))] = record
    return list(latest.values())


def draft_case(record: Mapping[str, Any]) -> dict[str, Any]:
    """One draft case: a helpful answer proposes its cited units and text as gold; a wrong one leaves them to the
    reviewer, with the comment saying what was wrong."""
    helpful = record.get("rating") == "helpful"
    units = list(dict.fromkeys(str(c.get("unit_id")) for c in record.get("citations") or [] if c.get("unit_id")))
    return {
        "id": f"fb-{record.get('id')}",
        "type": "feedback",
        "language": record.get("language", ""),
        "question": record.get("question", ""),
        "history": [],
        "gold_units": units if helpful else [],
        "answerable": True,
        "reference_answer": record.get("answer", "") if helpful else "",
        "key_points": [],
        "status": "draft",
        "feedback": {k: record.get(k) for k in ("rating", "comment", "backend", "time", "answer")}
        | {"cited_units": units},
    }


def draft_cases(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Draft cases for every feedback record with a question (duplicates of one question kept: the reviewer merges)."""
    return [draft_case(r) for r in records if str(r.get("question") or "").strip()]


def write_draft_cases(feedback_file: str | Path, out: str | Path) -> int:
    """Write the drafts of `feedback_file` to `out` (JSONL, overwritten); return how many."""
    cases = draft_cases(read_feedback(feedback_file))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    return len(cases)

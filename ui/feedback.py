"""Feedback on answers (helpful / wrong + optional comment), appended to a local JSONL file.

One line per event; a comment is a later line with the same `id`, so the reader keeps the last line per id
(eval/feedback.py turns the records into draft eval cases).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def feedback_record(turn: Mapping[str, Any], rating: str, comment: str = "", record_id: str | None = None) -> dict[str, Any]:
    """The stored line: question, answer, citations, backend, rating ("helpful" | "wrong"), comment and time."""
    if rating not in ("helpful", "wrong"):
        raise ValueError(f"rating must be helpful or wrong, not {rating!r}")
    return {
        "id": record_id or uuid.uuid4().hex[:12],
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": comment.strip(),
        "question": turn.get("question", ""),
        "answer": turn.get("answer", ""),
        "language": turn.get("language", ""),
        "backend": turn.get("backend", ""),
        "citations": list(turn.get("citations") or []),
    }


def append_feedback(path: Path, record: Mapping[str, Any]) -> None:
    """Append one record (creating the file and its directory); safe across the app's worker threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)

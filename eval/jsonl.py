"""Reading the JSONL eval sets: one readable InputError for a missing file, a bad line or an empty set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag import InputError


def read_jsonl(path: str | Path, what_en: str, what_zh: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path`; `what_*` names the set in error messages."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the {what_en} {path}: {exc.strerror or exc}",
                         f"无法读取{what_zh} {path}：{exc.strerror or exc}") from None
    out: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc})", f"{path} 第 {n} 行不是 JSON（{exc}）") from None
        if not isinstance(item, dict):
            raise InputError(f"{path}:{n}: expected a JSON object", f"{path} 第 {n} 行应为 JSON 对象")
        out.append((n, item))
    if not out:
        raise InputError(f"the {what_en} {path} is empty", f"{what_zh} {path} 为空")
    return out

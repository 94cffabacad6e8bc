"""Reading the JSONL eval sets: one readable InputError for a missing file, a bad line or an empty set."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag import InputError


def _type_names(expected: type | tuple[type, ...]) -> str:
    names = {"str": "a string", "list": "a list", "bool": "true/false", "int": "a number", "dict": "an object"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(k.__name__, k.__name__) for k in kinds)


def read_jsonl(path: str | Path, what_en: str, what_zh: str,
               types: Mapping[str, type | tuple[type, ...]] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path`; `what_*` names the set in error messages.

    `types` maps keys to the JSON types they must have when present; a line that breaks it (or is not UTF-8,
    not JSON, not an object) is an InputError naming the file and line.
    """
    path = Path(path)
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the {what_en} {path}: {exc.strerror or exc}",
                         f"无法读取{what_zh} {path}：{exc.strerror or exc}") from None
    out: list[tuple[int, dict[str, Any]]] = []
    for n, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}:{n}: not UTF-8 text", f"{path} 第 {n} 行不是 UTF-8 文本") from None
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc})", f"{path} 第 {n} 行不是 JSON（{exc}）") from None
        if not isinstance(item, dict):
            raise InputError(f"{path}:{n}: expected a JSON object", f"{path} 第 {n} 行应为 JSON 对象")
        for key, expected in (types or {}).items():
            value = item.get(key)
            if value is not None and (not isinstance(value, expected) or (isinstance(value, bool) and expected is int)):
                raise InputError(f"{path}:{n}: '{key}' must be {_type_names(expected)}, not {type(value).__name__}",
                                 f"{path} 第 {n} 行：字段 {key} 的类型应为 {_type_names(expected)}")
        out.append((n, item))
    if not out:
        raise InputError(f"the {what_en} {path} is empty", f"{what_zh} {path} 为空")
    return out

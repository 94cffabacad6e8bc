"""Terminal input and output shared by the rag commands: stdin batches decoded line by line, JSON lines out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rag.errors import InputError
from rag.text import detect_language


def read_lines(stream: Any = None) -> Iterator[str | InputError]:
    """Each stdin line as text, or an InputError for a line that is not UTF-8 (the batch goes on after it).

    Reads bytes, so one bad line cannot stop the whole batch (text-mode stdin raises on the first bad byte).
    """
    stream = stream if stream is not None else sys.stdin.buffer
    for raw in stream:
        try:
            yield raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError as exc:
            yield InputError(f"the line is not valid UTF-8 text (byte {exc.start + 1})",
                             f"该行不是有效的 UTF-8 文本（第 {exc.start + 1} 字节）")


def emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def run_batch(args: argparse.Namespace, run: Callable[[str], dict[str, Any]],
              show: Callable[[dict[str, Any]], None]) -> int:
    """One question (plain or --json), or a stdin batch (--json): one JSON line per input line, bad ones as
    {"question", "error"}; exit 1 if any failed."""
    if args.question is not None:
        result = run(args.question)
        emit_json(result) if args.json else show(result)
        return 0
    if not args.json:
        raise InputError("give a question, or use --json to read questions from stdin",
                         "请提供问题，或使用 --json 从标准输入逐行读取问题")
    failed = 0
    for line in read_lines():
        try:
            if isinstance(line, InputError):
                raise line
            emit_json(run(line))
        except InputError as exc:  # a bad line; store or LLM failures end the batch with their own exit code
            failed += 1
            text = line if isinstance(line, str) else ""
            emit_json({"question": text, "error": exc.message(detect_language(text) if text else "en")})
    return 1 if failed else 0

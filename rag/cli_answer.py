"""`policyqa ask` and `policyqa chat`: answers with their sources in the terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.answer_types import Answer, Final, TextDelta
from rag.api import stream_answer
from rag.cli_io import run_batch
from rag.config import Settings
from rag.errors import PolicyQAError
from rag.llm import backend_label
from rag.text import detect_language


def _print_sources(answer: Answer) -> None:
    if answer.sources:
        print("\n" + ("来源：" if answer.language == "zh" else "Sources:"))
    for s in answer.sources:
        u = s.unit
        title = u.title_en if answer.language == "en" and u.title_en else u.title
        label = u.document_label(answer.language) if len(answer.documents) > 1 else u.label(answer.language)
        print(f"  [{label}] {title}")
        for q in (s.quotes_en if answer.language == "en" else s.quotes_zh):
            print(f"    “{q}”")
    for w in answer.warnings:
        print(f"  ! {w}", file=sys.stderr)
    print(f"({answer.backend}{', fallback' if answer.fallback else ''})", file=sys.stderr)


def _stream_to_terminal(question: str, settings: Settings, history: list[Any],
                        documents: list[str] | None = None) -> Answer:
    """Print checked text as it streams; the final text replaces it only when the backend fell back."""
    shown = ""
    for event in stream_answer(question, history=history, settings=settings, documents=documents):
        if isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
            shown += event.text
        elif isinstance(event, Final):
            if event.answer.text != shown:  # a fallback replaced what was streamed: say so, print it once
                note = f"\n\n({event.answer.fallback_reason}; extractive answer:)\n" if shown else ""
                print(note + event.answer.text, end="")
            print()
            return event.answer
    raise RuntimeError("no answer")


def ask(args: argparse.Namespace, settings: Settings) -> int:
    def run(question: str) -> dict[str, Any]:
        final = None
        for event in stream_answer(question, settings=settings, documents=getattr(args, "doc", None)):
            if isinstance(event, Final):
                final = event.answer
        assert final is not None
        return final.to_dict()

    if args.json or args.question is None:
        return run_batch(args, run, lambda _out: None)
    _print_sources(_stream_to_terminal(args.question, settings, [], getattr(args, "doc", None)))
    return 0


def chat(args: argparse.Namespace, settings: Settings) -> int:
    print(f"policyqa chat — {backend_label(settings)}. Ask in Chinese or English; empty line or Ctrl-D to quit.")
    history: list[dict[str, str]] = []
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = _stream_to_terminal(question, settings, history, getattr(args, "doc", None))
        except PolicyQAError as exc:
            print(f"error: {exc.message(detect_language(question))}")
            continue
        _print_sources(answer)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]

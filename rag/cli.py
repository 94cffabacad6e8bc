"""The core's own subcommands — ingest, search, ask, chat — contributed to the `policyqa` command line.

`register()` is called by the composition root (`policyqa/cli.py`); each command receives the parsed
arguments and the Settings the root built from them. Questions are checked before anything heavy loads,
so a bad one is rejected at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.cli_io import emit_json, run_batch
from rag.config import Settings
from rag.question import prepare_question


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from rag.index import ingest

    results = ingest(settings, [Path(f) for f in args.files] or None, progress=not args.quiet)
    for r in results:
        state = "updated" if r.changed else "unchanged"
        print(f"{r.doc_id}: {r.units} units, {state} ({r.path})")
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.uses_chroma_server else settings.store_dir
    print(f"store: {where} (collection {settings.collection})")
    return 0


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from rag.index import stored_documents

    docs = stored_documents(settings)
    if args.json:
        for d in docs:
            emit_json(d.to_dict())
        return 0
    if not docs:
        print("the store holds no documents: `policyqa ingest FILE…` adds some")
    for d in docs:
        print(f"{d.doc_id}\n  {d.title}  ({d.date or 'no date'}; {d.units} units; views {d.languages or '?'}; "
              f"ingested {d.ingested or '?'})")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from rag.index import remove_document

    for doc_id in args.doc_ids:
        remove_document(settings, doc_id)
        print(f"{doc_id}: removed")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if args.question is not None:
        prepare_question(args.question, max_chars=settings.max_question_chars)
    from rag.api import search

    def run(question: str) -> dict[str, Any]:
        outcome = search(question, settings=settings, k=args.k, mode=args.mode, documents=getattr(args, "doc", None))
        out: dict[str, Any] = {"question": question, "documents": list(outcome.documents),
                               "results": [r.to_dict(outcome.language, outcome.named) for r in outcome.results]}
        if outcome.notice:
            out["notice"] = outcome.notice
        return out

    def show(out: dict[str, Any]) -> None:
        if out.get("notice"):
            print(out["notice"])
        for i, r in enumerate(out["results"], 1):
            print(f"{i}. [{r['label']}] {r['title']}  (score {r['score']:.3f}, {r['match']})")
            print(f"   {r['text'][:160]}{'…' if len(r['text']) > 160 else ''}")

    return run_batch(args, run, show)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.question is not None:
        prepare_question(args.question, max_chars=settings.max_question_chars)
    from rag.cli_answer import ask

    return ask(args, settings)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from rag.cli_answer import chat

    return chat(args, settings)


def add_doc_option(parser: argparse.ArgumentParser) -> None:
    """`--doc ID` (repeatable): ask over these documents only (default: every stored document)."""
    parser.add_argument("--doc", action="append", metavar="ID",
                        help="only this document (repeatable; default: all; ids as `policyqa ingest` prints them)")


def cmd_translate(args: argparse.Namespace, settings: Settings) -> int:
    from rag.translate import store_translation, translate_document

    result = translate_document(settings, args.doc_id, progress=not args.quiet)
    changed = store_translation(settings, result.doc_id)
    print(f"{result.doc_id}: {result.units} units translated → {result.path}"
          f"{' (store updated)' if changed else ''}")
    if result.failed:
        print(f"untranslated (the model's reply was not an aligned list): {', '.join(result.failed)}", file=sys.stderr)
    return 0


def register(sub: Any, *, store: argparse.ArgumentParser, llm: argparse.ArgumentParser) -> None:
    """Add ingest, search, ask and chat to the root parser's subcommands (`store`/`llm`: shared option groups)."""
    p = sub.add_parser("ingest", parents=[store], help="parse documents and (re)build their chunks in Chroma",
                       description="Parse each document into units and store them. Unchanged files are skipped; "
                                   "a changed file replaces its units; a failure leaves the previous index live. "
                                   "Concurrent ingests into one store wait for each other.")
    p.add_argument("files", nargs="*", help="document files (default: the bundled documents, $POLICYQA_DATA)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("docs", parents=[store], help="list the documents in the store",
                       description="The stored documents: id, title, date, units, language views, when ingested.")
    p.add_argument("--json", action="store_true", help="one JSON object per document")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("remove", parents=[store], help="delete documents from the store (nothing else)",
                       description="Delete each named document (ids as `policyqa docs` lists them) by the same "
                                   "crash-safe generation swap as ingest; other documents are untouched.")
    p.add_argument("doc_ids", nargs="+", metavar="ID", help="document id")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("translate", parents=[store, llm], help="write an aligned English translation with the LLM",
                       description="Translate one document unit by unit, sentence-aligned, with the configured "
                                   "OpenAI-compatible LLM; the translation is cached beside the store and the "
                                   "document's English view is re-indexed.")
    p.add_argument("doc_id", metavar="ID", help="document id (as `policyqa ingest` prints it)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("search", parents=[store], help="show the units retrieved for a question",
                       description="Retrieve units. With --json and no question, read one question per stdin line "
                                   "and print one JSON object per line (a bad line gives {question, error}).")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=int, default=5, help="number of units (default 5)")
    p.add_argument("--json", action="store_true", help="JSON lines output (and stdin batch mode)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retriever (default hybrid)")
    add_doc_option(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=[store, llm], help="answer a question with citations",
                       description="Answer with citations. With --json and no question, read one question per "
                                   "stdin line and print one JSON object per line (a bad line gives "
                                   "{question, error}).")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", dest="top_k", type=int, help="units retrieved (default 5, $POLICYQA_TOP_K)")
    p.add_argument("--json", action="store_true", help="JSON lines output (and stdin batch mode)")
    add_doc_option(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[store, llm], help="interactive multi-turn chat in the terminal")
    p.add_argument("-k", dest="top_k", type=int, help="units retrieved (default 5, $POLICYQA_TOP_K)")
    add_doc_option(p)
    p.set_defaults(func=cmd_chat)

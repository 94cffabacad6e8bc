"""`policyqa` command line: ingest, search, ask, chat, ui, eval, bench. Errors are one line, exit non-zero."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rag.config import Settings, describe_settings, load_settings
from rag.errors import PolicyQAError
from rag.text import detect_language

EPILOG = "environment variables (flags win over them):\n" + "\n".join(
    f"  {env:<28} {help_} (default: {default})" for env, default, help_ in describe_settings()
)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        store_dir=getattr(args, "store", None),
        chroma_host=getattr(args, "chroma_host", None),
        chroma_port=getattr(args, "chroma_port", None),
        collection=getattr(args, "collection", None),
        backend=getattr(args, "backend", None),
        language=getattr(args, "language", None),
        openai_model=getattr(args, "model", None),
        openai_base_url=getattr(args, "base_url", None),
    )


def _questions(args: argparse.Namespace) -> Iterator[str]:
    """The question argument, or one question per stdin line in --json batch mode."""
    if args.question is not None:
        yield args.question
        return
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _batch(args: argparse.Namespace, run: Callable[[str], dict[str, Any]],
           show: Callable[[dict[str, Any]], None]) -> int:
    """Run one question (plain or --json) or a stdin batch (--json): JSON errors per line, exit 1 if any failed."""
    if args.question is None and not args.json:
        raise PolicyQAError("give a question, or use --json to read questions from stdin",
                            "请提供问题，或使用 --json 从标准输入逐行读取问题")
    failed = 0
    for question in _questions(args):
        try:
            result = run(question)
        except PolicyQAError as exc:
            if not args.json or args.question is not None:
                raise
            failed += 1
            _emit({"question": question, "error": exc.message(detect_language(question))})
            continue
        _emit(result) if args.json else show(result)
    return 1 if failed else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.index import ingest

    settings = _settings(args)
    results = ingest(settings, [Path(f) for f in args.files] or None, progress=not args.quiet)
    for r in results:
        state = "updated" if r.changed else "unchanged"
        print(f"{r.doc_id}: {r.units} units, {state} ({r.path})")
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.uses_chroma_server else settings.store_dir
    print(f"store: {where} (collection {settings.collection})")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from rag.api import search

    settings = _settings(args)

    def run(question: str) -> dict[str, Any]:
        outcome = search(question, settings=settings, k=args.k, mode=args.mode)
        out: dict[str, Any] = {"question": question, "results": [r.to_dict(outcome.language) for r in outcome.results]}
        if outcome.notice:
            out["notice"] = outcome.notice
        return out

    def show(out: dict[str, Any]) -> None:
        if out.get("notice"):
            print(out["notice"])
        for i, r in enumerate(out["results"], 1):
            print(f"{i}. [{r['label']}] {r['title']}  (score {r['score']:.3f}, {r['match']})")
            print(f"   {r['text'][:160]}{'…' if len(r['text']) > 160 else ''}")

    return _batch(args, run, show)


def _lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), func)(args, _settings(args)))

    return call


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyqa",
        description="Ask questions about Chinese policy documents in Chinese or English; every answer cites its articles.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", type=Path, help="directory of the embedded Chroma store ($POLICYQA_STORE)")
    store.add_argument("--chroma-host", help="use a Chroma server at this host ($CHROMA_HOST)")
    store.add_argument("--chroma-port", type=int, help="Chroma server port ($CHROMA_PORT, default 8000)")
    store.add_argument("--collection", help="collection name ($POLICYQA_COLLECTION)")
    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument("--backend", choices=["auto", "openai", "extractive"], help="answer backend ($POLICYQA_BACKEND)")
    llm.add_argument("--model", help="OpenAI model name ($OPENAI_MODEL)")
    llm.add_argument("--base-url", help="OpenAI-compatible endpoint ($OPENAI_BASE_URL)")
    llm.add_argument("--language", choices=["auto", "zh", "en"], help="answer language (default: the question's)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[store], help="parse documents and (re)build their chunks in Chroma",
                       description="Parse each document into units and store them. Unchanged files are skipped; "
                                   "a changed file replaces its units; a failure leaves the previous index live.")
    p.add_argument("files", nargs="*", help="document files (default: the bundled Guangdong plan)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", parents=[store], help="show the units retrieved for a question",
                       description="Retrieve units. With --json and no question, read one question per stdin line "
                                   "and print one JSON object per line.")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=int, default=5, help="number of units (default 5)")
    p.add_argument("--json", action="store_true", help="JSON lines output (and stdin batch mode)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retriever (default hybrid)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=[store, llm], help="answer a question with citations",
                       description="Answer with citations. With --json and no question, read one question per "
                                   "stdin line and print one JSON object per line.")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=int, help="units retrieved (default 5)")
    p.add_argument("--json", action="store_true", help="JSON lines output (and stdin batch mode)")
    p.set_defaults(func=_lazy("rag.cli_answer", "cmd_ask"))

    p = sub.add_parser("chat", parents=[store, llm], help="interactive multi-turn chat in the terminal")
    p.add_argument("-k", type=int, help="units retrieved (default 5)")
    p.set_defaults(func=_lazy("rag.cli_answer", "cmd_chat"))

    p = sub.add_parser("ui", parents=[store, llm], help="start the Gradio web UI")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", default=None, help="basic auth as USER:PASSWORD")
    p.add_argument("--share", action="store_true", help="create a public Gradio share link (needs internet)")
    p.set_defaults(func=_lazy("ui.app", "cmd_ui"))

    p = sub.add_parser("eval", parents=[store, llm], help="evaluate retrieval or answers on an eval set",
                       description="--retrieval: hit@1/hit@3/MRR per language for hybrid, dense and BM25. "
                                   "Otherwise run the answer eval set and write a report.")
    p.add_argument("--retrieval", action="store_true", help="retrieval-only evaluation (eval/retrieval.jsonl)")
    p.add_argument("--set", dest="eval_set", type=Path, help="eval set JSONL (default: the bundled one)")
    p.add_argument("--split", choices=["tune", "test"], help="answer eval: only this split (default: both)")
    p.add_argument("--judge", choices=["none", "openai"], default="none", help="LLM judge for faithfulness")
    p.add_argument("--out", type=Path, help="reports directory (default eval/reports)")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare two report runs")
    p.add_argument("--check", action="store_true", help="exit 1 when a threshold in eval/thresholds.toml fails")
    p.set_defaults(func=_lazy("eval.cli", "cmd_eval"))

    p = sub.add_parser("bench", parents=[store], help="measure speed and memory; print tables with ratios")
    p.add_argument("--repeat", type=int, default=50, help="queries per latency measurement (default 50)")
    p.add_argument("--quick", action="store_true", help="smaller scale steps (1x and 10x only)")
    p.set_defaults(func=_lazy("eval.bench", "cmd_bench"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PolicyQAError as exc:
        question = getattr(args, "question", None) or ""
        lang = getattr(args, "language", None)
        lang = lang if lang in ("zh", "en") else detect_language(question) if question else "en"
        print(f"policyqa: error: {exc.message(lang)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

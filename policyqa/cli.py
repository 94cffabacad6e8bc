"""`policyqa` command line: the composition root. It owns the options every command shares (store, LLM),
turns flags into the one Settings object, sets up logging, and lets rag, ui and eval each register their
own subcommands. Errors meant for the user are one line on stderr with the documented exit code
(2 input or settings, 3 document, 4 store, 5 LLM); anything else is a bug, shown as one line too, with the
traceback under --verbose.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import eval.commands
import rag.cli
import ui.cli
import ui.evaluation
from rag.config import Settings, describe_settings, load_settings
from rag.errors import PolicyQAError
from rag.text import detect_language

log = logging.getLogger("policyqa")

EPILOG = "environment variables (flags win over them; a .env file in the working directory is read too):\n" + "\n".join(
    f"  {env:<28} {help_} (default: {default})" for env, default, help_ in describe_settings()
)
#: argparse destinations that are Settings fields (a flag left unset keeps the env/default value).
_SETTING_FLAGS = ("store_dir", "chroma_host", "chroma_port", "collection", "backend", "language", "openai_model",
                  "openai_base_url", "top_k", "ui_host", "ui_port", "ui_language")


def _shared_options() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The option groups several commands take: where the store is, and how answers are written."""
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", dest="store_dir", type=Path, help="directory of the embedded Chroma store ($POLICYQA_STORE)")
    store.add_argument("--chroma-host", help="use a Chroma server at this host ($CHROMA_HOST)")
    store.add_argument("--chroma-port", type=int, help="Chroma server port ($CHROMA_PORT, default 8000)")
    store.add_argument("--collection", help="collection name ($POLICYQA_COLLECTION)")
    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument("--backend", choices=["auto", "openai", "extractive"], help="answer backend ($POLICYQA_BACKEND)")
    llm.add_argument("--model", dest="openai_model", help="OpenAI model name ($OPENAI_MODEL)")
    llm.add_argument("--base-url", dest="openai_base_url", help="OpenAI-compatible endpoint ($OPENAI_BASE_URL)")
    llm.add_argument("--language", choices=["auto", "zh", "en"], help="answer language (default: the question's)")
    return store, llm


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyqa",
        description="Ask questions about Chinese policy documents in Chinese or English; every answer cites its articles.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging with tracebacks on stderr")
    store, llm = _shared_options()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rag.cli.register(sub, store=store, llm=llm)
    ui.cli.register(sub, store=store, llm=llm, make_evaluator=_evaluator)
    eval.commands.register(sub, store=store, llm=llm)
    return parser


def _evaluator(settings: Settings) -> ui.evaluation.Evaluator:
    """The UI's Evaluation tab runs eval's runner: wired here, since ui and eval never import each other."""
    from eval.api import EvalService
    from eval.cli import default_reports_dir

    return EvalService(settings, default_reports_dir())


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults < .env < environment < the flags the user gave."""
    return load_settings(**{name: getattr(args, name, None) for name in _SETTING_FLAGS})


#: Our own loggers; --verbose shows their DEBUG records, libraries stay at WARNING (they are chatty).
_OWN_LOGGERS = ("policyqa", "rag", "vectorstore", "prompts", "ui", "eval")


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("policyqa: %(levelname)s %(name)s: %(message)s"))
    # Libraries that set their own loggers' levels (bm25s logs progress at DEBUG) still show only warnings.
    handler.addFilter(lambda r: r.levelno >= logging.WARNING or r.name.split(".")[0] in _OWN_LOGGERS)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in _OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    question = getattr(args, "question", None) or ""
    lang = getattr(args, "language", None)
    lang = lang if lang in ("zh", "en") else detect_language(question) if question else "en"
    try:
        settings = settings_from_args(args)
        _setup_logging("DEBUG" if args.verbose else settings.log_level)
        return int(args.func(args, settings))
    except PolicyQAError as exc:
        print(f"policyqa: error: {exc.message(lang)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: one line, the traceback under --verbose
        log.debug("unexpected error", exc_info=True)
        print(f"policyqa: internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

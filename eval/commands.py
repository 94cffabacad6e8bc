"""eval's subcommands — `eval` and `bench` — contributed to the `policyqa` command line.

Only the argument definitions live here; the commands import their (heavy: matplotlib, the answer chain)
modules when they run, so other commands start fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag import Settings


def register(sub: Any, *, store: argparse.ArgumentParser, llm: argparse.ArgumentParser) -> None:
    """Add `eval` and `bench` to the root parser's subcommands."""
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
    p.add_argument("--from-feedback", metavar="OUT", type=Path,
                   help="write the UI's feedback ($POLICYQA_FEEDBACK) as draft eval cases to OUT for review "
                        "(drafts never enter the gated set by themselves)")
    p.add_argument("--doc", action="append", metavar="ID",
                   help="ask every case over this document only (repeatable; cases about other documents are skipped)")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("bench", parents=[store], help="measure speed and memory; print tables with ratios")
    p.add_argument("--repeat", type=int, default=50, help="queries per latency measurement (default 50)")
    p.add_argument("--quick", action="store_true", help="smaller scale steps (1x and 10x only)")
    p.set_defaults(func=_cmd_bench)


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.cli import cmd_eval

    return cmd_eval(args, settings)


def _cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from eval.bench import cmd_bench

    return cmd_bench(args, settings)

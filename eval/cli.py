"""`policyqa eval`: retrieval evaluation, the answer eval with a written report and quality gates, run comparison.

    policyqa eval --retrieval [--set FILE] [--check]     hit@1/hit@3/MRR per language, hybrid vs dense vs BM25
    policyqa eval [--backend B] [--set FILE] [--split tune|test] [--out DIR] [--judge openai] [--check]
    policyqa eval --compare RUN_A RUN_B [--out DIR]      run names under the reports dir, or paths
    policyqa eval --from-feedback OUT.jsonl             the UI's feedback as draft cases, for review

The answer eval runs both splits of the set and prints `tune` and `test` side by side; the gates score only the
`test` cases (every case, for a set without splits).

Exit status: 0, or 1 with --check when a gate fails (hybrid retrieval targets / eval/thresholds.toml
``[gate.<backend>]``, plus any case that raised an error). Other errors follow `policyqa`'s usual codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.metrics import check_thresholds, full_summary, load_thresholds, score_row
from eval.report import compare_runs, md_table, split_table, tag_rows, write_report
from eval.retrieval_eval import DEFAULT_RETRIEVAL_SET, evaluate_retrieval, format_table
from eval.runner import DEFAULT_CASES, EVAL_DIR, run_eval
from rag import InputError, Settings, resolve_backend

THRESHOLDS = EVAL_DIR / "thresholds.toml"
#: Columns of the summary printed after a run (full tables are in report.md).
SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("hit@3", "hit@3"),
    ("mrr", "MRR"),
    ("citation_precision", "cit P"),
    ("citation_recall", "cit R"),
    ("key_point_coverage", "key pts"),
    ("refusal_correct", "refusal"),
    ("language_match", "lang"),
    ("faithfulness", "faithful"),
    ("latency_p50_ms", "p50 ms"),
)


def _print_table(heading: str, table: str | None) -> None:
    """A report table under its heading and a blank line; nothing when the table is empty."""
    if table:
        print(f"{heading}:")
        print(table)
        print()


def default_reports_dir() -> Path:
    """``eval/reports`` of the source checkout (git-ignored); for an installed package, ``./eval/reports``."""
    if (EVAL_DIR.parent / "pyproject.toml").exists():
        return EVAL_DIR / "reports"
    return Path("eval") / "reports"


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _resolve_run(name: str, reports: Path) -> Path:
    for candidate in (Path(name), reports / name):
        if (candidate / "results.jsonl").is_file():
            return candidate
    raise InputError(f"no evaluation run {name!r} (looked for results.jsonl in {name} and {reports / name})",
                     f"找不到评测运行 {name!r}（在 {name} 和 {reports / name} 中均无 results.jsonl）")


def _unique_dir(reports: Path, name: str) -> Path:
    run_dir, n = reports / name, 2
    while run_dir.exists():
        run_dir, n = reports / f"{name}-{n}", n + 1
    return run_dir


def _fmt(value: Any, metric: str) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if metric.endswith("_ms") else f"{value:.3f}"


def summary_table(summary: Mapping[str, Any]) -> str:
    """Compact Markdown table: overall, each question type, each language."""
    groups: list[tuple[str, Mapping[str, Any]]] = [("**all**", summary["all"])]
    groups += list(summary["by_type"].items())
    groups += [(f"lang {lang}", s) for lang, s in summary["by_language"].items()]
    rows = [[name, s.get("n", 0), *(_fmt(s.get(m), m) for m, _ in SUMMARY_COLUMNS)] for name, s in groups]
    return md_table(["group", "n", *(h for _, h in SUMMARY_COLUMNS)], rows)


def per_document_table(rows: Sequence[Mapping[str, Any]], scored: Sequence[Mapping[str, Any]]) -> str:
    """hit@1 / hit@3 per gold document (cases that name one), and how many cases each has."""
    by_doc: dict[str, list[Mapping[str, Any]]] = {}
    for r, s in zip(rows, scored, strict=True):
        if r.get("gold_doc") and s.get("hit@1") is not None:
            by_doc.setdefault(str(r["gold_doc"]), []).append(s)
    if not by_doc:
        return ""
    lines = ["| document | n | hit@1 | hit@3 |", "|---|---|---|---|"]
    for doc, ss in sorted(by_doc.items()):
        n = len(ss)
        lines.append(f"| {doc} | {n} | {sum(x['hit@1'] for x in ss) / n:.2f} | {sum(x['hit@3'] for x in ss) / n:.2f} |")
    return "\n".join(lines)


def _cmd_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    result = evaluate_retrieval(settings, args.eval_set or DEFAULT_RETRIEVAL_SET, documents=getattr(args, "doc", None))
    print(format_table(result), flush=True)
    if result["failures"] and args.check:
        _err("policyqa eval: retrieval gate failed: " + "; ".join(result["failures"]))
        return 1
    return 0


def _cmd_answers(args: argparse.Namespace, settings: Settings) -> int:
    backend = resolve_backend(settings)
    cases = args.eval_set or DEFAULT_CASES
    rows, meta = run_eval(settings, cases, backend, judge=args.judge, progress=sys.stderr.isatty(),
                          split=getattr(args, "split", None), documents=getattr(args, "doc", None))
    scored = [score_row(r) for r in rows]
    gated = [i for i, r in enumerate(rows) if r.get("split") == "test"] or range(len(rows))
    summary = full_summary(tag_rows([rows[i] for i in gated], [scored[i] for i in gated]))

    gates = load_thresholds(THRESHOLDS, backend)
    failures: list[str] = check_thresholds(summary, gates) if gates else []
    errors = [r for r in rows if r.get("error")]
    if errors:
        failures.append(f"errors: {len(errors)} case(s) raised ({', '.join(r['id'] for r in errors[:5])}"
                        f"{', …' if len(errors) > 5 else ''})")
    meta["threshold_failures"] = failures if gates or errors else None
    if gates:
        meta["thresholds_file"] = str(THRESHOLDS)

    reports = args.out or default_reports_dir()
    run_dir = _unique_dir(reports, str(meta["run_name"]))
    meta["run_name"] = run_dir.name
    paths = write_report(run_dir, rows, scored, meta)

    print(f"Evaluation {run_dir.name}: {len(rows)} cases, backend {backend}"
          f"{', judge ' + args.judge if args.judge != 'none' else ''}, {meta['duration_s']} s")
    print()
    _print_table("tune vs test (constants chosen on tune; gates score test)", split_table(rows, scored))
    _print_table("test split" if len(gated) < len(rows) else "all cases", summary_table(summary))
    _print_table("per document (cases with a gold document; scored on document + unit)",
                 per_document_table(rows, scored))
    print(f"report: {paths['report.md']}")
    if not gates:
        msg = f"no [gate.{backend}] table in {THRESHOLDS}: nothing to check"
        if args.check:
            _err(f"policyqa eval: --check: {msg}")
            return 1
        print(f"note: {msg}")
        return 0
    if not failures:
        print(f"quality gates ({backend}): PASS")
        return 0
    label = "FAIL" if args.check else "warning — not met (use --check to fail on these)"
    lines = [f"quality gates ({backend}): {label}", *(f"  - {f}" for f in failures)]
    if args.check:
        _err("\n".join(lines))
        return 1
    print("\n".join(lines))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of `policyqa eval` (see the module docstring)."""
    if args.from_feedback:
        from eval.feedback import write_draft_cases

        if not settings.feedback_path.is_file():
            raise InputError(f"no feedback yet at {settings.feedback_path}", f"{settings.feedback_path} 尚无反馈")
        n = write_draft_cases(settings.feedback_path, args.from_feedback)
        print(f"{n} draft case(s) from {settings.feedback_path} written to {args.from_feedback}: review them, set "
              f"gold units and a split, then move them into the eval set")
        return 0
    if args.compare:
        reports = args.out or default_reports_dir()
        run_a, run_b = (_resolve_run(str(name), reports) for name in args.compare)
        print(compare_runs(run_a, run_b))
        return 0
    if args.retrieval:
        return _cmd_retrieval(args, settings)
    return _cmd_answers(args, settings)


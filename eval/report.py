"""Write an evaluation run to disk (JSONL, Markdown, PNG plots, a RAGAS dataset) and compare two runs.

A run directory holds:

* ``results.jsonl``      — one line per case: the runner's row plus ``"scores"`` (:func:`eval.metrics.score_row`)
* ``report.md``          — summary tables, per-type breakdown, worst cases, threshold results
* ``scores_by_type.png``, ``scores_by_language.png``, ``latency.png``
* ``ragas_dataset.jsonl`` — RAGAS ``SingleTurnSample`` fields, loadable with ``EvaluationDataset.from_list``
* ``meta.json``          — the run's metadata plus case count, date and summary

Plots use matplotlib's object API on the Agg canvas (no pyplot, no global backend switch), so this module is
safe to import from a UI process.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from eval.metrics import (
    METRICS,
    check_thresholds,
    full_summary,
    missing_key_points,
    percentile,
    score_row,
    summarize,
)

#: Metrics drawn in the per-type / per-language bar charts.
PLOT_METRICS: tuple[str, ...] = (
    "hit@3",
    "mrr",
    "citation_precision",
    "citation_recall",
    "key_point_coverage",
    "refusal_correct",
    "faithfulness",
)
#: Columns of the per-type table.
TYPE_TABLE_METRICS: tuple[str, ...] = (
    "hit@1",
    "hit@3",
    "mrr",
    "ndcg@5",
    "citation_precision",
    "citation_recall",
    "key_point_coverage",
    "refusal_correct",
    "language_match",
    "faithfulness",
)
#: Metrics averaged into one per-case quality score, used to pick the worst cases.
CASE_SCORE_METRICS: tuple[str, ...] = (
    "mrr",
    "citation_precision",
    "citation_recall",
    "key_point_coverage",
    "refusal_correct",
    "language_match",
    "faithfulness",
)
WORST_CASES = 10
_ANSWER_CHARS = 600


# --------------------------------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------------------------------


def _fmt(value: Any, metric: str = "") -> str:
    """A metric value for a table: 3 decimals, milliseconds without decimals, "—" when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if metric.endswith("_ms") or metric == "latency_ms":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _fmt_delta(a: Any, b: Any, metric: str) -> str:
    if a is None or b is None:
        return "—"
    d = float(b) - float(a)
    if metric.endswith("_ms") or metric == "n":
        return f"{d:+.0f}"
    return f"{d:+.3f}"


def _cell(text: Any) -> str:
    """Make `text` safe inside a Markdown table cell (pipes escaped, line breaks as <br>)."""
    s = "" if text is None else str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _width(text: str) -> int:
    """Display width: East Asian wide/full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table. `align` per column: "l" (default for the first column) or "r"
    (default for the others). Cells are escaped and padded to equal display width so the raw text lines up too
    (Chinese characters count as two columns)."""
    ncol = len(headers)
    align = list(align) if align is not None else ["l"] + ["r"] * (ncol - 1)
    cells = [[_cell(h) for h in headers]] + [[_cell(c) for c in row] + [""] * (ncol - len(row)) for row in rows]
    widths = [max(3, *(_width(r[i]) for r in cells)) for i in range(ncol)]

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, c in enumerate(row):
            pad = " " * (widths[i] - _width(c))
            parts.append(pad + c if align[i] == "r" else c + pad)
        return "| " + " | ".join(parts) + " |"

    sep = "| " + " | ".join(("-" * (w - 1) + ":") if a == "r" else "-" * w for w, a in zip(widths, align, strict=True))
    return "\n".join([line(cells[0]), sep + " |", *(line(r) for r in cells[1:])])


def _ids(ids: Any) -> str:
    return ", ".join(str(i) for i in ids) if ids else "—"


def _quote(text: str, limit: int = _ANSWER_CHARS) -> str:
    text = (text or "").strip() or "(empty)"
    if len(text) > limit:
        text = text[:limit].rstrip() + " …"
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


# --------------------------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------------------------


def tag_rows(rows: Sequence[Mapping[str, Any]], scored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Score dicts with the row's id/type/language attached, as :func:`eval.metrics.summarize` groups them."""
    return [
        {**s, "id": r.get("id"), "type": r.get("type"), "language": r.get("language")}
        for r, s in zip(rows, scored, strict=True)
    ]


def case_score(scores: Mapping[str, Any]) -> float | None:
    """Mean of the defined :data:`CASE_SCORE_METRICS` of one case (1.0 = nothing wrong); ``None`` if none is."""
    vals = [float(scores[m]) for m in CASE_SCORE_METRICS if scores.get(m) is not None]
    return sum(vals) / len(vals) if vals else None


def _run_name(meta: Mapping[str, Any], run_dir: Path) -> str:
    return str(meta.get("run_name") or meta.get("name") or run_dir.name)


def _threshold_failures(meta: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str] | None:
    """Failures from ``meta["thresholds"]`` (a gate table, checked here) or ``meta["threshold_failures"]``
    (already checked by the caller); ``None`` when the run has neither."""
    gates = meta.get("thresholds")
    if isinstance(gates, Mapping):
        return check_thresholds(summary, gates)
    failures = meta.get("threshold_failures")
    if failures is not None:
        return [str(f) for f in failures]
    return None


# --------------------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------------------


def _new_figure(width: float = 10.0, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_grouped_bars(groups: Mapping[str, Mapping[str, Any]], metrics: Sequence[str], title: str, path: Path) -> None:
    """Grouped bar chart: one cluster per group (x axis), one bar per metric; undefined values leave a gap."""
    fig = _new_figure(max(8.0, 1.2 * len(groups) + 4), 5.0)
    ax = fig.add_subplot()
    names = list(groups)
    if not names:
        ax.text(0.5, 0.5, "no cases", ha="center", va="center", transform=ax.transAxes)
    else:
        width = 0.8 / len(metrics)
        for j, metric in enumerate(metrics):
            xs = [i - 0.4 + width * (j + 0.5) for i in range(len(names))]
            ys = [groups[g].get(metric) for g in names]
            ax.bar(xs, [math.nan if y is None else y for y in ys], width=width, label=metric)
        ax.set_xticks(range(len(names)), [f"{g}\n(n={groups[g].get('n', 0)})" for g in names])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("mean score")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=min(len(metrics), 4), fontsize="small")
    ax.set_title(title)
    fig.savefig(path, dpi=110)


def plot_latency(latencies: Sequence[float | None], path: Path) -> None:
    """Histogram of per-case latency with vertical p50/p95 lines (log x axis when the slowest case is more than
    20× the median)."""
    values = [float(v) for v in latencies if v is not None]
    fig = _new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    if values:
        bins: Any = min(30, max(5, len(values) // 2))
        lo, hi, mid = min(values), max(values), percentile(values, 50) or 0.0
        if lo > 0 and mid > 0 and hi / mid > 20:  # a few slow outliers (cold start): log scale keeps the bulk visible
            bins = [lo * (hi / lo) ** (i / 30) for i in range(31)]
            ax.set_xscale("log")
            ax.set_xlabel("latency (ms, log scale)")
        ax.hist(values, bins=bins, color="#4c72b0", alpha=0.8)
        for p, style in ((50, "--"), (95, ":")):
            v = percentile(values, p)
            if v is not None:
                ax.axvline(v, color="#c44e52", linestyle=style, label=f"p{p} = {v:.0f} ms")
        ax.legend()
        if ax.get_xscale() != "log":
            ax.set_xlabel("latency (ms)")
        ax.set_ylabel("cases")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "no latency data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Answer latency")
    fig.savefig(path, dpi=110)


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def ragas_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One RAGAS ``SingleTurnSample`` dict: user_input, retrieved_contexts, response, reference,
    retrieved_context_ids, reference_context_ids (the question alone is the user input; history is dropped)."""
    return {
        "user_input": str(row.get("question") or ""),
        "retrieved_contexts": [str(c) for c in row.get("contexts") or []],
        "response": str(row.get("answer") or ""),
        "reference": row.get("reference_answer") or None,
        "retrieved_context_ids": [str(i) for i in row.get("retrieved") or []],
        "reference_context_ids": [str(i) for i in row.get("gold_units") or []],
    }


def _summary_section(summary: Mapping[str, Any]) -> list[str]:
    cols: list[tuple[str, Mapping[str, Any]]] = [("all", summary["all"])]
    cols += [(lang, stats) for lang, stats in summary["by_language"].items()]
    metric_rows = ["n", *METRICS, "latency_p50_ms", "latency_p95_ms"]
    metric_rows = [m for m in metric_rows if m == "n" or any(s.get(m) is not None for _, s in cols)]
    judge = sorted({k for _, s in cols for k in s if k.startswith("judge_") and not k.startswith("n_")})
    table = md_table(["metric", *(c for c, _ in cols)], [[m, *(_fmt(s.get(m), m) for _, s in cols)]
                                                          for m in metric_rows + judge])
    return ["## Summary", "", table, ""]


def _type_section(by_type: Mapping[str, Mapping[str, Any]]) -> list[str]:
    headers = ["type", "n", *TYPE_TABLE_METRICS, "p50 ms"]
    rows = [
        [t, s["n"], *(_fmt(s.get(m), m) for m in TYPE_TABLE_METRICS), _fmt(s.get("latency_p50_ms"), "latency_p50_ms")]
        for t, s in by_type.items()
    ]
    return ["## By question type", "", md_table(headers, rows), ""]


def _worst_section(rows: Sequence[Mapping[str, Any]], scored: Sequence[Mapping[str, Any]]) -> list[str]:
    ranked = []
    for row, s in zip(rows, scored, strict=True):
        cs = case_score(s)
        if cs is not None and cs < 1.0 - 1e-9:
            ranked.append((cs, str(row.get("id")), row, s))
    ranked.sort(key=lambda t: (t[0], t[1]))
    worst = ranked[:WORST_CASES]
    out = [f"## Worst cases ({len(worst)} of {len(ranked)} imperfect)", ""]
    if not worst:
        return [*out, "Every case scored 1.0 on " + ", ".join(CASE_SCORE_METRICS) + ".", ""]
    overview = [
        [i, cid, row.get("type", ""), row.get("language", ""), f"{cs:.3f}", _ids(row.get("gold_units")),
         _ids(row.get("retrieved")), _ids(row.get("citations")), "yes" if row.get("refused") else "no"]
        for i, (cs, cid, row, _s) in enumerate(worst, start=1)
    ]
    out += [md_table(["#", "id", "type", "lang", "case score", "gold", "retrieved", "cited", "refused"], overview,
                     ["r", "l", "l", "l", "r", "l", "l", "l", "l"]), ""]
    for i, (cs, cid, row, s) in enumerate(worst, start=1):
        lang = str(row.get("language") or "zh")
        missing = missing_key_points(str(row.get("answer") or ""), list(row.get("key_points") or []), lang)
        failing = [f"{m} {_fmt(s.get(m), m)}" for m in CASE_SCORE_METRICS if s.get(m) is not None and s[m] < 1.0]
        out += [f"### {i}. `{cid}` — {row.get('type', '')}, {lang}, case score {cs:.3f}", ""]
        if row.get("history"):
            out += ["**History:** " + " → ".join(str(h) for h in row["history"]), ""]
        out += [f"**Question:** {row.get('question', '')}", "", "**Answer:**", "", _quote(str(row.get("answer") or "")),
                "",
                f"- gold: {_ids(row.get('gold_units'))} · retrieved: {_ids(row.get('retrieved'))} · "
                f"cited: {_ids(row.get('citations'))}",
                f"- answerable: {'yes' if row.get('answerable', True) else 'no'} · "
                f"refused: {'yes' if row.get('refused') else 'no'}",
                f"- below 1: {', '.join(failing) or '—'}",
                f"- key points missed: {'; '.join(missing) if missing else '—'}", ""]
    return out


#: Columns of the tune-vs-test table (README shows it; the gap is test − tune).
SPLIT_TABLE_METRICS: tuple[str, ...] = (
    "hit@1",
    "refusal_correct",
    "language_match",
    "citation_precision",
    "false_refusal",
    "answered_right",
    "key_point_coverage",
)


def split_table(rows: Sequence[Mapping[str, Any]], scored: Sequence[Mapping[str, Any]]) -> str | None:
    """Markdown table of the metrics on the `tune` and `test` splits side by side, with the gap (test − tune);
    ``None`` when the rows do not come from both splits."""
    by_split: dict[str, list[Mapping[str, Any]]] = {}
    for row, s in zip(rows, scored, strict=True):
        by_split.setdefault(str(row.get("split") or ""), []).append(s)
    if not by_split.get("tune") or not by_split.get("test"):
        return None
    tune, test = summarize(by_split["tune"])["all"], summarize(by_split["test"])["all"]
    table = [["n", tune["n"], test["n"], "—"]]
    table += [[m, _fmt(tune.get(m), m), _fmt(test.get(m), m), _fmt_delta(tune.get(m), test.get(m), m)]
              for m in SPLIT_TABLE_METRICS]
    return md_table(["metric", "tune", "test", "gap (test − tune)"], table)


def _split_section(rows: Sequence[Mapping[str, Any]], scored: Sequence[Mapping[str, Any]]) -> list[str]:
    table = split_table(rows, scored)
    if table is None:
        return []
    return ["## Tune vs test", "", "Constants are chosen on `tune`; `test` is held out and gated. "
            "false_refusal is the share of answerable cases refused (lower is better); answered_right counts a case "
            "right when it is refused exactly when due, in the expected language, citing a gold unit when answered.",
            "", table, ""]


def _threshold_section(failures: list[str] | None, backend: str) -> list[str]:
    if failures is None:
        return []
    out = [f"## Quality gates ({backend})", ""]
    if not failures:
        return [*out, "**PASS** — every gate is met.", ""]
    return [*out, f"**FAIL** — {len(failures)} gate(s) not met:", "", *(f"- {f}" for f in failures), ""]


def _fmt_meta(value: Any) -> str:
    """A nested meta entry on one line: ``a=1, b=x`` for a mapping, ``group: a=1; other: …`` for nested ones."""
    if isinstance(value, Mapping):
        if any(isinstance(v, Mapping) for v in value.values()):
            return "; ".join(f"{k}: {_fmt_meta(v)}" for k, v in value.items())
        return ", ".join(f"{k}={_fmt_meta(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def render_report(
    rows: Sequence[Mapping[str, Any]],
    scored: Sequence[Mapping[str, Any]],
    meta: Mapping[str, Any],
    summary: Mapping[str, Any],
    failures: list[str] | None,
) -> str:
    """The text of report.md."""
    backend = str(meta.get("backend") or "unknown")
    lines = [
        f"# Evaluation report: {meta.get('run_name')}",
        "",
        f"- **Backend:** {backend}",
        f"- **Date:** {meta.get('date')}",
        f"- **Cases:** {len(rows)}",
    ]
    shares = meta.get("sentences") or {}
    if shares:
        lines.append(f"- **LLM sentences ({shares['n']}):** verified {shares['verified']:.0%}, attributed "
                     f"{shares['attributed']:.0%}, removed {shares['removed']:.0%}")
    skip = {"run_name", "name", "backend", "date", "n_cases", "thresholds", "threshold_failures", "summary",
            "sentences"}
    for key, value in meta.items():
        if key not in skip and isinstance(value, str | int | float | bool):
            lines.append(f"- **{key}:** {value}")
        elif key not in skip and isinstance(value, Mapping) and value:
            lines.append(f"- **{key}:** {_cell(_fmt_meta(value))}")
    lines.append("")
    lines += _threshold_section(failures, backend)
    lines += _split_section(rows, scored)
    lines += _summary_section(summary)
    lines += _type_section(summary["by_type"])
    lines += ["![scores by type](scores_by_type.png)", "", "![scores by language](scores_by_language.png)", "",
              "![latency](latency.png)", ""]
    lines += _worst_section(rows, scored)
    lines += [
        "---",
        "",
        "Metric definitions: `eval/metrics.py`. Retrieval and citation metrics cover answerable cases only; "
        "“—” means the metric is undefined for every case of that column.",
        "",
    ]
    return "\n".join(lines)


def _write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def write_report(
    run_dir: Path, rows: list[dict[str, Any]], scored: list[dict[str, Any]], meta: dict[str, Any]
) -> dict[str, Path]:
    """Write every artefact of one run into `run_dir` (created if needed); return ``{name: path}``.

    `rows` are the runner's result rows and `scored` their :func:`eval.metrics.score_row` dicts, in the same
    order. Recognised `meta` keys: ``run_name`` (default: the directory name), ``backend``, ``date`` (default:
    now, UTC), and optionally ``thresholds`` (a ``[gate.<backend>]`` table, checked here) or
    ``threshold_failures`` (a list of strings already produced by :func:`eval.metrics.check_thresholds`).
    Other scalar meta entries are listed in the report header.
    """
    if len(rows) != len(scored):
        raise ValueError(f"{len(rows)} rows but {len(scored)} score dicts")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = dict(meta)
    meta["run_name"] = _run_name(meta, run_dir)
    meta.setdefault("backend", rows[0].get("backend", "unknown") if rows else "unknown")
    meta.setdefault("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))

    tagged = tag_rows(rows, scored)
    summary = full_summary(tagged)
    gated = [t for r, t in zip(rows, tagged, strict=True) if r.get("split") == "test"] or tagged
    failures = _threshold_failures(meta, full_summary(gated))

    paths = {
        name: run_dir / name
        for name in ("results.jsonl", "report.md", "scores_by_type.png", "scores_by_language.png", "latency.png",
                     "ragas_dataset.jsonl", "meta.json")
    }
    _write_jsonl(paths["results.jsonl"], [{**r, "scores": s} for r, s in zip(rows, scored, strict=True)])
    _write_jsonl(paths["ragas_dataset.jsonl"], [ragas_record(r) for r in rows])
    plot_grouped_bars(summary["by_type"], PLOT_METRICS, "Scores by question type", paths["scores_by_type.png"])
    plot_grouped_bars(summary["by_language"], PLOT_METRICS, "Scores by language", paths["scores_by_language.png"])
    plot_latency([s.get("latency_ms") for s in scored], paths["latency.png"])
    paths["report.md"].write_text(render_report(rows, scored, meta, summary, failures), encoding="utf-8")

    meta_out = {**meta, "n_cases": len(rows), "summary": summary}
    if failures is not None:
        meta_out["threshold_failures"] = failures
    paths["meta.json"].write_text(json.dumps(meta_out, ensure_ascii=False, indent=2, default=str) + "\n",
                                  encoding="utf-8")
    return paths


# --------------------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------------------


def load_run(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(rows, scores, meta) of a written run; rows without a ``"scores"`` entry are scored afresh."""
    run_dir = Path(run_dir)
    rows: list[dict[str, Any]] = []
    with (run_dir / "results.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    scored = [r["scores"] if isinstance(r.get("scores"), dict) else score_row(r) for r in rows]
    meta_path = run_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return rows, scored, meta


def _compare_table(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, metrics: Sequence[str]) -> str:
    a, b = a or {}, b or {}
    body = [
        [m, _fmt(a.get(m), m), _fmt(b.get(m), m), _fmt_delta(a.get(m), b.get(m), m)]
        for m in ["n", *metrics]
        if m == "n" or a.get(m) is not None or b.get(m) is not None
    ]
    return md_table(["metric", "A", "B", "Δ"], body)


def compare_runs(dir_a: Path, dir_b: Path) -> str:
    """Markdown comparison of two run directories: ``metric | A | B | Δ`` (Δ = B − A) overall, per language and
    per question type, then the cases whose case score (:func:`case_score`) dropped most from A to B."""
    rows_a, scored_a, meta_a = load_run(dir_a)
    rows_b, scored_b, meta_b = load_run(dir_b)
    sum_a, sum_b = full_summary(tag_rows(rows_a, scored_a)), full_summary(tag_rows(rows_b, scored_b))
    overall_metrics = [*METRICS, "latency_p50_ms", "latency_p95_ms"]

    def label(meta: Mapping[str, Any], d: Path) -> str:
        return f"{_run_name(meta, Path(d))} ({meta.get('backend', 'unknown')}, {meta.get('date', 'no date')})"

    lines = [
        "# Run comparison",
        "",
        f"- **A:** {label(meta_a, dir_a)}",
        f"- **B:** {label(meta_b, dir_b)}",
        "- Δ = B − A (for latency, negative is better)",
        "",
        "## Overall",
        "",
        _compare_table(sum_a["all"], sum_b["all"], overall_metrics),
        "",
    ]
    langs = list(dict.fromkeys([*sum_a["by_language"], *sum_b["by_language"]]))
    for lang in langs:
        lines += [f"## Language: {lang}", "",
                  _compare_table(sum_a["by_language"].get(lang), sum_b["by_language"].get(lang), TYPE_TABLE_METRICS),
                  ""]
    types = list(summarize([*tag_rows(rows_a, scored_a), *tag_rows(rows_b, scored_b)], by="type"))
    for qtype in types:
        lines += [f"## Type: {qtype}", "",
                  _compare_table(sum_a["by_type"].get(qtype), sum_b["by_type"].get(qtype), TYPE_TABLE_METRICS), ""]

    by_id_a = {str(r.get("id")): (r, s) for r, s in zip(rows_a, scored_a, strict=True)}
    changes = []
    for r, s in zip(rows_b, scored_b, strict=True):
        cid = str(r.get("id"))
        if cid in by_id_a:
            ca, cb = case_score(by_id_a[cid][1]), case_score(s)
            if ca is not None and cb is not None and cb < ca - 1e-9:
                changes.append((cb - ca, cid, r.get("type", ""), ca, cb))
    changes.sort()
    only_a = sorted(set(by_id_a) - {str(r.get("id")) for r in rows_b})
    only_b = sorted({str(r.get("id")) for r in rows_b} - set(by_id_a))
    lines += [f"## Regressed cases ({len(changes)})", ""]
    if changes:
        lines += [md_table(["id", "type", "A", "B", "Δ"],
                           [[cid, t, f"{ca:.3f}", f"{cb:.3f}", f"{d:+.3f}"] for d, cid, t, ca, cb in changes[:20]]), ""]
    else:
        lines += ["No case scored lower in B.", ""]
    if only_a or only_b:
        lines += [f"Cases only in A: {_ids(only_a)}", "", f"Cases only in B: {_ids(only_b)}", ""]
    return "\n".join(lines)

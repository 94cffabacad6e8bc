"""The evaluator the UI's Evaluation tab drives (structurally matching ui.evaluation.Evaluator; eval never imports ui).

Runs go through the same runner, scoring and report writer as `policyqa eval`; progress is the runner's tqdm bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eval.metrics import load_thresholds, score_row
from eval.report import compare_runs, write_report
from eval.runner import DEFAULT_CASES, EVAL_DIR, run_eval
from rag import InputError, Settings, available_backends

THRESHOLDS = EVAL_DIR / "thresholds.toml"
PLOTS = ("scores_by_type.png", "scores_by_language.png", "latency.png")


@dataclass(frozen=True)
class EvalRunReport:
    """One written run: name, directory, report.md text and its plots."""

    name: str
    directory: Path
    report_markdown: str
    plots: tuple[Path, ...] = field(default_factory=tuple)


class EvalService:
    """Run the eval set, list and load written runs, compare two of them — over one reports directory."""

    def __init__(self, settings: Settings, reports_dir: Path, cases_path: Path = DEFAULT_CASES) -> None:
        self.settings = settings
        self.reports_dir = Path(reports_dir)
        self.cases_path = Path(cases_path)

    def backends(self) -> list[str]:
        """The extractive backend, and the LLM only when one is configured (no run against a placeholder key)."""
        return available_backends(self.settings)

    def run(self, backend: str) -> EvalRunReport:
        """Answer and score every case with `backend`, write the report (with the backend's gate, if any)."""
        if backend not in self.backends():
            raise InputError(f"backend {backend!r} is not available here", f"此处不能使用后端 {backend!r}")
        rows, meta = run_eval(self.settings, self.cases_path, backend, progress=True)
        scored = [score_row(r) for r in rows]
        gates = load_thresholds(THRESHOLDS, backend)
        if gates:
            meta["thresholds"] = gates
        run_dir = self._unique_dir(str(meta["run_name"]))
        meta["run_name"] = run_dir.name
        write_report(run_dir, rows, scored, meta)
        return self.load(run_dir.name)

    def runs(self) -> list[str]:
        """Written runs (directories with results.jsonl), newest first."""
        if not self.reports_dir.is_dir():
            return []
        found = [d for d in self.reports_dir.iterdir() if (d / "results.jsonl").is_file()]
        return [d.name for d in sorted(found, key=lambda d: (d / "results.jsonl").stat().st_mtime, reverse=True)]

    def load(self, name: str) -> EvalRunReport:
        run_dir = self._run_dir(name)
        report = run_dir / "report.md"
        return EvalRunReport(name=run_dir.name, directory=run_dir,
                             report_markdown=report.read_text(encoding="utf-8") if report.is_file() else "",
                             plots=tuple(run_dir / p for p in PLOTS if (run_dir / p).is_file()))

    def compare(self, a: str, b: str) -> str:
        return compare_runs(self._run_dir(a), self._run_dir(b))

    def _run_dir(self, name: str) -> Path:
        run_dir = self.reports_dir / Path(name).name  # a run name, never a path outside the reports dir
        if not (run_dir / "results.jsonl").is_file():
            raise InputError(f"no evaluation run {name!r} in {self.reports_dir}", f"{self.reports_dir} 中没有评测运行 {name!r}")
        return run_dir

    def _unique_dir(self, name: str) -> Path:
        run_dir, n = self.reports_dir / name, 2
        while run_dir.exists():
            run_dir, n = self.reports_dir / f"{name}-{n}", n + 1
        return run_dir

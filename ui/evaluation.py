"""What the Evaluation tab needs from an evaluator; the composition root injects one (the UI never imports eval)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class EvalRun(Protocol):
    """A written evaluation run: its name, directory, report Markdown and plot images."""

    @property
    def name(self) -> str: ...

    @property
    def directory(self) -> Path: ...

    @property
    def report_markdown(self) -> str: ...

    @property
    def plots(self) -> tuple[Path, ...]: ...


class Evaluator(Protocol):
    """Runs the eval set and reads its reports. Progress is the runner's tqdm bar, which the tab tracks."""

    def backends(self) -> list[str]:
        """Backends that can be evaluated here (configured ones only)."""
        ...

    def run(self, backend: str) -> EvalRun:
        """Answer and score every case with `backend`, write the report, return it."""
        ...

    def runs(self) -> list[str]:
        """Names of written runs, newest first."""
        ...

    def load(self, name: str) -> EvalRun:
        """A written run by name."""
        ...

    def compare(self, a: str, b: str) -> str:
        """Markdown comparison of two written runs (B − A)."""
        ...

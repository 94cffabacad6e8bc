"""Prompt templates as text files, loaded by name. `{placeholders}` are filled by `render`, which fails
loudly on a missing or unexpected variable so a renamed field cannot silently produce a broken prompt."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent


@cache
def load_prompt(name: str) -> str:
    """The template `prompts/<name>.txt`."""
    path = PROMPT_DIR / f"{name}.txt"
    if not path.is_file():
        raise KeyError(f"no prompt named {name!r} in {PROMPT_DIR}")
    return path.read_text(encoding="utf-8").strip()


def placeholders(name: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(load_prompt(name)) if field}


def render(name: str, **values: str) -> str:
    """Fill a template; every placeholder must be given and nothing else."""
    needed = placeholders(name)
    missing, extra = needed - values.keys(), values.keys() - needed
    if missing or extra:
        raise KeyError(f"prompt {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return load_prompt(name).format(**values)

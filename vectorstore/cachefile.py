"""Files derived to start faster (POLICYQA_CACHE_DIR), written once and atomically: a reader never sees half a file,
and a cache that cannot be written (a read-only home, a full disk) costs speed, never an error."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)


def write_cache_file(target: Path, write: Callable[[BinaryIO], Any]) -> bool:
    """Write `target` with `write` through a temporary file and an atomic rename; False (logged) if it cannot."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, target)
        return True
    except OSError:
        log.info("cannot write the cache file %s", target, exc_info=True)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False

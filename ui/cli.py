"""`policyqa ui`: the web UI's subcommand, contributed to the `policyqa` command line by the composition root.

Basic auth (`--auth USER:PASSWORD`) is checked in constant time and rate-limited: after a few failed logins
for a user name, further attempts for it are refused for a while, so a password cannot be guessed quickly.
"""

from __future__ import annotations

import argparse
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rag import PolicyQAError, Settings, SettingsError, backend_label
from ui.evaluation import Evaluator


class RateLimitedAuth:
    """Gradio `auth` callable: accepts one USER:PASSWORD; `max_failures` failures within `window` seconds
    lock that user name out for `lockout` seconds (correct password included)."""

    def __init__(self, user: str, password: str, *, max_failures: int = 5, window: float = 300.0,
                 lockout: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window, self.lockout = max_failures, window, lockout
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        now = self._clock()
        with self._lock:
            if self._locked_until.get(user, 0.0) > now:
                return False
            ok = hmac.compare_digest(user.encode(), self._user) & hmac.compare_digest(password.encode(), self._password)
            if ok:
                self._failures.pop(user, None)
                return True
            recent = self._failures.setdefault(user, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._locked_until[user] = now + self.lockout
                recent.clear()
            if len(self._failures) > 10_000:  # bound memory under a flood of invented user names
                self._failures.clear()
            return False


def parse_auth(auth: str | None) -> RateLimitedAuth | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise SettingsError("--auth must be USER:PASSWORD", "--auth 的格式应为 用户名:密码")
    return RateLimitedAuth(user, password)


def cmd_ui(args: argparse.Namespace, settings: Settings,
           make_evaluator: Callable[[Settings], Evaluator] | None = None) -> int:
    """Warm up, print where it listens and which backend answers, then serve until Ctrl-C."""
    from ui.app import build_app, launch_options

    auth = parse_auth(args.auth)
    host, port = settings.ui_host, settings.ui_port
    print(f"policyqa ui: loading the index ({backend_label(settings)}) …", flush=True)
    demo = build_app(settings, ui_language=settings.ui_language,
                     evaluator=make_evaluator(settings) if make_evaluator else None)
    try:
        _, local_url, share_url = demo.launch(
            server_name=host, server_port=port, auth=auth, share=bool(args.share),
            prevent_thread_lock=True, quiet=True, show_error=False, **launch_options(),
        )
    except OSError as exc:
        raise PolicyQAError(f"cannot listen on {host}:{port}: {exc}", f"无法监听 {host}:{port}：{exc}") from None
    print(f"policyqa ui: {local_url}", flush=True)
    if share_url:
        print(f"policyqa ui: public link {share_url}", flush=True)
    print(f"policyqa ui: backend {backend_label(settings)}  (Ctrl-C to stop)", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0


def register(sub: Any, *, store: argparse.ArgumentParser, llm: argparse.ArgumentParser,
             make_evaluator: Callable[[Settings], Evaluator] | None = None) -> None:
    """Add `ui`; `make_evaluator` (injected by the composition root: ui never imports eval) backs the
    Evaluation tab."""
    p = sub.add_parser("ui", parents=[store, llm], help="start the Gradio web UI",
                       description="Serve the chat UI (loopback by default). Failed logins with --auth are "
                                   "rate-limited per user name.")
    p.add_argument("--host", dest="ui_host", default=None, help="bind address ($POLICYQA_UI_HOST, default 127.0.0.1)")
    p.add_argument("--port", dest="ui_port", type=int, default=None, help="port ($POLICYQA_UI_PORT, default 7860)")
    p.add_argument("--auth", default=None, help="basic auth as USER:PASSWORD")
    p.add_argument("--ui-language", choices=["bi", "zh", "en"], default=None,
                   help="language of the labels ($POLICYQA_UI_LANGUAGE, default bi: Chinese + English)")
    p.add_argument("--share", action="store_true", help="create a public Gradio share link (needs internet)")
    p.set_defaults(func=lambda args, settings: cmd_ui(args, settings, make_evaluator))

"""A real, local, OpenAI-compatible HTTP server for tests and `policyqa bench` (the OpenAI path measured offline).

A test double: it lives in tests/ (not in the wheel); `policyqa bench` loads it from a source checkout.

Standard library only: a ``ThreadingHTTPServer`` on ``127.0.0.1`` (random free port) served from a daemon
thread.  Tests point the real ``openai.OpenAI`` / ``langchain_openai.ChatOpenAI`` clients at ``base_url``
and script what the "model" does::

    with serve() as fake:
        fake.script(Status(429, retry_after=0.01), Reply("你好"))
        client = openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=1)
        ...
        assert len(fake.requests) == 2

Endpoints
    POST /v1/chat/completions  pops the next scripted behaviour (or ``default``); JSON or SSE (``"stream": true``)
    POST /v1/embeddings        deterministic 64-d (or ``dimensions``) L2-normalised vectors from a hash of each
                               input (strings or token-id lists; ``encoding_format`` float or base64).  Uses its
                               own queue (``script_embeddings``), so scripting chat replies is never consumed by
                               an embedding call; a ``Reply`` there only contributes its ``delay``.
    GET  /v1/models            one model, ``fake-model``
    anything else              404 with an OpenAI-style JSON error body
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import json
import math
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "EMBEDDING_DIM",
    "MODEL_NAME",
    "Behaviour",
    "Dynamic",
    "FakeOpenAI",
    "Garbage",
    "Reply",
    "Status",
    "Stream",
    "fake_embedding",
    "serve",
]

MODEL_NAME = "fake-model"
EMBEDDING_DIM = 64


@dataclass
class Reply:
    """A successful completion with ``text``; ``delay`` seconds pass before any header is sent."""

    text: str
    delay: float = 0.0
    chunk_size: int = 4  # characters per SSE chunk when streaming


@dataclass
class Status:
    """An HTTP error with an OpenAI-style body ``{"error": {"message", "type", "param", "code"}}``."""

    code: int
    message: str = "error"
    retry_after: float | None = None  # seconds; sent as ``retry-after-ms`` and ``retry-after`` headers


@dataclass
class Garbage:
    """A 200 response whose body is neither valid JSON nor SSE.

    Sent as ``application/json``: a non-streaming client fails to parse it, but a streaming client ignores
    non-SSE bytes and just sees an empty stream.  With ``sse=True``, a *streaming* request instead gets the body
    as one ``data:`` event of a ``text/event-stream``, so the client fails while decoding that chunk.
    """

    body: bytes = b"not json at all"
    sse: bool = False


@dataclass
class Dynamic:
    """Build the behaviour from the request body: ``Dynamic(lambda req: Reply(req["messages"][-1]["content"]))``."""

    fn: Callable[[dict[str, Any]], Reply | Status | Garbage | Dynamic | Stream]

    def __call__(self, request_body: dict[str, Any]) -> Reply | Status | Garbage | Dynamic | Stream:
        return self.fn(request_body)


@dataclass
class Stream:
    """A streamed reply with faults: `text` in chunks `interval` s apart, then optionally a fault that never ends.

    ``finish=False`` cuts the stream after the text (no finish_reason, no ``[DONE]``, body ended cleanly);
    ``forever`` keeps the response open: ``"ping"`` sends SSE ``: ping`` comments, ``"trickle"`` one-space
    content chunks, ``"repeat"`` the text again and again (ignoring ``max_tokens``), every ``forever_interval`` s,
    until the client hangs up (counted in ``FakeOpenAI.hangups``) or the server stops.
    """

    text: str = ""
    chunk_size: int = 4
    interval: float = 0.0
    finish: bool = True
    forever: str | None = None
    forever_interval: float = 0.05


Behaviour = Reply | Status | Garbage | Dynamic | Stream

_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("not_found_error", "not_found"),
    409: ("conflict_error", "conflict"),
    422: ("invalid_request_error", "unprocessable_entity"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


def _error_body(code: int, message: str) -> dict[str, Any]:
    err_type, err_code = _ERROR_TYPES.get(code, ("server_error" if code >= 500 else "invalid_request_error", None))
    return {"error": {"message": message, "type": err_type, "param": None, "code": err_code or str(code)}}


def _rough_tokens(text: str) -> int:
    """Roughly one token per four UTF-8 bytes (at least 1); 0 for empty text."""
    if not text:
        return 0
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


def _message_text(messages: Any) -> str:
    parts: list[str] = []
    for msg in messages if isinstance(messages, list) else []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


def fake_embedding(item: Any, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic, L2-normalised vector derived from a SHA-256 stream of ``item`` (a string or token ids)."""
    key = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
    raw = b""
    counter = 0
    while len(raw) < 4 * dim:
        raw += hashlib.sha256(f"{counter}:{key}".encode()).digest()
        counter += 1
    ints = struct.unpack(f"<{dim}I", raw[: 4 * dim])
    vec = [(i / 0xFFFFFFFF) * 2.0 - 1.0 for i in ints]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API (httpx pools connections)
    server: _Server

    # -- plumbing ---------------------------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self) -> dict[str, Any]:
        raw = self._read_body()
        body: dict[str, Any]
        try:
            parsed = json.loads(raw) if raw else {}
            body = parsed if isinstance(parsed, dict) else {"_json": parsed}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        record = dict(body)
        record["path"] = self.path
        record["method"] = self.command
        record["headers"] = {k.lower(): v for k, v in self.headers.items()}
        self.server.fake._record(record)
        return body

    def _send_bytes(self, code: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, code: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send_bytes(code, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json", extra)

    def _send_status(self, status: Status) -> None:
        extra: dict[str, str] = {}
        if status.retry_after is not None:
            extra["retry-after-ms"] = str(round(status.retry_after * 1000))
            extra["retry-after"] = str(math.ceil(status.retry_after))
        self._send_json(status.code, _error_body(status.code, status.message), extra)

    def _send_garbage(self, garbage: Garbage, *, streaming: bool) -> None:
        if garbage.sse and streaming:
            payload = b"data: " + garbage.body + b"\n\ndata: [DONE]\n\n"
            self._send_bytes(200, payload, "text/event-stream; charset=utf-8")
        else:
            self._send_bytes(200, garbage.body, "application/json")

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True  # client went away (timeout / closed stream): nothing to do
        except OSError:
            self.close_connection = True  # socket shut down by FakeOpenAI.stop()

    # -- routing ----------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def do_PUT(self) -> None:
        self._guarded(self._not_found)

    def do_DELETE(self) -> None:
        self._guarded(self._not_found)

    def do_PATCH(self) -> None:
        self._guarded(self._not_found)

    def _route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _not_found(self) -> None:
        self._record()
        self._send_json(404, _error_body(404, f"Unknown route: {self.command} {self.path}"))

    def _get(self) -> None:
        if self._route() != "/v1/models":
            self._not_found()
            return
        self._record()
        created = int(time.time())
        model = {"id": MODEL_NAME, "object": "model", "created": created, "owned_by": "policyqa-tests"}
        self._send_json(200, {"object": "list", "data": [model]})

    def _post(self) -> None:
        route = self._route()
        if route == "/v1/chat/completions":
            self._chat(self._record())
        elif route == "/v1/embeddings":
            self._embeddings(self._record())
        else:
            self._not_found()

    # -- behaviours -------------------------------------------------------------------------------------------
    def _resolve(self, behaviour: Behaviour, body: dict[str, Any]) -> Reply | Status | Garbage | Stream:
        for _ in range(16):  # a Dynamic may return another Dynamic; don't loop forever
            if not isinstance(behaviour, Dynamic):
                return behaviour
            behaviour = behaviour(body)
        raise RuntimeError("Dynamic behaviour nested too deeply")

    def _delay(self, seconds: float) -> bool:
        """Sleep before headers; return False if the server is stopping meanwhile."""
        return not (seconds > 0 and self.server.fake._stopping.wait(seconds))

    def _chat(self, body: dict[str, Any]) -> None:
        try:
            behaviour = self._resolve(self.server.fake._next("chat"), body)
        except Exception as exc:  # a broken Dynamic in a test: surface it as a 500 the client will report
            self._send_status(Status(500, f"Dynamic behaviour raised {type(exc).__name__}: {exc}"))
            return
        if isinstance(behaviour, Reply) and not self._delay(behaviour.delay):
            self.close_connection = True
            return
        if isinstance(behaviour, Status):
            self._send_status(behaviour)
        elif isinstance(behaviour, Garbage):
            self._send_garbage(behaviour, streaming=bool(body.get("stream")))
        elif isinstance(behaviour, Stream):
            try:
                self._faulty_stream(body, behaviour)
            except OSError:
                self.server.fake._hung_up()
                raise
        elif body.get("stream"):
            self._chat_stream(body, behaviour)
        else:
            self._send_json(200, self._completion(body, behaviour))

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt_tokens = _rough_tokens(_message_text(body.get("messages")))
        completion_tokens = _rough_tokens(reply.text)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or MODEL_NAME,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _chat_stream(self, body: dict[str, Any], reply: Reply) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or MODEL_NAME,
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            out = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])
            if include_usage:
                out["usage"] = None
            return out

        size = max(1, reply.chunk_size)
        events: list[Any] = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": reply.text[i : i + size]}) for i in range(0, len(reply.text), size)]
        events.append(chunk({}, "stop"))
        if include_usage:
            completion = self._completion(body, reply)
            events.append(dict(base, choices=[], usage=completion["usage"]))

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        self.end_headers()
        for event in events:
            self._write_chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _faulty_stream(self, body: dict[str, Any], spec: Stream) -> None:
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model") or MODEL_NAME}

        def event(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            out = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish_reason}])
            return f"data: {json.dumps(out, ensure_ascii=False)}\n\n".encode()

        stopping = self.server.fake._stopping
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._write_chunk(event({"role": "assistant", "content": ""}))
        size = max(1, spec.chunk_size)
        for i in range(0, len(spec.text), size):
            if stopping.wait(spec.interval) if spec.interval else stopping.is_set():
                return
            self._write_chunk(event({"content": spec.text[i : i + size]}))
        while spec.forever and not stopping.wait(spec.forever_interval):
            if spec.forever == "ping":
                self._write_chunk(b": ping\n\n")
            elif spec.forever == "trickle":
                self._write_chunk(event({"content": " "}))
            else:
                self._write_chunk(event({"content": spec.text or "more "}))
        if spec.finish:
            self._write_chunk(event({}, "stop"))
            self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _embeddings(self, body: dict[str, Any]) -> None:
        behaviour = self._resolve(self.server.fake._next("embeddings"), body)
        if isinstance(behaviour, Status):
            self._send_status(behaviour)
            return
        if isinstance(behaviour, Garbage):
            self._send_garbage(behaviour, streaming=False)
            return
        if not self._delay(behaviour.delay):
            self.close_connection = True
            return

        raw_input = body.get("input")
        if raw_input is None:
            self._send_status(Status(400, "'input' is a required property"))
            return
        # One string, a list of strings, one token list, or a list of token lists.
        if isinstance(raw_input, str) or (isinstance(raw_input, list) and raw_input and isinstance(raw_input[0], int)):
            items: list[Any] = [raw_input]
        else:
            items = list(raw_input)
        dim = int(body.get("dimensions") or EMBEDDING_DIM)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, item in enumerate(items):
            vec = fake_embedding(item, dim)
            embedding: Any = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode("ascii") if as_base64 else vec
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(i) if isinstance(i, list) else _rough_tokens(str(i)) for i in items)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or MODEL_NAME,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (keep-alive connection closed, request timed out) is normal here."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            super().handle_error(request, client_address)


class FakeOpenAI:
    """Local OpenAI-compatible server. Use as a context manager, or call ``start()`` / ``stop()``."""

    def __init__(self) -> None:
        self.default: Behaviour = Reply("OK")
        self.embeddings_default: Behaviour = Reply("")
        self.requests: list[dict[str, Any]] = []
        self.hangups = 0  # streams the client closed before they ended (a cancelled request)
        self.base_url = ""
        self._queues: dict[str, collections.deque[Behaviour]] = {
            "chat": collections.deque(),
            "embeddings": collections.deque(),
        }
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting --------------------------------------------------------------------------------------------
    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for /v1/chat/completions; each request pops one, then ``default`` applies."""
        with self._lock:
            self._queues["chat"].extend(behaviours)

    def script_embeddings(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for /v1/embeddings (a ``Reply`` there only means "succeed, after its delay")."""
        with self._lock:
            self._queues["embeddings"].extend(behaviours)

    def reset(self) -> None:
        """Forget recorded requests and queued behaviours; restore the defaults."""
        with self._lock:
            self.requests.clear()
            for queue in self._queues.values():
                queue.clear()
            self.default = Reply("OK")
            self.embeddings_default = Reply("")

    @property
    def pending(self) -> int:
        """Number of scripted chat behaviours not consumed yet."""
        with self._lock:
            return len(self._queues["chat"])

    def chat_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].split("?")[0].rstrip("/") == "/v1/chat/completions"]

    def _next(self, kind: str) -> Behaviour:
        with self._lock:
            queue = self._queues[kind]
            if queue:
                return queue.popleft()
            return self.default if kind == "chat" else self.embeddings_default

    def _record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(record)

    def _hung_up(self) -> None:
        with self._lock:
            self.hangups += 1

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)

    # -- lifecycle --------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running")
        return int(self._server.server_address[1])

    def start(self) -> FakeOpenAI:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wake handlers sleeping on a Reply/embedding delay
        server.shutdown()
        server.server_close()
        with self._lock:
            handlers = dict(self._connections)
        for conn in handlers:  # unblock keep-alive handlers waiting for the next request / writing to a slow reader
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        for worker in [*handlers.values(), thread]:
            if worker is not None and worker is not threading.current_thread():
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve() -> Iterator[FakeOpenAI]:
    """``with serve() as fake:`` — a started ``FakeOpenAI`` that is stopped on exit."""
    fake = FakeOpenAI()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()

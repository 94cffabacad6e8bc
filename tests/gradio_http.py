"""Drive a running Gradio app's UI events over HTTP, as its page does: the queue protocol by fn_index.

The UI's events are private (`api_visibility="private"`: only `/ask` is an API), so gradio_client refuses them;
the browser calls them with POST /gradio_api/queue/join and reads the result from the SSE stream
/gradio_api/queue/data. This client does exactly that, with one session per instance (gr.State is per session).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx


class GradioPage:
    """One browser-like session of a Gradio app: find components and events by elem_id, fire events, upload files."""

    def __init__(self, url: str, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)
        self.session = uuid.uuid4().hex
        self.config: dict[str, Any] = self.http.get(f"{self.url}/config").json()
        self.progress: list[dict[str, Any]] = []  # the progress_data of every progress message received

    def component(self, elem_id: str) -> dict[str, Any]:
        found = [c for c in self.config["components"] if c.get("props", {}).get("elem_id") == elem_id]
        assert len(found) == 1, f"{len(found)} components with elem_id {elem_id!r}"
        return found[0]

    def event(self, elem_id: str, trigger: str) -> dict[str, Any]:
        """The dependency that `trigger` (click, change, …) on the component `elem_id` runs first."""
        cid = self.component(elem_id)["id"]
        for dep in self.config["dependencies"]:
            if [cid, trigger] in [list(t) for t in dep["targets"]]:
                return dep
        raise AssertionError(f"no {trigger} event on {elem_id!r}")

    def fire(self, elem_id: str, trigger: str, data: list[Any]) -> dict[int, Any]:
        """Run the event with these input values; {output component id: its update or value}."""
        return self._run(self.event(elem_id, trigger), data, self.component(elem_id)["id"])

    def fire_load(self) -> dict[int, Any]:
        """Run the app's page-load event (demo.load), as a newly opened page does."""
        dep = next(d for d in self.config["dependencies"] if any(t[1] == "load" for t in d["targets"]))
        return self._run(dep, [None] * len(dep["inputs"]), dep["targets"][0][0])

    def _run(self, dep: dict[str, Any], data: list[Any], cid: int) -> dict[int, Any]:
        body = {"data": data, "fn_index": dep["id"], "session_hash": self.session, "event_data": None,
                "trigger_id": cid}
        joined = self.http.post(f"{self.url}/gradio_api/queue/join", json=body)
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data",
                              params={"session_hash": self.session}) as response:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") != event_id:
                    continue
                if msg["msg"] == "progress":
                    self.progress.append(msg)
                if msg["msg"] == "process_completed":
                    output = msg.get("output", {})
                    assert msg.get("success"), output
                    return dict(zip(dep["outputs"], output["data"], strict=True))
        raise AssertionError("the event stream ended without a result")

    def output(self, result: dict[int, Any], elem_id: str) -> Any:
        """One output of `fire`'s result, by the component's elem_id."""
        return result[self.component(elem_id)["id"]]

    def upload(self, path: Path) -> dict[str, Any]:
        """Upload a file as the page's File component does; the FileData value to pass as an input."""
        with path.open("rb") as f:
            r = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, f)})
        r.raise_for_status()
        server_path = r.json()[0]
        return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def close(self) -> None:
        self.http.close()

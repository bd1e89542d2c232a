"""A stand-in for Loki's query_range API: Debian does not package Loki, so the integration tests,
which run their backends as local processes, cannot start a real one.

It answers in Loki's documented format (resultType "streams", values as [ns-string, line]),
with Loki's semantics: `start` inclusive, `end` exclusive, `direction=forward` giving the oldest
`limit` entries across every stream, `limit` capped by max_entries_limit_per_query (5,000).
Faults can be switched on: 500 answers, or answers slower than the client waits.
"""

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MAX_ENTRIES_LIMIT_PER_QUERY = 5000


class FakeLoki:
    def __init__(self) -> None:
        # (labels as a sorted tuple, timestamp_ns, line, structured metadata or None)
        self.entries: list[tuple[tuple, int, str, dict | None]] = []
        self.requests: list[dict[str, str]] = []
        self.fail_next = 0  # answer 500 to this many requests
        self.slow_next = 0  # answer this many requests after `slow_seconds`
        self.slow_seconds = 0.0
        self._lock = threading.Lock()
        loki = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, body = loki.answer(url.path, params)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should with a slow Loki

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, labels: dict[str, str], timestamp_ns: int, line: str, metadata=None) -> None:
        with self._lock:
            self.entries.append((tuple(sorted(labels.items())), timestamp_ns, line, metadata))

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(params)
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {"status": "error", "error": "simulated: too many outstanding requests"}
            slow = self.slow_next > 0
            if slow:
                self.slow_next -= 1
        if slow:
            time.sleep(self.slow_seconds)
        if path != "/loki/api/v1/query_range":
            return 404, {"status": "error", "error": f"no route {path}"}
        if params.get("direction", "backward") != "forward":
            return 400, {"status": "error", "error": "this stand-in serves direction=forward only"}
        start, end = int(params["start"]), int(params["end"])
        limit = min(int(params.get("limit", 100)), MAX_ENTRIES_LIMIT_PER_QUERY)
        with self._lock:
            matching = [e for e in self.entries if start <= e[1] < end and _matches(params, e[0])]
        page = sorted(matching, key=lambda e: e[1])[:limit]
        streams: dict[tuple, list] = defaultdict(list)
        for labels, ts, line, metadata in page:
            value = [str(ts), line] + ([metadata] if metadata else [])
            streams[labels].append(value)
        result = [{"stream": dict(labels), "values": values} for labels, values in streams.items()]
        return 200, {
            "status": "success",
            "data": {"resultType": "streams", "result": result, "stats": {}},
        }

    def start(self) -> "FakeLoki":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _matches(params: dict[str, str], labels: tuple) -> bool:
    """Only the selector the scraper sends: {name="value", ...} with equality matchers."""
    selector = params["query"].strip().strip("{}")
    wanted = dict(
        (part.split("=", 1)[0].strip(), part.split("=", 1)[1].strip().strip('"'))
        for part in selector.split(",")
        if part.strip()
    )
    return wanted.items() <= dict(labels).items()

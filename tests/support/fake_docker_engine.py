"""A stand-in for the Docker Engine API on a Unix socket, for Prometheus's Docker discovery.

The integration tests need no Docker engine, so a real Prometheus is pointed at this instead. It
answers the three calls docker_sd makes, in the Engine API's documented shapes: GET /_ping (API
version negotiation, the `API-Version` header), GET /vX/containers/json and GET /vX/networks.
Container IPs must be loopback addresses: Prometheus really scrapes what it discovers.
"""

import json
import re
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

API_VERSION = "1.41"


@dataclass
class Container:
    name: str
    labels: dict[str, str]
    networks: dict[str, str]  # network name -> the container's IP on it
    ports: list[int] = field(default_factory=lambda: [8000])

    def as_engine_json(self) -> dict:
        return {
            "Id": f"{self.name}-id",
            "Names": [f"/{self.name}"],
            "Image": "observability-lab/app:0.1.0",
            "Labels": self.labels,
            "State": "running",
            "HostConfig": {"NetworkMode": next(iter(self.networks))},
            "Ports": [{"PrivatePort": port, "Type": "tcp"} for port in self.ports],
            "NetworkSettings": {
                "Networks": {
                    network: {"NetworkID": f"{network}-id", "IPAddress": ip}
                    for network, ip in self.networks.items()
                }
            },
        }


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeDockerEngine:
    def __init__(self, socket_path: Path, containers: list[Container]) -> None:
        self.socket_path = socket_path
        self.containers = containers
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = re.sub(r"^/v[\d.]+", "", self.path.split("?")[0])
                if path == "/_ping":
                    self._send(200, "OK", "text/plain")
                elif path == "/containers/json":
                    self._send(200, [c.as_engine_json() for c in engine.containers])
                elif path == "/networks":
                    self._send(200, engine.networks())
                else:
                    self._send(404, {"message": f"page not found: {path}"})

            do_HEAD = do_GET

            def _send(self, status: int, body, content_type: str = "application/json") -> None:
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("API-Version", API_VERSION)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def log_message(self, *args) -> None:  # a Unix socket has no client address
                pass

        self._server = _UnixHTTPServer(str(socket_path), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def networks(self) -> list[dict]:
        names = sorted({n for c in self.containers for n in c.networks})
        return [
            {"Name": n, "Id": f"{n}-id", "Driver": "bridge", "Scope": "local", "Labels": {}}
            for n in names
        ]

    def __enter__(self) -> "FakeDockerEngine":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.socket_path.unlink(missing_ok=True)

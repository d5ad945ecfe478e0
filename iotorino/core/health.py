"""`/metrics`, `/healthz` and `/readyz` for a long-running command, from its registry and supervisor.

`/healthz` answers 200 while the process is alive (no component failed it) and
503 otherwise; `/readyz` answers 200 only when every component is ready, and
503 with a JSON body naming the components that are not (and why) otherwise.
The server runs under the supervisor itself, so a crash of it is counted and
restarted like any other thread. A component can serve its own read-only
paths beside them (`routes`: path -> function of the query string answering
status, body and content type), e.g. the alert services' `GET /alerts`.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from iotorino.core.supervisor import Supervisor


Route = Callable[[str], "tuple[int, bytes, str]"]
"""A component's own path: the query string in, (HTTP status, body, content type) out."""


def _handler(registry: CollectorRegistry, supervisor: Supervisor,
             routes: Mapping[str, Route]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, query = self.path.partition("?")
            if path in routes:
                self._send(*routes[path](query))
            elif path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                status = supervisor.status()
                self._send(200 if status["alive"] else 503, _json({"alive": status["alive"]}))
            elif path == "/readyz":
                status = supervisor.status()
                self._send(200 if status["ready"] else 503, _json(status))
            else:
                self._send(404, _json({"error": "not found", "paths": [*routes, "/metrics", "/healthz", "/readyz"]}))

        def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # quiet: scrapes every few seconds
            pass

    return Handler


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True).encode()


def serve(registry: CollectorRegistry, supervisor: Supervisor, host: str, port: int,
          routes: Mapping[str, Route] | None = None) -> ThreadingHTTPServer:
    """Bind `host:port` (0: a free port, read `server.server_address`) and serve under the supervisor, with the
    component's own `routes` beside /metrics, /healthz and /readyz."""
    server = ThreadingHTTPServer((host, int(port)), _handler(registry, supervisor, dict(routes or {})))
    server.daemon_threads = True
    supervisor.spawn("health-http", server.serve_forever)
    return server

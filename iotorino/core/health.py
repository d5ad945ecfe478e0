"""`/metrics`, `/healthz` and `/readyz` for a long-running command, from its registry and supervisor.

`/healthz` answers 200 while the process is alive (no component failed it) and
503 otherwise; `/readyz` answers 200 only when every component is ready, and
503 with a JSON body naming the components that are not (and why) otherwise.
The server runs under the supervisor itself, so a crash of it is counted and
restarted like any other thread.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from iotorino.core.supervisor import Supervisor


def _handler(registry: CollectorRegistry, supervisor: Supervisor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                status = supervisor.status()
                self._send(200 if status["alive"] else 503, _json({"alive": status["alive"]}))
            elif path == "/readyz":
                status = supervisor.status()
                self._send(200 if status["ready"] else 503, _json(status))
            else:
                self._send(404, _json({"error": "not found", "paths": ["/metrics", "/healthz", "/readyz"]}))

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


def serve(registry: CollectorRegistry, supervisor: Supervisor, host: str, port: int) -> ThreadingHTTPServer:
    """Bind `host:port` (0: a free port, read `server.server_address`) and serve under the supervisor."""
    server = ThreadingHTTPServer((host, int(port)), _handler(registry, supervisor))
    server.daemon_threads = True
    supervisor.spawn("health-http", server.serve_forever)
    return server

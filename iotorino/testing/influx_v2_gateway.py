"""A local InfluxDB 2.x write endpoint that stores into a real InfluxDB 1.x, with failures on demand.

InfluxDB 2.x cannot be installed here, so the v2 client path is exercised
against this server: `POST /api/v2/write?org=O&bucket=B&precision=P` with
`Authorization: Token T` is forwarded to the 1.x `/write?db=B` (gzip
bodies as they are) and the 1.x answer is passed back. `inject()` queues
failures for the next requests: an HTTP status (5xx, 429 with Retry-After,
400) or a timeout (the request is held longer than the client waits, then
dropped unanswered).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests

_PRECISIONS = {"ns": "ns", "us": "u", "ms": "ms", "s": "s"}


@dataclass(frozen=True)
class Fault:
    """One injected failure: an HTTP `status` (with optional `retry_after` seconds), or a `hold_s` timeout."""

    status: int = 0
    retry_after: int | None = None
    hold_s: float = 0.0


class InfluxV2Gateway:
    """`/api/v2/write` on 127.0.0.1:`port`, forwarding to the InfluxDB 1.x at `influx_v1_url`."""

    def __init__(self, influx_v1_url: str, token: str = "", port: int = 0) -> None:
        self.influx_v1_url = influx_v1_url.rstrip("/")
        self.token = token
        self.faults: deque[Fault] = deque()
        self.requests = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                gateway._handle(self)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL for influxdb-client."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "InfluxV2Gateway":
        """Serve from a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def inject(self, *faults: Fault) -> None:
        """Fail the next requests, one fault each, in order."""
        self.faults.extend(faults)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        url = urlparse(request.path)
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        if url.path != "/api/v2/write":
            return _reply(request, 404, {"code": "not found", "message": f"no route {url.path}"})
        if self.token and request.headers.get("Authorization") != f"Token {self.token}":
            return _reply(request, 401, {"code": "unauthorized", "message": "unauthorized access"})
        fault = self.faults.popleft() if self.faults else None
        if fault and fault.hold_s:
            time.sleep(fault.hold_s)
            request.close_connection = True
            return None
        if fault:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return _reply(request, fault.status, {"code": "injected", "message": f"injected HTTP {fault.status}"},
                          headers)
        query = parse_qs(url.query)
        params = {"db": query.get("bucket", [""])[0], "precision": _PRECISIONS[query.get("precision", ["ns"])[0]]}
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-encoding", "content-type")}
        answer = requests.post(f"{self.influx_v1_url}/write", params=params, data=body, headers=headers, timeout=30)
        if answer.status_code == 204:
            return _reply(request, 204, None)
        message = answer.json().get("error", answer.text) if answer.content else answer.reason
        return _reply(request, answer.status_code, {"code": "invalid", "message": message})


def _reply(request: BaseHTTPRequestHandler, status: int, document: dict | None,
           headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(document).encode() if document is not None else b""
    request.send_response(status)
    for key, value in (headers or {}).items():
        request.send_header(key, value)
    if payload:
        request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    request.wfile.write(payload)

"""InfluxDB 1.x HTTP API (`/write`, `/query`): also served by InfluxDB 2.x and 3.x for compatibility.

Writes to an `http://` URL go through a keep-alive `http.client` connection
per thread rather than `requests`: a small write then costs about a fifth of
the CPU (requests spends ~1 ms per call preparing the request, merging proxy
settings from the environment and building the response), which is what
the collector pays once per write at high message rates. Queries, and writes
to `https://` URLs (whose CA bundle and proxies `requests` resolves), keep
`requests`.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import urlencode, urlsplit

import requests

from iotorino.core.errors import PermanentError, TransientError
from iotorino.core.lineprotocol import encode_batch
from iotorino.core.reading import Reading
from iotorino.core.store import PointsRejected


@dataclass(frozen=True)
class InfluxV1Settings:
    """Where and how to reach an InfluxDB 1.x-compatible HTTP API."""

    url: str
    database: str
    retention_policy: str = ""
    username: str = ""
    # Never logged; repr hides it.
    password: str = ""
    timeout_s: float = 10.0
    # Compress write bodies of at least GZIP_MIN_BYTES sent to another host; bodies to a loopback address go
    # as they are (there compression only costs CPU on both ends: ~10 % of the collector's during a drain).
    gzip: bool = True

    def __repr__(self) -> str:
        return (
            f"InfluxV1Settings(url={self.url!r}, database={self.database!r}, "
            f"retention_policy={self.retention_policy!r}, username={self.username!r}, password=***)"
        )


# Bytes of line protocol below which a write goes uncompressed: gzip's fixed cost (~20 us) and the store's
# decompression buy almost nothing on a few hundred bytes.
GZIP_MIN_BYTES = 4096


class InfluxV1Client:
    """Writes line protocol and runs InfluxQL through the v1 HTTP API."""

    def __init__(self, settings: InfluxV1Settings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        if settings.username:
            self._session.auth = (settings.username, settings.password)
        url = urlsplit(settings.url)
        self._compress = settings.gzip and not _loopback(url.hostname or "")
        # Keep-alive connections for writes (plain HTTP only), one per writing thread.
        self._plain = url.scheme == "http" and session is None
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        params = {"db": settings.database, "precision": "ns"}
        if settings.retention_policy:
            params["rp"] = settings.retention_policy
        self._write_query = "/write?" + urlencode(params)
        self._write_path = url.path.rstrip("/") + self._write_query
        self._write_headers = {"Content-Type": "text/plain; charset=utf-8"}
        if settings.username:
            token = base64.b64encode(f"{settings.username}:{settings.password}".encode()).decode()
            self._write_headers["Authorization"] = "Basic " + token
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._connections_lock = threading.Lock()

    def write(self, readings: Sequence[Reading]) -> None:
        """Write `readings` in one request (nanosecond precision)."""
        if readings:
            self.write_lines(encode_batch(readings))

    def write_lines(self, body: bytes) -> None:
        """POST a body of line protocol to /write; classify failures as transient or permanent."""
        headers = dict(self._write_headers)
        if self._compress and len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        if self._plain:
            status, response_headers, content = self._post_keepalive(body, headers)
            if status == 204:
                return
            detail = _error_text_of(content)
        else:
            response = self._request("POST", self._write_query, data=body,
                                     headers={k: v for k, v in headers.items() if k != "Authorization"})
            status, response_headers = response.status_code, response.headers
            if status == 204:
                return
            detail = _error_text(response)
        if status == 400:
            raise PointsRejected(400, detail)
        _raise_for_status(status, response_headers, detail, "write")

    def _post_keepalive(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        """POST `body` to /write on this thread's keep-alive connection: (status, headers, body).

        A reused connection the server closed meanwhile fails without an answer:
        that write is sent once more on a new connection (had the server taken it,
        the same points are written again: an overwrite). Any other failure drops
        the connection and raises `TransientError`.
        """
        for attempt in (1, 2):
            connection = getattr(self._local, "connection", None)
            reused = connection is not None and connection.sock is not None
            if connection is None:
                connection = self._local.connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.settings.timeout_s)
            try:
                if connection.sock is None:
                    with self._connections_lock:  # kept for close(), also when reopened after one
                        if connection not in self._connections:
                            self._connections.append(connection)
                    connection.connect()
                    # Headers and body leave in two sends: without this, Nagle's algorithm may hold the body
                    # until the store acknowledges the headers (a delayed ACK: up to 40 ms).
                    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connection.request("POST", self._write_path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop_connection()
                if reused and attempt == 1:
                    continue
                raise TransientError(f"InfluxDB at {self.settings.url} unreachable: {type(exc).__name__}") from exc
            except (OSError, http.client.HTTPException) as exc:  # refused, timed out, a garbled answer
                self._drop_connection()
                kind = "timeout" if isinstance(exc, socket.timeout) else type(exc).__name__
                raise TransientError(f"InfluxDB at {self.settings.url} unreachable: {kind}") from exc
            if response.will_close:
                self._drop_connection()
            return response.status, response.headers, content
        raise AssertionError("unreachable")

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
            with self._connections_lock:
                if connection in self._connections:
                    self._connections.remove(connection)

    def query(self, influxql: str, *, database: str | None = None, epoch: str = "ns") -> list[dict[str, Any]]:
        """Run InfluxQL; return the `series` list of the first statement (empty if none)."""
        params = {"q": influxql, "db": database or self.settings.database, "epoch": epoch}
        response = self._request("POST", "/query", params=params)
        if response.status_code != 200:
            _raise_for(response, _error_text(response), "query")
        results = response.json().get("results", [{}])
        first = results[0] if results else {}
        if "error" in first:
            raise PermanentError(f"InfluxQL error for {influxql!r}: {first['error']}")
        return first.get("series", [])

    def query_csv(self, influxql: str, *, database: str | None = None, epoch: str = "ns") -> bytes:
        """Run one InfluxQL statement and return its answer as CSV (`Accept: application/csv`).

        Columns: name, tags (the GROUP BY tags as `k=v,...`), time, then the selected columns;
        about half the bytes of JSON and parsed in C by pyarrow. Empty when nothing matched.
        """
        params = {"q": influxql, "db": database or self.settings.database, "epoch": epoch}
        response = self._request("POST", "/query", params=params, headers={"Accept": "application/csv"})
        if response.status_code != 200:
            _raise_for(response, _error_text(response), "query")
        if response.content.startswith(b"error\n"):
            raise PermanentError(f"InfluxQL error for {influxql!r}: {response.content[6:500].decode(errors='replace')}")
        return response.content

    def create_database(self) -> None:
        """CREATE DATABASE (a no-op when it exists)."""
        name = self.settings.database.replace('"', '\\"')
        self.query(f'CREATE DATABASE "{name}"', database="")

    def count(self, measurement: str, field: str) -> int:
        """Number of stored values of `field` in `measurement` (0 when there are none)."""
        series = self.query(f'SELECT count("{field}") FROM "{measurement}"')
        return int(series[0]["values"][0][1]) if series else 0

    def close(self) -> None:
        """Close the HTTP session and the write connections."""
        self._session.close()
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(
                method, self.settings.url.rstrip("/") + path, timeout=self.settings.timeout_s, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"InfluxDB at {self.settings.url} unreachable: {type(exc).__name__}") from exc


class StoreUnavailable(TransientError):
    """The store answered with a status that may change (429, 5xx); `retry_after_s` if it said so."""

    def __init__(self, status: int, detail: str, retry_after_s: float | None) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(f"InfluxDB answered HTTP {status}: {detail}")


def _raise_for(response: requests.Response, detail: str, what: str) -> None:
    _raise_for_status(response.status_code, response.headers, detail, what)


def _raise_for_status(status: int, headers: Any, detail: str, what: str) -> None:
    if status == 429 or status >= 500:
        retry_after = headers.get("Retry-After")
        raise StoreUnavailable(status, detail, float(retry_after) if retry_after and retry_after.isdigit() else None)
    raise PermanentError(f"InfluxDB {what} failed with HTTP {status}: {detail}")


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", response.text))[:500]
    except ValueError:
        return response.text[:500]


def _loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1): no network between us and the store."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_text_of(content: bytes) -> str:
    """The store's error message in an answer body (JSON `error`, else the text), at most 500 characters."""
    text = content.decode("utf-8", "replace")
    try:
        return str(json.loads(text).get("error", text))[:500]
    except (ValueError, AttributeError):
        return text[:500]


def parse_tags(text: str) -> dict[str, str]:
    """The `tags` cell of a CSV answer (InfluxDB's `k=v,k=v` series key with backslash escapes) as a dict; '' -> {}."""
    tags: dict[str, str] = {}
    key, part, escaped = None, [], False
    for ch in text:
        if escaped:
            part.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "=" and key is None:
            key, part = "".join(part), []
        elif ch == ",":
            if key is not None:
                tags[key] = "".join(part)
            key, part = None, []
        else:
            part.append(ch)
    if key is not None:
        tags[key] = "".join(part)
    return tags

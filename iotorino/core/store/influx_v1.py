"""InfluxDB 1.x HTTP API (`/write`, `/query`): also served by InfluxDB 2.x and 3.x for compatibility."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any, Sequence

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
    gzip: bool = True

    def __repr__(self) -> str:
        return (
            f"InfluxV1Settings(url={self.url!r}, database={self.database!r}, "
            f"retention_policy={self.retention_policy!r}, username={self.username!r}, password=***)"
        )


class InfluxV1Client:
    """Writes line protocol and runs InfluxQL through the v1 HTTP API."""

    def __init__(self, settings: InfluxV1Settings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        if settings.username:
            self._session.auth = (settings.username, settings.password)

    def write(self, readings: Sequence[Reading]) -> None:
        """Write `readings` in one request (nanosecond precision)."""
        if readings:
            self.write_lines(encode_batch(readings))

    def write_lines(self, body: bytes) -> None:
        """POST a body of line protocol to /write; classify failures as transient or permanent."""
        params = {"db": self.settings.database, "precision": "ns"}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.settings.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", "/write", params=params, data=body, headers=headers)
        if response.status_code == 204:
            return
        detail = _error_text(response)
        if response.status_code == 400:
            raise PointsRejected(400, detail)
        _raise_for(response, detail, "write")

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
        """Close the HTTP session."""
        self._session.close()

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
    status = response.status_code
    if status == 429 or status >= 500:
        retry_after = response.headers.get("Retry-After")
        raise StoreUnavailable(status, detail, float(retry_after) if retry_after and retry_after.isdigit() else None)
    raise PermanentError(f"InfluxDB {what} failed with HTTP {status}: {detail}")


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", response.text))[:500]
    except ValueError:
        return response.text[:500]


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

"""InfluxDB 2.x HTTP API (`/api/v2/write`, org/bucket/token) through influxdb-client's synchronous write path.

Failures are classified like the v1 client's: a 400 is `PointsRejected`
(the points will never be accepted), 429 and 5xx are `StoreUnavailable` with
the server's Retry-After, connection errors and timeouts are `TransientError`.
The library's own retries are off: the collector's spool and backoff own
retrying, so a dead store never blocks a thread inside the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from iotorino.core.errors import PermanentError, TransientError
from iotorino.core.extras import require
from iotorino.core.lineprotocol import encode_batch
from iotorino.core.reading import Reading
from iotorino.core.store import PointsRejected
from iotorino.core.store.influx_v1 import StoreUnavailable


@dataclass(frozen=True)
class InfluxV2Settings:
    """Where and how to reach an InfluxDB 2.x-compatible write API."""

    url: str
    org: str
    bucket: str
    # Never logged; repr hides it.
    token: str = ""
    timeout_s: float = 10.0
    gzip: bool = True

    def __repr__(self) -> str:
        return f"InfluxV2Settings(url={self.url!r}, org={self.org!r}, bucket={self.bucket!r}, token=***)"


class InfluxV2Client:
    """Writes line protocol with influxdb-client's synchronous write API."""

    def __init__(self, settings: InfluxV2Settings) -> None:
        require("collector", "the InfluxDB v2 API (influxdb.api = 'v2')")
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.settings = settings
        self._client = InfluxDBClient(url=settings.url, token=settings.token or "-", org=settings.org,
                                      timeout=int(settings.timeout_s * 1000), enable_gzip=settings.gzip,
                                      retries=False)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, readings: Sequence[Reading]) -> None:
        """Write `readings` in one request (nanosecond precision)."""
        if readings:
            self.write_lines(encode_batch(readings))

    def write_lines(self, body: bytes) -> None:
        """POST line protocol to /api/v2/write; classify failures as transient or permanent."""
        from influxdb_client.rest import ApiException
        from urllib3.exceptions import HTTPError

        try:
            self._write_api.write(bucket=self.settings.bucket, org=self.settings.org, record=body,
                                  write_precision="ns")
        except ApiException as exc:
            status = exc.status or 0
            detail = _detail(exc)
            if status == 400:
                raise PointsRejected(400, detail) from None
            if status == 429 or status >= 500:
                retry_after = (exc.headers or {}).get("Retry-After")
                raise StoreUnavailable(status, detail,
                                       float(retry_after) if retry_after and retry_after.isdigit() else None) from None
            raise PermanentError(f"InfluxDB v2 write failed with HTTP {status}: {detail}") from None
        except (HTTPError, OSError) as exc:
            raise TransientError(f"InfluxDB at {self.settings.url} unreachable: {type(exc).__name__}") from exc

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _detail(exc: Exception) -> str:
    body = getattr(exc, "body", None) or getattr(exc, "reason", "") or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return str(body)[:500]

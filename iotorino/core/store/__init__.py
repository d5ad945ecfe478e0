"""Writers that put readings into the time-series store, all with one interface.

A writer has `write(readings)` and `write_lines(body)` (line protocol, as
the collector's spool keeps it), raising `TransientError` when trying again may
help and `PermanentError` (or `PointsRejected`) when it will not.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from iotorino.core.errors import PermanentError
from iotorino.core.reading import Reading


class Writer(Protocol):
    """Anything that stores readings durably."""

    def write(self, readings: Sequence[Reading]) -> None:
        """Store `readings`; return only once the store has accepted them."""

    def write_lines(self, body: bytes) -> None:
        """Store newline-separated line protocol; return only once the store has accepted it."""

    def close(self) -> None:
        """Release connections."""


class PointsRejected(PermanentError):
    """The store refused some points for good (a 400: type conflict, bad line).

    `detail` is the store's own message; points not named in it may have been written.
    """

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"store rejected points (HTTP {status}): {detail}")

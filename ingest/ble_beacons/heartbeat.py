"""The gateway's own health: a periodic `ble_gateway` reading of aggregate counts, never an address.

Pure: the gateway's counters and clock go in, a reading comes out. Rates are
over the gateway's clock (the capture's time in a replay), from the previous
heartbeat (from the start for the first one, sent at the first tick).
"""

from __future__ import annotations

from iotorino.core.beacon_messages import HEARTBEAT as MEASUREMENT
from iotorino.core.beacon_messages import HEARTBEAT_FIELDS
from iotorino.core.reading import Reading

S = 1_000_000_000


class Heartbeat:
    """Decides when a heartbeat is due and builds it from the gateway's `Stats`."""

    def __init__(self, gateway_id: str, interval_s: float, started_ns: int = 0) -> None:
        self.gateway_id = gateway_id
        self.interval_ns = round(interval_s * S)
        self.started_ns = started_ns  # 0: the first clock reading (a replay's clock starts at its first advert)
        self._previous: tuple[int, int, int] | None = None  # (time_ns, adverts, matched) at the last heartbeat

    def due(self, now_ns: int, final: bool = False) -> bool:
        """True at the first tick with a running clock, then every interval; `final` (at shutdown):
        whenever the clock moved on since the last one."""
        if now_ns <= 0:
            return False
        if self._previous is None:
            return True
        return now_ns - self._previous[0] >= (1 if final else self.interval_ns)

    def reading(self, now_ns: int, stats, spool_messages: int) -> Reading:
        """The heartbeat at `now_ns`: advert rates since the previous one, restarts, spool depth, uptime."""
        if not self.started_ns:
            self.started_ns = now_ns
        since, adverts, matched = self._previous or (self.started_ns, 0, 0)
        elapsed_s = (now_ns - since) / S
        rate = lambda count: round(count / elapsed_s, 3) if elapsed_s > 0 else 0.0  # noqa: E731
        values = (rate(stats.adverts - adverts), rate(stats.matched - matched), stats.restarts, spool_messages,
                  round((now_ns - self.started_ns) / S, 3))
        fields = dict(zip(HEARTBEAT_FIELDS, values))
        self._previous = (now_ns, stats.adverts, stats.matched)
        return Reading(MEASUREMENT, {"gateway": self.gateway_id}, fields, now_ns)

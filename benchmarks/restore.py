"""The beacon health monitor at full scale: start-up restore from the store, and steady-state CPU.

- restore: a private influxd holds `beacons` beacons x 60 days of hourly battery
  readings and the last hour of sightings from 10 gateways (every gateway hears
  every beacon, one reading per 30-s window); the figure is what the monitor
  does with it at start-up once the broker's retained statuses are in: read the
  evidence (`stored_evidence`), feed the battery history and replay the readings
  into `FleetHealth`, evaluate. Baseline: the store's part alone (the queries).
- steady state: the monitor's work per message as it runs (parse the gateway's
  MQTT message, validate it, observe it) for `beacons` x 10 gateways every 30 s,
  and an evaluation every 5 s; CPU seconds per wall second of that load, in
  percent of one core (no broker: its share is mosquitto's).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.report import Figure, median
from ingest.ble_beacons.publish import reading_message
from iotorino.beacons.health import FleetHealth, Thresholds
from iotorino.beacons.monitor import parse_reading
from iotorino.beacons.restore import stored_evidence
from iotorino.core import catalogue, inventory
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.services import Influxd

S = 1_000_000_000
GATEWAYS = 10
WINDOW_S = 30
HISTORY_DAYS = 60


def _fleet(count: int):
    inv = inventory.default()
    beacons = dict(list(inv.beacons.items())[:count])
    units = list(inv.street_units.values())[:GATEWAYS]
    gateways = {f"gw-{i:02d}": (u.lon, u.lat) for i, u in enumerate(units)}
    return beacons, gateways


def _window(beacons, gateways, t_ns: int, k: int) -> list[Reading]:
    """One 30-s window: a sighting reading per beacon and gateway."""
    out = []
    for n, beacon in enumerate(beacons):
        for g in gateways:
            out.append(Reading("beacon_sighting", {"beacon": beacon, "gateway": g}, {
                "sightings": 40 + (n + k) % 5, "rssi_median": -70.0 - n % 20, "measured_power": -59.0,
                "addresses": 1, "battery_mv": 2990 - (k // 120) % 50, "temperature": 12.5,
                "adv_count": 1000 + k * 43, "uptime_s": 86_400.0 + k * WINDOW_S}, t_ns))
    return out


def load(client: InfluxV1Client, beacons, gateways, end_ns: int) -> int:
    """60 days of hourly battery per beacon, then the last hour's windows; returns the points written."""
    written = 0
    start = end_ns - HISTORY_DAYS * 86_400 * S
    first_gateway = next(iter(gateways))
    batch = []
    for h in range(HISTORY_DAYS * 24):
        t = start + h * 3600 * S
        batch += [Reading("beacon_sighting", {"beacon": b, "gateway": first_gateway},
                          {"battery_mv": 3000 - h // 100 - n % 7, "sightings": 30}, t) for n, b in enumerate(beacons)]
        if len(batch) >= 50_000:
            client.write(batch)
            written, batch = written + len(batch), []
    windows = 3600 // WINDOW_S
    for k in range(windows):
        batch += _window(beacons, gateways, end_ns - (windows - k) * WINDOW_S * S, k)
        if len(batch) >= 50_000:
            client.write(batch)
            written, batch = written + len(batch), []
    client.write(batch)
    return written + len(batch)


class TimedClient:
    """The store client, adding up the seconds spent in each kind of query (battery history, sightings, others)."""

    def __init__(self, client: InfluxV1Client) -> None:
        self.client = client
        self.seconds = {"battery history": 0.0, "sightings": 0.0, "newest and heartbeats": 0.0}

    def _timed(self, method, influxql: str, **kwargs):
        kind = ("sightings" if 'GROUP BY "beacon", "gateway"' in influxql else
                "battery history" if "time(1h)" in influxql else "newest and heartbeats")
        started = time.perf_counter()
        try:
            return method(influxql, **kwargs)
        finally:
            self.seconds[kind] += time.perf_counter() - started

    def query(self, influxql: str, **kwargs):
        return self._timed(self.client.query, influxql, **kwargs)

    def query_csv(self, influxql: str, **kwargs):
        return self._timed(self.client.query_csv, influxql, **kwargs)


def restore_once(client: InfluxV1Client, beacons, gateways, thresholds: Thresholds) -> tuple[float, float, int]:
    """(seconds of the whole restore, seconds of its store queries, readings replayed); prints the parts."""
    started = time.perf_counter()
    timed = TimedClient(client)
    evidence = stored_evidence(timed, beacons, thresholds)
    read_s = time.perf_counter() - started
    health = FleetHealth(beacons, gateways, thresholds, time.time_ns())
    for beacon_id, time_ns, mv in evidence.battery:
        health.add_battery_sample(beacon_id, time_ns, mv)
    for reading in evidence.readings:
        if reading.measurement == "beacon_sighting":
            health.observe(reading)
    health.evaluate(evidence.readings[-1].time_ns if evidence.readings else time.time_ns())
    total = time.perf_counter() - started
    parts = ", ".join(f"{kind} {s:.1f} s" for kind, s in timed.seconds.items())
    print(f"    store: {parts}; replay and evaluation {total - read_s:.1f} s", flush=True)
    return total, read_s, len(evidence.readings)


def steady_cpu(beacons, gateways, thresholds: Thresholds, windows: int) -> float:
    """Percent of one core the monitor spends on `windows` 30-s windows of the full load."""
    cat = catalogue.default()
    health = FleetHealth(beacons, gateways, thresholds, 0)
    t0 = time.time_ns() - windows * WINDOW_S * S
    messages = [[reading_message(r) for r in _window(beacons, gateways, t0 + k * WINDOW_S * S, k)]
                for k in range(windows)]
    started = time.process_time()
    for k, window in enumerate(messages):
        for message in window:
            health.observe(cat.validate(parse_reading(message.topic, message.payload)))
        for e in range(WINDOW_S // 5):  # evaluate_every_s = 5
            health.evaluate(t0 + k * WINDOW_S * S + e * 5 * S)
    return 100 * (time.process_time() - started) / (windows * WINDOW_S)


def run(count: int, repeat: int) -> list[Figure]:
    """Measure the restore (`repeat` times) and the steady-state CPU."""
    beacons, gateways = _fleet(count)
    thresholds = Thresholds()
    with tempfile.TemporaryDirectory(prefix="iotorino-bench-") as tmp:
        server = Influxd(Path(tmp) / "influxd").start()
        try:
            client = InfluxV1Client(InfluxV1Settings(url=server.url, database="beacons", timeout_s=300))
            client.create_database()
            began = time.monotonic()
            points = load(client, beacons, gateways, time.time_ns() - 60 * S)
            print(f"  restore: loaded {points:,} points in {time.monotonic() - began:.0f} s", flush=True)
            totals, reads = [], []
            for i in range(repeat):
                total, read, replayed = restore_once(client, beacons, gateways, thresholds)
                totals.append(total)
                reads.append(read)
                print(f"  restore run {i + 1}: {total:.1f} s ({read:.1f} s reading the store), "
                      f"{replayed:,} readings replayed", flush=True)
        finally:
            server.stop()
    cpu = steady_cpu(beacons, gateways, thresholds, 10)
    return [
        Figure("beacon monitor: start-up restore", median(totals), "s", median(reads), "store queries alone", 10.0,
               True, f"{len(beacons)} beacons x {HISTORY_DAYS} days hourly battery + 1 h of {GATEWAYS} gateways' "
                     f"30-s windows ({points:,} points); median of {repeat}; retained statuses not included"),
        Figure("beacon monitor: steady-state CPU", cpu, "% core", None, "", 5.0, True,
               f"{len(beacons)} beacons x {GATEWAYS} gateways x 30-s windows: parse, validate, observe, "
               "evaluate every 5 s; 10 windows"),
    ]

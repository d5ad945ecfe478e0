"""The beacon health monitor at full scale: start-up restore from the store, and steady-state CPU.

- restore: a private influxd holds `beacons` beacons x 60 days of hourly battery
  readings and the last hour of sightings from 10 gateways (every gateway hears
  every beacon, one reading per 30-s window); the figure is what the monitor
  does with it at start-up once the broker's retained statuses are in: read the
  evidence (`stored_evidence`: battery history from the monitor's file, the hour
  folded per beacon and gateway), take it into `FleetHealth`, evaluate. Once
  first without the file (an older installation: 60 days of hourly last() from
  the store, which fills the file), then `repeat` times with it. Baseline: the
  same statements sent to the store the same way, answers not parsed. Then
  `repeat` times from the fold snapshot (snapshot.py) the monitor's thread
  wrote 60 s before the restart: whole buckets from the file, the span's
  head and tail from the store.
- steady state: the monitor's work per message as it runs (parse the gateway's
  MQTT message, validate it, observe it) for `beacons` x 10 gateways every 30 s,
  and an evaluation every 5 s; CPU seconds per wall second of that load, in
  percent of one core (no broker: its share is mosquitto's), plus the snapshot
  thread's refresh (one bucket asked and the fold written every `BUCKET_S`),
  with influxd's CPU for answering it beside.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.report import Figure, median
from iotorino.core.beacon_messages import reading_message
from iotorino.beacons.battery import BatteryHistory
from iotorino.beacons.health import FleetHealth, Thresholds
from iotorino.beacons.monitor import parse_reading
from iotorino.beacons.restore import lookback_s, refresh_fold, stored_evidence
from iotorino.beacons.snapshot import BUCKET_S, Fold, FoldSnapshot, bucket_of
from iotorino.core import inventory
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
        self.settings = client.settings
        self.seconds = {"battery history": 0.0, "sightings": 0.0, "newest and heartbeats": 0.0}
        self._lock = threading.Lock()  # the restore queries in parallel

    def _timed(self, method, influxql: str, **kwargs):
        kind = ("sightings" if 'GROUP BY "beacon", "gateway"' in influxql else
                "battery history" if "time(1h)" in influxql else "newest and heartbeats")
        started = time.perf_counter()
        try:
            return method(influxql, **kwargs)
        finally:
            with self._lock:
                self.seconds[kind] += time.perf_counter() - started

    def query(self, influxql: str, **kwargs):
        return self._timed(self.client.query, influxql, **kwargs)

    def query_csv(self, influxql: str, **kwargs):
        return self._timed(self.client.query_csv, influxql, **kwargs)


class RecordingClient(TimedClient):
    """A timed client that also remembers each statement and how it was asked (JSON or CSV)."""

    def __init__(self, client: InfluxV1Client) -> None:
        super().__init__(client)
        self.statements: list[tuple[str, str]] = []

    def query(self, influxql: str, **kwargs):
        self.statements.append(("json", influxql))
        return super().query(influxql, **kwargs)

    def query_csv(self, influxql: str, **kwargs):
        self.statements.append(("csv", influxql))
        return super().query_csv(influxql, **kwargs)


def restore_once(client: InfluxV1Client, beacons, gateways, thresholds: Thresholds,
                 history: BatteryHistory | None, snapshot: FoldSnapshot | None = None,
                 ) -> tuple[float, list[tuple[str, str]], int]:
    """(seconds of the whole restore, its statements, readings folded); prints the parts. As the monitor does it
    (Monitor._take_evidence): battery history, folded sightings (from `snapshot` and the store's tail, or from
    the store alone), evaluation."""
    started = time.perf_counter()
    timed = RecordingClient(client)
    evidence = stored_evidence(timed, beacons, thresholds, history, snapshot)
    read_s = time.perf_counter() - started
    health = FleetHealth(beacons, gateways, thresholds, time.time_ns())
    for beacon_id, samples in evidence.battery.items():
        health.add_battery_history(beacon_id, samples)
    health.observe_summaries(evidence.sightings)
    newest = max((s.last_ns for s in evidence.sightings), default=time.time_ns())
    health.evaluate(newest)
    total = time.perf_counter() - started
    parts = ", ".join(f"{kind} {s:.1f} s" for kind, s in timed.seconds.items())
    print(f"    queries (summed over parallel threads): {parts}; reading and folding {read_s:.1f} s, "
          f"{evidence.battery_from_file:,} battery hours from the file; {evidence.rows_read:,} sighting rows read "
          f"({evidence.fold_source}); taking and evaluating {total - read_s:.1f} s", flush=True)
    return total, timed.statements, evidence.readings


def queries_alone(client: InfluxV1Client, statements: list[tuple[str, str]]) -> float:
    """Seconds the store takes to answer the restore's statements as the restore asks them (the newest sighting
    first, then the rest in parallel), answers fetched but not parsed."""
    started = time.perf_counter()
    kind, first = statements[0]
    client.query(first)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda st: (client.query_csv if st[0] == "csv" else client.query)(st[1]), statements[1:]))
    return time.perf_counter() - started


def _influxd_cpu_s(server: Influxd) -> float:
    """CPU seconds influxd has used (user + system), from /proc."""
    fields = Path(f"/proc/{server._process.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def take_snapshot(client: InfluxV1Client, server: Influxd, snapshot: FoldSnapshot, beacons, thresholds: Thresholds,
                  at_ns: int) -> tuple[float, float]:
    """The fold the running monitor keeps, as its thread leaves it at `at_ns`: built up to one bucket before, then
    the timed refresh that adds the bucket closed since (asked of the store, the whole fold written). Returns the
    monitor's and influxd's CPU seconds for that refresh (one every `BUCKET_S`)."""
    span_s = lookback_s(beacons, thresholds)
    keep_from = bucket_of(at_ns - BUCKET_S * S - round(span_s * S)) * BUCKET_S * S
    fold = refresh_fold(client, snapshot, Fold(keep_from, keep_from, ()), at_ns - BUCKET_S * S, span_s)
    cpu, store_cpu = time.process_time(), _influxd_cpu_s(server)
    refreshed = refresh_fold(client, snapshot, fold, at_ns, span_s)
    assert refreshed.until_ns == fold.until_ns + BUCKET_S * S
    return time.process_time() - cpu, _influxd_cpu_s(server) - store_cpu


def steady_cpu(beacons, gateways, thresholds: Thresholds, windows: int) -> float:
    """Percent of one core the monitor spends on `windows` 30-s windows of the full load."""
    health = FleetHealth(beacons, gateways, thresholds, 0)
    t0 = time.time_ns() - windows * WINDOW_S * S
    messages = [[reading_message(r) for r in _window(beacons, gateways, t0 + k * WINDOW_S * S, k)]
                for k in range(windows)]
    started = time.process_time()
    for k, window in enumerate(messages):
        for message in window:
            reading, _ = parse_reading(message.topic, message.payload)  # checked by the catalogue, as live
            health.observe(reading)
        for e in range(WINDOW_S // 5):  # evaluate_every_s = 5
            health.evaluate(t0 + k * WINDOW_S * S + e * 5 * S)
    return 100 * (time.process_time() - started) / (windows * WINDOW_S)


def run(count: int, repeat: int) -> list[Figure]:
    """Measure the restore without the battery history file (an older installation's first restart, once) and
    with it (`repeat` times, beside the store's queries alone), and the steady-state CPU."""
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
            history = BatteryHistory(Path(tmp) / "battery-history.sqlite", "bench")
            cold, _, replayed = restore_once(client, beacons, gateways, thresholds, history)
            print(f"  restore without the battery history file: {cold:.1f} s, {replayed:,} readings folded", flush=True)
            totals, reads = [], []
            for i in range(repeat):
                total, statements, replayed = restore_once(client, beacons, gateways, thresholds, history)
                totals.append(total)
                reads.append(queries_alone(client, statements))
                print(f"  restore run {i + 1}: {total:.1f} s (the store's queries alone {reads[-1]:.1f} s), "
                      f"{replayed:,} readings folded", flush=True)
            # The monitor ran until one 30-s window after the newest stored one; its snapshot thread last wrote 60 s
            # before that restart.
            snapshot = FoldSnapshot(Path(tmp) / "battery-history.fold.sqlite", "bench", "fleet")
            restart_ns = max(int(row[0]) for row in client.query(
                'SELECT last("sightings") FROM "beacon_sighting"', epoch="ns")[0]["values"]) + WINDOW_S * S
            fold_cpu, fold_store_cpu = take_snapshot(client, server, snapshot, beacons, thresholds, restart_ns - 60 * S)
            print(f"  snapshot refresh (one {BUCKET_S}-s bucket, every {BUCKET_S} s): monitor {fold_cpu:.2f} CPU s, "
                  f"influxd {fold_store_cpu:.2f} CPU s", flush=True)
            warm = []
            for i in range(repeat):
                total, _, replayed = restore_once(client, beacons, gateways, thresholds, history, snapshot)
                warm.append(total)
                print(f"  restore from the snapshot run {i + 1}: {total:.1f} s, {replayed:,} readings folded",
                      flush=True)
            history.close()
            snapshot.close()
        finally:
            server.stop()
    cpu = steady_cpu(beacons, gateways, thresholds, 10)
    fold_share = 100 * fold_cpu / BUCKET_S
    print(f"  steady state: observing and evaluating {cpu:.2f} % of a core, the snapshot thread {fold_share:.2f} % "
          f"(influxd answering it {100 * fold_store_cpu / BUCKET_S:.2f} %)", flush=True)
    size = (f"{len(beacons)} beacons x {HISTORY_DAYS} days hourly battery + 1 h of {GATEWAYS} gateways' "
            f"30-s windows ({points:,} points)")
    return [
        Figure("beacon monitor: restore from the fold snapshot", median(warm), "s", median(reads),
               "store queries alone (full read)", 10.0, True,
               f"{size}; the folded hour from the snapshot written 60 s before the restart, the rest from the store; "
               f"battery history from the file; median of {repeat}"),
        Figure("beacon monitor: start-up restore", median(totals), "s", median(reads), "store queries alone", 10.0,
               True, f"{size}; battery history from the monitor's file; median of {repeat}; retained statuses "
                     "not included"),
        Figure("beacon monitor: restore without the history file", cold, "s", None, "", None, True,
               f"{size}; an older installation's first restart: 60 days of hourly last() from the store; 1 run"),
        Figure("beacon monitor: steady-state CPU", cpu + fold_share, "% core", None, "", 5.0, True,
               f"{len(beacons)} beacons x {GATEWAYS} gateways x 30-s windows: parse, validate, observe, "
               f"evaluate every 5 s (10 windows), and the snapshot thread's refresh ({fold_share:.2f} %; "
               f"influxd {100 * fold_store_cpu / BUCKET_S:.2f} % more)"),
    ]

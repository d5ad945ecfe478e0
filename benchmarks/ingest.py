"""The MQTT collector: backlog drain against bare `mosquitto_sub` (and on paho), latency by load, soak.

Every run starts its own mosquitto and influxd (temporary directories, loopback).

- drain: the same backlog of air-quality messages (5 fields, 50 street units, QoS 1)
  is queued for three persistent sessions at once with `mosquitto_pub -l`; then a
  bare `mosquitto_sub` (the ceiling: no decoding, no store), the collector, and the
  collector on paho (`manual_ack`) drain one each, decode, write to the real
  InfluxDB and acknowledge only durable messages. Medians over `runs`.
- latency: `mosquitto_pub -l` processes fed at a steady rate (device time = send
  time); publish->stored per message (p50/p99/p999) and the batch sizes written.
- soak: the collector at 2,000 msg/s for `duration` seconds: resident memory slope
  (MB per hour, least squares after the first tenth) and latency drift (p99 of the
  last fifth minus the first fifth).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.report import Figure, median, percentile
from ingest.mqtt import config as collector_config
from ingest.mqtt.app import build_pipeline
from ingest.mqtt.collector import Collector
from ingest.mqtt.deadletters import DeadLetterStore
from iotorino.core import inventory
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.services import Influxd, Mosquitto
from iotorino.testing.mqtt import prepare_session

UNITS = 50
FIELDS = ("pm1", "pm25", "pm10", "no2", "o3")


def _units() -> list[str]:
    inv = inventory.default()
    return [u.id for u in inv.street_units.values() if "air_quality" in inv.profiles[u.profile].measurements][:UNITS]


class TimingWriter:
    """The real v1 client, noting for each write its size and when each point became stored."""

    def __init__(self, client: InfluxV1Client, capacity: int = 0) -> None:
        self.client = client
        self.latencies = np.zeros(capacity)  # preallocated: a soak must not measure its own list growing
        self.stored = 0
        self.batches: list[int] = []
        self.record = False

    def write_lines(self, body: bytes) -> None:
        self.client.write_lines(body)
        if self.record:
            now_ns = time.time_ns()
            lines = body.split(b"\n")
            self.batches.append(len(lines))
            for line in lines:
                if self.stored < len(self.latencies):
                    self.latencies[self.stored] = (now_ns - int(line.rsplit(b" ", 1)[1])) / 1e9
                self.stored += 1

    def close(self) -> None:
        self.client.close()


class FixedDelayCollector(Collector):
    """The collector with the batching rule before group commit, as the same-run baseline for latency.

    A batch took what arrived until it held `max_readings` or `max_delay_s` (0.2 s) had
    passed since its first message, whether or not the store was busy.
    """

    def _take_batch(self):
        import queue

        try:
            first = self._pending.get(timeout=0.1)
        except queue.Empty:
            return None
        batch, count = [first], first.readings
        deadline = time.monotonic() + self.config.batch.max_delay_s
        while count < self.config.batch.max_readings:
            try:
                more = self._pending.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            batch.append(more)
            count += more.readings
        return batch


def make_collector(workdir: Path, mqtt_port: int, writer, client_id: str, session_factory=None,
                   kind: type[Collector] = Collector) -> Collector:
    """A collector on the broker at `mqtt_port` writing through `writer` (its own dead letters and spool)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = collector_config.from_dict({
        "mqtt": {"port": mqtt_port, "client_id": client_id, "session_expiry_s": 86_400},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": writer.client.settings.url, "database": writer.client.settings.database},
        "deadletters": {"path": str(workdir / "deadletters.sqlite")},
        "spool": {"path": str(workdir / "spool.sqlite")},
    })
    extra = {"session_factory": session_factory} if session_factory else {}
    return kind(config, build_pipeline(config), writer, DeadLetterStore(config.deadletters_path), **extra)


def queue_backlog(port: int, total: int, run: int) -> None:
    """Publish `total` messages with mosquitto_pub -l, one process per unit (the sessions queue them)."""
    start_s = int(time.time()) - 3 * 86_400 + run * 3600
    per_unit = total // UNITS
    procs = []
    for n, unit in enumerate(_units()):
        lines = "".join(
            json.dumps({"time": start_s + k * 10 + n / 100,
                        "fields": {f: round(10 + (k * 7 + i * 13 + n) % 900 / 10, 1) for i, f in enumerate(FIELDS)}})
            + "\n" for k in range(per_unit))
        proc = subprocess.Popen(["mosquitto_pub", "-p", str(port), "-q", "1", "-l",
                                 "-t", f"iotorino/v1/street/{unit}/air_quality"], stdin=subprocess.PIPE)
        procs.append((proc, lines.encode()))
    for proc, data in procs:
        proc.stdin.write(data)
        proc.stdin.close()
    for proc, _ in procs:
        if proc.wait() != 0:
            raise RuntimeError("mosquitto_pub failed while queueing the backlog")


def bare_drain(port: int, total: int) -> float:
    """msg/s of mosquitto_sub draining its queued session (QoS 1, persistent, to /dev/null)."""
    started = time.perf_counter()
    subprocess.run(["mosquitto_sub", "-p", str(port), "-V", "mqttv5", "-c", "-i", "bench-bare", "-q", "1",
                    "-x", "86400", "-t", "iotorino/v1/#", "-C", str(total)], stdout=subprocess.DEVNULL, check=True)
    return total / (time.perf_counter() - started)


def collector_drain(collector: Collector, total: int) -> float:
    """msg/s from connecting to the last message stored and acknowledged."""
    stats = collector.stats
    before = stats.stored_messages
    started = time.perf_counter()
    collector.start()
    while stats.stored_messages - before < total:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    collector.stop()
    return total / elapsed


def drain(messages: int, runs: int) -> list[Figure]:
    """Backlog drain: bare mosquitto_sub, the collector, the collector on paho (medians over `runs`)."""
    from benchmarks.paho_session import PahoSession

    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir / "mosquitto").start()
    influxd = Influxd(workdir / "influxd").start()
    bare, native, paho = [], [], []
    try:
        for run in range(runs):
            clients = {}
            for name in ("native", "paho"):
                clients[name] = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=f"{name}{run}"))
                clients[name].create_database()
            for client_id in ("bench-collector", "bench-paho", "bench-bare"):
                prepare_session(broker.port, client_id)
            queue_backlog(broker.port, messages, run)
            bare.append(bare_drain(broker.port, messages))
            native.append(collector_drain(make_collector(workdir / f"n{run}", broker.port,
                                                         TimingWriter(clients["native"]), "bench-collector"), messages))
            paho.append(collector_drain(make_collector(workdir / f"p{run}", broker.port, TimingWriter(clients["paho"]),
                                                       "bench-paho", PahoSession), messages))
            for name, client in clients.items():
                stored = client.count("air_quality", "pm25")
                if stored != messages:
                    raise RuntimeError(f"{name} collector stored {stored} of {messages}")
            print(f"  drain run {run + 1}: bare {bare[-1]:,.0f}, collector {native[-1]:,.0f}, "
                  f"on paho {paho[-1]:,.0f} msg/s", flush=True)
    finally:
        broker.stop()
        influxd.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    b = median(bare)
    what = f"{messages:,} queued messages, median of {runs}"
    return [
        Figure("drain: collector", median(native), "msg/s", b, "bare mosquitto_sub", 0.5 * b, False,
               f"{what}; target 0.5 x bare in the same run; all stored and acknowledged"),
        Figure("drain: collector on paho (manual_ack)", median(paho), "msg/s", median(native), "collector", None, False,
               "the same collector on paho instead of the hand-written session; ratio = paho / native"),
    ]


def _paced_publish(port: int, rate: float, seconds: float) -> int:
    """Publish at `rate` msg/s for `seconds` from another process (`benchmarks.pacer`), so it takes no GIL here."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.pacer", str(port), str(rate), str(seconds), *_units()],
                         check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout.split()[-1])


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def _latency_run(broker: Mosquitto, influxd: Influxd, workdir: Path, rate: float, seconds: float,
                 kind: type[Collector]) -> tuple[list[float], list[int], int]:
    """One collector of `kind` at `rate`: (sorted latencies in s, sorted batch sizes, messages sent)."""
    label = f"{kind.__name__.lower()}{int(rate)}"
    client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=label))
    client.create_database()
    total = int(rate * seconds)
    writer = TimingWriter(client, total)
    collector = make_collector(workdir / label, broker.port, writer, f"bench-{label}", kind=kind)
    collector.start()
    collector.subscribed.wait(10)
    writer.record = True
    sent = _paced_publish(broker.port, rate, seconds)
    deadline = time.monotonic() + 60
    while writer.stored < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    collector.stop()
    return np.sort(writer.latencies[: min(writer.stored, total)]).tolist(), sorted(writer.batches), sent


def latency(rates: list[float], seconds: float) -> list[Figure]:
    """publish->stored p50/p99/p999 and batch sizes at each rate: group commit, and the old fixed delay as baseline."""
    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir / "mosquitto").start()
    influxd = Influxd(workdir / "influxd").start()
    targets = {200: 20.0, 5000: 50.0}
    figures = []
    try:
        for rate in rates:
            old, _, _ = _latency_run(broker, influxd, workdir, rate, seconds, FixedDelayCollector)
            ordered, sizes, sent = _latency_run(broker, influxd, workdir, rate, seconds, Collector)
            p50, p99, p999 = (percentile(ordered, q) * 1e3 for q in (0.5, 0.99, 0.999))
            dist = ", ".join(f"p{int(q * 100)} {percentile(sizes, q):,.0f}" for q in (0.5, 0.9, 0.99))
            dist += f", max {sizes[-1]:,}" if sizes else ""
            note = (f"{sent:,} messages in {seconds:.0f} s; group commit p50 {p50:.1f} / p99 {p99:.1f} / "
                    f"p999 {p999:.1f} ms; fixed delay p50 {percentile(old, 0.5) * 1e3:.1f} ms; "
                    f"{len(sizes):,} writes, readings per write {dist}")
            figures.append(Figure(f"latency p99 at {rate:,.0f} msg/s", p99, "ms", percentile(old, 0.99) * 1e3,
                                  "fixed 0.2 s delay", targets.get(int(rate)), True, note))
            print(f"  latency {rate:,.0f} msg/s: {note}", flush=True)
    finally:
        broker.stop()
        influxd.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def soak(rate: float, seconds: float) -> list[Figure]:
    """The collector at `rate` for `seconds`: RSS slope (MB/h) and p99 latency drift (ms)."""
    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir / "mosquitto").start()
    influxd = Influxd(workdir / "influxd").start()
    try:
        client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database="soak"))
        client.create_database()
        total = int(rate * seconds)
        writer = TimingWriter(client, total)
        collector = make_collector(workdir / "soak", broker.port, writer, "bench-soak")
        collector.start()
        collector.subscribed.wait(10)
        writer.record = True
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            while not done.wait(1.0):
                samples.append((time.monotonic() - began, _rss_mb()))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        sent = _paced_publish(broker.port, rate, seconds)
        deadline = time.monotonic() + 60
        while writer.stored < sent and time.monotonic() < deadline:
            time.sleep(0.01)
        done.set()
        collector.stop()
    finally:
        broker.stop()
        influxd.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    kept = samples[len(samples) // 10:]
    t = np.array([s[0] for s in kept]) / 3600
    rss = np.array([s[1] for s in kept])
    slope = float(np.polyfit(t, rss, 1)[0]) if len(kept) > 2 else float("nan")
    lat = writer.latencies[: min(writer.stored, total)]
    fifth = max(1, len(lat) // 5)
    first, last = np.sort(lat[:fifth]).tolist(), np.sort(lat[-fifth:]).tolist()
    drift = (percentile(last, 0.99) - percentile(first, 0.99)) * 1e3
    what = f"{sent:,} messages at {rate:,.0f} msg/s for {seconds / 60:.1f} min (target run: 30 min)"
    return [
        Figure("soak: RSS slope", slope, "MB/h", None, "", None, True,
               f"{what}; RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB" if len(rss) else what),
        Figure("soak: p99 drift (last - first fifth)", drift, "ms", percentile(first, 0.99) * 1e3, "first-fifth p99",
               None, True, f"p99 first fifth {percentile(first, 0.99) * 1e3:.1f} ms, last {percentile(last, 0.99) * 1e3:.1f} ms"),
    ]

"""The MQTT collector: backlog drain against bare `mosquitto_sub` (and on paho), latency by load, soak.

Every run starts its own mosquitto and influxd (temporary directories, loopback).

- drain: the same backlog of air-quality messages (5 fields, 50 street units, QoS 1)
  is queued for three persistent sessions at once with `mosquitto_pub -l`; then a
  bare `mosquitto_sub` (the ceiling: no decoding, no store), the collector, and the
  collector on paho (`manual_ack`) drain one each, decode, write to the real
  InfluxDB and acknowledge only durable messages. Medians over `runs`.
- latency: a publisher process at a steady rate (`benchmarks.pacer`, QoS 1, device
  time = send time); publish->stored per message (p50/p99/p999), the batch sizes
  written and the benchmark process's CPU per message, for the collector and for the
  old fixed 0.2 s batching rule. Beside the collector a bare `mosquitto_sub` notes
  when it received the same messages: publish->received is the floor that the
  machine and the broker set before any consumer; received->stored is the
  collector's own part. Medians over `runs`.
- soak: the collector at 2,000 msg/s for `duration` seconds: resident memory slope
  (MB per hour, least squares after the first tenth) and latency drift (p99 of the
  last fifth minus the first fifth).
"""

from __future__ import annotations

import collections
import json
import resource
import shutil
import subprocess
import tempfile
import sys
import threading
import time
from dataclasses import dataclass
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
        # Preallocated and written once here, so that its pages are resident before the run: a soak must not
        # measure its own bookkeeping growing (np.zeros maps pages only when first written: 29 MB in 30 min).
        self.latencies = np.full(capacity, np.nan)
        self.stored = 0
        self.batches: collections.Counter[int] = collections.Counter()  # readings per write -> writes (bounded)
        self.record = False

    def write_lines(self, body: bytes) -> None:
        self.client.write_lines(body)
        if self.record:
            now_ns = time.time_ns()
            lines = body.split(b"\n")
            self.batches[len(lines)] += 1
            for line in lines:
                if self.stored < len(self.latencies):
                    self.latencies[self.stored] = (now_ns - int(line.rsplit(b" ", 1)[1])) / 1e9
                self.stored += 1

    def close(self) -> None:
        self.client.close()


class TimedCollector(Collector):
    """The collector, noting for each stored message how long after its arrival it was stored (ns)."""

    own: list[int] | None = None  # received->stored per message while recording

    def _make_durable(self, batch):
        durable = super()._make_durable(batch)
        own = self.own
        if own is not None and durable:
            now_ns = time.time_ns()
            own.extend(now_ns - m.received_ns for r in batch for m in r.accepted)
        return durable


class FixedDelayCollector(TimedCollector):
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


@dataclass
class LatencyRun:
    """What one paced run measured (latencies in seconds, sorted)."""

    latencies: list[float]  # publish -> stored, per reading
    sizes: list[int]  # readings per write, sorted
    sent: int
    cpu_us: float  # the benchmark process's CPU (collector and its bookkeeping) per message sent, microseconds
    own: list[float]  # received -> stored, per message: the collector's own part
    floor: list[float]  # publish -> received by a bare mosquitto_sub beside it (empty without one)

    def p(self, q: float, which: str = "latencies") -> float:
        """The `q` quantile of `which`, in milliseconds."""
        return percentile(getattr(self, which), q) * 1e3


def _start_floor(port: int, path: Path) -> subprocess.Popen:
    """A bare `mosquitto_sub` (QoS 1) printing each message's receive time beside its payload into `path`."""
    with open(path, "wb") as out:
        proc = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-q", "1", "-t", "iotorino/v1/#",
                                 "-F", "%U %p"], stdout=out)
    time.sleep(0.5)  # subscribed before the first message
    return proc


def _floor_latencies(proc: subprocess.Popen, path: Path) -> list[float]:
    """Stop the bare subscriber; publish->received of every message it printed (seconds, sorted)."""
    proc.terminate()
    proc.wait(10)
    delays = []
    for line in path.read_bytes().splitlines():
        received, _, payload = line.partition(b" ")
        try:
            delays.append(float(received) - json.loads(payload)["time"])
        except (ValueError, KeyError):
            continue
    return sorted(delays)


def _forget_session(port: int, client_id: str) -> None:
    """End a stopped collector's persistent session: the broker would queue every later message for it (and
    save them all each second), slowing every run after it."""
    subprocess.run(["mosquitto_sub", "-p", str(port), "-i", client_id, "-t", "iotorino/forget", "-E"],
                   check=True, timeout=30)


def _latency_run(broker: Mosquitto, influxd: Influxd, workdir: Path, rate: float, seconds: float,
                 kind: type[TimedCollector], run: int = 0, floor: bool = False) -> LatencyRun:
    """One collector of `kind` at `rate` (and, with `floor`, a bare mosquitto_sub beside it)."""
    label = f"{kind.__name__.lower()}{int(rate)}r{run}"
    client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=label))
    client.create_database()
    total = int(rate * seconds)
    writer = TimingWriter(client, total)
    collector = make_collector(workdir / label, broker.port, writer, f"bench-{label}", kind=kind)
    collector.start()
    collector.subscribed.wait(10)
    bare = _start_floor(broker.port, workdir / f"{label}.floor") if floor else None
    collector.own = []
    writer.record = True
    cpu = time.process_time()
    sent = _paced_publish(broker.port, rate, seconds)
    deadline = time.monotonic() + 60
    while writer.stored < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    cpu = time.process_time() - cpu
    collector.stop()
    _forget_session(broker.port, f"bench-{label}")
    stored = writer.latencies[: min(writer.stored, total)]
    return LatencyRun(np.sort(stored).tolist(), sorted(writer.batches.elements()), sent,
                      cpu / sent * 1e6, sorted(x / 1e9 for x in collector.own),
                      _floor_latencies(bare, workdir / f"{label}.floor") if bare else [])


def latency(rates: list[float], seconds: float, runs: int = 1) -> list[Figure]:
    """publish->stored p50/p99/p999, batch sizes and CPU per message at each rate (medians over `runs`).

    Group commit with the adaptive linger against the old fixed 0.2 s delay, run after
    run; beside the collector, the floor (a bare mosquitto_sub's publish->received).
    """
    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir / "mosquitto").start()
    influxd = Influxd(workdir / "influxd").start()
    targets = {200: 20.0, 5000: 50.0}
    figures = []
    try:
        for rate in rates:
            new, old = [], []
            for run in range(runs):
                # Both beside a bare subscriber (on a crowded machine its CPU and the broker's fan-out count), and
                # each first in turn: InfluxDB compacts what the run before wrote while the next one runs.
                for kind in (FixedDelayCollector, TimedCollector)[::-1 if run % 2 else 1]:
                    done = _latency_run(broker, influxd, workdir, rate, seconds, kind, run, floor=True)
                    (old if kind is FixedDelayCollector else new).append(done)
                n, o = new[-1], old[-1]
                print(f"  latency {rate:,.0f} msg/s run {run + 1}: p50 {n.p(0.5):.1f} / p99 {n.p(0.99):.1f} / "
                      f"p999 {n.p(0.999):.1f} ms (floor p99 {n.p(0.99, 'floor'):.1f}, own p99 "
                      f"{n.p(0.99, 'own'):.1f}), {len(n.sizes):,} writes, {n.cpu_us:.0f} us/msg; fixed delay "
                      f"p99 {o.p(0.99):.1f} ms (floor p99 {o.p(0.99, 'floor'):.1f}, own p99 {o.p(0.99, 'own'):.1f}), "
                      f"{len(o.sizes):,} writes, {o.cpu_us:.0f} us/msg", flush=True)
            figures += _latency_figures(rate, seconds, new, old, targets.get(int(rate)))
    finally:
        broker.stop()
        influxd.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def _latency_figures(rate: float, seconds: float, new: list[LatencyRun], old: list[LatencyRun],
                     target: float | None) -> list[Figure]:
    """The figures of one rate: end-to-end p99 against the fixed delay, the floor, the own part, CPU."""
    def med(runs: list[LatencyRun], q: float, which: str = "latencies") -> float:
        return median([r.p(q, which) for r in runs])

    def each(runs: list[LatencyRun], q: float, which: str = "latencies") -> str:
        return ", ".join(f"{r.p(q, which):.1f}" for r in runs)

    sizes = sorted(x for r in new for x in r.sizes)
    dist = ", ".join(f"p{int(q * 100)} {percentile(sizes, q):,.0f}" for q in (0.5, 0.9, 0.99))
    dist += f", max {sizes[-1]:,}" if sizes else ""
    old_sizes = sorted(x for r in old for x in r.sizes)
    what = f"{new[0].sent:,} messages in {seconds:.0f} s, median of {len(new)}"
    r = f"{rate:,.0f} msg/s"
    return [
        Figure(f"latency p99 at {r}", med(new, 0.99), "ms", med(old, 0.99), "fixed 0.2 s delay", target, True,
               f"{what}; p50 {med(new, 0.5):.1f} / p99 {med(new, 0.99):.1f} / p999 {med(new, 0.999):.1f} ms "
               f"(runs: p99 {each(new, 0.99)}; p999 {each(new, 0.999)}); fixed delay p50 {med(old, 0.5):.1f} ms; "
               f"{sum(len(x.sizes) for x in new) / len(new):,.0f} writes per run, readings per write {dist} "
               f"(fixed delay: {len(old_sizes) / len(old):,.0f} writes, p50 {percentile(old_sizes, 0.5):,.0f})"),
        Figure(f"latency floor at {r}: publish->received p99", med(new, 0.99, "floor"), "ms",
               med(old, 0.99, "floor"), "during the fixed-delay runs", None, True,
               f"a bare mosquitto_sub beside the collector, same messages: p50 {med(new, 0.5, 'floor'):.1f} / "
               f"p999 {med(new, 0.999, 'floor'):.1f} ms (runs: p99 {each(new, 0.99, 'floor')}; beside the fixed "
               f"delay {each(old, 0.99, 'floor')})"),
        Figure(f"latency at {r}: received->stored p99 (the collector's own part)", med(new, 0.99, "own"), "ms",
               med(old, 0.99, "own"), "fixed 0.2 s delay", None, True,
               f"p50 {med(new, 0.5, 'own'):.1f} / p999 {med(new, 0.999, 'own'):.1f} ms "
               f"(runs: p99 {each(new, 0.99, 'own')})"),
        Figure(f"CPU per message at {r}", median([x.cpu_us for x in new]), "us", median([x.cpu_us for x in old]),
               "fixed 0.2 s delay", None, True,
               "the benchmark process (collector threads and the timing writer's bookkeeping) while paced; "
               f"runs {', '.join(f'{x.cpu_us:.0f}' for x in new)} us (fixed delay "
               f"{', '.join(f'{x.cpu_us:.0f}' for x in old)})"),
    ]


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

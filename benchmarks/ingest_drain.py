"""Benchmark (not a test): how fast one collector drains a queued backlog, and its latency at city load.

    .venv/bin/python benchmarks/ingest_drain.py [--messages 200000] [--runs 3] [--nominal-s 30]

Starts its own mosquitto and influxd (temporary directories, loopback). For
each run it queues the same backlog of air-quality messages (5 fields, 50
street units, QoS 1) for two persistent sessions at once with
`mosquitto_pub -l`, then times a bare `mosquitto_sub` draining one session
(the ceiling: no decoding, no store) and the collector draining the other
(decode, validate, write to the real InfluxDB, durable acknowledgement).
Then it publishes at a nominal city load (200 msg/s) and measures
publish→stored latency per message. Prints medians over the runs and the
ratio to the bare subscriber.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.mqtt import config as collector_config  # noqa: E402
from ingest.mqtt.app import build_pipeline  # noqa: E402
from ingest.mqtt.collector import Collector  # noqa: E402
from ingest.mqtt.deadletters import DeadLetterStore  # noqa: E402
from iotorino.core import inventory  # noqa: E402
from iotorino.services import Influxd, Mosquitto  # noqa: E402
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings  # noqa: E402
from tests.mqtt.streams import prepare_session  # noqa: E402

UNITS = 50
FIELDS = ("pm1", "pm25", "pm10", "no2", "o3")


def _units() -> list[str]:
    inv = inventory.default()
    return [u.id for u in inv.street_units.values() if "air_quality" in inv.profiles[u.profile].measurements][:UNITS]


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
        assert proc.wait() == 0


def bare_drain(port: int, total: int) -> float:
    """msg/s of mosquitto_sub draining the queued session (QoS 1, persistent, to /dev/null)."""
    started = time.perf_counter()
    subprocess.run(["mosquitto_sub", "-p", str(port), "-V", "mqttv5", "-c", "-i", "bench-bare", "-q", "1",
                    "-x", "86400", "-t", "iotorino/v1/#", "-C", str(total)], stdout=subprocess.DEVNULL, check=True)
    return total / (time.perf_counter() - started)


class TimingWriter:
    """The real v1 client, recording when each written point became stored (for latency)."""

    def __init__(self, client: InfluxV1Client) -> None:
        self.client = client
        self.latencies: list[float] = []
        self.record = False

    def write_lines(self, body: bytes) -> None:
        self.client.write_lines(body)
        if self.record:
            now_ns = time.time_ns()
            self.latencies.extend((now_ns - int(line.rsplit(b" ", 1)[1])) / 1e9 for line in body.split(b"\n"))

    def close(self) -> None:
        self.client.close()


def make_collector(workdir: Path, mqtt_port: int, writer) -> Collector:
    config = collector_config.from_dict({
        "mqtt": {"port": mqtt_port, "client_id": "bench-collector", "session_expiry_s": 86_400},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": writer.client.settings.url, "database": writer.client.settings.database},
        "deadletters": {"path": str(workdir / "deadletters.sqlite")},
    })
    return Collector(config, build_pipeline(config), writer, DeadLetterStore(config.deadletters_path))


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


def nominal_latency(port: int, collector: Collector, writer: TimingWriter, seconds: float, rate: int = 200):
    """p50/p99 publish→stored at `rate` msg/s (device time = publish time)."""
    import paho.mqtt.client as mqtt

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    units = _units()
    collector.start()
    collector.subscribed.wait(10)
    writer.latencies.clear()
    writer.record = True
    total = int(seconds * rate)
    started = time.perf_counter()
    for k in range(total):
        time.sleep(max(0.0, started + k / rate - time.perf_counter()))
        payload = json.dumps({"time": time.time(), "fields": {f: 12.5 for f in FIELDS}})
        publisher.publish(f"iotorino/v1/street/{units[k % len(units)]}/air_quality", payload, qos=1)
    while len(writer.latencies) < total:
        time.sleep(0.01)
    writer.record = False
    collector.stop()
    publisher.disconnect()
    publisher.loop_stop()
    ordered = sorted(writer.latencies)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]


def main() -> None:
    """Run the benchmark and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nominal-s", type=float, default=30.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir / "mosquitto").start()
    influxd = Influxd(workdir / "influxd").start()
    try:
        bare, drained = [], []
        for run in range(args.runs):
            client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=f"bench{run}"))
            client.create_database()
            writer = TimingWriter(client)
            collector = make_collector(workdir / f"run{run}", broker.port, writer)
            prepare_session(broker.port, "bench-collector")
            prepare_session(broker.port, "bench-bare")
            queue_backlog(broker.port, args.messages, run)
            bare.append(bare_drain(broker.port, args.messages))
            drained.append(collector_drain(collector, args.messages))
            stored = client.count("air_quality", "pm25")
            assert stored == args.messages, f"stored {stored} of {args.messages}"
            print(f"run {run + 1}: bare mosquitto_sub {bare[-1]:,.0f} msg/s, collector {drained[-1]:,.0f} msg/s",
                  flush=True)
        client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database="nominal"))
        client.create_database()
        writer = TimingWriter(client)
        p50, p99 = nominal_latency(broker.port, make_collector(workdir / "nominal", broker.port, writer), writer,
                                   args.nominal_s)
        bare_median, drain_median = statistics.median(bare), statistics.median(drained)
        print(f"\nbacklog {args.messages:,} messages x {args.runs} runs (medians)")
        print(f"  bare mosquitto_sub drain   {bare_median:>9,.0f} msg/s")
        print(f"  collector drain            {drain_median:>9,.0f} msg/s  (durable acks, real InfluxDB)")
        print(f"  ratio collector / bare     {drain_median / bare_median:>9.2f}")
        print(f"nominal load 200 msg/s for {args.nominal_s:.0f} s: publish->stored p50 {p50 * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms")
    finally:
        broker.stop()
        influxd.stop()


if __name__ == "__main__":
    main()

"""Support for the collector's fault tests: message streams from the inventory, publishing, stored points.

A point is compared as (measurement, tags, fields, time_ns), with tags and
fields as sorted tuples, so sets of published and stored points can be
compared exactly: no more, no less.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import paho.mqtt.client as mqtt
import pytest

from iotorino.core import inventory
from iotorino.core.store.influx_v1 import InfluxV1Client
from iotorino.testing.mqtt import prepare_session  # noqa: F401  (the tests import it from here)

Point = tuple[str, tuple, tuple, int]
AIR_FIELDS = ("pm1", "pm25", "pm10", "no2", "o3")
ROOT = Path(__file__).resolve().parents[2]


def street_stream(count: int, *, seed: int = 1, start_s: int | None = None) -> list[tuple[str, bytes, Point]]:
    """`count` air-quality messages (topic, payload, expected point) of distinct units and times."""
    inv = inventory.default()
    units = [u for u in inv.street_units.values() if "air_quality" in inv.profiles[u.profile].measurements]
    rng = random.Random(seed)
    start_s = start_s or int(time.time()) - 6 * 3600  # within the accepted window, whole seconds
    stream = []
    for i in range(count):
        unit = units[i % len(units)]
        time_s = start_s + (i // len(units)) * 10
        time_ms = time_s * 1000 + seed % 1000  # streams of different seeds never share a timestamp
        fields = {name: round(rng.uniform(1, 200), 2) for name in AIR_FIELDS}
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time_s)) + f".{time_ms % 1000:03d}Z"
        payload = json.dumps({"time": iso, "fields": fields}).encode()
        tags = (("district", str(unit.district)), ("unit", unit.id))
        stream.append((f"iotorino/v1/street/{unit.id}/air_quality", payload,
                       ("air_quality", tags, tuple(sorted(fields.items())), time_ms * 1_000_000)))
    return stream


def points(stream: Iterable[tuple[str, bytes, Point]]) -> set[Point]:
    """The expected points of a stream."""
    return {point for _, _, point in stream}


def stored_points(influx: InfluxV1Client, measurement: str = "air_quality") -> set[Point]:
    """Every point InfluxDB holds for `measurement`, as comparable tuples (None fields left out)."""
    found: list[Point] = []
    for series in influx.query(f'SELECT * FROM "{measurement}" GROUP BY *'):
        tags = tuple(sorted((k, v) for k, v in series.get("tags", {}).items() if v != ""))
        columns = series["columns"]
        for values in series["values"]:
            row = dict(zip(columns, values))
            fields = tuple(sorted((k, v) for k, v in row.items() if k != "time" and v is not None))
            found.append((measurement, tags, fields, row["time"]))
    stored = set(found)
    assert len(stored) == len(found), "InfluxDB returned the same point twice"
    return stored


def publish(port: int, stream: Iterable[tuple[str, bytes, Point]], pace_s: float = 0.0) -> None:
    """Publish with QoS 1 and return once the broker acknowledged every message."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(500)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = []
        for topic, payload, _ in stream:
            infos.append(client.publish(topic, payload, qos=1))
            if pace_s:
                time.sleep(pace_s)
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published(), "the broker did not acknowledge a publish"
    finally:
        client.disconnect()
        client.loop_stop()


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.05)


def write_config(path: Path, *, mqtt_port: int, influx_url: str, database: str, client_id: str = "fault-test",
                 metrics_port: int | None = None, share_group: str = "", influxdb: str = "",
                 extra: str = "") -> Path:
    """A collector TOML config with its files next to `path`; `influxdb` replaces the v1 [influxdb] table."""
    directory = path.parent
    metrics = f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n' if metrics_port else ""
    path.write_text(
        f'[mqtt]\nport = {mqtt_port}\nclient_id = "{client_id}"\nkeepalive_s = 5\nshare_group = "{share_group}"\n'
        '[[subscriptions]]\ntopic = "iotorino/v1/#"\nformat = "native"\n'
        + (influxdb or f'[influxdb]\nurl = "{influx_url}"\ndatabase = "{database}"\ntimeout_s = 2\n') +
        '[batch]\nmax_delay_s = 0.05\n'
        f'[deadletters]\npath = "{directory / "deadletters.sqlite"}"\n'
        f'[spool]\npath = "{directory / "spool.sqlite"}"\n' + metrics + extra
    )
    return path


class CollectorProcess:
    """`python -m iotorino collect mqtt --config F` as a subprocess, its log in a file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.with_suffix(".log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "CollectorProcess":
        """Start the collector on this checkout's code."""
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "iotorino", "collect", "mqtt",
                                          "--config", str(self.config)], stdout=log, stderr=log, env=env)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> int:
        """Send `sig` and wait for the exit status."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(30)

    def stop(self) -> int:
        """A graceful stop (SIGTERM); kills if that takes too long."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def log_text(self) -> str:
        """What the collector logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def metric(port: int, name: str) -> float:
    """One unlabelled sample from a collector's /metrics endpoint (0 when absent or not up yet)."""
    import requests

    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except requests.ConnectionError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


@contextmanager
def small_filesystem(path: Path, size_kib: int) -> Iterator[Path]:
    """A real file system of `size_kib` KiB (tmpfs) mounted at `path`, unmounted afterwards; skips without root."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_filesystem(directory: Path) -> Path:
    """Fill the file system under `directory` to its last byte with one file; delete it to free the room."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for block in (65536, 4096, 512, 1):
            while True:
                try:
                    if not os.write(fd, b"\0" * block):
                        break
                except OSError:  # ENOSPC: on to a smaller block
                    break
    finally:
        os.close(fd)
    return filler

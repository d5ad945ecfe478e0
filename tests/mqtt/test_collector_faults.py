"""Fault tests on the real broker and database: whatever fails, InfluxDB ends up with exactly what was published.

Each test runs the collector as a subprocess (`python -m iotorino collect
mqtt`), breaks something for real (kill -9, a stopped influxd, a restarted
mosquitto, a duplicate), and compares the set of points in InfluxDB with the
set published: no more, no less.
"""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import requests

from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.spool import Spool
from iotorino.services import Influxd, Mosquitto, free_port
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.testing.influx_v2_gateway import Fault, InfluxV2Gateway
from tests.mqtt.streams import (CollectorProcess, fill_filesystem, metric, points, prepare_session, publish,
                                small_filesystem, stored_points, street_stream, wait_for, write_config)

pytestmark = pytest.mark.integration
CLIENT_ID = "fault-test"


@pytest.fixture
def collector_config(tmp_path, mosquitto, influx):
    """A config for the session's influxd (fresh database) and this test's broker, session prepared."""
    prepare_session(mosquitto.port, CLIENT_ID)
    return write_config(tmp_path / "collector.toml", mqtt_port=mosquitto.port, influx_url=influx.settings.url,
                        database=influx.settings.database, client_id=CLIENT_ID, metrics_port=free_port())


def _metrics_port(config) -> int:
    return int(config.read_text().split('listen = "127.0.0.1:')[1].split('"')[0])


def _all_stored(influx, expected):
    return lambda: len(stored_points(influx)) >= len(expected)


def test_kill_9_mid_stream_then_restart_loses_and_duplicates_nothing(collector_config, mosquitto, influx):
    stream = street_stream(6000, seed=11)
    collector = CollectorProcess(collector_config).start()
    publisher = threading.Thread(target=publish, args=(mosquitto.port, stream), kwargs={"pace_s": 0.0002})
    publisher.start()
    try:
        wait_for(lambda: len(stored_points(influx)) >= 1000, what="the first thousand points")
        assert collector.kill(signal.SIGKILL) == -signal.SIGKILL
        collector.start()
        publisher.join(60)
        wait_for(_all_stored(influx, stream), what="every point after the restart")
        assert stored_points(influx) == points(stream)
    finally:
        publisher.join(60)
        collector.stop()
    assert stored_points(influx) == points(stream)


def test_duplicate_delivery_stores_each_point_once(collector_config, mosquitto, influx):
    stream = street_stream(500, seed=12)
    collector = CollectorProcess(collector_config).start()
    try:
        publish(mosquitto.port, stream)
        publish(mosquitto.port, stream[:250])  # the same messages again
        publish(mosquitto.port, stream[100:300])
        port = _metrics_port(collector_config)
        wait_for(lambda: metric(port, "iotorino_messages_received_total") >= 950, what="every delivery")
        wait_for(lambda: metric(port, "iotorino_messages_stored_total") >= 950, what="every delivery written")
        assert stored_points(influx) == points(stream)
    finally:
        collector.stop()


@pytest.fixture
def own_influxd(tmp_path, mosquitto):
    """An influxd of this test alone (so it can be stopped and started again), a client and a collector config."""
    server = Influxd(tmp_path / "influxd").start()
    client = InfluxV1Client(InfluxV1Settings(url=server.url, database="faults"))
    client.create_database()
    prepare_session(mosquitto.port, CLIENT_ID)
    metrics_port = free_port()
    config = write_config(tmp_path / "collector.toml", mqtt_port=mosquitto.port, influx_url=server.url,
                          database="faults", client_id=CLIENT_ID, metrics_port=metrics_port)
    yield server, client, config, metrics_port
    client.close()
    server.stop()


def test_influxdb_outage_spools_acknowledges_and_catches_up(tmp_path, mosquitto, own_influxd):
    server, influx, config, metrics_port = own_influxd
    before, during, after = street_stream(500, seed=21), street_stream(1500, seed=22), street_stream(500, seed=23)
    collector = CollectorProcess(config).start()
    try:
        publish(mosquitto.port, before)
        wait_for(_all_stored(influx, before), what="points before the outage")
        server.stop(signal.SIGKILL)
        publish(mosquitto.port, during)
        # Acknowledged while InfluxDB is down: committed to the spool.
        wait_for(lambda: metric(metrics_port, "iotorino_messages_spooled_total") >= len(during),
                 what="the outage's messages in the spool")
        assert metric(metrics_port, "iotorino_store_healthy") == 0
        server.start()
        publish(mosquitto.port, after)
        expected = points(before + during + after)
        wait_for(_all_stored(influx, expected), what="every point after the outage")
        wait_for(lambda: metric(metrics_port, "iotorino_spool_messages") == 0, what="an empty spool")
        assert stored_points(influx) == expected
    finally:
        collector.stop()


def test_spool_survives_kill_9_during_outage_and_drains_at_start_up(tmp_path, mosquitto, own_influxd):
    server, influx, config, metrics_port = own_influxd
    during, after = street_stream(2000, seed=31), street_stream(300, seed=32)
    server.stop(signal.SIGKILL)
    collector = CollectorProcess(config).start()
    publish(mosquitto.port, during)
    wait_for(lambda: metric(metrics_port, "iotorino_messages_spooled_total") >= len(during),
             what="the outage's messages in the spool")
    collector.kill(signal.SIGKILL)
    spool = Spool(tmp_path / "spool.sqlite")
    assert len(spool) == len(during)  # acknowledged to the broker, so only the spool has them now
    spool.close()
    server.start()
    collector.start()
    try:
        publish(mosquitto.port, after)
        expected = points(during + after)
        wait_for(_all_stored(influx, expected), what="the spool replayed at start-up")
        assert stored_points(influx) == expected
        assert "event=spool_replay spool_messages=2000" in collector.log_text()
    finally:
        collector.stop()


def _health(port: int, path: str) -> tuple[int, dict]:
    response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    return response.status_code, response.json()


def test_full_disk_under_the_spool_holds_acks_without_a_storm_and_recovers_by_itself(tmp_path, mosquitto,
                                                                                     own_influxd):
    """InfluxDB down and the spool's file system full: acknowledgements stop (no reconnects, no redelivery
    storm), one log line, iotorino_spool_full 1, not ready. Restarted on the still-full disk with InfluxDB
    back: everything is stored (direct writes, and the drainer although it cannot delete); once room returns
    the spool empties. Nothing lost, nothing duplicated."""
    server, influx, config, metrics_port = own_influxd
    with small_filesystem(tmp_path / "disk", 2048) as disk:
        (disk / "other-files").write_bytes(b"\0" * (1 << 20))  # what an operator deletes to make room
        config.write_text(config.read_text()
                          .replace(str(tmp_path / "spool.sqlite"), str(disk / "spool.sqlite"))
                          .replace("[spool]\n", "[spool]\nprobe_interval_s = 0.5\n"))
        stream, more = street_stream(6000, seed=71), street_stream(300, seed=72)
        server.stop(signal.SIGKILL)
        collector = CollectorProcess(config).start()
        try:
            wait_for(lambda: "event=subscribed" in collector.log_text(), what="the collector to subscribe")
            publish(mosquitto.port, stream, pace_s=0.0002)  # batches of a few hundred, until the disk is full
            wait_for(lambda: metric(metrics_port, "iotorino_spool_full") == 1, what="the spool alarm")
            time.sleep(3)  # six probes of the disk and of InfluxDB
            assert metric(metrics_port, "iotorino_mqtt_reconnects_total") == 0
            assert metric(metrics_port, "iotorino_messages_received_total") <= len(stream)  # no redelivery
            assert 0 < metric(metrics_port, "iotorino_spool_messages") < len(stream)
            assert collector.log_text().count("event=spool_full") == 1
            assert "database or disk is full" in collector.log_text()
            status, body = _health(metrics_port, "/readyz")
            assert status == 503 and "acknowledgements stopped" in body["components"]["durable"]["reason"]
            assert _health(metrics_port, "/healthz") == (200, {"alive": True})

            fill_filesystem(disk)  # to the last byte: not even a delete fits now
            assert collector.stop() == 0
            server.start()
            collector.start()  # on the still-full disk
            wait_for(lambda: stored_points(influx) == points(stream), timeout=60,
                     what="every message: redelivered ones written directly, spooled ones by the drainer")
            publish(mosquitto.port, more)
            wait_for(lambda: stored_points(influx) == points(stream + more), what="new messages, written directly")
            assert metric(metrics_port, "iotorino_spool_messages") > 0  # stored, but not deletable yet
            assert _health(metrics_port, "/readyz")[0] == 200
            (disk / "filler").unlink()
            (disk / "other-files").unlink()
            wait_for(lambda: metric(metrics_port, "iotorino_spool_messages") == 0, what="the spool emptied")
            assert metric(metrics_port, "iotorino_spool_full") == 0
            assert stored_points(influx) == points(stream + more)
        finally:
            collector.stop()
        assert "event=thread_crashed" not in collector.log_text()


def test_mosquitto_restart_with_persistence_loses_nothing(tmp_path, influx):
    broker = Mosquitto(tmp_path / "broker").start()
    try:
        prepare_session(broker.port, CLIENT_ID)
        config = write_config(tmp_path / "collector.toml", mqtt_port=broker.port, influx_url=influx.settings.url,
                              database=influx.settings.database, client_id=CLIENT_ID)
        first, second, third = street_stream(3000, seed=41), street_stream(1000, seed=42), street_stream(500, seed=43)
        collector = CollectorProcess(config).start()
        try:
            wait_for(lambda: "event=subscribed" in collector.log_text(), what="the collector to subscribe")
            publish(broker.port, first)
            broker.stop()  # SIGTERM: mosquitto saves its persistence file; the collector is mid-drain
            broker = Mosquitto(tmp_path / "broker", broker.port).start()
            publish(broker.port, second)
            wait_for(lambda: "event=subscribed" in collector.log_text().split("event=disconnected")[-1],
                     what="the collector to resubscribe")
            publish(broker.port, third)
            expected = points(first + second + third)
            wait_for(_all_stored(influx, expected), what="every point across the broker restart")
            assert stored_points(influx) == expected
        finally:
            collector.stop()
        assert "event=disconnected" in collector.log_text()
    finally:
        broker.stop()


def test_point_refused_by_influxdb_is_dead_lettered_and_the_rest_written(collector_config, mosquitto, influx,
                                                                         tmp_path):
    stream = street_stream(400, seed=51)
    # Make InfluxDB refuse exactly one message: the only one carrying `co`, which InfluxDB already
    # holds as a string field (a field type conflict, HTTP 400 "partial write").
    topic, payload, point = stream[123]
    document = json.loads(payload)
    document["fields"]["co"] = 0.4
    payload = json.dumps(document).encode()
    point = (point[0], point[1], tuple(sorted({**dict(point[2]), "co": 0.4}.items())), point[3])
    stream[123] = (topic, payload, point)
    tags = ",".join(f"{k}={v}" for k, v in point[1])
    influx.write_lines(f'air_quality,{tags} co="text" {point[3] - 1}'.encode())
    collector = CollectorProcess(collector_config).start()
    try:
        publish(mosquitto.port, stream)
        expected = points(stream) - {point}
        port = _metrics_port(collector_config)
        wait_for(lambda: metric(port, "iotorino_messages_stored_total") >= len(expected), what="the good points")
        stored = {p for p in stored_points(influx) if p[3] != point[3] - 1}
        assert stored == expected
    finally:
        collector.stop()
    letters = list(DeadLetterStore(tmp_path / "deadletters.sqlite").list())
    assert [(d.reason, d.topic, d.payload) for d in letters] == [("store_rejected", topic, payload)]
    assert "conflict" in letters[0].detail


def test_v2_api_through_injected_5xx_429_timeout_and_400(tmp_path, mosquitto, influx, monkeypatch):
    gateway = InfluxV2Gateway(influx.settings.url, token="t0ken").start()
    monkeypatch.setenv("IOTORINO_TEST_TOKEN", "t0ken")
    prepare_session(mosquitto.port, CLIENT_ID)
    metrics_port = free_port()
    table = (f'[influxdb]\napi = "v2"\nurl = "{gateway.url}"\norg = "turin"\n'
             f'bucket = "{influx.settings.database}"\ntoken_env = "IOTORINO_TEST_TOKEN"\ntimeout_s = 1\n')
    config = write_config(tmp_path / "collector.toml", mqtt_port=mosquitto.port, influx_url="", database="",
                          client_id=CLIENT_ID, metrics_port=metrics_port, influxdb=table)
    first, second = street_stream(1000, seed=81), street_stream(1000, seed=82)
    collector = CollectorProcess(config).start()
    try:
        publish(mosquitto.port, first)
        wait_for(_all_stored(influx, first), what="the first points through the v2 API")
        gateway.inject(Fault(503), Fault(502), Fault(429, retry_after=1), Fault(hold_s=2.0), Fault(503))
        publish(mosquitto.port, second)
        expected = points(first + second)
        wait_for(_all_stored(influx, expected), what="every point after the injected failures")
        assert stored_points(influx) == expected
        assert not gateway.faults and metric(metrics_port, "iotorino_messages_spooled_total") > 0
    finally:
        collector.stop()
        gateway.stop()
    assert "t0ken" not in collector.log_text()

"""The collector's writers (batches made durable side by side, acknowledged in arrival order) and its health.

The session is a recording stand-in passed through the collector's session
factory and the store is a scripted writer, so the order of events is under
the test's control; the real broker and InfluxDB are in the fault tests.
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

from ingest.mqtt import config as collector_config
from ingest.mqtt.app import build_pipeline
from ingest.mqtt.collector import Collector
from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.metrics import CollectorMetrics
from iotorino.core import inventory
from iotorino.core.supervisor import Supervisor
from iotorino.services import free_port
from tests.mqtt.streams import wait_for

NOW = 1_794_995_200_000_000_000  # 2026-11-18T09:46:40Z
INV = inventory.default()
UNIT = next(u for u in INV.street_units.values() if "air_quality" in INV.profiles[u.profile].measurements)
TOPIC = f"iotorino/v1/street/{UNIT.id}/air_quality"


def _payload(pm25: float) -> bytes:
    return json.dumps({"time": NOW / 1e9 - 100, "fields": {"pm25": pm25}}).encode()


class RecordingSession:
    """Stands in for `MqttSession`: no socket, records acknowledgements."""

    def __init__(self, settings, filters) -> None:
        self.filters = filters
        self.generation = 1
        self.acks: list[list[int]] = []

    def start(self, supervisor=None) -> None:
        pass

    def stop(self) -> None:
        pass

    def reconnect(self) -> None:
        pass

    def ack(self, generation: int, packet_ids) -> None:
        self.acks.append(list(packet_ids))


class HoldingWriter:
    """Accepts every write at once, except that a write containing `held` waits until `release` is set."""

    def __init__(self, held: bytes) -> None:
        self.held = held
        self.holding = threading.Event()
        self.release = threading.Event()
        self.bodies: list[bytes] = []

    def write_lines(self, body: bytes) -> None:
        if self.held in body:
            self.holding.set()
            assert self.release.wait(30)
        self.bodies.append(body)

    def close(self) -> None:
        pass


@pytest.fixture
def collector(tmp_path):
    config = collector_config.from_dict({
        "mqtt": {"client_id": "writers-test"},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": "http://127.0.0.1:9", "database": "unused"},
        "batch": {"max_readings": 2, "max_delay_s": 0.01},  # one batch per read of two messages
        "spool": {"path": str(tmp_path / "spool.sqlite")},
        "deadletters": {"path": str(tmp_path / "deadletters.sqlite")},
    })
    writer = HoldingWriter(held=b"pm25=1.5")
    running = Collector(config, build_pipeline(config), writer, DeadLetterStore(config.deadletters_path),
                        session_factory=RecordingSession, clock=lambda: NOW)
    running.start()
    yield running, writer, running.session
    writer.release.set()
    running.stop()


def test_a_later_batch_stored_first_is_acknowledged_after_the_earlier_one(collector):
    running, writer, session = collector
    running._on_messages(1, [(1, TOPIC, _payload(1.5)), (2, TOPIC, _payload(2.5))])
    wait_for(writer.holding.is_set, what="the first batch's write")
    running._on_messages(1, [(3, TOPIC, _payload(3.5)), (4, TOPIC, _payload(4.5))])
    wait_for(lambda: len(writer.bodies) == 1, what="the second batch stored while the first is held")
    assert session.acks == []  # stored, but its acknowledgement waits for the first batch
    writer.release.set()
    wait_for(lambda: len(session.acks) == 2, what="both acknowledgements")
    assert session.acks == [[1, 2], [3, 4]]


def test_rejected_messages_are_acknowledged_in_their_place(collector):
    running, writer, session = collector
    writer.release.set()
    running._on_messages(1, [(5, TOPIC, b"not json"), (6, TOPIC, _payload(5.5))])
    running._on_messages(1, [(7, "iotorino/v1/street/TO-SU-9999/air_quality", _payload(6.5))])
    wait_for(lambda: sum(map(len, session.acks)) == 3, what="three acknowledgements")
    assert [pid for ack in session.acks for pid in ack] == [5, 6, 7]
    assert running.stats.rejected == {"undecodable": 1, "unknown_device": 1}


def _linger_config(tmp_path, **batch):
    return collector_config.from_dict({
        "mqtt": {"client_id": "linger-test"},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": "http://127.0.0.1:9", "database": "unused"},
        "batch": batch,
        "spool": {"path": str(tmp_path / "spool.sqlite")},
        "deadletters": {"path": str(tmp_path / "deadletters.sqlite")},
    })


def test_the_linger_grows_with_the_measured_arrival_rate(tmp_path):
    config = _linger_config(tmp_path)  # the default: 2 us per msg/s
    idle = Collector(config, build_pipeline(config), HoldingWriter(b"-"), DeadLetterStore(config.deadletters_path),
                     session_factory=RecordingSession)
    idle._arrived, idle._rate_since = 250, 0.0
    assert idle._linger_s(0.05) == pytest.approx(0.010)  # 5,000 msg/s over the last 50 ms: 10 ms
    idle._arrived = 1
    assert idle._linger_s(0.06) == pytest.approx(0.010)  # within the window: the last measured rate
    assert idle._linger_s(0.15) == pytest.approx(2e-6 * 10)  # then 10 msg/s: 20 us
    idle._rate, idle._arrived, idle._rate_since = 0.0, 10_000, 0.0
    assert idle._linger_s(1.0) == pytest.approx(0.020)  # 10,000 msg/s: 20 ms


def test_a_lingering_batch_takes_what_arrives_meanwhile_and_then_goes(tmp_path):
    """With the store idle and the rate high, the batch waits for company instead of leaving with one message."""
    config = _linger_config(tmp_path, max_delay_s=1.0, max_linger_s=1.0,
                            linger_us_per_msg_s=10_000)  # 100 msg/s: linger 1 s
    idle = Collector(config, build_pipeline(config), HoldingWriter(b"-"), DeadLetterStore(config.deadletters_path),
                     session_factory=RecordingSession, clock=lambda: NOW)
    idle._rate, idle._rate_since = 100.0, float("inf")  # measured: 100 msg/s (and not measured again here)
    idle._on_messages(1, [(1, TOPIC, _payload(1.5))])
    batches = []
    taking = threading.Thread(target=lambda: batches.append(idle._take_batch()))
    taking.start()
    wait_for(idle._pending.empty, what="the first message taken")
    idle._on_messages(1, [(2, TOPIC, _payload(2.5))])
    taking.join(10)
    assert [r.packet_ids for r in batches[0]] == [[1], [2]]
    idle._on_messages(1, [(3, TOPIC, _payload(3.5))])
    assert [r.packet_ids for r in idle._take_batch()] == [[3]]  # max_delay_s later it leaves alone


def _config(tmp_path, **metrics):
    return collector_config.from_dict({
        "mqtt": {"client_id": "health-test"},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": "http://127.0.0.1:9", "database": "unused"},
        "spool": {"path": str(tmp_path / "spool.sqlite")},
        "deadletters": {"path": str(tmp_path / "deadletters.sqlite")},
        "metrics": metrics,
    })


def test_readiness_follows_the_broker_and_liveness_stays(tmp_path):
    config = _config(tmp_path, listen=f"127.0.0.1:{free_port()}")
    running = Collector(config, build_pipeline(config), HoldingWriter(b"-"), DeadLetterStore(config.deadletters_path),
                        session_factory=RecordingSession)
    running.start()
    base = f"http://{config.metrics.listen}"
    try:
        response = requests.get(base + "/readyz", timeout=5)
        assert response.status_code == 503 and "broker" in response.json()["components"]
        running._on_subscribed([])
        assert requests.get(base + "/readyz", timeout=5).status_code == 200
        running._on_disconnect("connection closed")
        assert requests.get(base + "/readyz", timeout=5).json()["components"]["broker"]["reason"] == (
            "disconnected: connection closed")
        assert requests.get(base + "/healthz", timeout=5).json() == {"alive": True}
        metrics = requests.get(base + "/metrics", timeout=5).text
        assert 'iotorino_thread_restarts_total{thread="writer-0"} 0.0' in metrics
    finally:
        running.stop()


def test_a_thread_that_keeps_failing_fails_the_process_which_exits_non_zero(tmp_path, monkeypatch):
    config = _config(tmp_path)
    metrics = CollectorMetrics()
    supervisor = Supervisor("test", registry=metrics.registry, sleep=lambda s: None, give_up_after=3)
    running = Collector(config, build_pipeline(config), HoldingWriter(b"-"), DeadLetterStore(config.deadletters_path),
                        session_factory=RecordingSession, metrics=metrics, supervisor=supervisor)
    monkeypatch.setattr(running.delivery, "drain_forever", lambda stop: 1 / 0)
    assert running.run_until(threading.Event()) == 1
    assert not supervisor.alive()
    assert metrics.registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "spool-drainer"}) == 3


def test_a_decoder_bug_dead_letters_the_message_and_the_stream_goes_on(collector, monkeypatch):
    running, writer, session = collector
    writer.release.set()
    decode = running.pipeline.encode

    def buggy(topic, payload, received_ns):
        return 1 / 0 if payload == b"boom" else decode(topic, payload, received_ns)

    monkeypatch.setattr(running.pipeline, "encode", buggy)
    running._on_messages(1, [(8, TOPIC, b"boom"), (9, TOPIC, _payload(7.5))])
    wait_for(lambda: sum(map(len, session.acks)) == 2, what="both acknowledged")
    assert running.stats.rejected == {"internal": 1} and running.stats.stored_messages == 1
    [letter] = DeadLetterStore(running.config.deadletters_path).list()
    assert (letter.payload, letter.reason) == (b"boom", "internal") and "ZeroDivisionError" in letter.detail

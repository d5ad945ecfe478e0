"""Delivery with a scripted writer: direct writes, spooling on failure, draining, 400 bisection, a full spool."""

from __future__ import annotations

import threading
import time

import pytest

from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.delivery import Delivery, Stats
from ingest.mqtt.metrics import CollectorMetrics
from ingest.mqtt.spool import Spool, SpooledMessage
from iotorino.core.errors import TransientError
from iotorino.core.store import PointsRejected
from iotorino.core.store.influx_v1 import StoreUnavailable


class ScriptedWriter:
    """Accepts line protocol, except: raises the queued failures first, and refuses lines containing `bad`."""

    def __init__(self) -> None:
        self.failures: list[Exception] = []
        self.lines: list[bytes] = []

    def write_lines(self, body: bytes) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if b"bad" in body:
            raise PointsRejected(400, "partial write: field type conflict")
        self.lines.extend(body.split(b"\n"))

    def close(self) -> None:
        pass


def _message(i: int, lines: bytes | None = None) -> SpooledMessage:
    return SpooledMessage("iotorino/v1/street/TO-SU-0001/noise", b'{"n": %d}' % i, lines or b"noise laeq=%d 1" % i,
                          i, i, "TO-SU-0001")


@pytest.fixture
def delivery(tmp_path):
    return Delivery(ScriptedWriter(), Spool(tmp_path / "spool.sqlite", max_messages=3),
                    DeadLetterStore(tmp_path / "dl.sqlite"), CollectorMetrics(), Stats(), batch_messages=100)


def _drain_once(delivery: Delivery, stop: threading.Event | None = None) -> None:
    """Run the drainer until the spool is empty."""
    stop = stop or threading.Event()
    thread = threading.Thread(target=delivery.drain_forever, args=(stop,))
    thread.start()
    while len(delivery.spool):
        time.sleep(0.02)
    stop.set()
    thread.join()


def test_healthy_store_is_written_directly(delivery):
    assert delivery.make_durable([_message(1), _message(2)], threading.Event())
    assert delivery.writer.lines == [b"noise laeq=1 1", b"noise laeq=2 1"] and len(delivery.spool) == 0
    assert delivery.stats.stored_messages == 2


def test_transient_failure_spools_then_the_drainer_writes(delivery):
    delivery.writer.failures.append(TransientError("connection refused"))
    assert delivery.make_durable([_message(1)], threading.Event())
    assert len(delivery.spool) == 1 and not delivery.store_healthy
    assert delivery.make_durable([_message(2)], threading.Event())  # unhealthy: spooled without trying
    assert delivery.writer.lines == [] and len(delivery.spool) == 2
    _drain_once(delivery)
    assert delivery.writer.lines == [b"noise laeq=1 1", b"noise laeq=2 1"] and delivery.store_healthy


def test_drainer_waits_as_long_as_retry_after_says(delivery, monkeypatch):
    delivery.store_healthy = False
    delivery.make_durable([_message(1)], threading.Event())
    delivery.writer.failures.append(StoreUnavailable(429, "slow down", retry_after_s=0.3))
    waits = []
    stop = threading.Event()
    real_wait = stop.wait
    monkeypatch.setattr(stop, "wait", lambda s: waits.append(s) or real_wait(0))
    _drain_once(delivery, stop)
    assert waits[0] == 0.3 and delivery.writer.lines == [b"noise laeq=1 1"]


def test_refused_point_goes_to_the_dead_letters_and_the_rest_is_written(delivery):
    batch = [_message(i) for i in range(7)]
    batch[4] = _message(4, b"noise laeq=bad 1")
    assert delivery.make_durable(batch, threading.Event())
    assert sorted(delivery.writer.lines) == sorted(m.lines for i, m in enumerate(batch) if i != 4)
    [letter] = delivery.deadletters.list()
    assert (letter.reason, letter.payload) == ("store_rejected", b'{"n": 4}') and "conflict" in letter.detail


def test_full_spool_holds_the_batch_unacknowledged_until_stopped(delivery):
    delivery.store_healthy = False
    assert delivery.make_durable([_message(1), _message(2), _message(3)], threading.Event())
    stop = threading.Event()
    stop.set()
    assert not delivery.make_durable([_message(4)], stop)
    assert delivery.metrics.spool_full._value.get() == 1 and len(delivery.spool) == 3


def test_metrics_expose_rejects_by_reason_delay_and_last_seen(delivery):
    from prometheus_client import generate_latest

    batch = [_message(1), _message(2, b"noise laeq=bad 1")]
    delivery.make_durable(batch, threading.Event())
    text = generate_latest(delivery.metrics.registry).decode()
    assert 'iotorino_messages_rejected_total{reason="store_rejected"} 1.0' in text
    assert 'iotorino_device_last_seen_timestamp_seconds{device="TO-SU-0001"}' in text
    assert "iotorino_end_to_end_delay_seconds_count 1.0" in text and "iotorino_messages_stored_total 1.0" in text

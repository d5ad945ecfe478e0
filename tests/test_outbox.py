"""The durable outbox and its QoS 1 publisher on a real broker: spool ids, drains, kill -9 while the broker is down."""

from __future__ import annotations

import pytest

import sqlite3
import subprocess
import time

from iotorino.core.outbox import Message, Outbox

from iotorino.publisher import Publisher
from tests.ble_beacons.conftest import Recorder
from tests.outbox_process import TOPIC
from tests.conftest import ROOT


def messages(prefix: str, count: int) -> list[Message]:
    return [Message(TOPIC, f"{prefix}-{i}".encode()) for i in range(count)]


def payloads(prefix: str, count: int) -> list[bytes]:
    return [m.payload for m in messages(prefix, count)]


def test_spool_ids_are_never_reused_after_a_drain_or_a_reopen(tmp_path):
    spool = Outbox(tmp_path / "spool.sqlite")
    spool.put(messages("a", 3))
    for row_id, _ in spool.oldest(10, 0):
        spool.delete(row_id)
    spool.put(messages("b", 1))
    assert [row_id for row_id, _ in spool.oldest(10, 0)] == [4]
    spool.close()
    again = Outbox(tmp_path / "spool.sqlite")
    again.put(messages("c", 1))
    assert [(row_id, m.payload) for row_id, m in again.oldest(10, 3)] == [(4, b"b-0"), (5, b"c-0")]


def test_a_spool_from_before_autoincrement_keeps_its_messages_and_ids(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,"
               " retain INTEGER NOT NULL)")
    db.executemany("INSERT INTO outbox (id, topic, payload, retain) VALUES (?, ?, ?, ?)",
                   [(7, TOPIC, b"old-7", 0), (9, TOPIC, b"old-9", 1)])
    db.commit()
    db.close()
    spool = Outbox(path)
    spool.put(messages("new", 1))
    assert [(i, m.payload, m.retain) for i, m in spool.oldest(10, 0)] == [
        (7, b"old-7", False), (9, b"old-9", True), (10, b"new-0", False)]


@pytest.mark.integration
def test_messages_spooled_after_a_full_drain_are_sent(mosquitto, tmp_path):
    recorder = Recorder(mosquitto.port, TOPIC)
    publisher = Publisher("127.0.0.1", mosquitto.port, "drain-test", Outbox(tmp_path / "spool.sqlite"))
    publisher.start()
    try:
        publisher.publish(messages("first", 5))
        recorder.wait_for(5)
        while publisher.outbox.count():  # every PUBACK processed
            time.sleep(0.02)
        publisher.publish(messages("second", 3))  # the spool is empty now: ids must still go up
        assert [p for _, p, _ in recorder.wait_for(8)] == payloads("first", 5) + payloads("second", 3)
    finally:
        assert publisher.stop(timeout_s=20) == 0
        recorder.close()


class PublisherProcess:
    """`tests.outbox_process` as a subprocess, stepped through its stdout lines."""

    def __init__(self, python, cli_env, port, spool, *steps) -> None:
        self.process = subprocess.Popen([python, "-m", "tests.outbox_process", str(port), str(spool),
                                         *steps], cwd=ROOT, env=cli_env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def expect(self, step: str) -> str:
        line = self.process.stdout.readline().strip()
        assert line.startswith(step), f"expected {step!r}, the publisher said {line!r}"
        return line


@pytest.mark.integration
def test_killed_while_the_broker_is_down_then_restarted_delivers_each_message_once_in_order(
        mosquitto, tmp_path, python, cli_env):
    spool = tmp_path / "spool.sqlite"
    before = Recorder(mosquitto.port, TOPIC)
    first = PublisherProcess(python, cli_env, mosquitto.port, spool,
                             "publish:a:20", "drain", "wait", "publish:b:30", "hang")
    try:
        first.expect("publish")
        first.expect("drain")
        assert [p for _, p, _ in before.wait_for(20)] == payloads("a", 20)
        before.close()
        mosquitto.stop()
        first.process.stdin.write("go on\n")
        first.process.stdin.flush()
        first.expect("wait")
        first.expect("publish")
        first.expect("hang")
    finally:
        first.process.kill()  # SIGKILL: no stop(), no goodbye
        first.process.wait(10)
    mosquitto.start()
    after = Recorder(mosquitto.port, TOPIC)
    try:
        second = PublisherProcess(python, cli_env, mosquitto.port, spool, "publish:c:10", "stop")
        second.expect("publish")
        assert second.expect("stop") == "stop 0"
        assert second.process.wait(30) == 0
        assert [p for _, p, _ in after.wait_for(40)] == payloads("b", 30) + payloads("c", 10)
    finally:
        after.close()


class LockedOnce(Outbox):
    """An outbox whose first read fails as SQLite does when another process holds the file."""

    failed = False

    def oldest(self, limit, after_id):
        if not LockedOnce.failed:
            LockedOnce.failed = True
            raise sqlite3.OperationalError("database is locked")
        return super().oldest(limit, after_id)


@pytest.mark.integration
def test_a_sender_that_raises_is_restarted_under_the_supervisor_and_delivers(mosquitto, tmp_path):
    from prometheus_client import CollectorRegistry

    from iotorino.core.supervisor import Supervisor

    registry = CollectorRegistry()
    supervisor = Supervisor("test", registry=registry, sleep=lambda s: None)
    recorder = Recorder(mosquitto.port, TOPIC)
    publisher = Publisher("127.0.0.1", mosquitto.port, "flaky", LockedOnce(tmp_path / "spool.sqlite"), name="box")
    publisher.start(supervisor)
    try:
        publisher.publish(messages("m", 3))
        assert [p for _, p, _ in recorder.wait_for(3)] == payloads("m", 3)
        assert registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "box-sender"}) == 1
        assert registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "box-mqtt"}) == 0
        assert supervisor.ready()
    finally:
        assert publisher.stop(timeout_s=20) == 0
        recorder.close()

"""Delivery when a local file has no room: batches are held with one alarm and resume by themselves.

A full disk is a real small file system where deletes must fail too (the
drainer), and SQLite's `max_page_count` elsewhere: the same "database or disk
is full" for a file that needs new pages, without mounting anything.
"""

from __future__ import annotations

import logging
import threading

import pytest

from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.delivery import Delivery, Stats
from ingest.mqtt.metrics import CollectorMetrics
from ingest.mqtt.spool import Spool, SpooledMessage
from iotorino.core.errors import Rejected
from iotorino.core.store.influx_v1 import StoreUnavailable
from tests.mqtt.streams import fill_filesystem, small_filesystem, wait_for

PAYLOAD = b"x" * 5000  # larger than a page (4 KiB): every message needs new pages


class SwitchableWriter:
    """A store that is down while `down` is set, else accepts and records every line."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.lines: list[bytes] = []

    def write_lines(self, body: bytes) -> None:
        if self.down.is_set():
            raise StoreUnavailable(503, "influxdb is down", None)
        self.lines.extend(body.split(b"\n"))

    def close(self) -> None:
        pass


def _message(i: int) -> SpooledMessage:
    return SpooledMessage("iotorino/v1/street/TO-SU-0001/noise", PAYLOAD, b"noise laeq=%d %d" % (i, i), i, i,
                          "TO-SU-0001")


def _fill(db) -> None:
    """No page beyond those the file has: SQLite answers "database or disk is full", as on a full disk."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def _free(db) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def delivery(tmp_path):
    held: list[tuple[bool, str]] = []
    running = Delivery(SwitchableWriter(), Spool(tmp_path / "spool.sqlite"), DeadLetterStore(tmp_path / "dl.sqlite"),
                       CollectorMetrics(), Stats(), batch_messages=4, probe_s=0.05)
    running.on_hold = lambda on, why: held.append((on, why))
    running.held = held
    return running


def _in_thread(target, *args) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target(*args)), daemon=True)
    thread.start()
    return thread, result


def _gauge(delivery: Delivery, name: str) -> float:
    return delivery.metrics.registry.get_sample_value(name)


def test_full_spool_disk_with_the_store_down_holds_the_batch_and_resumes_when_the_store_returns(delivery, caplog):
    delivery.writer.down.set()
    assert delivery.make_durable([_message(0)], threading.Event())  # spooled
    _fill(delivery.spool._db)
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="ingest.mqtt.delivery"):
        thread, result = _in_thread(delivery.make_durable, [_message(1)], stop)
        wait_for(lambda: _gauge(delivery, "iotorino_spool_full") == 1, what="the spool alarm")
        stop.wait(0.5)  # ten probes of the file and of the store
        assert thread.is_alive() and result == []  # held: not acknowledged
        assert delivery.held == [(True, delivery.held[0][1])] and "spool" in delivery.held[0][1]
        delivery.writer.down.clear()  # InfluxDB is back, the disk still full: the held batch goes there directly
        thread.join(5)
    assert result == [True] and delivery.store_healthy and delivery.writer.lines == [b"noise laeq=1 1"]
    assert delivery.held[-1] == (False, "")
    assert caplog.text.count("event=spool_full") == 1 and "database or disk is full" in caplog.text
    assert len(delivery.spool) == 1  # the first message, for the drainer


def test_full_spool_disk_resumes_spooling_when_room_returns(delivery):
    delivery.writer.down.set()
    assert delivery.make_durable([_message(0)], threading.Event())
    _fill(delivery.spool._db)
    thread, result = _in_thread(delivery.make_durable, [_message(1)], threading.Event())
    wait_for(lambda: _gauge(delivery, "iotorino_spool_full") == 1, what="the spool alarm")
    _free(delivery.spool._db)
    thread.join(5)
    assert result == [True] and len(delivery.spool) == 2 and _gauge(delivery, "iotorino_spool_full") == 0
    assert delivery.writer.lines == []


def test_a_failed_delete_on_a_full_disk_does_not_stop_the_drainer(tmp_path, caplog):
    with small_filesystem(tmp_path / "disk", 1024) as disk:
        delivery = Delivery(SwitchableWriter(), Spool(disk / "spool.sqlite"), DeadLetterStore(tmp_path / "dl.sqlite"),
                            CollectorMetrics(), Stats(), batch_messages=4, probe_s=0.05)
        delivery.writer.down.set()
        spooled = 10
        for i in range(spooled):  # InfluxDB down: spooled
            assert delivery.make_durable([_message(i)], threading.Event())
        fill_filesystem(disk)
        assert not delivery._spool([_message(spooled)])  # the disk is full
        delivery.writer.down.clear()
        stop = threading.Event()
        with caplog.at_level(logging.WARNING, logger="ingest.mqtt.delivery"):
            drainer = threading.Thread(target=delivery.drain_forever, args=(stop,), daemon=True)
            drainer.start()
            # Every row reaches the store although none can be deleted (batches of 4: it went on past the first).
            wait_for(lambda: len(delivery.writer.lines) >= spooled, what="every spooled row written")
            stop.wait(0.3)
            assert drainer.is_alive() and len(delivery.spool) == spooled
            assert delivery.make_durable([_message(spooled)], threading.Event())  # direct writes work meanwhile
            (disk / "filler").unlink()
            wait_for(lambda: len(delivery.spool) == 0, what="the deletes once room returned")
            stop.set()
            drainer.join(5)
        delivery.spool.close()
    assert set(delivery.writer.lines) == {b"noise laeq=%d %d" % (i, i) for i in range(spooled + 1)}
    assert caplog.text.count("event=spool_full") == 1 and caplog.text.count("event=spool_room_again") == 1
    assert "database or disk is full" in caplog.text and _gauge(delivery, "iotorino_spool_full") == 0


def test_full_dead_letters_hold_the_batch_and_resume(delivery, caplog):
    letter = ("iotorino/v1/street/TO-SU-0001/noise", PAYLOAD, Rejected("undecodable", "not JSON"), 1)
    assert delivery.reject([letter], threading.Event())
    _fill(delivery.deadletters._db)
    with caplog.at_level(logging.WARNING, logger="ingest.mqtt.delivery"):
        thread, result = _in_thread(delivery.reject, [letter] * 3, threading.Event())
        wait_for(lambda: _gauge(delivery, "iotorino_deadletters_full") == 1, what="the dead-letter alarm")
        threading.Event().wait(0.3)
        assert thread.is_alive() and delivery.held[0][0] is True
        _free(delivery.deadletters._db)
        thread.join(5)
    assert result == [True] and len(list(delivery.deadletters.list())) == 4
    assert caplog.text.count("event=deadletters_full") == 1 and _gauge(delivery, "iotorino_deadletters_full") == 0
    assert delivery.stats.rejected == {"undecodable": 4}


def test_stopping_while_held_leaves_the_batch_unacknowledged(delivery):
    _fill(delivery.deadletters._db)
    stop = threading.Event()
    letter = ("t", PAYLOAD, Rejected("undecodable", "not JSON"), 1)
    thread, result = _in_thread(delivery.reject, [letter], stop)
    wait_for(lambda: _gauge(delivery, "iotorino_deadletters_full") == 1, what="the dead-letter alarm")
    stop.set()
    thread.join(5)
    assert result == [False] and delivery.held == [(True, delivery.held[0][1]), (False, "")]

"""The spool: FIFO, crash-safe across reopen, bounded."""

from __future__ import annotations

from ingest.mqtt.spool import Spool, SpooledMessage


def _message(i: int, size: int = 10) -> SpooledMessage:
    return SpooledMessage(f"iotorino/v1/street/TO-SU-{i:04d}/noise", b"p" * size, b"l" * size, i, i, f"TO-SU-{i:04d}")


def test_oldest_first_and_removal(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    spool.add([_message(1), _message(2)])
    spool.add([_message(3)])
    first = spool.oldest(2)
    assert [m.received_ns for m in first] == [1, 2]
    spool.remove(first)
    assert [m.received_ns for m in spool.oldest(10)] == [3] and spool.depth == (1, 20)


def test_contents_survive_reopening(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    spool.add([_message(1), _message(2)])
    spool.close()  # as after kill -9: every add was committed
    again = Spool(tmp_path / "spool.sqlite")
    assert again.depth == (2, 40)
    assert again.oldest(5)[1] == _message(2)._replace(id=2)


def test_bounds_by_messages_and_bytes(tmp_path):
    by_count = Spool(tmp_path / "a.sqlite", max_messages=2)
    assert by_count.has_room([_message(i) for i in range(5)])  # an empty spool takes one batch
    by_count.add([_message(1), _message(2)])
    assert not by_count.has_room([_message(3)])
    by_bytes = Spool(tmp_path / "b.sqlite", max_bytes=50)
    by_bytes.add([_message(1)])
    assert by_bytes.has_room([_message(2)]) and not by_bytes.has_room([_message(2), _message(3)])

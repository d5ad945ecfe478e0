"""What the monitor reads is checked, never trusted: Unix-seconds times, bad payloads, odd fields, a
crashing evaluation. On the real broker; the monitor runs under its supervisor."""

from __future__ import annotations

import json
import logging
import time

import pytest

from iotorino.beacons import config
from iotorino.beacons.monitor import EVALUATOR, parse_reading
from iotorino.core import inventory
from iotorino.core.beacon_messages import reading_message
from iotorino.core.errors import Rejected
from iotorino.core.outbox import Message
from iotorino.core.reading import Reading
from tests.beacons.conftest import RunningMonitor, send, wait_until
from tests.ble_beacons import captures

S = 10**9
NOW = time.time_ns() // S * S
TOPIC = "iotorino/v1/beacon/{beacon}/GW-01/beacon_sighting"


@pytest.fixture(scope="module")
def beacon():
    return inventory.default().beacons["TO-BC-0001"]


def sighting_payload(time_value, **fields) -> bytes:
    return json.dumps({"time": time_value, "fields": {"sightings": 30, "rssi_median": -70.0, "addresses": 1,
                                                      **fields}}).encode()


def test_a_sighting_timed_in_unix_seconds_is_read_in_nanoseconds(beacon):
    reading, left_out = parse_reading(TOPIC.format(beacon=beacon.id), sighting_payload(1_795_255_200.25))
    assert reading.time_ns == 1_795_255_200_250_000_000 and left_out == []
    rfc3339, _ = parse_reading(TOPIC.format(beacon=beacon.id), sighting_payload("2026-11-21T10:00:00.250Z"))
    assert rfc3339.time_ns == reading.time_ns


def test_an_odd_field_is_left_out_and_the_sighting_kept(beacon):
    reading, left_out = parse_reading(TOPIC.format(beacon=beacon.id),
                                      sighting_payload(1_795_255_200, measured_power=127.0))
    assert "measured_power" not in reading.fields and reading.fields["sightings"] == 30
    assert [(e.reason, e.field) for e in left_out] == [("out_of_range", "measured_power")]


@pytest.mark.parametrize("payload, reason, field", [
    (b"\xff\xfe not json", "undecodable", "payload"),  # the contract's reasons (iotorino.core.contract.decode)
    (b'{"time": 1795255200}', "schema", "fields"),
    (b'{"time": 1795255200, "fields": [1]}', "schema", "fields"),
    (b'{"fields": {"sightings": 3}}', "bad_time", "time"),
    (sighting_payload("yesterday"), "bad_time", "time"),
    (sighting_payload(True), "bad_time", "time"),
    (sighting_payload(17952552000000), "bad_time", "time"),
    (b'{"time": 1795255200, "fields": {"sightings": "' + captures.PHONE_MAC.encode() + b'"}}', "type", "sightings"),
])
def test_what_is_not_a_reading_is_rejected_naming_the_field(beacon, payload, reason, field):
    with pytest.raises(Rejected) as rejected:
        parse_reading(TOPIC.format(beacon=beacon.id), payload)
    assert (rejected.value.reason, rejected.value.field) == (reason, field)


def settings_for(mosquitto, tmp_path, evaluate_every_s=3600.0):
    return config.parse({"monitor": {"evaluate_every_s": evaluate_every_s, "restore_quiet_s": 0.3},
                         "mqtt": {"port": mosquitto.port, "spool": "status.sqlite"}}, tmp_path)


@pytest.mark.integration
def test_bad_messages_are_counted_and_skipped_without_their_payload_and_good_ones_still_count(
        mosquitto, beacon, tmp_path, caplog):
    running = RunningMonitor(settings_for(mosquitto, tmp_path), {beacon.id: beacon}, None, NOW).start()
    topic = TOPIC.format(beacon=beacon.id)
    unix_s = (NOW - 60 * S) / S
    garbage = [b"not json " + captures.PHONE_MAC.encode(), b'{"time": 1795255200, "fields": "' +
               captures.PHONE_NAME.encode() + b'"}', sighting_payload(captures.PHONE_MAC)]
    try:
        with caplog.at_level(logging.WARNING):
            send(mosquitto, [Message(topic, p) for p in garbage] + [
                Message(topic, sighting_payload(unix_s, measured_power=127.0, battery_mv=2900))])
            wait_until(lambda: running.monitor.observed == 1, 30, "the good sighting")
            registry = running.monitor.metrics.registry
            counted = lambda reason: registry.get_sample_value(  # noqa: E731
                "iotorino_beacons_messages_rejected_total", {"reason": reason})
            wait_until(lambda: counted("undecodable") == 1 and counted("schema") == 1 and counted("bad_time") == 1
                       and counted("out_of_range") == 1, 30, "every bad message counted")
        assert running.monitor.evaluate() == 1
        status = running.monitor.statuses()[beacon.id]
        assert (status.status, status.last_seen_ns, status.battery_mv) == ("ok", NOW - 60 * S, 2900)
        assert registry.get_sample_value("iotorino_beacons_readings_total", {"measurement": "beacon_sighting"}) == 1
    finally:
        running.stop()
    for secret in (captures.PHONE_MAC, captures.PHONE_NAME, "Maria"):
        assert secret not in caplog.text
    assert "skipping a message on" in caplog.text and "taking a message without one field" in caplog.text


class FlakyRules:
    """The fleet rules with a bug that fires once: the first evaluation raises."""

    def __init__(self, rules) -> None:
        self.rules, self.failed = rules, False

    def __getattr__(self, name):
        return getattr(self.rules, name)

    def evaluate(self, now_ns):
        if not self.failed:
            self.failed = True
            raise ZeroDivisionError("a bug in the rules")
        return self.rules.evaluate(now_ns)


@pytest.mark.integration
def test_an_evaluation_that_raises_restarts_the_evaluator_which_goes_on(mosquitto, beacon, tmp_path, caplog):
    running = RunningMonitor(settings_for(mosquitto, tmp_path, evaluate_every_s=0.2), {beacon.id: beacon}, None, NOW)
    running.monitor.health = FlakyRules(running.monitor.health)
    with caplog.at_level(logging.ERROR):
        running.start()
        try:
            send(mosquitto, [reading_message(Reading("beacon_sighting", {"beacon": beacon.id, "gateway": "GW-01"},
                                                     {"sightings": 3, "rssi_median": -70.0, "addresses": 1},
                                                     NOW - 60 * S))])
            wait_until(lambda: running.monitor.statuses().get(beacon.id), 30, "an evaluation after the crash")
            registry = running.monitor.metrics.registry
            assert registry.get_sample_value("iotorino_thread_restarts_total", {"thread": EVALUATOR}) == 1
            assert running.monitor.statuses()[beacon.id].status == "ok"
        finally:
            running.stop()
    assert "event=thread_crashed" in caplog.text and "ZeroDivisionError" in caplog.text
    assert "a bug in the rules" not in caplog.text

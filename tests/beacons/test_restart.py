"""A restarted health monitor on the real broker and InfluxDB: same statuses, nothing re-published, 503 until then.

Four registry beacons get a history a gateway would have sent (stored by the
MQTT collector and seen live by the first monitor): one healthy, one gone
30 minutes ago, one whose battery falls 10 mV an hour for 12 hours, one that
rebooted 10 minutes ago. A second monitor then starts on the same broker and
database (with and without InfluxDB).
"""

from __future__ import annotations

import re
import time

import paho.mqtt.publish as publish
import pytest

from iotorino.core.beacon_messages import reading_message
from iotorino.core.outbox import Message
from iotorino.core import inventory
from iotorino.beacons import config
from iotorino.core.reading import Reading
from tests.beacons.conftest import RunningMonitor, send, wait_until
from tests.ble_beacons.conftest import Recorder

pytestmark = pytest.mark.integration

S = 10**9
HOUR = 3600 * S
NOW = time.time_ns() // HOUR * HOUR  # the monitors judge at this whole hour, the history ends just before
GATEWAY = "GW-01"
EXPECTED = {"healthy": "ok", "gone": "missing", "draining": "low_battery", "rebooted": "rebooted"}


@pytest.fixture(scope="module")
def beacons():
    """Four registry beacons by role."""
    fleet = inventory.default().beacons
    return dict(zip(EXPECTED, (fleet[b] for b in sorted(fleet)[:4])))


def sighting(beacon, t, **fields):
    return reading_message(Reading("beacon_sighting", {"beacon": beacon.id, "gateway": GATEWAY},
                                   {"sightings": 30, "rssi_median": -70.0, "addresses": 1, **fields}, t))


def history(beacons, now):
    """The gateway's readings up to `now`, oldest first."""
    readings = [(now - 30 * 60 * S, "gone", {}),
                (now - 20 * 60 * S, "rebooted", {"adv_count": 9000, "uptime_s": 5000.0}),
                (now - 10 * 60 * S, "rebooted", {"adv_count": 12, "uptime_s": 0.6}),
                (now - 60 * S, "healthy", {"battery_mv": 2950, "adv_count": 50_000, "uptime_s": 90_000.0}),
                (now - 60 * S, "draining", {"battery_mv": 2790})]
    for h in range(12, 0, -1):
        readings.append((now - h * HOUR, "draining", {"battery_mv": 2900 - 10 * (12 - h)}))
        readings.append((now - h * HOUR, "healthy", {"battery_mv": 2950, "adv_count": 50_000 - h,
                                                     "uptime_s": 90_000.0 - h}))
    return [sighting(beacons[role], t, **fields) for t, role, fields in sorted(readings, key=lambda r: r[0])]


def published_after_restart(watcher, mosquitto):
    """Live (not retained) status messages the watcher got up to a marker published now."""
    send(mosquitto, [Message("iotorino/beacons/marker/status", b"{}")])
    seen = watcher.wait_for_topic("iotorino/beacons/marker/status")
    watcher.close()
    return [t for t, _, retained in seen if not retained and not t.endswith("/beacon_sighting")][:-1]


def settings_for(mosquitto, influx, tmp_path, *, with_influx=True):
    # Evaluations are explicit (monitor.evaluate()): nothing runs behind the test's back.
    raw = {"monitor": {"evaluate_every_s": 3600.0, "restore_quiet_s": 0.5},
           "thresholds": {"missing_min_s": 900.0},
           "mqtt": {"port": mosquitto.port, "spool": "status.sqlite"}}
    if with_influx:
        raw["influxdb"] = {"url": influx.settings.url, "database": influx.settings.database}
    return config.parse(raw, tmp_path)


def test_restart_restores_statuses_and_battery_trend_and_republishes_nothing(
        mosquitto, influx, mqtt_collector, beacons, tmp_path, caplog):
    first = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "first"), beacons, influx, NOW).start()
    sent = history(beacons, NOW)
    send(mosquitto, sent)
    wait_until(lambda: first.monitor.observed == len(sent), 30, "the first monitor to see every sighting")
    assert first.monitor.evaluate() == 4
    before = first.statuses()
    assert {role: before[b.id][0] for role, b in beacons.items()} == EXPECTED
    days_left = first.monitor.statuses()[beacons["draining"].id].battery_days_left
    assert 1.0 < days_left < 2.0
    first.stop()
    wait_until(lambda: influx.count("beacon_sighting", "sightings") == len(sent), 30, "the stored sightings")

    # With InfluxDB twice: first without the battery history file (as an older installation), then with
    # the file the first restart wrote; then without InfluxDB.
    for n, with_influx in enumerate((True, True, False)):
        had_file = (tmp_path / "second" / "var/beacons/battery-history.sqlite").exists()  # before the monitor opens it
        had_fold = (tmp_path / "second" / "var/beacons/battery-history.fold.sqlite").exists()
        assert had_fold == (n > 0)  # the first restart's snapshot thread wrote it
        watcher = Recorder(mosquitto.port, "#")
        again = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "second", with_influx=with_influx),
                               beacons, influx if with_influx else None, now=NOW + 5 * S)
        # Not started yet: every endpoint that reports a status says why it cannot.
        for path in ("/health", "/beacons", f"/beacons/{beacons['healthy'].id}"):
            answer = again.feed.get(path)
            assert answer.status_code == 503 and answer.headers["Retry-After"]
            assert "restoring the beacon statuses after a start: waiting for the broker" in answer.json()["detail"]
        assert again.feed.get("/openapi.json").status_code == 200
        caplog.clear()
        caplog.set_level("INFO", logger="iotorino.beacons.monitor")
        again.start()
        try:
            if with_influx:  # 12 hours of history: from the store the first time, from the file the next
                found = wait_until(lambda: re.search(r"(\d+) hours of battery history from", caplog.text), 10, "the log")
                assert (int(found.group(1)) > 0) == had_file, (found.group(0), had_file)
                # The first restart reads the hour whole (no snapshot yet) and its thread writes one; the next finds it.
                whole = re.search(r"read whole from the store \(slower, the same result\): (.*)", caplog.text)
                assert (whole is not None and whole.group(1) == "no snapshot") == (not had_fold), caplog.text
            assert again.statuses() == before
            assert again.monitor.evaluate() == 0 and again.monitor.evaluate() == 0
            draining = again.monitor.statuses()[beacons["draining"].id]
            assert draining.battery_days_left == pytest.approx(days_left, abs=0.1)
            assert again.feed.get("/health").json() == {"status": "ok", "beacons": 4}
            served = {b["id"]: b["status"] for b in again.feed.get("/beacons").json()}
            assert served == {b.id: EXPECTED[role] for role, b in beacons.items()}
        finally:
            again.stop()
        assert published_after_restart(watcher, mosquitto) == [], with_influx


def test_a_change_while_the_monitor_was_down_is_published_once(mosquitto, influx, mqtt_collector, beacons, tmp_path):
    first = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "first"), beacons, influx, NOW).start()
    sent = history(beacons, NOW)
    send(mosquitto, sent)
    wait_until(lambda: first.monitor.observed == len(sent), 30, "the first monitor to see every sighting")
    first.monitor.evaluate()
    first.stop()
    send(mosquitto, [sighting(beacons["gone"], NOW)])  # heard again while no monitor runs, and stored
    wait_until(lambda: influx.count("beacon_sighting", "sightings") == len(sent) + 1, 30, "the stored sightings")
    watcher = Recorder(mosquitto.port, "iotorino/beacons/+/status")
    again = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "second"), beacons, influx,
                           now=NOW + 5 * S).start()
    try:
        assert again.statuses()[beacons["gone"].id][0] == "missing"  # restored as published ...
        assert again.monitor.evaluate() == 1  # ... and judged again on the stored sighting
        assert again.monitor.statuses()[beacons["gone"].id].status == "ok"
    finally:
        again.stop()
    assert published_after_restart(watcher, mosquitto) == [f"iotorino/beacons/{beacons['gone'].id}/status"]

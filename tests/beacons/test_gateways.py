"""Gateway heartbeats end to end on the real broker and InfluxDB: stored, listed by /gateways, silent ones.

GW-A and GW-B both hear beacon X; only GW-B hears beacon Y. GW-B falls
silent ten minutes before the monitor judges: X stays ok (GW-A still hears
it), Y is missing (no gateway hears it), /gateways shows GW-A ok and GW-B
silent, and a restarted monitor knows both heartbeats from InfluxDB.
"""

from __future__ import annotations

import time

import pytest

from iotorino.core.beacon_messages import reading_message
from iotorino.core import inventory
from iotorino.beacons import config
from iotorino.core.reading import Reading
from iotorino.core.times import format_ns
from tests.beacons.conftest import RunningMonitor, send, wait_until

pytestmark = pytest.mark.integration

S = 10**9
MINUTE = 60 * S
NOW = time.time_ns() // MINUTE * MINUTE
PLACES = {"GW-A": (7.6784, 45.0621), "GW-B": (7.6856, 45.0711)}


@pytest.fixture(scope="module")
def beacons():
    fleet = inventory.default().beacons
    return {"X": fleet["TO-BC-0001"], "Y": fleet["TO-BC-0002"]}


def heartbeat(gateway, t, uptime_s, restarts=0):
    return reading_message(Reading("ble_gateway", {"gateway": gateway}, {
        "adverts_per_s": 41.5, "matched_per_s": 3.25, "scanner_restarts": restarts, "spool_messages": 0,
        "uptime_s": uptime_s}, t))


def sighting(beacon, gateway, t):
    return reading_message(Reading("beacon_sighting", {"beacon": beacon.id, "gateway": gateway},
                                   {"sightings": 30, "rssi_median": -70.0, "addresses": 1}, t))


def traffic(beacons):
    """Twenty minutes of both gateways, GW-B silent for the last ten, oldest first."""
    messages = []
    for minute in range(20, 0, -1):
        t = NOW - minute * MINUTE
        messages += [heartbeat("GW-A", t, 3600.0 - minute * 60), sighting(beacons["X"], "GW-A", t)]
        if minute > 10:
            messages += [heartbeat("GW-B", t, 6000.0 - minute * 60, restarts=2), sighting(beacons["X"], "GW-B", t),
                         sighting(beacons["Y"], "GW-B", t)]
    return messages


def settings_for(mosquitto, influx, tmp_path):
    return config.parse({
        "monitor": {"evaluate_every_s": 3600.0, "restore_quiet_s": 0.5},
        "thresholds": {"missing_min_s": 300.0, "gateway_silent_s": 180.0, "max_range_m": 50_000.0},
        "mqtt": {"port": mosquitto.port, "spool": "status.sqlite"},
        "influxdb": {"url": influx.settings.url, "database": influx.settings.database},
        "gateways": {g: {"lon": lon, "lat": lat} for g, (lon, lat) in PLACES.items()},
    }, tmp_path)


def test_heartbeats_are_stored_listed_and_a_silent_gateway_marks_no_beacon_another_hears(
        mosquitto, influx, mqtt_collector, beacons, tmp_path):
    first = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "first"), beacons, influx, NOW).start()
    sent = traffic(beacons)
    send(mosquitto, sent)
    wait_until(lambda: first.monitor.observed == len(sent), 30, "the monitor to take every message")
    first.monitor.evaluate()
    assert {role: first.monitor.statuses()[b.id].status for role, b in beacons.items()} == {"X": "ok", "Y": "missing"}
    listed = {g["id"]: g for g in first.feed.get("/gateways").json()}
    assert listed["GW-A"] == {"id": "GW-A", "lon": 7.6784, "lat": 45.0621, "status": "ok",
                              "last_heartbeat": format_ns(NOW - MINUTE), "adverts_per_s": 41.5, "matched_per_s": 3.25,
                              "scanner_restarts": 0, "spool_messages": 0, "uptime_s": 3540.0}
    assert (listed["GW-B"]["status"], listed["GW-B"]["last_heartbeat"], listed["GW-B"]["scanner_restarts"]) == (
        "silent", format_ns(NOW - 11 * MINUTE), 2)
    first.stop()

    # The MQTT collector stored every heartbeat, tagged with the gateway only.
    wait_until(lambda: influx.count("ble_gateway", "uptime_s") == 30, 30, "the stored heartbeats")
    series = influx.query('SELECT count("adverts_per_s") FROM "ble_gateway" GROUP BY *')
    assert {s["tags"]["gateway"]: s["values"][0][1] for s in series} == {"GW-A": 20, "GW-B": 10}
    assert all(set(s["tags"]) == {"gateway"} for s in series)

    wait_until(lambda: influx.count("beacon_sighting", "sightings") == 40, 30, "the stored sightings")
    again = RunningMonitor(settings_for(mosquitto, influx, tmp_path / "second"), beacons, influx, now=NOW).start()
    try:
        assert again.feed.get("/gateways").json() == list(listed.values())
        assert again.monitor.evaluate() == 0
    finally:
        again.stop()


def test_gateways_answer_503_until_restored(mosquitto, influx, beacons, tmp_path):
    waiting = RunningMonitor(settings_for(mosquitto, influx, tmp_path), beacons, influx, NOW)
    answer = waiting.feed.get("/gateways")
    assert answer.status_code == 503 and "waiting for the broker" in answer.json()["detail"]

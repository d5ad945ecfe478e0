"""End to end on the real broker and database: published messages become exactly these points."""

from __future__ import annotations

import pytest

import json
import time

import paho.mqtt.publish as publish

from ingest.mqtt.deadletters import DeadLetterStore
from iotorino.core import inventory
from tests.mqtt.streams import wait_for

pytestmark = pytest.mark.integration

T0 = time.time_ns() // 10**9 * 10**9 - 3600 * 10**9  # an hour ago, whole second
ISO = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 / 1e9))


def test_messages_become_exact_points_and_bad_ones_dead_letters(mqtt_collector, influx, mosquitto):
    inv = inventory.default()
    unit = next(u for u in inv.street_units.values() if "air_quality" in inv.profiles[u.profile].measurements)
    school = next(iter(inv.schools.values()))
    room, meter = school.rooms[0], school.meters[0]
    messages = [
        (f"iotorino/v1/street/{unit.id}/air_quality", {"time": f"{ISO}.250Z", "fields": {"pm25": 12, "no2": 41.5}}),
        (f"iotorino/v1/school/{school.id}/{room.id}/indoor_climate",
         {"time": T0 / 1e9, "fields": {"temperature": 20.5, "relative_humidity": 45.0, "co2": 812.0}}),
        (f"iotorino/v1/school/{school.id}/{meter.id}/energy",
         {"time": f"{ISO}+00:00", "fields": {"total_active_energy_import": 18423.125, "total_active_power": 6120.0}}),
        (f"iotorino/v1/school/{school.id}/outdoor/outdoor_climate", {"fields": {"temperature": 7.5}}),
        # Half invalid: pm10 is stored, pm25 is set aside in the dead letters (field-level quarantine).
        (f"iotorino/v1/street/{unit.id}/air_quality", {"time": f"{ISO}.500Z", "fields": {"pm25": -4.0, "pm10": 20.0}}),
        ("iotorino/v1/street/TO-SU-9999/air_quality", {"time": f"{ISO}Z", "fields": {"pm25": 4.0}}),
    ]
    publish.multiple([{"topic": t, "payload": json.dumps(p), "qos": 1} for t, p in messages],
                     hostname="127.0.0.1", port=mosquitto.port)
    stats = mqtt_collector.stats
    wait_for(lambda: stats.stored_messages == 5 and sum(stats.rejected.values()) == 2, 20, "5 stored, 2 rejected")

    def rows(measurement):
        series = influx.query(f'SELECT * FROM "{measurement}"')
        assert len(series) == 1, measurement
        return [dict(zip(series[0]["columns"], values)) for values in series[0]["values"]]

    air = rows("air_quality")
    assert len(air) == 2
    assert {k: v for k, v in air[0].items() if v is not None} == {
        "time": T0 + 250_000_000, "unit": unit.id, "district": str(unit.district), "pm25": 12.0, "no2": 41.5}
    assert {k: v for k, v in air[1].items() if v is not None} == {
        "time": T0 + 500_000_000, "unit": unit.id, "district": str(unit.district), "pm10": 20.0,
        "quarantined_values": 1}
    assert rows("indoor_climate") == [{"time": T0, "school": school.id, "room": room.id,
                                       "temperature": 20.5, "relative_humidity": 45.0, "co2": 812.0}]
    assert rows("energy") == [{"time": T0, "school": school.id, "meter": meter.id,
                               "total_active_energy_import": 18423.125, "total_active_power": 6120.0}]
    outdoor = rows("outdoor_climate")
    assert len(outdoor) == 1 and outdoor[0]["time_source"] == "receive" and outdoor[0]["temperature"] == 7.5
    assert abs(outdoor[0]["time"] - time.time_ns()) < 60 * 10**9

    letters = list(DeadLetterStore(mqtt_collector.config.deadletters_path).list())
    assert [(d.reason, d.field) for d in letters] == [("out_of_range", "pm25"), ("unknown_device", "unit")]
    assert "-4.0" in letters[0].detail and json.loads(letters[0].payload)["fields"]["pm25"] == -4.0
    assert "air_quality.pm25" in letters[0].detail and "0 to 1000 ug/m3" in letters[0].detail
    assert "TO-SU-9999" in letters[1].detail


def test_redelivered_message_overwrites_its_point(mqtt_collector, influx, mosquitto):
    unit = next(u for u in inventory.default().street_units.values()
                if "air_quality" in inventory.default().profiles[u.profile].measurements)
    message = {"topic": f"iotorino/v1/street/{unit.id}/air_quality",
               "payload": json.dumps({"time": f"{ISO}Z", "fields": {"pm25": 9.5}}), "qos": 1}
    publish.multiple([message, message], hostname="127.0.0.1", port=mosquitto.port)
    wait_for(lambda: mqtt_collector.stats.stored_messages == 2, 20, "2 stored")
    series = influx.query('SELECT "pm25" FROM "air_quality"')
    assert series[0]["values"] == [[T0, 9.5]]

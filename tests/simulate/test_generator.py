"""The pure generator: determinism, order, payload contract, agreement with the catalogue."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading
from iotorino.simulate import faults
from iotorino.simulate.generator import count_messages, iter_messages
from iotorino.simulate.period import parse_start

START = parse_start("2026-11-20T00:00")  # a Friday, Turin time
TIME_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def run(fleet, catalogue, hours=6, seed=1, fault_rate=0.0, start=START):
    return list(iter_messages(fleet, catalogue, start, start + timedelta(hours=hours), seed, fault_rate))


def test_same_seed_same_bytes_other_seed_other_bytes(fleet, catalogue):
    first = run(fleet, catalogue, seed=7, fault_rate=0.05)
    assert first == run(fleet, catalogue, seed=7, fault_rate=0.05)
    assert [m.payload for m in first] != [m.payload for m in run(fleet, catalogue, seed=8, fault_rate=0.05)]


def test_messages_are_in_time_order_within_the_period(fleet, catalogue):
    messages = run(fleet, catalogue)
    times = [m.sim_time for m in messages]
    assert times == sorted(times)
    assert START <= times[0] and times[-1] < START + timedelta(hours=6)


def test_count_matches_what_is_generated(fleet, catalogue):
    assert count_messages(fleet, catalogue, START, START + timedelta(hours=6), 1) == len(run(fleet, catalogue))


def test_consecutive_periods_join_without_gap_or_overlap(fleet, catalogue):
    whole = [(m.sim_time, m.topic) for m in run(fleet, catalogue, hours=4)]
    halves = run(fleet, catalogue, hours=2) + run(fleet, catalogue, hours=2, start=START + timedelta(hours=2))
    assert [(m.sim_time, m.topic) for m in halves] == whole


def test_each_device_reports_at_its_profile_interval(fleet, catalogue):
    counts = {}
    for message in run(fleet, catalogue, hours=6):
        counts[message.topic] = counts.get(message.topic, 0) + 1
    assert counts["iotorino/v1/street/TO-SU-0003/noise"] == 6 * 60
    assert counts["iotorino/v1/street/TO-SU-0001/air_quality"] == 6 * 12
    assert counts["iotorino/v1/school/TO-SC-01/M2/energy"] == 6 * 4
    assert counts["iotorino/v1/school/TO-SC-02/outdoor/outdoor_climate"] == 6 * 6
    assert len(counts) == 3 + 3 + 2 + (2 + 2 + 1) + (1 + 1 + 1)


def test_every_healthy_payload_follows_the_contract_and_the_catalogue(fleet, catalogue):
    for message in run(fleet, catalogue, hours=24):
        parts = message.topic.split("/")
        assert parts[:2] == ["iotorino", "v1"] and parts[2] in ("street", "school")
        assert len(parts) == (5 if parts[2] == "street" else 6)
        body = json.loads(message.payload.decode("utf-8"))
        assert set(body) == {"time", "fields"}
        assert TIME_FORMAT.match(body["time"])
        assert body["time"] == message.sim_time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        catalogue.validate(Reading(parts[-1], {}, body["fields"], 0))


def test_street_noise_profile_reports_only_the_fields_it_measures(fleet, catalogue):
    weather = [m for m in run(fleet, catalogue) if m.topic == "iotorino/v1/street/TO-SU-0003/weather"]
    assert weather and all(set(json.loads(m.payload)["fields"]) == {"temperature", "relative_humidity"} for m in weather)


def test_faulty_messages_are_what_their_kind_says(fleet, catalogue):
    messages = run(fleet, catalogue, hours=24, fault_rate=0.2)
    last_healthy = {}
    seen = set()
    for message in messages:
        seen.add(message.fault)
        measurement = message.topic.rsplit("/", 1)[1]
        if message.fault == faults.MISSING:
            assert message.payload == b""
            continue
        if message.fault == faults.MALFORMED:
            with pytest.raises(ValueError):
                json.loads(message.payload)
            continue
        fields = json.loads(message.payload)["fields"]
        if message.fault == faults.OUT_OF_RANGE:
            with pytest.raises(Rejected) as rejected:
                catalogue.validate(Reading(measurement, {}, fields, 0))
            assert rejected.value.reason == "out_of_range"
            continue
        catalogue.validate(Reading(measurement, {}, fields, 0))
        if message.fault == faults.STUCK:
            assert fields == last_healthy[message.topic]
        last_healthy[message.topic] = fields
    assert seen == {None, *faults.KINDS}


def test_fault_kinds_come_at_about_the_rate(fleet, catalogue):
    messages = run(fleet, catalogue, hours=24, fault_rate=0.04)
    share = {kind: sum(m.fault == kind for m in messages) / len(messages) for kind in faults.KINDS}
    for kind, value in share.items():
        assert 0.006 < value < 0.014, (kind, value)  # 0.01 each, ~13,000 messages
    assert all(m.fault is None for m in run(fleet, catalogue, hours=24, fault_rate=0.0))

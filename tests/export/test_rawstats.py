"""Hourly statistics from raw points: InfluxDB's CSV answer in, the server's own statistics out (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from iotorino.core.store.influx_v1 import parse_tags
from iotorino.export.rawstats import parse_csv, reduce_hours, sequential_sums

H = 3_600_000_000_000
# Two series of one answer, grouped by unit: a point without pm25, an hour later, and a unit whose id
# needs InfluxDB's escapes.
ANSWER = (
    b"name,tags,time,pm1,pm25\n"
    b'air_quality,"district=2,unit=TO-SU-0001",10,1.5,2\n'
    b'air_quality,"district=2,unit=TO-SU-0001",20,2.5,\n'
    b'air_quality,"district=2,unit=TO-SU-0001",3600000000030,-0,4\n'
    b'air_quality,"district=3,unit=odd\\,unit\\=1",40,,7.25\n'
)


def test_statistics_per_tag_group_and_hour_count_only_present_values():
    rows = reduce_hours(parse_csv(ANSWER, ["pm1", "pm25", "co"]), ["pm1", "pm25", "co"], 0)
    got = {(r.tags["unit"], r.time_ns): r.values for r in rows}
    assert got[("TO-SU-0001", 0)] == {
        "pm1_mean": 2.0, "pm1_min": 1.5, "pm1_max": 2.5, "pm1_count": 2,
        "pm25_mean": 2.0, "pm25_min": 2.0, "pm25_max": 2.0, "pm25_count": 1,
        "co_mean": None, "co_min": None, "co_max": None, "co_count": 0,
    }
    late = got[("TO-SU-0001", H)]
    assert (late["pm1_min"], late["pm1_max"], late["pm1_mean"]) == (0.0, 0.0, 0.0)
    assert str(late["pm1_min"]) == "0.0"  # never -0.0: InfluxDB's JSON wrote it as 0
    assert got[("odd,unit=1", 0)]["pm1_count"] == 0 and got[("odd,unit=1", 0)]["pm25_mean"] == 7.25
    assert rows[0].tags == {"district": "2", "unit": "TO-SU-0001"}


def test_sums_add_in_time_order_like_influxdb():
    # 1e16 + 1 + 1 is 1e16 in order (each 1 is lost), 1e16 + 2 with pairwise summation.
    values = np.array([1e16, 1.0, 1.0, 5.0, 0.1, 0.2, 0.3])
    sums = sequential_sums(values, np.array([0, 3, 4]), np.array([3, 1, 3]))
    assert sums.tolist() == [1e16, 5.0, (0.0 + 0.1 + 0.2) + 0.3]
    assert sums[2] != 0.6  # the order shows


def test_tags_parse_escapes_and_empty():
    assert parse_tags("") == {}
    assert parse_tags("a=1,b=x\\,y\\=z\\ w") == {"a": "1", "b": "x,y=z w"}


# Two LAeq readings of one hour, 60 and 70 dB, a point without laeq, and a weather-like arithmetic field.
NOISE_ANSWER = (
    b"name,tags,time,laeq,temperature\n"
    b'noise,"unit=TO-SU-0001",10,60,10\n'
    b'noise,"unit=TO-SU-0001",20,,20\n'
    b'noise,"unit=TO-SU-0001",30,70,\n'
    b'noise,"unit=TO-SU-0001",3600000000040,-0,1\n'
)


def test_energetic_fields_average_their_energies_and_the_others_stay_arithmetic():
    fields = ["laeq", "temperature"]
    table = parse_csv(NOISE_ANSWER, fields)
    first, late = reduce_hours(table, fields, 0, energetic={"laeq"})
    # By hand: 10·lg((10^6 + 10^7) / 2) = 10·lg(5.5e6) = 60 + 10·lg(5.5) = 67.4036 dB, not 65.
    assert first.values["laeq_mean"] == pytest.approx(67.4036, abs=5e-5)
    assert (first.values["laeq_min"], first.values["laeq_max"], first.values["laeq_count"]) == (60.0, 70.0, 2)
    assert first.values["temperature_mean"] == 15.0  # arithmetic, as without the rule
    assert str(late.values["laeq_mean"]) == "0.0"  # 10·lg(10^0) = +0.0
    arithmetic = reduce_hours(table, fields, 0)
    assert arithmetic[0].values["laeq_mean"] == 65.0
    assert {k: v for k, v in arithmetic[0].values.items() if k != "laeq_mean"} == {
        k: v for k, v in first.values.items() if k != "laeq_mean"}


def test_energetic_means_are_the_noise_indicators_energetic_mean_bit_for_bit():
    from iotorino.indicators.noise import energetic_mean

    levels = [round(35 + (k * 7919 % 600) / 10, 1) for k in range(240)]  # one decimal, as sensors send
    body = b"name,tags,time,laeq\n" + b"".join(
        b'noise,"unit=U",%d,%r\n' % (k * 15 * 1_000_000_000, level) for k, level in enumerate(levels))
    rows = reduce_hours(parse_csv(body, ["laeq"]), ["laeq"], 0, energetic={"laeq"})
    assert [r.values["laeq_mean"] for r in rows] == [energetic_mean(levels)]  # one hour: 240 readings 15 s apart

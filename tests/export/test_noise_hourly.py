"""noise_hourly through the real export path and a real InfluxDB: energetic hourly means, recomputed by hand.

An hour's sound level is 10·lg(mean(10^(L/10))) of its equally long LAeq readings
(docs/indicators.md), never the arithmetic mean of the decibels; minimum, maximum
and count are the readings' own, and arithmetic fields of other datasets keep
their arithmetic means.
"""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest

from iotorino.core.reading import Reading
from iotorino.export.run import run_day
from tests.export.helpers import ns, utc

pytestmark = pytest.mark.integration

UNIT = {"unit": "TO-SU-0001", "district": "2"}  # street-full: noise and weather every 300 s


def partition(out, dataset: str, day: date) -> list[dict]:
    return pq.read_table(out / dataset / "data" / f"date={day.isoformat()}" / "part-0.parquet").to_pylist()


def noise(moment, laeq: float, lamax: float) -> Reading:
    return Reading("noise", UNIT, {"laeq": laeq, "lamax": lamax}, ns(moment))


def test_an_hour_of_60_and_70_db_is_67_4_db_and_arithmetic_fields_keep_their_means(influx, tmp_path):
    day = date(2026, 11, 21)  # 10:00-11:00 local is 09:00Z
    influx.write([
        noise(utc(2026, 11, 21, 9, 5), 60.0, 80.0),
        noise(utc(2026, 11, 21, 9, 35), 70.0, 80.0),
        Reading("weather", UNIT, {"temperature": 10.0}, ns(utc(2026, 11, 21, 9, 5))),
        Reading("weather", UNIT, {"temperature": 20.0}, ns(utc(2026, 11, 21, 9, 35))),
    ])
    run_day(["noise_hourly", "weather_hourly"], day, influx.settings, tmp_path, client=influx)
    (row,) = partition(tmp_path, "noise_hourly", day)
    assert row["local_time_from"] == "2026-11-21T10:00:00+01:00"
    # By hand: 10·lg((10^6 + 10^7) / 2) = 10·lg(5.5·10^6) = 60 + 10·lg 5.5 = 60 + 7.4036 dB; the
    # arithmetic mean would say 65. Equal levels average to themselves.
    assert row["laeq_mean"] == pytest.approx(67.4036, abs=5e-5)
    assert (row["laeq_min"], row["laeq_max"], row["laeq_count"]) == (60.0, 70.0, 2)
    assert (row["lamax_mean"], row["lamax_min"], row["lamax_max"], row["lamax_count"]) == (
        pytest.approx(80.0, abs=1e-12), 80.0, 80.0, 2)
    (weather,) = partition(tmp_path, "weather_hourly", day)
    assert (weather["temperature_mean"], weather["temperature_count"]) == (15.0, 2)
    described = {f.name: f.metadata[b"description"].decode() for f in
                 pq.read_schema(tmp_path / "noise_hourly" / "data" / f"date={day.isoformat()}" / "part-0.parquet")}
    assert described["laeq_mean"].startswith("Energetic mean over the hour, 10·lg(mean(10^(L/10)))")
    assert described["laeq_min"].startswith("Minimum over the hour")


def test_the_two_0200_hours_of_the_autumn_change_each_average_their_own_readings(influx, tmp_path):
    day = date(2026, 10, 25)  # 25 hours: 02:00+02:00 is 00:00Z, 02:00+01:00 is 01:00Z
    influx.write([
        # First 02:00: three readings of 50 dB and one of 80 dB, which carries 1000 times their energy:
        # 10·lg((3·10^5 + 10^8) / 4) = 10·lg(2.5075·10^7) = 73.9924 dB (the arithmetic mean: 57.5).
        *(noise(utc(2026, 10, 25, 0, m), 50.0, 60.0) for m in (0, 15, 30)),
        noise(utc(2026, 10, 25, 0, 45), 80.0, 90.0),
        # Second 02:00: two readings of 40 dB, exactly 40 dB (10^4 is exact in binary).
        noise(utc(2026, 10, 25, 1, 0), 40.0, 45.0),
        noise(utc(2026, 10, 25, 1, 30), 40.0, 45.0),
    ])
    run_day(["noise_hourly"], day, influx.settings, tmp_path, client=influx)
    rows = {r["local_time_from"]: r for r in partition(tmp_path, "noise_hourly", day)}
    assert sorted(rows) == ["2026-10-25T02:00:00+01:00", "2026-10-25T02:00:00+02:00"]
    summer, winter = rows["2026-10-25T02:00:00+02:00"], rows["2026-10-25T02:00:00+01:00"]
    assert summer["laeq_mean"] == pytest.approx(73.9924, abs=5e-5)
    # LAmax: 10·lg((3·10^6 + 10^9) / 4) = 10·lg(2.5075·10^8) = 83.9924 dB
    assert summer["lamax_mean"] == pytest.approx(83.9924, abs=5e-5)
    assert (summer["laeq_min"], summer["laeq_max"], summer["laeq_count"]) == (50.0, 80.0, 4)
    assert (winter["laeq_mean"], winter["laeq_count"]) == (40.0, 2)
    assert winter["lamax_mean"] == pytest.approx(45.0, abs=1e-12)

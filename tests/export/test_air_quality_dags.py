"""`dag.test` of the air-quality and noise indicator DAGs against readings in the real InfluxDB.

Every figure is recomputed here by `tests.indicators.reference` (loops over
minutes, hours and days) from the readings written, not by the library.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from iotorino.core.reading import Reading
from tests.export.helpers import NS, ROME, load_dag
from tests.indicators import reference as ref
from tests.indicators.test_eaqi import plain_band

pytestmark = pytest.mark.integration

UNIT, DISTRICT = "TO-SU-0001", "2"  # street-full: air quality and noise every 300 s
OTHER = "TO-SU-0003"
STEP_MIN = 5


def air_day(unit: str, day: date, partial_hours: int, seed: int, level: float) -> list[Reading]:
    """A local day of readings every 5 minutes; the first `partial_hours` hours carry only 30 minutes."""
    rng = random.Random(seed)
    out = []
    for i, h in enumerate(ref.local_hours(day)):
        for m in range(0, 30 if i < partial_hours else 60, STEP_MIN):
            t = h + timedelta(minutes=m)
            out.append(Reading("air_quality", {"unit": unit, "district": DISTRICT}, {
                "pm10": round(level + rng.uniform(-12, 12), 1), "pm25": round(level * 0.6 + rng.uniform(-5, 5), 1),
                "no2": round(level * 1.5 + rng.uniform(-20, 20), 1), "o3": round(rng.uniform(10, 90), 1),
                "co": round(rng.uniform(0.2, 1.5), 2), "pm1": round(level * 0.4, 1),
            }, int(t.timestamp()) * NS))
    return out


def series(readings: list[Reading], field: str) -> list[tuple[datetime, float]]:
    return [(datetime.fromtimestamp(r.time_ns // NS, ref.UTC), r.fields[field]) for r in readings if r.tags["unit"] == UNIT]


def run(dag_id: str, day: str, logical: datetime):
    result = load_dag(dag_id).test(logical_date=logical, run_conf={"date": day})
    assert result.state == "success"
    return result


def rows(out, dataset: str, day: str) -> list[dict]:
    return pq.read_table(out / dataset / "data" / f"date={day}" / "part-0.parquet").to_pylist()


def test_daily_means_on_the_autumn_dst_day(airflow_db, influx, exports):
    day = date(2026, 10, 25)  # 25 hours: 19 valid hours needed
    readings = air_day(UNIT, day, partial_hours=6, seed=1, level=40) + air_day(OTHER, day, partial_hours=7, seed=2, level=40)
    influx.write(readings)
    run("export_air_quality_daily", day.isoformat(), datetime(2026, 10, 26, tzinfo=ROME))
    got = {(r["unit_id"], r["pollutant"]): r for r in rows(exports, "air_quality_daily", day.isoformat())}
    for unit, valid_hours in ((UNIT, 19), (OTHER, 18)):
        for field in ("pm10", "no2", "pm25"):
            data = [(datetime.fromtimestamp(r.time_ns // NS, ref.UTC), r.fields[field]) for r in readings if r.tags["unit"] == unit]
            want = ref.daily_mean(ref.hourly_values(data, day, STEP_MIN))
            row = got[(unit, field)]
            assert (row["hours_in_day"], row["valid_hours"], row["required_hours"]) == (25, valid_hours, 19)
            assert row["valid"] is (want is not None) is (unit == UNIT)
            assert row["daily_mean"] == (pytest.approx(want) if want is not None else None)
            assert row["capture"] == pytest.approx(valid_hours / 25)
            assert row["quality"].startswith("indicativo")


def test_year_to_date_indicators_and_hourly_index(airflow_db, influx, exports):
    # 28 March polluted (PM10 ~ 70), 29 March (23 h, 18 valid: valid), 30 March (17 valid: invalid).
    days = {date(2026, 3, 28): (0, 70.0), date(2026, 3, 29): (5, 55.0), date(2026, 3, 30): (7, 60.0)}
    readings = []
    for k, (day, (partial, level)) in enumerate(days.items()):
        readings += air_day(UNIT, day, partial, seed=10 + k, level=level)
    influx.write(readings)
    # The index of the earlier days first (the indicators read those partitions), then the indicators.
    for day in days:
        run("export_air_quality_index_hourly", day.isoformat(), datetime.combine(day + timedelta(days=1), datetime.min.time(), ROME))
    run("export_air_quality_indicators", "2026-03-30", datetime(2026, 3, 31, tzinfo=ROME))

    hourly = {f: {d: ref.hourly_values(series(readings, f), d, STEP_MIN) for d in days}
              for f in ("pm10", "no2", "pm25", "o3")}
    index_rows = rows(exports, "air_quality_index_hourly", "2026-03-29")
    assert len(index_rows) == 23
    for i, row in enumerate(index_rows):
        values = {f: hourly[f][date(2026, 3, 29)][i] for f in hourly}
        assert row["pm10_hourly"] == (None if values["pm10"] is None else pytest.approx(values["pm10"]))
        bands = [plain_band(f, v) for f, v in values.items() if v is not None]
        assert row["eaqi_level"] == (max(bands) if bands else None)
        assert row["eaqi_version"] == "EEA EAQI, 2024 bands"
    assert {r["eaqi_level"] for r in index_rows} != {None}

    got = {(r["regime"], r["limit_id"]): r for r in rows(exports, "air_quality_indicators", "2026-03-30")}
    daily = [ref.daily_mean(hourly["pm10"][d]) for d in days]
    assert [d is not None for d in daily] == [True, True, False]
    pm10 = got[("dir2008_50", "pm10_daily")]
    count = ref.count_above(daily, 50)
    assert count == 2
    elapsed = (date(2026, 3, 30) - date(2026, 1, 1)).days + 1
    assert (pm10["exceedances_ytd"], pm10["remaining_allowed"], pm10["limit_broken"]) == (count, 35 - count, False)
    assert (pm10["periods_elapsed"], pm10["periods_valid"]) == (elapsed, 2)
    assert pm10["projected_exceedances"] == pytest.approx(count + count / 2 * (365 - elapsed))
    assert pm10["projected_broken"] is True and pm10["capture_sufficient"] is False
    assert pm10["percentile_value"] == pytest.approx(sorted(d for d in daily if d is not None)[round(0.904 * 2) - 1])
    assert got[("dir2024_2881_2030", "pm10_daily")]["regime_applies"] is False
    no2 = got[("dir2008_50", "no2_hourly")]
    all_no2 = [v for d in days for v in hourly["no2"][d]]
    assert no2["exceedances_ytd"] == ref.count_above(all_no2, 200)
    assert no2["periods_valid"] == sum(v is not None for v in all_no2)
    assert no2["periods_elapsed"] == elapsed * 24 - 1  # the spring change takes an hour out of the year so far
    annual = got[("dir2008_50", "no2_annual")]
    assert annual["annual_mean_ytd"] is None and annual["capture"] < 0.9  # three days of data: invalid, with its capture


def noise_readings(start: datetime, hours: int, seed: int) -> list[Reading]:
    rng = random.Random(seed)
    out = []
    t = start.astimezone(ref.UTC)
    for _ in range(hours * 12):
        local_hour = t.astimezone(ROME).hour
        laeq = (48 if local_hour < 6 or local_hour >= 22 else 65) + rng.gauss(0, 3)
        out.append(Reading("noise", {"unit": UNIT, "district": DISTRICT}, {"laeq": round(laeq, 1), "lamax": 90.0},
                           int(t.timestamp()) * NS))
        t += timedelta(minutes=STEP_MIN)
    return out


def test_noise_daily_with_the_night_across_the_autumn_change(airflow_db, influx, exports):
    day = date(2026, 10, 24)  # its night runs 22:00 24 October to 06:00 25 October: 9 real hours
    readings = noise_readings(datetime(2026, 10, 24, 0, tzinfo=ROME), 40, seed=5)
    influx.write(readings)
    run("export_noise_daily", day.isoformat(), datetime(2026, 10, 25, 6, tzinfo=ROME))
    (row,) = rows(exports, "noise_daily", day.isoformat())
    data = [(datetime.fromtimestamp(r.time_ns // NS, ref.UTC), r.fields["laeq"]) for r in readings]
    at = lambda d, h: datetime(d.year, d.month, d.day, h, tzinfo=ROME)  # noqa: E731
    nxt = day + timedelta(days=1)
    want = {
        "l_day": ref.period_level(data, at(day, 6), at(day, 20), STEP_MIN),
        "l_evening": ref.period_level(data, at(day, 20), at(day, 22), STEP_MIN),
        "l_night": ref.period_level(data, at(day, 22), at(nxt, 6), STEP_MIN),
        "dpcm_day": ref.period_level(data, at(day, 6), at(day, 22), STEP_MIN),
        "dpcm_night": ref.period_level(data, at(day, 22), at(nxt, 6), STEP_MIN),
    }
    for name, (level, coverage) in want.items():
        assert row[name] == pytest.approx(level) and row[f"{name}_coverage"] == pytest.approx(coverage), name
    assert row["l_den"] == pytest.approx(ref.lden(want["l_day"][0], want["l_evening"][0], want["l_night"][0]))
    assert row["district"] == 2


def test_the_noise_run_at_six_exports_the_day_that_started_a_day_earlier(airflow_db, influx, exports):
    influx.write(noise_readings(datetime(2026, 11, 20, 6, tzinfo=ROME), 24, seed=6))
    result = load_dag("export_noise_daily").test(logical_date=datetime(2026, 11, 21, 6, tzinfo=ROME))
    assert result.state == "success"
    (row,) = rows(exports, "noise_daily", "2026-11-20")
    assert row["l_night_coverage"] == 1.0 and row["l_den"] is not None


def test_noise_daily_carries_the_year_so_far(influx, exports):
    from iotorino.export.run import run_export

    readings = noise_readings(datetime(2026, 1, 1, 0, tzinfo=ROME), 56, seed=8)  # to 3 January 08:00
    influx.write(readings)
    data = [(datetime.fromtimestamp(r.time_ns // NS, ref.UTC), r.fields["laeq"]) for r in readings]
    at = lambda d, h: datetime(d.year, d.month, d.day, h, tzinfo=ROME)  # noqa: E731
    levels = {}
    for day in (date(2026, 1, 1), date(2026, 1, 2)):
        nxt = day + timedelta(days=1)
        levels[day] = {"l_day": ref.period_level(data, at(day, 6), at(day, 20), STEP_MIN)[0],
                       "l_evening": ref.period_level(data, at(day, 20), at(day, 22), STEP_MIN)[0],
                       "l_night": ref.period_level(data, at(day, 22), at(nxt, 6), STEP_MIN)[0]}
        run_export("noise_daily", day, influx.settings, exports)
    (first,) = rows(exports, "noise_daily", "2026-01-01")
    (second,) = rows(exports, "noise_daily", "2026-01-02")
    assert first["l_den_ytd"] == pytest.approx(first["l_den"]) and first["ytd_days"] == 1
    want = {name: ref.energetic([levels[d][name] for d in levels]) for name in ("l_day", "l_evening", "l_night")}
    for name, value in want.items():
        assert second[f"{name}_ytd"] == pytest.approx(value), name
    assert second["l_den_ytd"] == pytest.approx(ref.lden(want["l_day"], want["l_evening"], want["l_night"]))
    assert (second["ytd_days"], second["ytd_capture"]) == (2, 1.0)

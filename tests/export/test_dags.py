"""`dag.test` of every DAG in dags/ against readings in the real InfluxDB, with values recomputed here."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow.parquet as pq
import pytest

from iotorino.core import catalogue, inventory
from iotorino.core.reading import Reading
from tests.export.helpers import NS, ROME, expected_hourly, load_dag, ns, utc

pytestmark = pytest.mark.integration

DAY = "2026-11-21"
DAY_START = utc(2026, 11, 20, 23)  # local midnight
LOGICAL = datetime(2026, 11, 22, tzinfo=ROME)


def synthetic(measurement: str, tags: dict[str, str], interval_s: int, hours: int = 3, first_hour: int = 7) -> list[Reading]:
    """Readings of every catalogue field of `measurement`, every `interval_s` for `hours` hours, varying values."""
    spec = catalogue.default().measurement(measurement)
    start = DAY_START + timedelta(hours=first_hour)
    out = []
    for k in range(hours * 3600 // interval_s):
        fields = {f: s.low + 1.0 + (3 * k + i) % 7 for i, (f, s) in enumerate(spec.fields.items())}
        out.append(Reading(measurement, tags, fields, ns(start) + k * interval_s * NS))
    return out


def run_dag(dag_id: str, **conf):
    """`dag.test` for the local day DAY (or with `conf`)."""
    return load_dag(dag_id).test(logical_date=LOGICAL, run_conf=conf or {"date": DAY})


def partition(out, dataset: str):
    return pq.read_table(out / dataset / "data" / f"date={DAY}" / "part-0.parquet").to_pylist()


HOURLY = [
    ("noise_hourly", "noise", {"unit": "TO-SU-0001", "district": "2"}, "unit_id", 300),
    ("weather_hourly", "weather", {"unit": "TO-SU-0001", "district": "2"}, "unit_id", 300),
    ("classroom_environment_hourly", "indoor_climate", {"school": "TO-SC-01", "room": "R01"}, "school_id", 300),
    ("school_outdoor_hourly", "outdoor_climate", {"school": "TO-SC-01"}, "school_id", 600),
]


@pytest.mark.parametrize("dataset, measurement, tags, id_column, interval_s", HOURLY)
def test_hourly_dags(airflow_db, influx, exports, dataset, measurement, tags, id_column, interval_s):
    # Every other expected value: completeness 0.5.
    readings = synthetic(measurement, tags, interval_s * 2)
    influx.write(readings)
    assert run_dag(f"export_{dataset}").state == "success"
    rows = partition(exports, dataset)
    for field, spec in catalogue.default().measurement(measurement).fields.items():
        want = {
            hour: stats for (_, hour), stats in expected_hourly(
                [Reading(r.measurement, {"unit": "x"}, r.fields, r.time_ns) for r in readings], field,
                energetic=spec.average == catalogue.ENERGETIC,
            ).items()
        }
        got = {int(r["date_observed_from"].timestamp()) * NS: (
            r[f"{field}_mean"], r[f"{field}_min"], r[f"{field}_max"], r[f"{field}_count"]) for r in rows}
        assert got == {h: (pytest.approx(m), lo, hi, c) for h, (m, lo, hi, c) in want.items()}
    assert [r["completeness"] for r in rows] == [0.5, 0.5, 0.5]
    assert {r[id_column] for r in rows} == {tags.get("unit") or tags["school"]}


def test_school_energy_dag(airflow_db, influx, exports):
    tags = {"school": "TO-SC-01", "meter": "M1"}
    start = DAY_START + timedelta(hours=9)
    influx.write([
        Reading("energy", tags, {"total_active_energy_import": 100.0 + 1.25 * k, "total_active_power": 5000.0},
                ns(start) + k * 900 * NS)
        for k in range(9)  # 09:00 .. 11:00 UTC+0 of the local day, 15 min apart
    ])
    assert run_dag("export_school_energy_hourly").state == "success"
    rows = partition(exports, "school_energy_hourly")
    assert [(r["energy_import_kwh"], r["energy_covered_share"], r["register_count"], r["completeness"])
            for r in rows] == [
        (5.0, 1.0, 4, 1.0),
        (5.0, 1.0, 4, 1.0),
        (None, 0.0, 1, 0.25),  # the 11:00 reading closes no interval in its hour
    ]


@pytest.mark.parametrize("dataset, fleet", [("stations", "street_units"), ("schools", "schools")])
def test_dimension_dags(airflow_db, influx, exports, dataset, fleet):
    assert run_dag(f"export_{dataset}").state == "success"
    assert len(partition(exports, dataset)) == len(getattr(inventory.default(), fleet))


def test_quality_dag(airflow_db, influx, exports):
    influx.write(synthetic("air_quality", {"unit": "TO-SU-0001", "district": "2"}, 300, hours=24, first_hour=0))
    assert run_dag("export_data_quality_daily").state == "success"
    rows = {(r["measurement"], r["device_id"]): r for r in partition(exports, "data_quality_daily")}
    assert rows[("air_quality", "TO-SU-0001")]["completeness"] == 1.0
    assert rows[("noise", "TO-SU-0001")]["silent_over_a_day"] is True


def test_downsample_dag(airflow_db, influx, exports):
    readings = synthetic("noise", {"unit": "TO-SU-0001", "district": "2"}, 300, hours=2)
    influx.write(readings)
    start = DAY_START + timedelta(hours=7)
    run = run_dag("downsample_hourly", start=start.isoformat(), end=(start + timedelta(hours=2)).isoformat())
    assert run.state == "success"
    series = influx.query('SELECT * FROM "hourly"."noise" GROUP BY *')
    got = {v[0]: dict(zip(series[0]["columns"], v)) for v in series[0]["values"]}
    want = expected_hourly(readings, "laeq")
    assert series[0]["tags"] == {"unit": "TO-SU-0001", "district": "2"}
    assert {t: (g["laeq_mean"], g["laeq_min"], g["laeq_max"], g["laeq_count"]) for t, g in got.items()} == {
        h: (pytest.approx(m), lo, hi, c) for (_, h), (m, lo, hi, c) in want.items()
    }

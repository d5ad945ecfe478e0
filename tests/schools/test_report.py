"""The monthly school report: the DAG writes one self-contained Italian page per school from the exports."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from iotorino.core import inventory
from iotorino.export import run_export
from tests.export.helpers import ROME, load_dag
from tests.export.test_school_daily import SCHOOL, expected_energy, write_day

pytestmark = pytest.mark.integration
DAYS = (date(2025, 10, 15), date(2025, 10, 26))


def test_monthly_report_dag_writes_every_school_from_the_daily_kpis(airflow_db, influx, tmp_path, monkeypatch):
    monkeypatch.setenv("IOTORINO_INFLUX_URL", influx.settings.url)
    monkeypatch.setenv("IOTORINO_INFLUX_DB", influx.settings.database)
    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tmp_path))
    for day in DAYS:
        write_day(influx, day)
        for dataset in ("school_energy_daily", "classroom_air_daily"):
            run_export(dataset, day, influx.settings, tmp_path, inventory=inventory.default())

    run = load_dag("school_reports_monthly").test(logical_date=datetime(2025, 11, 1, 6, tzinfo=ROME),
                                                   run_conf={"month": "2025-10"})
    assert run.state == "success"
    folder = tmp_path / "reports" / "2025-10"
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == len(inventory.default().schools)
    page = (folder / f"{SCHOOL}.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html><html lang='it'>") and "ottobre 2025" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page) and "<script" not in page  # self-contained
    total = sum(expected_energy(d, "electricity")["kwh"] for d in DAYS)
    shown = f"{total:,.0f}".replace(",", "\u202f") + " kWh"
    assert shown in page
    assert "acceso nel fine settimana" in page  # 26 October: heating left on on a Sunday
    assert "Aria nelle aule" in page

"""The dashboards' numbers from daily KPI rows, against plain sums."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from iotorino.schools import views

TODAY = date(2026, 11, 30)


def school(id_, level="primaria", pupils=200, area=2000.0):
    return SimpleNamespace(id=id_, name=f"Scuola {id_}", level=level, pupils=pupils, floor_area_m2=area,
                           district=1, lon=7.68, lat=45.07, rooms=())


def daily_rows(school_id: str, fuel: str, kwh_of, days: int = 730) -> list[dict]:
    rows = []
    for i in range(days):
        d = TODAY - timedelta(days=i)
        kwh = kwh_of(d)
        day_type = "school" if d.weekday() < 5 else "weekend"
        rows.append({"school_id": school_id, "fuel": fuel, "local_date": d, "day_type": day_type, "kwh": kwh,
                     "kwh_school_open": kwh * 0.6 if day_type == "school" else 0.0,
                     "kwh_school_closed": kwh * 0.4 if day_type == "school" else 0.0,
                     "kwh_weekend": kwh if day_type == "weekend" else 0.0, "kwh_holiday": 0.0,
                     "cost_eur": kwh * 0.25, "co2e_kg": kwh * 0.27, "baseload_kw": 2.0 + (i % 3),
                     "peak_kw": 30.0, "degree_days": 10.0, "heating_finding": None})
    return rows


def test_year_summary_against_plain_sums():
    s = school("A")
    frame = pd.DataFrame(daily_rows("A", "electricity", lambda d: 100.0 if d > TODAY - timedelta(days=365) else 125.0))
    got = views.year_summary(frame, s, "electricity", TODAY)
    assert got["kwh"] == pytest.approx(36_500.0) and got["days"] == 365
    assert got["change_year"] == pytest.approx(100 / 125 - 1)
    assert got["change_4_weeks"] == pytest.approx(0.0)
    assert got["cost_eur"] == pytest.approx(36_500 * 0.25)
    assert got["kwh_per_pupil"] == pytest.approx(36_500 / 200)
    weekdays = [TODAY - timedelta(days=i) for i in range(365) if (TODAY - timedelta(days=i)).weekday() < 5]
    open_kwh = 60.0 * len(weekdays)
    assert got["out_of_hours_share"] == pytest.approx(1 - open_kwh / 36_500)
    # primaria, 200 pupils: exemplar 200 kWh per pupil = 40,000 kWh > 36,500: nothing to save
    assert got["exemplar_kwh"] == 40_000 and got["saving_kwh"] == 0.0


def test_saving_at_exemplar_level_is_priced_at_the_schools_own_price():
    s = school("B", pupils=100)
    frame = pd.DataFrame(daily_rows("B", "electricity", lambda d: 100.0, days=365))
    got = views.year_summary(frame, s, "electricity", TODAY)
    assert got["saving_kwh"] == pytest.approx(36_500 - 20_000)
    assert got["saving_eur"] == pytest.approx((36_500 - 20_000) * 0.25)


def test_overview_ranks_within_each_level():
    schools = [school("A", pupils=100), school("B", pupils=200), school("C", level="secondaria_1", pupils=500)]
    rows = []
    for s in schools:
        rows += daily_rows(s.id, "electricity", lambda d: 50.0, days=30)
        rows += daily_rows(s.id, "heat", lambda d: 0.0, days=30)
    got = views.overview(pd.DataFrame(rows), schools, TODAY, {"A": 2})
    ranks = {r["school_id"]: (r["electricity"]["rank"], r["electricity"]["rank_of"]) for r in got["schools"]}
    assert ranks == {"A": (2, 2), "B": (1, 2), "C": (1, 1)}  # same kWh: more pupils, less per pupil
    assert got["schools"][0]["active_alerts"] == 2


def test_pupil_week_and_equivalences():
    frame = pd.DataFrame(daily_rows("A", "electricity", lambda d: 10.0 if d >= TODAY - timedelta(days=TODAY.weekday()) else 20.0, days=30))
    got = views.pupil_week(frame, "A", TODAY)  # 30 Nov 2026 is a Monday: one day each
    assert got["kwh_this_week"] == 10.0 and got["kwh_last_week"] == 20.0 and got["change"] == -0.5
    assert got["tv_hours"] == pytest.approx(100.0) and got["car_km"] == pytest.approx(10 * 0.27 / 0.12)


@pytest.mark.parametrize("ppm, colour", [(None, "grey"), (float("nan"), "grey"), (800, "green"), (1000, "yellow"),
                                         (1499, "yellow"), (1500, "red")])
def test_traffic_light(ppm, colour):
    assert views.traffic_light(ppm) == colour


def overview_row(id_, level, saving, per_pupil, name=None):
    return {"school_id": id_, "name": name or f"Scuola {id_}", "level": level, "saving_eur": saving,
            "electricity": {"kwh": None, "kwh_per_pupil": per_pupil, "baseload_kw": None, "out_of_hours_share": None},
            "heat": {"kwh_per_m2": None}}


def test_sort_rows_worst_first_ties_by_name_and_no_value_last():
    rows = [overview_row("A", "primaria", 10.0, 5.0, "Zeta"), overview_row("B", "primaria", 30.0, 1.0),
            overview_row("C", "primaria", None, 9.0, "alfa"), overview_row("D", "primaria", 10.0, 2.0, "Beta"),
            overview_row("E", "primaria", None, None, "Gamma")]
    assert [r["school_id"] for r in views.sort_rows(rows, "spreco")] == ["B", "D", "A", "C", "E"]
    assert [r["school_id"] for r in views.sort_rows(rows, "spreco", worst_first=False)] == ["D", "A", "B", "C", "E"]
    assert [r["school_id"] for r in views.sort_rows(rows, "kwh_alunno")] == ["C", "A", "D", "B", "E"]
    assert [r["name"] for r in views.sort_rows(rows, "nome", worst_first=False)] == [
        "alfa", "Beta", "Gamma", "Scuola B", "Zeta"]


def test_ranks_by_each_kpi_within_level_share_ties():
    rows = [overview_row("A", "primaria", 10.0, 5.0), overview_row("B", "primaria", 30.0, 1.0),
            overview_row("C", "primaria", 10.0, None), overview_row("D", "secondaria_1", 99.0, 1.0)]
    for key in views.SORT_KEYS:
        views._rank_by(rows, key)
    ranks = {r["school_id"]: r["ranks"]["spreco"] for r in rows}
    assert ranks == {"A": {"rank": 1, "of": 3}, "C": {"rank": 1, "of": 3}, "B": {"rank": 3, "of": 3},
                     "D": {"rank": 1, "of": 1}}
    assert rows[2]["ranks"]["kwh_alunno"] is None and rows[0]["ranks"]["kwh_alunno"] == {"rank": 2, "of": 2}


def test_heat_change_normalised_by_degree_days():
    s = school("A")
    rows = daily_rows("A", "heat", lambda d: 100.0 if d > TODAY - timedelta(days=365) else 120.0)
    for row in rows:  # the year before was colder: 12 GG a day against 10
        row["degree_days"] = 10.0 if row["local_date"] > TODAY - timedelta(days=365) else 12.0
    got = views.year_summary(pd.DataFrame(rows), s, "heat", TODAY)
    assert got["change_year"] == pytest.approx(100 / 120 - 1)
    assert got["change_year_normalised"] == pytest.approx((36_500 / 3_650) / (43_800 / 4_380) - 1)  # = 0: same per GG
    short = views.year_summary(pd.DataFrame(rows[:400]), s, "heat", TODAY)
    assert short["change_year_normalised"] is None  # 35 days before the year: too few to compare

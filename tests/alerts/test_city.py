"""The city alert evaluator on injected episodes: each fires once, with the right start and end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from iotorino.alerts.city import CityAlerts
from iotorino.core import alerts as contract
from tests.indicators.reference import ROME, UTC

NS = 1_000_000_000
UNIT = "TO-SU-0001"


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS


def evaluator(**options) -> CityAlerts:
    return CityAlerts(lambda unit, measurement: 300, **options)


def feed_hours(ev: CityAlerts, start: datetime, levels: list[float], field: str, measurement: str = "air_quality",
               minutes: int = 60, extra=None) -> list[contract.Alert]:
    """One reading every 5 minutes per hour at `levels[i]` (covering `minutes` of each hour)."""
    out = []
    for i, level in enumerate(levels):
        for m in range(0, minutes, 5):
            t = start + timedelta(hours=i, minutes=m)
            out += ev.feed(UNIT, measurement, ns(t), {field: level, **(extra or {})})
    return out


def episodes(updates: list[contract.Alert]) -> dict[tuple[str, str], list[contract.Alert]]:
    by: dict[tuple[str, str], list[contract.Alert]] = {}
    for a in updates:
        by.setdefault((a.kind, a.id), []).append(a)
    return by


def test_no2_hourly_limit_and_alert_threshold_episodes():
    ev = evaluator()
    t0 = datetime(2026, 11, 21, 6, tzinfo=UTC)
    #           0   1   2    3    4   5   6    7    8    9   10  11
    levels = [50, 60, 250, 260, 70, 80, 450, 460, 470, 455, 90, 60]
    updates = feed_hours(ev, t0, levels, "no2") + ev.advance(ns(t0 + timedelta(hours=13)))
    got = episodes(updates)
    hourly = sorted((v for k, v in got.items() if k[0] == "no2_hourly_limit"), key=lambda v: v[0].start_ns)
    assert [(v[0].start_ns, v[-1].end_ns, len(v)) for v in hourly] == [
        (ns(t0 + timedelta(hours=2)), ns(t0 + timedelta(hours=4)), 2),  # opened once, ended once
        (ns(t0 + timedelta(hours=6)), ns(t0 + timedelta(hours=10)), 2),
    ]
    (alert,) = [v for k, v in got.items() if k[0] == "no2_alert_threshold"]
    # Opens once the third consecutive hour above 400 is complete; starts at the first of them.
    assert [a.end_ns for a in alert] == [None, ns(t0 + timedelta(hours=10))]
    assert alert[0].start_ns == ns(t0 + timedelta(hours=6)) and alert[0].rating == 9
    assert alert[0].message_it.startswith("NO₂ oltre la soglia di allarme di 400") and "indicativo" in alert[0].message_it
    assert ev.active() == []


def test_an_invalid_hour_does_not_count_and_a_gap_ends_the_episode():
    ev = evaluator()
    t0 = datetime(2026, 11, 21, 6, tzinfo=UTC)
    updates = feed_hours(ev, t0, [500, 500], "no2", minutes=30)  # 30 minutes each: invalid hours
    updates += ev.advance(ns(t0 + timedelta(hours=3)))
    assert updates == []
    updates = feed_hours(ev, t0 + timedelta(hours=3), [300], "no2")
    updates += feed_hours(ev, t0 + timedelta(hours=5), [300], "no2")  # hour 4 missing
    updates += ev.advance(ns(t0 + timedelta(hours=7)))
    assert [a.end_ns for a in updates] == [None, ns(t0 + timedelta(hours=4)), None]  # the last one still open
    updates += ev.advance(ns(t0 + timedelta(hours=7, minutes=5)))  # its next hour is over, without data
    spans = [(a.start_ns, a.end_ns) for a in updates if a.end_ns is not None]
    assert spans == [(ns(t0 + timedelta(hours=3)), ns(t0 + timedelta(hours=4))),
                     (ns(t0 + timedelta(hours=5)), ns(t0 + timedelta(hours=6)))]


def test_pm10_on_course_opens_after_six_valid_hours_and_ends_with_the_day():
    ev = evaluator()
    day_start = datetime(2026, 11, 21, tzinfo=ROME).astimezone(UTC)
    levels = [70.0] * 24 + [20.0] * 3
    updates = feed_hours(ev, day_start, levels, "pm10")
    got = episodes(updates)
    ((_, alerts),) = got.items()
    assert [a.end_ns for a in alerts] == [None, ns(day_start + timedelta(hours=24))]
    assert alerts[0].start_ns == ns(day_start + timedelta(hours=5))  # the sixth valid hour
    assert alerts[0].kind == "pm10_daily_on_course"


def test_night_noise_far_above_the_units_usual():
    ev = evaluator()
    first_night = datetime(2026, 11, 17, 22, tzinfo=ROME)
    updates = []
    for n in range(3):  # three ordinary nights: 24 night hours of history
        updates += feed_hours(ev, first_night + timedelta(days=n), [50.0] * 8, "laeq", "noise")
    assert updates == [] or all(a.kind != "night_noise_unusual" for a in updates)
    night = first_night + timedelta(days=3)
    updates = feed_hours(ev, night, [51, 50, 52, 66, 67, 51, 50, 50], "laeq", "noise")
    updates += ev.advance(ns(night + timedelta(hours=10)))
    (episode,) = episodes([a for a in updates if a.kind == "night_noise_unusual"]).values()
    assert [(a.start_ns, a.end_ns) for a in episode] == [
        (ns(night + timedelta(hours=3)), None), (ns(night + timedelta(hours=3)), ns(night + timedelta(hours=5)))]
    assert "sopra il livello notturno consueto" in episode[0].message_it


def test_the_alert_contract_round_trips_and_names_bad_fields():
    a = contract.Alert(contract.episode_id("city", "no2_hourly_limit", UNIT, 1_790_000_000 * NS), "no2_hourly_limit",
                       UNIT, 1_790_000_000 * NS, None, 7, "messaggio", "message", "azione", "action")
    assert contract.from_json(a.to_json()) == a
    assert contract.from_json(a.ended(1_790_003_600 * NS).to_json()).end_ns == 1_790_003_600 * NS
    assert contract.topic("city", a) == f"iotorino/alerts/city/{UNIT}/no2_hourly_limit"
    assert list(a.to_dict()) == ["id", "kind", "site", "start", "end", "rating", "message_it", "message_en",
                                 "action_it", "action_en"]
    from iotorino.core.errors import Rejected

    bad = a.to_dict() | {"rating": 11}
    import json

    with pytest.raises(Rejected) as err:
        contract.from_json(json.dumps(bad))
    assert err.value.field == "rating" and err.value.value == 11

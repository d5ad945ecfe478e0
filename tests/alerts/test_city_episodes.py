"""Each city alert the decision-support issue asks for, injected through a real mosquitto: exactly one episode each.

The NO₂ hourly limit and alert threshold episodes are in `test_service.py`; here
the two others, a daily PM10 on course to exceed 50 µg/m³ and a night noise
level far above the unit's usual, each published once when it opens and once
when it ends (same id), with the start and end the readings imply.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from iotorino.alerts.service import CityAlertService
from iotorino.core import alerts as contract
from iotorino.core.times import format_ns
from iotorino.simulate.publisher import MqttSender
from tests.alerts.test_service import Listener
from tests.indicators.reference import ROME
from tests.mqtt.streams import wait_for

pytestmark = pytest.mark.integration
NS = 1_000_000_000
AIR_UNIT, NOISE_UNIT = "TO-SU-0002", "TO-SU-0003"
DAY = datetime(2026, 11, 21, 0, tzinfo=ROME)  # the PM10 day
FIRST_NIGHT = datetime(2026, 11, 17, 22, tzinfo=ROME)


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * NS


def hours(unit: str, measurement: str, start: datetime, levels: list[float], field: str) -> list[tuple[str, bytes]]:
    """Native messages every 5 minutes, one hour per level, starting at `start`."""
    out = []
    for i, level in enumerate(levels):
        for m in range(0, 60, 5):
            body = {"time": format_ns(ns(start + timedelta(hours=i, minutes=m))), "fields": {field: level}}
            out.append((f"iotorino/v1/street/{unit}/{measurement}", json.dumps(body).encode()))
    return out


def pm10_course() -> list[tuple[str, bytes]]:
    # 8 hours at 80 µg/m³: on course from the 6th valid hour; then 5 µg/m³ until the day's mean falls to 50
    # or below after the 14th hour (640 + 6·5 = 670 over 14 hours = 47.9); one more hour closes the 14th.
    return hours(AIR_UNIT, "air_quality", DAY, [80.0] * 8 + [5.0] * 7, "pm10")


def noisy_night() -> list[tuple[str, bytes]]:
    # Three ordinary nights at 50 dB(A) (24 night hours of history), then a night with two hours at 66-67.
    out = []
    for n in range(3):
        out += hours(NOISE_UNIT, "noise", FIRST_NIGHT + timedelta(days=n), [50.0] * 8, "laeq")
    return out + hours(NOISE_UNIT, "noise", FIRST_NIGHT + timedelta(days=3), [51, 50, 52, 66, 67, 51, 50, 50], "laeq")


def test_a_pm10_course_and_a_noisy_night_fire_one_episode_each(mosquitto):
    listener = Listener(mosquitto.port)
    service = CityAlertService("127.0.0.1", mosquitto.port, interval_of=lambda unit, m: 300, tick_s=3600).start()
    try:
        assert service.subscribed.wait(10)
        with MqttSender("127.0.0.1", mosquitto.port) as sender:
            for topic, payload in pm10_course() + noisy_night():
                sender.send(topic, payload)
        wait_for(lambda: len(listener.messages) >= 4, what="two episodes opened and ended")
        by_id: dict[str, list[contract.Alert]] = {}
        for _, payload, _ in listener.messages:
            alert = contract.from_json(payload)
            by_id.setdefault(alert.id, []).append(alert)
        night = FIRST_NIGHT + timedelta(days=3)
        assert {(a[0].kind, a[0].site, a[0].start_ns, a[0].end_ns, a[-1].end_ns, len(a)) for a in by_id.values()} == {
            ("pm10_daily_on_course", AIR_UNIT, ns(DAY + timedelta(hours=5)), None, ns(DAY + timedelta(hours=13)), 2),
            ("night_noise_unusual", NOISE_UNIT, ns(night + timedelta(hours=3)), None, ns(night + timedelta(hours=5)), 2),
        }
        topics = {t for t, *_ in listener.messages}
        assert topics == {f"iotorino/alerts/city/{AIR_UNIT}/pm10_daily_on_course",
                          f"iotorino/alerts/city/{NOISE_UNIT}/night_noise_unusual"}
    finally:
        service.stop()
        listener.close()

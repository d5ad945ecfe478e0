"""Simulated devices, each with its own credential over TLS, through the secure stack into an open-data export."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
import requests

from iotorino.core import catalogue, inventory
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.export.run import run_export
from iotorino.provision.secrets import SecretStore
from iotorino.simulate.generator import iter_messages
from tests.provision.clients import publish_as_devices

pytestmark = pytest.mark.integration
ROME = ZoneInfo("Europe/Rome")


def test_two_hours_of_three_street_units_reach_the_export(secure_stack, tmp_path):
    fleet = inventory.default()
    ids = [uid for uid in sorted(fleet.street_units)
           if "air_quality" in fleet.profiles[fleet.street_units[uid].profile].measurements][:3]
    units = {uid: fleet.street_units[uid] for uid in ids}
    small = replace(fleet, street_units=units, schools={}, beacons={})
    day = date.today() - timedelta(days=2)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=ROME).astimezone(timezone.utc)
    messages = list(iter_messages(small, catalogue.default(), start, start + timedelta(hours=2), seed=12))
    assert messages

    settings = secure_stack.settings
    secrets = SecretStore(settings.output / "secrets")
    publish_as_devices(settings.broker_port, secure_stack.ca, secrets, messages)

    sent = Counter(m.topic.split("/")[3] for m in messages if m.topic.endswith("/air_quality"))
    reader = InfluxV1Settings(url=secure_stack.influx_url, database=settings.database, username="exports",
                              password=secrets.service("influx-exports"))
    window = f"time >= '{start.isoformat()}' AND time < '{(start + timedelta(hours=2)).isoformat()}'"

    def stored() -> Counter:
        body = requests.post(f"{reader.url}/query", auth=(reader.username, reader.password), timeout=10,
                             data={"db": reader.database,
                                   "q": f'SELECT count("pm25") FROM "air_quality" WHERE {window} GROUP BY "unit"'}
                             ).json()
        return Counter({s["tags"]["unit"]: s["values"][0][1] for s in body["results"][0].get("series", [])})

    deadline = time.monotonic() + 60
    while stored() != sent:
        assert time.monotonic() < deadline, (stored(), sent)
        time.sleep(0.5)

    result = run_export("air_quality_hourly", day, reader, tmp_path, inventory=small)
    rows = [row for row in pq.read_table(result.path).to_pylist() if row["unit_id"] in units]
    # Recomputed from the payloads the devices sent: pm25 per unit and UTC hour.
    values: dict[tuple[str, datetime], list[float]] = {}
    for message in messages:
        if message.topic.endswith("/air_quality"):
            payload = json.loads(message.payload)
            hour = message.sim_time.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
            values.setdefault((message.topic.split("/")[3], hour), []).append(payload["fields"]["pm25"])
    got = {(row["unit_id"], row["date_observed_from"]): (row["pm25_count"], row["pm25_mean"]) for row in rows}
    assert got == {key: (len(v), pytest.approx(sum(v) / len(v))) for key, v in values.items()}
    assert len(got) == 2 * len(units)

"""The secure stack end to end: simulated devices, each with its own credential over TLS, through the broker,
the collectors and InfluxDB into the day's open data, shown by the web application over HTTPS; the alert
services read the same readings with their own users."""

from __future__ import annotations

import html
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from iotorino.core import catalogue, inventory
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.export.run import run_export
from iotorino.provision import render
from iotorino.provision.secrets import SecretStore
from iotorino.simulate.generator import iter_messages
from tests.provision.clients import device_user, publish_as_devices

pytestmark = pytest.mark.integration
ROME = ZoneInfo("Europe/Rome")
DATASETS = ("air_quality_hourly", "school_energy_daily", "classroom_air_daily")


def _stored(stack, reader: InfluxV1Settings, measurement: str, start: datetime, end: datetime) -> int:
    body = requests.post(f"{reader.url}/query", auth=(reader.username, reader.password), timeout=10, data={
        "db": reader.database,
        "q": f"SELECT count(*) FROM \"{measurement}\" WHERE time >= '{start.isoformat()}' AND time < '{end.isoformat()}'",
    }).json()
    series = body["results"][0].get("series", [])
    return max(series[0]["values"][0][1:]) if series else 0


@pytest.fixture(scope="module")
def published_day(secure_stack):
    """Three street units and one school for two morning hours of a past day, sent device by device over TLS,
    stored by the collectors and exported by the exports' reader into the stack's export directory."""
    fleet = inventory.default()
    units = [u for u in sorted(fleet.street_units)
             if "air_quality" in fleet.profiles[fleet.street_units[u].profile].measurements][:3]
    school = sorted(fleet.schools)[0]
    small = replace(fleet, street_units={u: fleet.street_units[u] for u in units},
                    schools={school: fleet.schools[school]}, beacons={})
    day = date.today() - timedelta(days=3)  # not test_secure_day's day: both send the same units
    start = datetime(day.year, day.month, day.day, 8, tzinfo=ROME).astimezone(timezone.utc)
    end = start + timedelta(hours=2)
    messages = list(iter_messages(small, catalogue.default(), start, end, seed=7))
    settings = secure_stack.settings
    secrets = SecretStore(settings.output / "secrets")
    before = _alert_services(secure_stack)
    users = {device_user(m.topic) for m in messages}
    assert len(users) > len(units) + 3  # the school's rooms, meters and outdoor station each have their own
    publish_as_devices(settings.broker_port, secure_stack.ca, secrets, messages)
    reader = InfluxV1Settings(url=secure_stack.influx_url, database=settings.database, username="exports",
                              password=secrets.service("influx-exports"))
    sent = {m: sum(1 for x in messages if x.topic.endswith("/" + m)) for m in ("air_quality", "indoor_climate")}
    deadline = time.monotonic() + 60
    while any(_stored(secure_stack, reader, m, start, end) < n for m, n in sent.items()):
        assert time.monotonic() < deadline, "the readings never all reached InfluxDB"
        time.sleep(0.5)
    exports = Path(render.exports_dir(secure_stack.target))
    results = {name: run_export(name, day, reader, exports, inventory=small, trigger="test") for name in DATASETS}
    return {"day": day, "units": units, "school": school, "results": results, "messages": messages,
            "alert_services_before": before}


def _alert_services(stack) -> dict[str, dict]:
    """Each alert service's /metrics: messages read and rejected by reason since it started."""
    found = {}
    for scope, port in zip(("city", "school"), stack.settings.alerts_ports):
        samples = [s for family in text_string_to_metric_families(
            requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text) for s in family.samples]
        found[scope] = {
            "messages": sum(s.value for s in samples if s.name == "iotorino_alert_readings_evaluated_total"),
            "rejected": {s.labels["reason"]: s.value for s in samples
                         if s.name == "iotorino_alert_messages_rejected_total"}}
    return found


def _web(stack, path: str, **kwargs) -> requests.Response:
    """GET (or another method) over HTTPS, trusting only the stack's CA."""
    method = kwargs.pop("method", "GET")
    return requests.request(method, f"https://127.0.0.1:{stack.settings.web_port}{path}", verify=str(stack.ca),
                            timeout=30, **kwargs)


def test_the_day_reaches_the_open_data_pages_over_https(secure_stack, published_day):
    day = published_day["day"].isoformat()
    air = published_day["results"]["air_quality_hourly"]
    rows = [r for r in pq.read_table(air.path).to_pylist() if r["unit_id"] in published_day["units"]]
    assert len(rows) == 2 * len(published_day["units"])  # two hours of each unit

    listing = _web(secure_stack, "/dati")
    assert listing.status_code == 200 and "air_quality_hourly" in listing.text
    dataset = _web(secure_stack, "/dati/air_quality_hourly.json").json()
    assert dataset["temporal"]["last_day"] == day
    assert dict(zip(dataset["rows_per_day"]["days"], dataset["rows_per_day"]["rows"]))[day] == air.rows
    page = _web(secure_stack, "/dati/air_quality_hourly")
    assert page.status_code == 200 and day in page.text
    download = _web(secure_stack, next(f["url"] for f in dataset["files"] if f["period"] == day
                                       and f["format"] == "parquet"))
    assert download.status_code == 200 and download.content == air.path.read_bytes()


def test_the_school_pages_show_the_schools_day(secure_stack, published_day):
    school, day = published_day["school"], published_day["day"].isoformat()
    overview = _web(secure_stack, "/scuole.json").json()
    assert overview["today"] == day
    row = next(r for r in overview["schools"] if r["school_id"] == school)
    energy = pq.read_table(published_day["results"]["school_energy_daily"].path).to_pylist()
    assert any(r["school_id"] == school for r in energy)
    page = _web(secure_stack, f"/scuole/{school}")
    assert page.status_code == 200 and row["name"] in html.unescape(page.text)
    # The page's JSON twin holds the day's electricity as the export computed it from the meters' readings.
    kwh = next(r["kwh"] for r in energy if r["school_id"] == school and r["fuel"] == "electricity")
    shown = _web(secure_stack, f"/scuole/{school}.json").json()
    assert any(value == pytest.approx(kwh) for value in _numbers(shown["fuels"]["electricity"]))
    assert _web(secure_stack, "/scuole").status_code == 200


def _numbers(tree) -> list[float]:
    """Every number in a JSON tree."""
    if isinstance(tree, dict):
        return [n for value in tree.values() for n in _numbers(value)]
    if isinstance(tree, list):
        return [n for value in tree for n in _numbers(value)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


def test_the_alert_services_read_the_readings_with_their_own_users(secure_stack, published_day):
    """Each alert service received the readings of its scope (its ACL lets it read them) and nothing else."""
    before = published_day["alert_services_before"]
    scopes = {"city": ("street", ("air_quality", "noise")),
              "school": ("school", ("indoor_climate", "energy", "heat", "outdoor_climate"))}
    sent = {scope: sum(1 for m in published_day["messages"]
                       if m.topic.split("/")[2] == site and m.topic.rsplit("/", 1)[1] in measurements)
            for scope, (site, measurements) in scopes.items()}
    assert all(sent.values())
    deadline = time.monotonic() + 30
    while True:
        after = _alert_services(secure_stack)
        read = {scope: after[scope]["messages"] - before[scope]["messages"] for scope in scopes}
        if read == sent or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert read == sent
    for scope in scopes:
        assert after[scope]["rejected"] == before[scope]["rejected"], scope


def test_the_web_application_reports_the_exports_freshness(secure_stack, published_day):
    samples = {(s.name, s.labels.get("dataset")): s.value
               for family in text_string_to_metric_families(_web(secure_stack, "/metrics").text) for s in family.samples}
    end = datetime.combine(published_day["day"] + timedelta(days=1), datetime.min.time(), tzinfo=ROME).timestamp()
    for name in DATASETS:
        assert samples[("iotorino_export_last_partition_timestamp_seconds", name)] == end, name

"""The alert rules under `promtool test rules`, and Prometheus itself scraping the running collectors."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from iotorino.provision import render

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="Debian's prometheus package (scripts/setup.sh) is missing")

# Series one sample a minute from t=0; `time()` at an evaluation is its offset in seconds.
RULE_TESTS = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="collector", instance="c1:9464"}'
        values: '1 1 0 0 0 0 0 0 0 0'
      - series: 'up{job="collector", instance="c2:9465"}'
        values: '1 1 1 1 1 1 0 0 0 0'
      - series: 'iotorino_mqtt_connected{instance="c2:9465"}'
        values: '1 0 0 0 0 0 0 0 0 0'
      - series: 'iotorino_store_healthy{instance="c2:9465"}'
        values: '1 1 1 1 1 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 1m
        alertname: IotorinoCollectorDown
        exp_alerts: []
      - eval_time: 5m
        alertname: IotorinoCollectorDown
        exp_alerts:
          - exp_labels: {severity: warning, job: collector, instance: "c1:9464"}
            exp_annotations:
              summary: "Collector c1:9464 non risponde / is not answering"
              runbook: "README.md#runbook-a-collector-is-down"
      - eval_time: 5m
        alertname: IotorinoAllCollectorsDown
        exp_alerts: []
      - eval_time: 8m
        alertname: IotorinoAllCollectorsDown
        exp_alerts:
          - exp_labels: {severity: critical}
            exp_annotations:
              summary: "Nessun collector attivo: il broker accumula i messaggi / no collector is running"
              runbook: "README.md#runbook-a-collector-is-down"
      - eval_time: 4m
        alertname: IotorinoCollectorNotReady
        exp_alerts: []
      - eval_time: 7m
        alertname: IotorinoCollectorNotReady
        exp_alerts:
          - exp_labels: {severity: warning, instance: "c2:9465"}
            exp_annotations:
              summary: "Collector c2:9465 senza broker o senza InfluxDB / without broker or store"
              runbook: "README.md#runbook-the-store-is-down"

  - interval: 1m
    input_series:
      - series: 'iotorino_spool_full{instance="c1:9464"}'
        values: '0 0 1 1 1'
      - series: 'iotorino_spool_messages{instance="c1:9464"}'
        values: '0+100x40'
      - series: 'iotorino_spool_messages{instance="c2:9465"}'
        values: '5000x40'
      - series: 'iotorino_messages_rejected_total{instance="c1:9464", reason="unknown_device"}'
        values: '0+5x60'
      - series: 'iotorino_messages_rejected_total{instance="c1:9464", reason="oversized"}'
        values: '0+1x60'
    alert_rule_test:
      - eval_time: 2m
        alertname: IotorinoSpoolFull
        exp_alerts: []
      - eval_time: 4m
        alertname: IotorinoSpoolFull
        exp_alerts:
          - exp_labels: {severity: critical, instance: "c1:9464"}
            exp_annotations:
              summary: "Spool pieno: il collector non conferma più i messaggi / spool full, acknowledgements stopped"
              runbook: "README.md#runbook-the-store-is-down"
      # Growing past 1000 at 10m; alerting 15 minutes later. c2 is large but steady.
      - eval_time: 20m
        alertname: IotorinoSpoolFilling
        exp_alerts: []
      - eval_time: 30m
        alertname: IotorinoSpoolFilling
        exp_alerts:
          - exp_labels: {severity: warning, instance: "c1:9464"}
            exp_annotations:
              summary: "Spool in crescita: 3000 messaggi in attesa di InfluxDB / spool growing"
              runbook: "README.md#runbook-the-store-is-down"
      # 5 a minute: 150 in 30 minutes; 1 a minute stays under 50.
      - eval_time: 40m
        alertname: IotorinoDeadLettersGrowing
        exp_alerts:
          - exp_labels: {severity: warning, reason: unknown_device}
            exp_annotations:
              summary: "Messaggi scartati (unknown_device): `iotorino deadletters list` / dead letters growing"
              runbook: "README.md#runbook-dead-letters"

  - interval: 1m
    input_series:
      # Heartbeats stop at 5m (value: collector time in seconds of the last one).
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c1:9464", device="GW-PORTA-NUOVA"}'
        values: '0 60 120 180 240 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300'
      # A street unit silent all along is not a gateway.
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c1:9464", device="TO-SU-0001"}'
        values: '0x30'
      # TO-BC-0001 last heard at 0 by the gateway; TO-BC-0002 heard all along (by the other replica);
      # the monitor's own status readings (gateway tag HEALTH) are not sightings.
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c1:9464", device="TO-BC-0001/GW-PORTA-NUOVA"}'
        values: '0x30'
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c1:9464", device="TO-BC-0002/GW-PORTA-NUOVA"}'
        values: '0x30'
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c2:9465", device="TO-BC-0002/GW-PORTA-NUOVA"}'
        values: '0+60x30'
      - series: 'iotorino_device_last_seen_timestamp_seconds{instance="c1:9464", device="TO-BC-0003/HEALTH"}'
        values: '0x30'
    alert_rule_test:
      - eval_time: 7m
        alertname: IotorinoGatewaySilent
        exp_alerts: []
      - eval_time: 9m
        alertname: IotorinoGatewaySilent
        exp_alerts:
          - exp_labels: {severity: warning, device: GW-PORTA-NUOVA}
            exp_annotations:
              summary: "Gateway GW-PORTA-NUOVA silenzioso da 4m 0s / gateway silent"
              runbook: "README.md#runbook-a-gateway-is-down"
      - eval_time: 18m
        alertname: IotorinoBeaconsMissing
        exp_alerts: []
      - eval_time: 25m
        alertname: IotorinoBeaconsMissing
        exp_alerts:
          - exp_labels: {severity: warning}
            exp_annotations:
              summary: "1 beacon non visti da 15 minuti / beacons unseen for 15 minutes"
              runbook: "README.md#runbook-a-gateway-is-down"

  - interval: 1m
    input_series:
      # The web application fails its scrapes from 3m; the monitor answers throughout.
      - series: 'up{job="web", instance="web:8443"}'
        values: '1 1 1 0 0 0 0 0 0 0'
      - series: 'up{job="monitor", instance="monitor:8765"}'
        values: '1 1 1 1 1 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 4m
        alertname: IotorinoServiceDown
        exp_alerts: []
      - eval_time: 6m
        alertname: IotorinoServiceDown
        exp_alerts:
          - exp_labels: {severity: warning, job: web, instance: "web:8443"}
            exp_annotations:
              summary: "web (web:8443) non risponde / is not answering"
              runbook: "README.md#runbook-a-service-is-down"

  - interval: 1m
    input_series:
      # The newest published day ended at t=0 and no later day comes (exports stopped).
      - series: 'iotorino_export_last_partition_timestamp_seconds{instance="web:8443", dataset="air_quality_hourly"}'
        values: '0x2400'
      # noise_daily's day ends 6 h later (06:00-06:00): the same stop alerts 6 hours later.
      - series: 'iotorino_export_last_partition_timestamp_seconds{instance="web:8443", dataset="noise_daily"}'
        values: '0x2400'
      # A dataset exported every day: its newest day moves on by 86400 s every 24 hours.
      - series: 'iotorino_export_last_partition_timestamp_seconds{instance="web:8443", dataset="noise_hourly"}'
        values: '0x1439 86400x960'
    alert_rule_test:
      - eval_time: 30h
        alertname: IotorinoExportsLate
        exp_alerts: []
      # Late since 30h01m, alerting 10 minutes later.
      - eval_time: 30h5m
        alertname: IotorinoExportsLate
        exp_alerts: []
      - eval_time: 31h
        alertname: IotorinoExportsLate
        exp_alerts:
          - exp_labels: {severity: warning, instance: "web:8443", dataset: air_quality_hourly}
            exp_annotations:
              summary: "Open data air_quality_hourly in ritardo: ultimo giorno pubblicato 1d 7h 0m 0s fa / export late"
              runbook: "README.md#runbook-exports-are-late"
      - eval_time: 37h
        alertname: IotorinoExportsLate
        exp_alerts:
          - exp_labels: {severity: warning, instance: "web:8443", dataset: air_quality_hourly}
            exp_annotations:
              summary: "Open data air_quality_hourly in ritardo: ultimo giorno pubblicato 1d 13h 0m 0s fa / export late"
              runbook: "README.md#runbook-exports-are-late"
          - exp_labels: {severity: warning, instance: "web:8443", dataset: noise_daily}
            exp_annotations:
              summary: "Open data noise_daily in ritardo: ultimo giorno pubblicato 1d 13h 0m 0s fa / export late"
              runbook: "README.md#runbook-exports-are-late"
"""


@pytest.fixture
def rules_dir(provisioned, tmp_path):
    shutil.copy(provisioned.output / "prometheus" / "rules.yml", tmp_path / "rules.yml")
    (tmp_path / "tests.yml").write_text(RULE_TESTS)
    return tmp_path


def test_rules_and_config_are_valid(provisioned):
    result = subprocess.run([PROMTOOL, "check", "config", str(provisioned.output / "prometheus" / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_alert_rules_fire_when_they_should(rules_dir):
    result = subprocess.run([PROMTOOL, "test", "rules", "tests.yml"], cwd=rules_dir, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_rule_test_that_expects_the_wrong_thing_fails(rules_dir):
    """The harness can fail: a healthy collector expected to be down."""
    (rules_dir / "tests.yml").write_text(RULE_TESTS.replace("values: '1 1 0 0 0 0 0 0 0 0'",
                                                            "values: '1 1 1 1 1 1 1 1 1 1'"))
    result = subprocess.run([PROMTOOL, "test", "rules", "tests.yml"], cwd=rules_dir, capture_output=True, text=True)
    assert result.returncode != 0


def _poll(fetch, done, timeout_s: float = 60.0):
    """`fetch()` until `done(result)`; the last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if done(result):
            return result
        assert time.monotonic() < deadline, result
        time.sleep(1)


@pytest.mark.integration
def test_prometheus_scrapes_the_running_stack(secure_stack):
    """The collectors, the monitor's feed and the web application (over HTTPS, trusting the stack's CA) are
    scraped; a dataset whose newest day is long past makes IotorinoExportsLate pending, through the web
    application's /metrics reading the export manifest."""
    assert any(m.name == "prometheus" for m in secure_stack.members())
    api = f"http://127.0.0.1:{secure_stack.settings.prometheus_port}/api/v1"
    late = Path(render.exports_dir(secure_stack.target)) / "noise_hourly"
    late.mkdir(parents=True, exist_ok=True)
    (late / "manifest.json").write_text(json.dumps({"dataset": "noise_hourly", "modified": "2026-01-31T00:40:00Z", "files": {
        "noise_hourly/data/date=2026-01-30/part-0.parquet": {"period": "2026-01-30", "format": "parquet"}}}))

    def query(expr: str) -> list[dict]:
        return requests.get(f"{api}/query", params={"query": expr}, timeout=5).json()["data"]["result"]

    result = _poll(lambda: query("iotorino_mqtt_connected"), lambda r: len(r) == secure_stack.settings.collectors)
    connected = {r["metric"]["instance"]: r["value"][1] for r in result}
    assert connected == {f"127.0.0.1:{p}": "1" for p in secure_stack.settings.metrics_ports}
    jobs = {"collector", "monitor", "alerts", "web"}
    up = _poll(lambda: query("up"), lambda r: {x["metric"]["job"] for x in r if x["value"][1] == "1"} >= jobs)
    assert {x["metric"]["job"] for x in up if x["value"][1] == "1"} >= jobs
    assert len([x for x in up if x["metric"]["job"] == "alerts" and x["value"][1] == "1"]) == 2
    # 31 January 2026, 00:00 in Turin: the end of the newest published day.
    end = _poll(lambda: query('iotorino_export_last_partition_timestamp_seconds{dataset="noise_hourly"}'), bool)
    assert float(end[0]["value"][1]) == dt.datetime(2026, 1, 30, 23, tzinfo=dt.timezone.utc).timestamp()
    pending = _poll(lambda: requests.get(f"{api}/alerts", timeout=5).json()["data"]["alerts"],
                    lambda alerts: any(a["labels"]["alertname"] == "IotorinoExportsLate"
                                       and a["labels"].get("dataset") == "noise_hourly" for a in alerts))
    assert {a["state"] for a in pending if a["labels"].get("dataset") == "noise_hourly"} == {"pending"}
    # Every rule evaluated without error against the real series (health "unknown" until the first run).
    groups = _poll(lambda: requests.get(f"{api}/rules", timeout=5).json()["data"]["groups"],
                   lambda gs: all(rule["health"] != "unknown" for g in gs for rule in g["rules"]))
    assert {g["name"] for g in groups} == {"iotorino-collectors", "iotorino-ble", "iotorino-services", "iotorino-exports"}
    assert {rule["health"] for g in groups for rule in g["rules"]} == {"ok"}
    firing = requests.get(f"{api}/alerts", timeout=5).json()["data"]["alerts"]
    assert [a["labels"]["alertname"] for a in firing if a["labels"]["alertname"].startswith("IotorinoCollector")] == []

"""Grafana provisioning: the committed files are the generator's, and every panel's InfluxQL runs on real data."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from iotorino.core import paths
from iotorino.core.reading import Reading
from iotorino.schools import grafana

NS = 1_000_000_000


def test_committed_files_are_what_the_generator_writes():
    for relative, text in grafana.files().items():
        assert (paths.ROOT / "deploy" / "grafana" / relative).read_text(encoding="utf-8") == text, relative


def test_structure_and_no_secret_in_the_files():
    source = yaml.safe_load(grafana.files()["provisioning/datasources/iotorino.yaml"])["datasources"][0]
    assert source["type"] == "influxdb" and source["access"] == "proxy"
    assert source["secureJsonData"]["password"].startswith("$")  # from the environment only
    board = json.loads(grafana.files()["dashboards/scuole.json"])
    assert board["uid"] == grafana.DASHBOARD_UID and board["templating"]["list"][0]["name"] == "school"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) == len(grafana.PANELS)
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == grafana.DATASOURCE_UID
        assert "$timeFilter" in panel["targets"][0]["query"] and "$school" in panel["targets"][0]["query"]


@pytest.mark.integration
def test_every_panel_query_returns_data_from_influxdb(influx):
    now = time.time_ns()
    readings = []
    for i in range(12):
        t = now - (i + 1) * 300 * NS
        readings += [
            Reading("energy", {"school": "TO-SC-01", "meter": "M1"},
                    {"total_active_energy_import": 1000.0 + i, "total_active_power": 12_000.0}, t),
            Reading("heat", {"school": "TO-SC-01", "meter": "H1"},
                    {"heat_energy": 5000.0 + i, "heat_power": 80_000.0, "flow_temperature": 55.0,
                     "return_temperature": 43.0}, t),
            Reading("indoor_climate", {"school": "TO-SC-01", "room": "R01"},
                    {"co2": 900.0 + 50 * i, "temperature": 21.0, "relative_humidity": 45.0}, t),
            Reading("outdoor_climate", {"school": "TO-SC-01"}, {"temperature": 8.0, "relative_humidity": 80.0}, t),
        ]
    influx.write(readings)
    (variable,) = influx.query(grafana.SCHOOL_VARIABLE_QUERY)
    assert ["school", "TO-SC-01"] in variable["values"]
    for title, _, query, _ in grafana.PANELS:
        concrete = (query.replace("$timeFilter", "time > now() - 2h").replace("$__interval", "5m")
                    .replace("$school", "TO-SC-01"))
        series = influx.query(concrete)
        assert series and any(v[1] is not None for s in series for v in s["values"]), title

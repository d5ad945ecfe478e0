"""Grafana provisioning for cities that already run Grafana: the InfluxDB datasource and the school dashboard.

Written as data by `write(out)` into `deploy/grafana/` (a test checks the committed
files equal what this module writes, and runs every panel's InfluxQL against a
real InfluxDB with data). Grafana's own macros stay in the queries:
`$timeFilter`, `$__interval`, and the dashboard variable `$school`. The
datasource reads the password from the environment (`$IOTORINO_INFLUX_READER_PASSWORD`),
never from the file. Titles are Italian first, English beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

DATASOURCE_UID = "iotorino-influxdb"
DASHBOARD_UID = "iotorino-scuole"
SCHEMA_VERSION = 39


def datasource() -> dict:
    """The datasource provisioning file: InfluxDB 1.x (InfluxQL), proxied, a reader user."""
    return {
        "apiVersion": 1,
        "datasources": [{
            "name": "IoTorino InfluxDB",
            "uid": DATASOURCE_UID,
            "type": "influxdb",
            "access": "proxy",
            "url": "$IOTORINO_INFLUX_URL",
            "database": "$IOTORINO_INFLUX_DB",
            "user": "$IOTORINO_INFLUX_READER_USER",
            "jsonData": {"httpMode": "GET", "timeInterval": "1m"},
            "secureJsonData": {"password": "$IOTORINO_INFLUX_READER_PASSWORD"},
            "isDefault": True,
            "editable": False,
        }],
    }


def provider() -> dict:
    """The dashboard provider: the JSON files of `/var/lib/grafana/dashboards/iotorino`."""
    return {
        "apiVersion": 1,
        "providers": [{
            "name": "iotorino",
            "folder": "IoTorino",
            "type": "file",
            "disableDeletion": True,
            "allowUiUpdates": False,
            "options": {"path": "/var/lib/grafana/dashboards/iotorino", "foldersFromFilesStructure": False},
        }],
    }


# (title, unit, query, thresholds): one time-series panel each.
PANELS = (
    ("Potenza elettrica / Electric power", "kwatt",
     'SELECT mean("total_active_power") / 1000 FROM "energy" WHERE "school" =~ /^$school$/ AND $timeFilter '
     'GROUP BY time($__interval), "meter" fill(null)', None),
    ("Potenza termica / Heat power", "kwatt",
     'SELECT mean("heat_power") / 1000 FROM "heat" WHERE "school" =~ /^$school$/ AND $timeFilter '
     'GROUP BY time($__interval), "meter" fill(null)', None),
    ("CO₂ nelle aule / Classroom CO₂", "ppm",
     'SELECT mean("co2") FROM "indoor_climate" WHERE "school" =~ /^$school$/ AND $timeFilter '
     'GROUP BY time($__interval), "room" fill(null)', (1000, 1500, 2000)),
    ("Temperatura nelle aule / Classroom temperature", "celsius",
     'SELECT mean("temperature") FROM "indoor_climate" WHERE "school" =~ /^$school$/ AND $timeFilter '
     'GROUP BY time($__interval), "room" fill(null)', (18, 22)),
    ("Temperatura esterna / Outdoor temperature", "celsius",
     'SELECT mean("temperature") FROM "outdoor_climate" WHERE "school" =~ /^$school$/ AND $timeFilter '
     'GROUP BY time($__interval) fill(null)', None),
    ("Temperature di mandata e ritorno / Flow and return", "celsius",
     'SELECT mean("flow_temperature") AS "mandata", mean("return_temperature") AS "ritorno" FROM "heat" '
     'WHERE "school" =~ /^$school$/ AND $timeFilter GROUP BY time($__interval) fill(null)', None),
)
SCHOOL_VARIABLE_QUERY = 'SHOW TAG VALUES FROM "energy" WITH KEY = "school"'


def _panel(number: int, title: str, unit: str, query: str, thresholds) -> dict:
    steps = [{"color": "green", "value": None}]
    for value, colour in zip(thresholds or (), ("yellow", "orange", "red")):
        steps.append({"color": colour, "value": value})
    return {
        "id": number,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "influxdb", "uid": DATASOURCE_UID},
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps},
                                     "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [{"refId": "A", "rawQuery": True, "resultFormat": "time_series", "query": query,
                     "datasource": {"type": "influxdb", "uid": DATASOURCE_UID}}],
    }


def dashboard() -> dict:
    """The school dashboard: power, heat, classroom air and outdoor temperature for one school."""
    return {
        "uid": DASHBOARD_UID,
        "title": "IoTorino — Scuole / Schools",
        "tags": ["iotorino", "scuole", "schools"],
        "timezone": "Europe/Rome",
        "schemaVersion": SCHEMA_VERSION,
        "editable": False,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "templating": {"list": [{
            "name": "school",
            "label": "Scuola / School",
            "type": "query",
            "datasource": {"type": "influxdb", "uid": DATASOURCE_UID},
            "query": SCHOOL_VARIABLE_QUERY,
            "refresh": 1,
            "includeAll": False,
            "multi": False,
            "sort": 1,
        }]},
        "panels": [_panel(i, *spec) for i, spec in enumerate(PANELS, start=1)],
    }


def files() -> dict[str, str]:
    """Relative path -> text of every provisioning file."""
    return {
        "provisioning/datasources/iotorino.yaml": yaml.safe_dump(datasource(), sort_keys=False, allow_unicode=True),
        "provisioning/dashboards/iotorino.yaml": yaml.safe_dump(provider(), sort_keys=False, allow_unicode=True),
        "dashboards/scuole.json": json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n",
    }


def write(out: Path) -> list[Path]:
    """Write the provisioning files under `out`; return their paths."""
    written = []
    for relative, text in files().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    from iotorino.core import paths

    for p in write(paths.ROOT / "deploy" / "grafana"):
        print(p)

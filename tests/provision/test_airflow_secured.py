"""Airflow's tasks against the secured InfluxDB: the downsampler writes as `downsampler`, the exports'
read-only user could not."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from iotorino.provision.secrets import SecretStore
from tests.export.helpers import load_dag

pytestmark = pytest.mark.integration
UNIT = "TO-SU-0001"


@pytest.fixture
def connections(secure_stack, monkeypatch, tmp_path):
    secrets = SecretStore(secure_stack.settings.output / "secrets")
    where = f"127.0.0.1:{secure_stack.settings.influx_port}/{secure_stack.settings.database}"
    monkeypatch.setenv("AIRFLOW_CONN_IOTORINO_INFLUX", f"http://exports:{secrets.service('influx-exports')}@{where}")
    monkeypatch.setenv("AIRFLOW_CONN_IOTORINO_INFLUX_WRITER",
                       f"http://downsampler:{secrets.service('influx-downsampler')}@{where}")
    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tmp_path))
    return secrets


def _hourly_points(stack, secrets, start_s: int) -> int:
    body = requests.post(f"{stack.influx_url}/query", auth=("exports", secrets.service("influx-exports")), timeout=10,
                         data={"db": stack.settings.database, "epoch": "s",
                               "q": f'SELECT * FROM "hourly"."noise" WHERE "unit" = \'{UNIT}\' AND time >= {start_s}s'}
                         ).json()
    series = body["results"][0].get("series", [])
    return len(series[0]["values"]) if series else 0


def test_downsampling_writes_with_the_writer_connection_only(airflow_db, secure_stack, connections, monkeypatch):
    start = datetime.fromtimestamp(time.time() // 3600 * 3600 - 3 * 3600, timezone.utc)
    start_s = int(start.timestamp())
    lines = "\n".join(f"noise,unit={UNIT},district=1 laeq={50 + i % 10}.0 {start_s + i * 60}000000000"
                      for i in range(120))
    assert requests.post(f"{secure_stack.influx_url}/write", params={"db": secure_stack.settings.database},
                         data=lines, auth=("collector", connections.service("influx-collector")),
                         timeout=10).status_code == 204
    conf = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    dag = load_dag("downsample_hourly")

    monkeypatch.delenv("AIRFLOW_CONN_IOTORINO_INFLUX_WRITER")
    refused = dag.test(logical_date=start + timedelta(hours=2), run_conf=conf)
    assert refused.state == "failed"  # the exports' read-only user may not write
    assert _hourly_points(secure_stack, connections, start_s) == 0

    monkeypatch.setenv("AIRFLOW_CONN_IOTORINO_INFLUX_WRITER", f"http://downsampler:"
                       f"{connections.service('influx-downsampler')}@127.0.0.1:{secure_stack.settings.influx_port}"
                       f"/{secure_stack.settings.database}")
    run = dag.test(logical_date=start + timedelta(hours=2, minutes=1), run_conf=conf)
    assert run.state == "success"
    assert _hourly_points(secure_stack, connections, start_s) == 2

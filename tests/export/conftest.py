"""Shared fixtures of the export tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def exports(influx, tmp_path, monkeypatch):
    """The DAGs' environment: the test's InfluxDB database, exports into the test's tmp dir (returned)."""
    monkeypatch.setenv("IOTORINO_INFLUX_URL", influx.settings.url)
    monkeypatch.setenv("IOTORINO_INFLUX_DB", influx.settings.database)
    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tmp_path))
    return tmp_path

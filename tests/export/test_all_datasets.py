"""Every dataset for a simulated stretch of a day: opens in pandas and DuckDB, valid DCAT, re-run byte-identical."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import duckdb
import jsonschema
import pandas as pd
import pytest

from iotorino.core import catalogue, inventory, paths
from iotorino.export import registry, run_export
from tests.export.helpers import utc

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 21)


def simulate_into(influx, start, end) -> int:
    """The whole fleet's simulated messages for [start, end), decoded by the MQTT pipeline, into the store."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.app import build_pipeline
    from iotorino.simulate import iter_messages

    pipeline = build_pipeline(collector_config.from_dict({"subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}]}))
    readings = []
    for message in iter_messages(inventory.default(), catalogue.default(), start, end, seed=7):
        readings += pipeline.process(message.topic, message.payload, time.time_ns())
    for i in range(0, len(readings), 5000):
        influx.write(readings[i : i + 5000])
    return len(readings)


def test_every_dataset_opens_everywhere_and_reruns_identically(influx, tmp_path):
    start = utc(2026, 11, 21, 7)
    assert simulate_into(influx, start, start + timedelta(hours=1)) > 1000
    schema = json.loads((paths.SCHEMAS / "dcat-ap_it.dataset.schema.json").read_text())
    first = {}
    for name in registry():
        result = run_export(name, DAY, influx.settings, tmp_path)
        root = tmp_path / name
        frame = pd.read_parquet(root / "data")
        assert len(frame) == result.rows
        (count,) = duckdb.sql(f"SELECT count(*) FROM read_parquet('{root}/data/*/*.parquet', hive_partitioning=true)").fetchall()[0]
        assert count == result.rows
        document = json.loads((root / "dcat.jsonld").read_text())
        jsonschema.validate(document, schema)
        dictionary = pd.read_csv(root / "dictionary.csv", keep_default_na=False)
        assert list(dictionary["column"]) == list(frame.columns.drop("date", errors="ignore")), name
        for row in dictionary.itertuples():  # every column described in Italian and in English
            assert row.description_it and row.description_en and row.description_it != row.description_en, (name, row.column)
        columns = document["csvw:tableSchema"]["csvw:column"]
        assert [c["csvw:name"] for c in columns] == list(dictionary["column"])
        assert all([t["@language"] for t in c["dct:description"]] == ["it", "en"] for c in columns), name
        first[name] = sorted((p.relative_to(tmp_path), p.read_bytes()) for p in root.rglob("*") if p.is_file())
    for name in registry():
        run_export(name, DAY, influx.settings, tmp_path)
        again = sorted((p.relative_to(tmp_path), p.read_bytes()) for p in (tmp_path / name).rglob("*") if p.is_file())
        assert again == first[name], name
    assert pd.read_parquet(tmp_path / "air_quality_hourly" / "data")["completeness"].between(0, 1).all()

"""stations and schools: GeoParquet 1.1 points from the real inventory, readable by DuckDB and GeoPandas as geometry."""

from __future__ import annotations

import json
import struct
from datetime import date

import duckdb
import geopandas
import pyarrow.parquet as pq
import pytest

from iotorino.core import inventory
from iotorino.export import run_export
from iotorino.core.store.influx_v1 import InfluxV1Settings

# The dimension tables never touch the store.
NO_STORE = InfluxV1Settings(url="http://127.0.0.1:9", database="unused")


@pytest.mark.parametrize("name, id_column, fleet", [("stations", "unit_id", "street_units"), ("schools", "school_id", "schools")])
def test_dimension_is_geoparquet_of_the_inventory(tmp_path, name, id_column, fleet):
    result = run_export(name, date(2026, 11, 21), NO_STORE, tmp_path)
    items = getattr(inventory.default(), fleet)
    table = pq.read_table(result.path)
    assert result.rows == len(items)

    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["Point"] and "crs" not in column
    lons = [i.lon for i in items.values()]
    lats = [i.lat for i in items.values()]
    assert column["bbox"] == [min(lons), min(lats), max(lons), max(lats)]

    for row in table.to_pylist():
        item = items[row[id_column]]
        assert struct.unpack("<BIdd", row["geometry"]) == (1, 1, item.lon, item.lat)
        assert row["district"] == item.district

    (geometry_type,) = duckdb.sql(f"SELECT typeof(geometry) FROM read_parquet('{result.path}') LIMIT 1").fetchall()[0]
    assert geometry_type.startswith("GEOMETRY")
    assert "Turin circoscrizione" in json.loads(table.schema.metadata[b"iotorino:columns"])["district"]["description"]


@pytest.mark.parametrize("name, id_column, fleet", [("stations", "unit_id", "street_units"), ("schools", "school_id", "schools")])
def test_dimension_opens_in_geopandas(tmp_path, name, id_column, fleet):
    result = run_export(name, date(2026, 11, 21), NO_STORE, tmp_path)
    frame = geopandas.read_parquet(result.path)
    items = getattr(inventory.default(), fleet)
    assert frame.crs.to_string() == "OGC:CRS84" and set(frame.geom_type) == {"Point"}
    for row in frame.itertuples():
        item = items[getattr(row, id_column)]
        assert (row.geometry.x, row.geometry.y) == (item.lon, item.lat)

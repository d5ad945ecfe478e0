"""Downloads over real HTTP from the app in uvicorn: content types, ETag/304, byte ranges read by pyarrow over fsspec, no traversal."""

from __future__ import annotations

import hashlib
import http.client
import io

import fsspec
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import requests

from iotorino.export import read_manifest
from tests.export.published import DATASET
from tests.web.conftest import DAYS, UNITS


def url(server, period, fmt):
    return f"{server.url}/dati/{DATASET}/{period}.{fmt}"


@pytest.mark.parametrize("period", [DAYS[0].isoformat(), "2026-01", "2026"])
def test_parquet_and_csv_for_a_day_a_month_a_year_with_checksums_from_the_manifest(server, published, period):
    manifest = read_manifest(published, DATASET)["files"]
    for fmt, media in (("parquet", "application/vnd.apache.parquet"), ("csv", "text/csv; charset=utf-8")):
        response = requests.get(url(server, period, fmt), timeout=10)
        assert response.status_code == 200 and response.headers["content-type"] == media
        entry = next(e for e in manifest.values() if e["period"] == period and e["format"] == fmt)
        assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
        assert response.headers["etag"] == f'"{entry["sha256"]}"'
        assert response.headers["accept-ranges"] == "bytes" and response.headers["last-modified"].endswith("GMT")
        assert int(response.headers["content-length"]) == entry["bytes"]
    table = pq.read_table(io.BytesIO(requests.get(url(server, period, "parquet"), timeout=10).content))
    csv_table = pacsv.read_csv(io.BytesIO(requests.get(url(server, period, "csv"), timeout=10).content))
    assert table.num_rows == csv_table.num_rows == entry["rows"]


def test_conditional_get_answers_304_and_head_answers_headers_only(server):
    first = requests.get(url(server, "2026", "parquet"), timeout=10)
    again = requests.get(url(server, "2026", "parquet"), headers={"If-None-Match": first.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    changed = requests.get(url(server, "2026", "parquet"), headers={"If-None-Match": '"older"'}, timeout=10)
    assert changed.status_code == 200
    head = requests.head(url(server, "2026", "parquet"), timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == first.headers["content-length"]


def test_range_requests_return_exactly_the_bytes_asked_for(server):
    whole = requests.get(url(server, "2026", "parquet"), timeout=10).content
    part = requests.get(url(server, "2026", "parquet"), headers={"Range": "bytes=4-99"}, timeout=10)
    assert part.status_code == 206 and part.content == whole[4:100]
    assert part.headers["content-range"] == f"bytes 4-99/{len(whole)}"
    tail = requests.get(url(server, "2026", "parquet"), headers={"Range": "bytes=-8"}, timeout=10)
    assert tail.content == whole[-8:] and tail.content.endswith(b"PAR1")
    beyond = requests.get(url(server, "2026", "parquet"), headers={"Range": f"bytes={len(whole) + 10}-"}, timeout=10)
    assert beyond.status_code == 416


def test_pyarrow_reads_a_remote_file_partially_through_fsspec(server, published):
    fs = fsspec.filesystem("http")
    target = url(server, "2026", "parquet")
    with fs.open(target, mode="rb", block_size=4096, cache_type="bytes") as remote:
        parquet = pq.ParquetFile(remote)
        assert parquet.metadata.num_row_groups == 2
        first_group = parquet.read_row_group(0, columns=["unit_id", "pm10_mean"])
        fetched = remote.cache.total_requested_bytes
    local = pq.ParquetFile(published / DATASET / "yearly" / f"{DATASET}_2026.parquet")
    assert first_group.equals(local.read_row_group(0, columns=["unit_id", "pm10_mean"]))
    size = (published / DATASET / "yearly" / f"{DATASET}_2026.parquet").stat().st_size
    assert 0 < fetched < size / 2  # the footer and two column chunks, not the file
    # pyarrow's own HTTP path (dataset API over fsspec), filtering by a sorted column's statistics.
    table = pq.read_table(target, filesystem=fs, filters=[("unit_id", "=", "TO-SU-0002")], columns=["unit_id", "date"])
    assert set(table["unit_id"].to_pylist()) == {"TO-SU-0002"} and table.num_rows == len(DAYS) * 24


@pytest.mark.parametrize("path", [
    "/dati/../../etc/passwd",
    "/dati/%2e%2e/%2e%2e/etc/passwd",
    f"/dati/{DATASET}/..%2f..%2f..%2fetc%2fpasswd",
    f"/dati/{DATASET}/%2e%2e%2fmanifest.json",
    f"/dati/..%2f{DATASET}/2026.parquet",
    "/static/../app.py",
    "/static/..%2f..%2fweb%2fsettings.py",
    "/static/%2e%2e/%2e%2e/core/paths.py",
    "/en/../../etc/passwd",
])
def test_path_traversal_is_refused(server, path):
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)  # sent as is, not normalised by a client library
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status in (400, 404)
    assert b"root:" not in body and b"import " not in body and b"Traceback" not in body

"""The JSON-lines capture format: round trip, tokens instead of addresses, errors naming the line."""

from __future__ import annotations

import json

import jsonschema
import pytest

from iotorino.core import paths
from iotorino.core.errors import Rejected
from ingest.ble_beacons import capture
from tests.ble_beacons import captures


def test_round_trip_and_schema():
    schema = json.loads((paths.SCHEMAS / "ble_capture.schema.json").read_text())
    for advert in captures.TWO_WINDOWS:
        line = capture.to_line(advert)
        jsonschema.validate(json.loads(line), schema)
        assert capture.from_line(line) == advert


def test_writer_replaces_addresses_by_tokens(tmp_path):
    path = tmp_path / "rec.jsonl"
    writer = capture.CaptureWriter(path)
    for advert in captures.TWO_WINDOWS[:4]:
        writer.write(advert)
    writer.close()
    text = path.read_text()
    assert "C3:00" not in text and '"address":"adv-0001"' in text
    assert [a.address for a in capture.read(path)] == ["adv-0001", "adv-0002", "adv-0001", "adv-0003"]


def test_bad_line_names_line_and_accepted(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(capture.to_line(captures.TWO_WINDOWS[0]) + "\n\n" + '{"time": "yesterday", "address": "x", "rssi": -1}\n')
    with pytest.raises(Rejected, match=r"bad\.jsonl:3\.time"):
        list(capture.read(path))
    with pytest.raises(Rejected, match="rssi"):
        capture.from_line('{"time": "2026-11-21T10:00:00.000Z", "address": "x", "rssi": "-1"}')

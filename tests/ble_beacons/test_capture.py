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


# Malformed lines as a broken recorder, a bad editor or a stranger's tool leave them, each carrying
# a phone's address or name so that quoting the line would leak it: (line, reason, field after "file:N").
_PHONE = {"time": "2026-11-21T10:00:01.500Z", "address": captures.PHONE_MAC, "rssi": -55}
MALFORMED = [
    (json.dumps({**_PHONE, "manufacturer_data": {"0x004c": "1005031c0b6a1"}}), "bad_hex", ".manufacturer_data[1]"),
    (json.dumps({**_PHONE, "service_data": {"0000feaa-0000-1000-8000-00805f9b34fb": "zz"}}), "bad_hex",
     ".service_data[1]"),
    (json.dumps(_PHONE)[:-1] + ', "local_name": "' + captures.PHONE_NAME + '",,}', "bad_json", ""),
    (json.dumps({**_PHONE, "rssi": captures.PHONE_MAC}), "bad_capture", ".rssi"),
    (json.dumps({**_PHONE, "time": captures.PHONE_MAC}), "bad_time", ".time"),
    (json.dumps({**_PHONE, "manufacturer_data": [captures.PHONE_MAC]}), "bad_capture", ".manufacturer_data"),
    (json.dumps({**_PHONE, "manufacturer_data": {captures.PHONE_MAC: "00"}}), "bad_capture",
     ".manufacturer_data[1]"),
    (json.dumps({**_PHONE, "local_name": 7, "tx_power": captures.PHONE_NAME}), "bad_capture", ".tx_power"),
    (json.dumps({**_PHONE, "service_uuids": captures.PHONE_NAME}), "bad_capture", ".service_uuids"),
    (json.dumps({"time": _PHONE["time"], "rssi": -55, "local_name": captures.PHONE_NAME}), "missing_key",
     ".address"),
    (json.dumps([captures.PHONE_MAC]), "bad_capture", ""),
]
# The last line of a capture whose recorder was killed mid-write: no newline, cut just after the address.
TRUNCATED = capture.to_line(captures.phone(30))[:70]


def corrupted_capture(path):
    """TWO_WINDOWS with every MALFORMED line, a line of invalid UTF-8 and a truncated last line mixed in;
    returns {line number: (reason, field)} of the bad lines."""
    good = [capture.to_line(a) for a in captures.TWO_WINDOWS]
    bad = [(line.encode(), reason, field) for line, reason, field in MALFORMED]
    bad.append((b'{"address": "' + captures.PHONE_NAME.encode("utf-16") + b'"}', "bad_utf8", ""))
    lines, expected = [], {}
    for n, line in enumerate(good):
        lines.append(line.encode())
        if n < len(bad):
            lines.append(bad[n][0])
            expected[len(lines)] = bad[n][1:]
    path.write_bytes(b"\n".join(lines) + b"\n" + TRUNCATED.encode())
    expected[len(lines) + 1] = ("bad_json", "")
    return expected


def test_a_reader_skips_each_malformed_line_naming_line_and_field_never_its_content(tmp_path):
    path = tmp_path / "GW-01.jsonl"
    expected = corrupted_capture(path)
    skipped = []
    reader = capture.CaptureReader(path, skipped.append)
    assert list(reader) == captures.TWO_WINDOWS
    assert {s.line: (s.reason, s.field) for s in skipped} == {
        n: (reason, f"GW-01.jsonl:{n}{field}") for n, (reason, field) in expected.items()}
    assert (reader.read, reader.skipped) == (len(captures.TWO_WINDOWS), len(expected))
    said = " ".join(s.description for s in skipped)
    for trace in (captures.PHONE_MAC, "5A:11", captures.PHONE_NAME, "Maria", "1005031c0b6a1"):
        assert trace not in said
    assert "odd-length hex" in said and "GW-01.jsonl:2" in said


def test_without_a_skip_handler_the_first_malformed_line_raises_naming_it(tmp_path):
    path = tmp_path / "GW-01.jsonl"
    corrupted_capture(path)
    with pytest.raises(Rejected, match=r"GW-01\.jsonl:2\.manufacturer_data\[1\]") as raised:
        list(capture.read(path))
    assert captures.PHONE_MAC not in str(raised.value)

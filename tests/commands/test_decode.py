"""`iotorino decode` as an operator runs it: line protocol and exit 0, or the reason on stderr and exit 1."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timezone

import pytest

from tests import cli
from tests.mqtt.formats.test_chirpstack import OUTDOOR_EVENT, OUTDOOR_TOPIC
from tests.mqtt.formats.test_ttn import METER_TOPIC, METER_UPLINK

# Relative times (seconds before receipt) keep these packs inside the collector's time window whenever the test runs.
ROOM_PACK = b'[{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": -60, "n": "co2", "u": "ppm", "bver": 26, "v": 812},' \
            b' {"n": "temperature", "u": "K", "v": 294.65}]'


def _decode(cli_env, payload: bytes, *args: str) -> subprocess.CompletedProcess:
    return cli.run(["decode", *args], stdin=payload)


def _recent(document: bytes, *paths: str) -> bytes:
    """A captured message with its times (dotted paths) set to a minute ago, so the time window accepts it."""
    minute_ago = datetime.fromtimestamp(time.time() - 60, timezone.utc).isoformat().replace("+00:00", "Z")
    message = json.loads(document)
    for path in paths:
        *parents, last = path.split(".")
        node = message
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = minute_ago
    return json.dumps(message).encode()


def test_senml_pack_prints_line_protocol(cli_env):
    result = _decode(cli_env, ROOM_PACK, "--topic", "iotorino/senml/school/TO-SC-01/R01")
    assert result.returncode == 0, result.stderr.decode()
    [line] = result.stdout.decode().splitlines()
    assert line.startswith("indoor_climate,room=R01,school=TO-SC-01,time_source=receive co2=812")
    assert "temperature=21.5" in line


@pytest.mark.parametrize("topic, payload, times, measurement", [
    (METER_TOPIC, METER_UPLINK, ("uplink_message.rx_metadata.0.time", "uplink_message.rx_metadata.1.time"),
     "energy,meter=M1,school=TO-SC-01 "),
    (OUTDOOR_TOPIC, OUTDOOR_EVENT, ("rxInfo.0.gwTime",), "outdoor_climate,school=TO-SC-29 "),
])
def test_lorawan_uplinks_route_by_topic(cli_env, topic, payload, times, measurement):
    result = _decode(cli_env, _recent(payload, *times), "--topic", topic)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith(measurement)


def test_explicit_format(cli_env):
    result = _decode(cli_env, ROOM_PACK, "--topic", "iotorino/senml/school/TO-SC-01/R01", "--format", "senml")
    assert result.returncode == 0, result.stderr.decode()


def test_rejection_reason_on_stderr(cli_env):
    pack = b'[{"n": "temperature", "u": "degF", "v": 70}]'
    result = _decode(cli_env, pack, "--topic", "iotorino/senml/school/TO-SC-01/R01")
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode().strip() == (
        "rejected: unit: unit 'degF' cannot be converted to Cel (field 'temperature', value 'degF'; accepted: Cel, K)")


def test_chirpstack_event_without_codec_is_rejected(cli_env):
    event = json.loads(OUTDOOR_EVENT)
    del event["object"]
    result = _decode(cli_env, json.dumps(event).encode(), "--topic", OUTDOOR_TOPIC)
    assert result.returncode == 1
    assert "rejected: schema: no object" in result.stderr.decode()


def test_unknown_format_is_refused_with_the_choices(cli_env):
    result = _decode(cli_env, ROOM_PACK, "--topic", "iotorino/senml/school/TO-SC-01/R01", "--format", "cayenne")
    assert result.returncode == 2
    assert "chirpstack" in result.stderr.decode() and "senml" in result.stderr.decode()


def test_a_half_invalid_message_prints_its_valid_fields_and_each_quarantined_value(cli_env):
    minute_ago = datetime.fromtimestamp(time.time() - 60, timezone.utc).isoformat()
    payload = json.dumps({"time": minute_ago, "fields": {"pm25": 14.2, "no2": -999.0}}).encode()
    result = _decode(cli_env, payload, "--topic", "iotorino/v1/street/TO-SU-0001/air_quality")
    assert result.returncode == 0, result.stderr.decode()
    assert "pm25=14.2,quarantined_values=1i " in result.stdout.decode()
    assert "quarantined: out_of_range: air_quality.no2" in result.stderr.decode()

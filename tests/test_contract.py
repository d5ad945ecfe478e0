"""The native topic contract."""

import pytest

from ingest.mqtt.pipeline import topic_matches
from iotorino.core.contract import TopicAddress, parse
from iotorino.core.errors import Rejected


def test_street_school_beacon_and_gateway_topics():
    assert parse("iotorino/v1/street/TO-SU-0001/air_quality") == TopicAddress("street", "TO-SU-0001", None, "air_quality")
    assert parse("iotorino/v1/school/TO-SC-01/R03/indoor_climate") == TopicAddress("school", "TO-SC-01", "R03", "indoor_climate")
    assert parse("iotorino/v1/beacon/TO-BC-0001/GW-1/beacon_sighting").point == "GW-1"
    assert parse("iotorino/v1/gateway/GW-1/ble_gateway") == TopicAddress("gateway", "GW-1", None, "ble_gateway")


@pytest.mark.parametrize("topic", [
    "sensors/x", "iotorino/v1/lake/x/y", "iotorino/v1/street/TO-SU-0001", "iotorino/v1/street//air_quality",
    "iotorino/v1/school/TO-SC-01/air_quality", "iotorino/v1/street/TO-SU-0001/air_quality/extra",
    "iotorino/v1/gateway/GW-1/x/ble_gateway",
])
def test_bad_topics_are_rejected_naming_the_topic(topic):
    with pytest.raises(Rejected) as caught:
        parse(topic)
    assert caught.value.reason == "unknown_topic" and caught.value.value == topic and caught.value.accepted


@pytest.mark.parametrize("pattern, topic, expected", [
    ("iotorino/v1/#", "iotorino/v1/street/a/b", True),
    ("iotorino/v1/street/+/noise", "iotorino/v1/street/a/noise", True),
    ("iotorino/v1/street/+/noise", "iotorino/v1/street/a/weather", False),
    ("iotorino/v1/street/+", "iotorino/v1/street/a/b", False),
    ("$share/g/iotorino/v1/#", "iotorino/v1/x", True),
    ("v3/+/devices/+/up", "v3/app/devices/dev/up", True),
])
def test_topic_filters(pattern, topic, expected):
    assert topic_matches(pattern, topic) is expected

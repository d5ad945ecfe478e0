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


# -- building topics and payloads ------------------------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from iotorino.core import contract  # noqa: E402
from iotorino.core.times import parse_time  # noqa: E402

LEVEL = st.text(st.characters(blacklist_characters="/+#\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)


@given(st.sampled_from(["street", "school", "beacon", "gateway"]), LEVEL, LEVEL, LEVEL)
def test_every_built_topic_parses_back_to_its_address(site, site_id, point, measurement):
    address = TopicAddress(site, site_id, point if site in ("school", "beacon") else None, measurement)
    assert parse(address.topic) == address


def test_builders_name_the_four_families():
    assert contract.street_topic("TO-SU-0001", "air_quality") == "iotorino/v1/street/TO-SU-0001/air_quality"
    assert contract.school_topic("TO-SC-01", "outdoor", "outdoor_climate") == \
        "iotorino/v1/school/TO-SC-01/outdoor/outdoor_climate"
    assert contract.beacon_topic("TO-BC-0001", "GW-1", "beacon_sighting") == \
        "iotorino/v1/beacon/TO-BC-0001/GW-1/beacon_sighting"
    assert contract.gateway_topic("GW-1", "ble_gateway") == "iotorino/v1/gateway/GW-1/ble_gateway"
    assert contract.topic_filter("school", "energy") == "iotorino/v1/school/+/+/energy"


@pytest.mark.parametrize("site, site_id, point, measurement", [
    ("street", "TO/SU", None, "noise"), ("street", "TO-SU-0001", "x", "noise"), ("school", "TO-SC-01", None, "energy"),
    ("school", "TO-SC-01", "+", "energy"), ("lake", "x", None, "y"), ("gateway", "GW-1", None, "#"),
])
def test_a_topic_that_could_not_be_parsed_back_is_not_built(site, site_id, point, measurement):
    with pytest.raises(Rejected) as caught:
        contract.topic(site, site_id, point, measurement)
    assert caught.value.reason == "unknown_topic" and caught.value.accepted


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
                       st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**6, 10**6) | st.booleans(),
                       min_size=1, max_size=5),
       st.none() | st.integers(946_684_800 * 10**9, 4_102_444_799 * 10**9))
def test_encoded_payloads_decode_to_what_was_encoded(fields, time_ns):
    decoded = contract.decode(contract.encode(fields, time_ns))
    assert decoded.fields == fields and decoded.time_ns == time_ns


def test_the_gateways_payload_is_what_it_was():
    assert contract.encode({"sightings": 3}, parse_time("2026-11-18T09:45:00Z")) == \
        b'{"time":"2026-11-18T09:45:00.000Z","fields":{"sightings":3}}'

"""Field-level quarantine in the collector: the valid fields of a message stored, each invalid value a dead letter."""

from __future__ import annotations

import json

from ingest.mqtt.deadletters import DeadLetterStore
from tests.mqtt.streams import wait_for
from tests.mqtt.test_collector import NOW, TOPIC, UNIT, collector  # noqa: F401 (the fixture: scripted store)

# A street unit whose NO2 cell failed and whose O3 cell sends text: its PM values are good.
HALF_INVALID = json.dumps({"time": NOW / 1e9 - 100, "fields": {"pm25": 14.2, "pm10": 22.8, "no2": -999.0,
                                                                 "o3": "err"}}).encode()


def test_a_half_invalid_message_stores_its_valid_fields_and_dead_letters_each_invalid_value(collector):
    running, writer, session = collector
    writer.release.set()
    running._on_messages(1, [(11, TOPIC, HALF_INVALID)])
    wait_for(lambda: session.acks == [[11]], what="the message acknowledged")
    [body] = writer.bodies
    assert body == (f"air_quality,district={UNIT.district},unit={UNIT.id} "
                    f"pm25=14.2,pm10=22.8,quarantined_values=2i {NOW - 100 * 10**9}").encode()
    letters = list(DeadLetterStore(running.config.deadletters_path).list())
    assert [(d.reason, d.field, d.topic, d.payload) for d in letters] == [
        ("out_of_range", "no2", TOPIC, HALF_INVALID), ("type", "o3", TOPIC, HALF_INVALID)]
    assert "air_quality.no2" in letters[0].detail and "-999.0" in letters[0].detail
    assert "0 to 2000 ug/m3" in letters[0].detail
    assert running.stats.stored_messages == 1 and running.stats.rejected == {"out_of_range": 1, "type": 1}

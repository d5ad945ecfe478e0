"""Dead letters take any content: text a UTF-8 codec refuses, any payload bytes; a replay never stops on one."""

from __future__ import annotations

import json

from ingest.mqtt.deadletters import DeadLetterStore, safe_text
from ingest.mqtt.replay import replay
from iotorino.core.errors import Rejected

TOPIC = "iotorino/v1/street/TO-SU-0001/air_quality"
# The poison message: a JSON key written as a lone surrogate escape; json.loads makes it the str "\ud800".
LONE_SURROGATE_KEY = b'{"time": 1794995100, "fields": {"\\ud800": 1}}'
NOT_UTF8 = b"\xff\xfe{\x00\x80"


def test_safe_text_escapes_only_what_utf8_refuses():
    assert safe_text("pm2.5 µg/m³") == "pm2.5 µg/m³"
    assert safe_text("key \ud800!") == "key \\ud800!"


def test_rejections_quoting_lone_surrogates_are_stored_with_their_payload_bytes(tmp_path):
    key = next(iter(json.loads(LONE_SURROGATE_KEY)["fields"]))
    assert key == "\ud800"
    store = DeadLetterStore(tmp_path / "dl.sqlite")
    store.add_many([
        (TOPIC, LONE_SURROGATE_KEY, Rejected("unknown_field", f"no field {key}", field=key, value=1), 1),
        (TOPIC, NOT_UTF8, Rejected("undecodable", f"raw {key}"), 2),
        (TOPIC, b"{}", Rejected("type", "expected a number", field="pm25", value="\udc80\udcff"), 3),
    ])
    letters = list(store.list())
    assert [(d.payload, d.reason, d.field) for d in letters] == [
        (LONE_SURROGATE_KEY, "unknown_field", "\\ud800"), (NOT_UTF8, "undecodable", None),
        (b"{}", "type", "pm25")]
    assert letters[0].detail.startswith("unknown_field: no field \\ud800")
    assert letters[1].detail == "undecodable: raw \\ud800"
    assert store.count_by_reason() == {"type": 1, "undecodable": 1, "unknown_field": 1}


class _BrokenPipeline:
    """A pipeline whose decoder has a bug: it raises something that is not a rejection."""

    def decode(self, topic, payload, received_ns):
        raise KeyError("\ud800")


class _UnusedWriter:
    def write(self, readings):
        raise AssertionError("nothing should be written")


def test_a_replay_meeting_a_decoder_bug_keeps_the_letter_and_goes_on(tmp_path):
    store = DeadLetterStore(tmp_path / "dl.sqlite")
    store.add(TOPIC, LONE_SURROGATE_KEY, Rejected("unknown_field", "no such field"))
    store.add(TOPIC, NOT_UTF8, Rejected("undecodable", "not UTF-8"))
    result = replay(store, _BrokenPipeline(), _UnusedWriter())
    assert result.still_rejected == [(1, "internal: KeyError while replaying"),
                                     (2, "internal: KeyError while replaying")]
    assert len(list(store.list())) == 2

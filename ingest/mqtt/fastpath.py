"""The native format's fast path: a plan compiled once per topic, then line protocol straight from the payload.

Draining a backlog the collector handles tens of thousands of messages a
second, nearly all native messages from a few thousand topics. For each topic
this module resolves once what the generic pipeline (`ingest.mqtt.pipeline`)
works out for every message: the topic's device and tags in the inventory,
the measurement's field specs in the catalogue, the escaped series head and
field keys of the line protocol. Per message it then only parses the JSON
(orjson), checks each field against its type and plausible range and the
time against the window, and writes the line.

It accepts only what the generic pipeline accepts and writes the same line
protocol (tests/mqtt/test_fastpath.py checks both on generated messages). For
anything else it returns None and the generic pipeline decides, so
rejections keep their reasons and wording: an unknown field, a value out of
range or of the wrong type, a missing or implausible time, an integer where
the catalogue wants a whole-number field, JSON that orjson refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import orjson

from iotorino.core import contract as topics
from iotorino.core.times import UNIX_S_RANGE, parse_time, unix_ns
from iotorino.core.catalogue import Catalogue
from iotorino.core.errors import Rejected
from iotorino.core.inventory import Inventory
from iotorino.core.lineprotocol import escape_key, field_value, series_head
from iotorino.core.sites import label_of

# How a field's values are written; values of any other Python type take the generic path.
_FLOAT, _INTEGER, _BOOLEAN = 0, 1, 2
_KINDS = {"float": _FLOAT, "integer": _INTEGER, "boolean": _BOOLEAN}
# The text of float values already written (`repr`). Sensors repeat a few thousand values (one or two
# decimals), and a lookup costs a fifth of `repr`: about a tenth of the fast path during a drain. Bounded:
# emptied when full (at most ~6 MB). Zero is never kept: 0.0 and -0.0 are equal keys but not the same text.
MAX_FLOAT_TEXTS = 65_536
_float_texts: dict[float, str] = {}


def device_label(tags: Mapping[str, str]) -> str:
    """The device a reading's tags name, e.g. `TO-SU-0001` or `TO-SC-01/R12`: its one label (for metrics)."""
    return label_of(tags)


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """What every message on one native topic shares.

    `head` is the escaped series (`measurement,tag=value,...`) and a space;
    `fields` maps each catalogue field to its escaped `key=`, plausible range
    (low, high, in the field's unit) and kind.
    """

    head: str
    fields: Mapping[str, tuple[str, float, float, int]]
    device: str


def compile_topic(topic: str, catalogue: Catalogue, inventory: Inventory) -> TopicPlan:
    """The plan of a native topic; raises `Rejected` as the generic pipeline would for the topic."""
    address = topics.parse(topic)
    tags = inventory.tags_for(address.site, address.site_id, address.point, address.measurement)
    spec = catalogue.measurement(address.measurement)
    fields = {name: (escape_key(name) + "=", f.low, f.high, _KINDS[f.type]) for name, f in spec.fields.items()}
    return TopicPlan(series_head(address.measurement, tags) + " ", fields, device_label(tags))


def encode(plan: TopicPlan, payload: bytes, earliest_ns: int, latest_ns: int) -> tuple[bytes, int] | None:
    """(line, device time in ns) of a valid message with a time in [earliest_ns, latest_ns], else None."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    # Exactly "time" and "fields": anything else (a missing time, unknown keys) takes the generic path.
    if type(document) is not dict or len(document) != 2:
        return None
    values = document.get("fields")
    if type(values) is not dict or not values or "time" not in document:
        return None
    time_ns = _time_ns(document["time"])
    if time_ns is None or not earliest_ns <= time_ns <= latest_ns:
        return None
    specs = plan.fields
    texts = _float_texts
    parts = []
    for key, value in values.items():
        spec = specs.get(key)
        if spec is None:
            return None
        prefix, low, high, kind = spec
        if type(value) is float and kind == _FLOAT:  # nearly every value: one check, then its text
            # orjson reads no NaN or infinity, so the range check is complete.
            if not low <= value <= high:
                return None
            text = texts.get(value)
            if text is None:
                text = repr(value)
                if value:
                    if len(texts) >= MAX_FLOAT_TEXTS:
                        texts.clear()
                    texts[value] = text
            parts.append(prefix + text)
        else:
            text = _other_value(value, kind, low, high)
            if text is None:
                return None
            parts.append(prefix + text)
    return f"{plan.head}{','.join(parts)} {time_ns}".encode(), time_ns


def _time_ns(value: object) -> int | None:
    kind = type(value)
    if (kind is float or kind is int) and UNIX_S_RANGE[0] <= value < UNIX_S_RANGE[1]:
        return unix_ns(value)
    try:
        return parse_time(value)
    except Rejected:
        return None


def _other_value(value: object, kind: int, low: float, high: float) -> str | None:
    """Line protocol of an integer for a float or integer field, or a boolean for a boolean field; else None."""
    if type(value) is int:  # not a bool: `type`, not isinstance
        # Python compares a large int with a float exactly, as the catalogue does.
        if not low <= value <= high:
            return None
        if kind == _FLOAT:
            return repr(float(value))  # as the catalogue converts it
        return field_value(value) if kind == _INTEGER else None
    if type(value) is bool and kind == _BOOLEAN:
        return field_value(value)
    return None

"""The alert contract shared by the city and the school alerts: one JSON object per episode.

    {"id": "city/no2_hourly_limit/TO-SU-0001/2026-11-21T07:00:00.000Z",
     "kind": "no2_hourly_limit", "site": "TO-SU-0001",
     "start": "2026-11-21T07:00:00.000Z", "end": null, "rating": 7,
     "message_it": "...", "message_en": "...", "action_it": "...", "action_en": "..."}

- one alert per episode: `start` when it began, `end` null while it lasts and
  the time it ended afterwards; the `id` names scope, kind, site and start, so
  every update of an episode carries the same id;
- `rating` 0 (informative) to 10 (act now);
- text in Italian first, English beside it, for the people who read it;
- times RFC 3339 UTC with milliseconds (`iotorino.core.times.format_ns`).

On MQTT an alert is published retained on `iotorino/alerts/{scope}/{site}/{kind}`
(scope `city` or `school`): the topic holds the latest episode of that kind at that
site, so a subscriber that connects later sees what is going on. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from iotorino.core.errors import Rejected
from iotorino.core.times import format_ns, parse_ns

TOPIC_PREFIX = "iotorino/alerts"
SCOPES = ("city", "school")
TEXT_FIELDS = ("message_it", "message_en", "action_it", "action_en")
MAX_PAYLOAD = 16_384  # bytes: an alert is a few hundred; anything larger is not one
FIELDS = ("id", "kind", "site", "start", "end", "rating", *TEXT_FIELDS)


@dataclass(frozen=True)
class Alert:
    """One episode. `start`/`end` are UTC epoch ns (`end` None while it lasts)."""

    id: str
    kind: str
    site: str
    start_ns: int
    end_ns: int | None
    rating: int
    message_it: str
    message_en: str
    action_it: str
    action_en: str

    @property
    def active(self) -> bool:
        """Whether the episode is still going on."""
        return self.end_ns is None

    def ended(self, end_ns: int) -> "Alert":
        """The same episode, ended at `end_ns`."""
        return replace(self, end_ns=end_ns)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object."""
        out = asdict(self)
        out.pop("start_ns"), out.pop("end_ns")
        out["start"] = format_ns(self.start_ns)
        out["end"] = None if self.end_ns is None else format_ns(self.end_ns)
        return {k: out[k] for k in FIELDS}

    def to_json(self) -> bytes:
        """The contract's JSON, UTF-8 (non-ASCII kept readable)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


def episode_id(scope: str, kind: str, site: str, start_ns: int) -> str:
    """The id every update of one episode carries: scope/kind/site/start."""
    return f"{scope}/{kind}/{site}/{format_ns(start_ns)}"


def topic(scope: str, alert: Alert) -> str:
    """`iotorino/alerts/{scope}/{site}/{kind}`, where the latest episode is retained."""
    if scope not in SCOPES:
        raise Rejected("unknown_scope", "alert scope is not known", field="scope", value=scope, accepted=", ".join(SCOPES))
    return f"{TOPIC_PREFIX}/{scope}/{alert.site}/{alert.kind}"


def parse_topic(name: str) -> tuple[str, str, str]:
    """(scope, site, kind) of `iotorino/alerts/{scope}/{site}/{kind}` (a school site holds a slash:
    `TO-SC-01/R01`); `Rejected` naming the topic otherwise."""
    parts = name.split("/")
    if name.count("/") < 4 or "/".join(parts[:2]) != TOPIC_PREFIX or parts[2] not in SCOPES or not all(parts[3:]):
        raise Rejected("unknown_topic", "not an alert topic", field="topic", value=name,
                       accepted=f"{TOPIC_PREFIX}/{{{'|'.join(SCOPES)}}}/{{site}}/{{kind}}")
    return parts[2], "/".join(parts[3:-1]), parts[-1]


def from_message(name: str, payload: bytes) -> tuple[str, Alert]:
    """(scope, alert) of a message on an alert topic: the payload by `from_json`, and its site, kind and id
    agreeing with the topic; `Rejected` naming the field, value and what is accepted otherwise."""
    scope, site, kind = parse_topic(name)
    if len(payload) > MAX_PAYLOAD:
        raise Rejected("too_large", "alert payload too large", field="payload", value=f"{len(payload)} bytes",
                       accepted=f"at most {MAX_PAYLOAD} bytes")
    alert = from_json(payload)
    for key, expected in (("site", site), ("kind", kind)):
        if getattr(alert, key) != expected:
            raise Rejected("topic_mismatch", f"alert {key} differs from its topic's", field=key,
                           value=getattr(alert, key), accepted=expected)
    expected_id = episode_id(scope, kind, site, alert.start_ns)
    if alert.id != expected_id:
        raise Rejected("bad_alert", "id does not name the episode (scope/kind/site/start)", field="id",
                       value=alert.id, accepted=expected_id)
    return scope, alert


def from_json(payload: bytes | str) -> Alert:
    """An `Alert` from the contract's JSON; `Rejected` naming the field, value and what is accepted otherwise."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected("bad_json", f"alert is not JSON ({exc})", field="payload", value=payload[:80]) from None
    if not isinstance(data, dict):
        raise Rejected("bad_alert", "alert must be a JSON object", field="payload", value=data, accepted="{...}")
    missing = [k for k in FIELDS if k not in data]
    if missing:
        raise Rejected("bad_alert", "alert lacks fields", field=missing[0], value=None, accepted=", ".join(FIELDS))
    for key in ("id", "kind", "site", *TEXT_FIELDS):
        if not isinstance(data[key], str) or not data[key]:
            raise Rejected("bad_alert", "must be a non-empty string", field=key, value=data[key], accepted="text")
    rating = data["rating"]
    if not isinstance(rating, int) or isinstance(rating, bool) or not 0 <= rating <= 10:
        raise Rejected("bad_alert", "rating out of range", field="rating", value=rating, accepted="an integer 0-10")
    start = parse_ns(data["start"], "start") if isinstance(data["start"], str) else _bad_time("start", data["start"])
    end = None
    if data["end"] is not None:
        end = parse_ns(data["end"], "end") if isinstance(data["end"], str) else _bad_time("end", data["end"])
        if end < start:
            raise Rejected("bad_alert", "an episode cannot end before it starts", field="end", value=data["end"],
                           accepted=f"from {data['start']}")
    return Alert(data["id"], data["kind"], data["site"], start, end, rating,
                 data["message_it"], data["message_en"], data["action_it"], data["action_en"])


def _bad_time(field: str, value: object) -> int:
    raise Rejected("bad_time", "must be an RFC 3339 string", field=field, value=value,
                   accepted="e.g. 2026-11-21T07:00:00.000Z")

"""Kinds of site and references to devices: one name for one device everywhere.

A `SiteKind` says what a kind of place is in every layer: the topic level it
publishes under (`topic_site`, also the catalogue's `site` of its
measurements), the tag keys its readings carry, which tag names it, whether
the inventory gives it a profile, and a title in Italian and English.
`KINDS` is the registry; adding a kind of site means one entry here plus
data (hardware/, schemas/catalogue.yaml) and, for a new topic level, the
topic contract (`iotorino.core.contract`).

A `DeviceRef` is one device of the fleet: its kind, ids, tags, topic and its
`label`, the one name that metrics, the data-quality report and exports use
(`TO-SU-0001`, `TO-SC-01/R12`, `TO-SC-01/outdoor`, `TO-BC-0001`, `GW-1`).
`label_of(tags)` gives the same label from a stored reading's tags.
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from iotorino.core import contract


@dataclass(frozen=True)
class SiteKind:
    """One kind of site; see the module docstring."""

    name: str
    """Registry key, also the `site` of a profile in hardware/profiles.yaml (street, school_room, ...)."""
    topic_site: str
    """The topic level after iotorino/v1/ and the catalogue's `site` of the measurements reported there."""
    tags: tuple[str, ...]
    """Tag keys every reading from this kind of site carries (the catalogue's `tags` must be exactly these)."""
    id_tag: str
    """The tag holding the site id (the topic level after `topic_site`)."""
    point_tag: str | None = None
    """The tag holding the topic's point level, if its value varies (a room, a meter, the hearing gateway)."""
    fixed_point: str | None = None
    """The topic's point level when it is always the same word (a school's outdoor station: "outdoor")."""
    point_in_label: bool = False
    """Whether the point belongs to the device's name (a school's room does; a beacon's gateway does not)."""
    profiled: bool = False
    """Whether the inventory gives each device a profile (measurements and reporting intervals)."""
    title_it: str = ""
    """What a person in Turin calls it (Italian)."""
    title_en: str = ""
    """The same in English."""

    def label(self, site_id: str, point: str | None = None) -> str:
        """The device's one name: the site id, with the point where the point belongs to the name."""
        point = self.fixed_point or point
        return f"{site_id}/{point}" if self.point_in_label and point else site_id


STREET = SiteKind("street", "street", ("unit", "district"), "unit", profiled=True,
                  title_it="centralina stradale", title_en="street unit")
SCHOOL_ROOM = SiteKind("school_room", "school", ("school", "room"), "school", point_tag="room",
                       point_in_label=True, profiled=True, title_it="aula", title_en="school room")
SCHOOL_METER = SiteKind("school_meter", "school", ("school", "meter"), "school", point_tag="meter",
                        point_in_label=True, profiled=True, title_it="contatore della scuola",
                        title_en="school meter")
SCHOOL_OUTDOOR = SiteKind("school_outdoor", "school", ("school",), "school", fixed_point="outdoor",
                          point_in_label=True, profiled=True, title_it="stazione esterna della scuola",
                          title_en="school outdoor station")
BEACON = SiteKind("beacon", "beacon", ("beacon", "gateway"), "beacon", point_tag="gateway",
                  title_it="beacon BLE", title_en="BLE beacon")
GATEWAY = SiteKind("gateway", "gateway", ("gateway",), "gateway", title_it="gateway BLE", title_en="BLE gateway")

KINDS: Mapping[str, SiteKind] = {k.name: k for k in (STREET, SCHOOL_ROOM, SCHOOL_METER, SCHOOL_OUTDOOR, BEACON, GATEWAY)}
# Ids of sites and points are MQTT topic levels and InfluxDB tag values.
ID_PATTERN = re.compile(r"[A-Za-z0-9-]+")
# The point level of a school topic that names its outdoor station.
OUTDOOR = SCHOOL_OUTDOOR.fixed_point
# Tags that describe a reading rather than name its device.
DESCRIPTIVE_TAGS = frozenset({"district", "time_source"})


def kind(name: str) -> SiteKind:
    """The registered kind `name`; `KeyError` naming the registered ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"no site kind {name!r}; registered: {', '.join(KINDS)}") from None


def topic_sites(profiled: bool | None = None) -> tuple[str, ...]:
    """The distinct topic (and catalogue) sites, in registry order; only those with profiles if `profiled`."""
    return tuple(dict.fromkeys(k.topic_site for k in KINDS.values() if profiled is None or k.profiled == profiled))


def kind_of_tags(tags: Mapping[str, str]) -> SiteKind | None:
    """The kind whose tag keys a reading's tags contain, the most specific one; None if no kind fits."""
    fitting = [k for k in KINDS.values() if all(tags.get(t) for t in k.tags)]
    return max(fitting, key=lambda k: len(k.tags), default=None)


def label_of(tags: Mapping[str, str]) -> str:
    """The label of the device a reading's tags name (`DeviceRef.label`); for tags of no registered kind,
    their naming values joined with "/"."""
    found = kind_of_tags(tags)
    if found is None:
        return "/".join(v for k, v in tags.items() if k not in DESCRIPTIVE_TAGS)
    return found.label(tags[found.id_tag], tags.get(found.point_tag) if found.point_tag else None)


@dataclass(frozen=True)
class DeviceRef:
    """One device: its kind, site id, point, the tags its readings carry and its one label.

    For a beacon the gateway that hears it is not part of the device: its tags
    and topic take the gateway when one is given (`for_gateway`).
    """

    kind: SiteKind
    site_id: str
    point: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    """(key, value) pairs, in the kind's tag order; a mapping by `tag_dict()`."""
    profile: str | None = None
    """Profile id in hardware/profiles.yaml (profiled kinds only)."""

    @classmethod
    def of(cls, kind: SiteKind, site_id: str, point: str | None = None, profile: str | None = None,
           **descriptive: str) -> "DeviceRef":
        """The reference to `site_id` (and `point`) of `kind`; `descriptive` tags such as district added."""
        point = kind.fixed_point or point
        values = {kind.id_tag: site_id, **descriptive}
        if kind.point_tag and point is not None:
            values[kind.point_tag] = point
        tags = tuple((t, values[t]) for t in kind.tags if t in values)
        return cls(kind, site_id, point, tags, profile)

    @property
    def label(self) -> str:
        """The device's one name in metrics, reports and exports."""
        return self.kind.label(self.site_id, self.point)

    def tag_dict(self) -> dict[str, str]:
        """The tags as a new dict."""
        return dict(self.tags)

    def for_gateway(self, gateway: str) -> "DeviceRef":
        """A beacon as heard by `gateway` (its point and `gateway` tag set)."""
        if self.kind.point_tag != "gateway":
            raise ValueError(f"a {self.kind.name} is not heard through a gateway")
        return DeviceRef.of(self.kind, self.site_id, gateway, self.profile)

    def address(self, measurement: str) -> contract.TopicAddress:
        """Where this device publishes `measurement` (contract's parsed topic)."""
        if self.kind.point_tag and self.point is None:
            raise ValueError(f"the topic of {self.label} needs its {self.kind.point_tag}")
        return contract.TopicAddress(self.kind.topic_site, self.site_id, self.point, measurement)

    def topic(self, measurement: str) -> str:
        """The native MQTT topic of `measurement` from this device."""
        return contract.topic_of(self.address(measurement))

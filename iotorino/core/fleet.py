"""The fleet's model: profiles, street units, schools, beacons, and the `Inventory` that holds them.

`iotorino.core.inventory.load()` builds an `Inventory` from hardware/ (read by
`iotorino.core.inventory_files`). Collectors ask it which tags a topic's device gets
(`tags_for`), the simulator which profile a device has (`profile_of`), the
BLE collector which beacon sent a frame (`beacon_by_ibeacon`,
`beacon_by_eddystone`). Errors in the files raise `InventoryError`, naming
the file, the path inside it and the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from iotorino.core import sites
from iotorino.core.errors import ConfigError, Rejected
from iotorino.core.sites import ID_PATTERN, OUTDOOR, DeviceRef

# The tag keys each kind of place gives its readings (from the registry in
# iotorino.core.sites); the catalogue's `tags` of every measurement reported
# there must be exactly these. Beacons and BLE gateways have no profile: a
# gateway reports every beacon-site measurement of the catalogue for the
# beacons it hears, and every gateway-site one for itself.
SITE_TAGS: Mapping[str, tuple[str, ...]] = {k.name: k.tags for k in sites.KINDS.values()}


class InventoryError(ConfigError):
    """A problem in an inventory file: `file`, `path` inside it (e.g. "units[3].profile"), `value`."""

    def __init__(self, file: str, path: str, problem: str, value: object, accepted: str | None = None) -> None:
        self.file = file
        self.path = path
        self.value = value
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"{file}: {path or '(top level)'}", f"{problem}: {shown}", accepted)


@dataclass(frozen=True)
class Quantity:
    """What a sensor measures of one catalogue field: unit, measuring range [low, high], accuracy."""

    unit: str
    low: float
    high: float
    accuracy: str


@dataclass(frozen=True)
class Sensor:
    """One physical sensor of a profile: model, the measurement it feeds, interval, quantities by field."""

    model: str
    measurement: str
    interval_s: int  # reporting interval, seconds
    quantities: Mapping[str, Quantity]


@dataclass(frozen=True)
class Profile:
    """A kind of installation: where it goes (`site`) and the sensors it carries."""

    id: str
    site: str  # street | school_room | school_meter | school_outdoor
    description: str
    sensors: tuple[Sensor, ...]

    def interval_s(self, measurement: str) -> int | None:
        """Reporting interval in seconds of `measurement`, None if the profile does not report it."""
        for sensor in self.sensors:
            if sensor.measurement == measurement:
                return sensor.interval_s
        return None

    @property
    def measurements(self) -> tuple[str, ...]:
        """The measurements this profile reports, in the order its sensors list them."""
        return tuple(dict.fromkeys(sensor.measurement for sensor in self.sensors))

    def quantities(self, measurement: str) -> Mapping[str, Quantity]:
        """Every field of `measurement` this profile measures, across its sensors (empty if none)."""
        return {
            name: quantity
            for sensor in self.sensors
            if sensor.measurement == measurement
            for name, quantity in sensor.quantities.items()
        }


@dataclass(frozen=True)
class StreetUnit:
    """A sensor unit on street furniture."""

    id: str
    district: int  # circoscrizione 1-8
    lon: float
    lat: float
    profile: str
    installed: dt.date


@dataclass(frozen=True)
class Room:
    """A monitored room of a school."""

    id: str
    name: str
    profile: str


@dataclass(frozen=True)
class Meter:
    """An electricity or heat meter of a school; `role` main measures the whole school, sub a part."""

    id: str
    profile: str
    description: str
    role: str = "main"  # main | sub


@dataclass(frozen=True)
class School:
    """A school with its monitored rooms, its meters and its outdoor station's profile."""

    id: str
    name: str
    level: str  # infanzia | primaria | secondaria_1 | secondaria_2
    pupils: int
    floor_area_m2: float
    district: int
    lon: float
    lat: float
    rooms: tuple[Room, ...]
    meters: tuple[Meter, ...]
    outdoor_profile: str
    # Local opening hours by weekday ("mon".."sun"): ("08:00", "16:30") or None when closed.
    opening_hours: Mapping[str, tuple[str, str] | None] = field(default_factory=dict)
    heating_system: str = "district_heating"  # district_heating | gas_boiler | heat_pump


@dataclass(frozen=True)
class Beacon:
    """A BLE beacon on a street unit; iBeacon and/or Eddystone-UID identity (the other fields None)."""

    id: str
    host_unit: str
    lon: float
    lat: float
    content_id: str
    model: str
    advertising_interval_ms: int
    battery_type: str
    nominal_mv: int  # fresh-battery voltage, mV
    installed: dt.date
    ibeacon_uuid: str | None  # lower case with dashes
    ibeacon_major: int | None
    ibeacon_minor: int | None
    eddystone_namespace: str | None  # 20 lower-case hex digits
    eddystone_instance: str | None  # 12 lower-case hex digits


@dataclass(frozen=True)
class Inventory:
    """The whole fleet, each part by id, with the lookups collectors need built once."""

    profiles: Mapping[str, Profile]
    street_units: Mapping[str, StreetUnit]
    schools: Mapping[str, School]
    beacons: Mapping[str, Beacon]
    # The catalogue's beacon-site measurements, which any registered beacon may have.
    beacon_measurements: tuple[str, ...] = ()
    # The catalogue's gateway-site measurements (a BLE gateway's own heartbeat).
    gateway_measurements: tuple[str, ...] = ()
    _by_ibeacon: dict = field(init=False, repr=False, compare=False)
    _by_eddystone: dict = field(init=False, repr=False, compare=False)
    # (school id, point) -> (profile id, tags)
    _school_points: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_ibeacon, by_eddystone, points = {}, {}, {}
        for beacon in self.beacons.values():
            if beacon.ibeacon_uuid is not None:
                by_ibeacon[(beacon.ibeacon_uuid, beacon.ibeacon_major, beacon.ibeacon_minor)] = beacon
            if beacon.eddystone_namespace is not None:
                by_eddystone[(beacon.eddystone_namespace, beacon.eddystone_instance)] = beacon
        for school in self.schools.values():
            for device in school_devices(school):
                points[(school.id, device.point)] = (device.profile, device.tag_dict())
        object.__setattr__(self, "_by_ibeacon", by_ibeacon)
        object.__setattr__(self, "_by_eddystone", by_eddystone)
        object.__setattr__(self, "_school_points", points)

    def tags_for(self, site: str, site_id: str, point: str | None, measurement: str) -> dict[str, str]:
        """The tags of `measurement` from a device: {"unit", "district"} on a street unit,
        {"school", "room"} / {"school", "meter"} / {"school"} at a school's room, meter or
        "outdoor" point, {"beacon", "gateway"} for a beacon heard by gateway `point`,
        {"gateway"} for a BLE gateway's own readings.
        Raises `Rejected` ("unknown_device", "not_in_profile", "unknown_topic") when the
        topic names no such device, the device does not report the measurement, or the
        site and point do not fit together."""
        if site == "beacon":
            return self._beacon_tags(site_id, point, measurement)
        if site == "gateway":
            return self._gateway_tags(site_id, point, measurement)
        profile, tags = self._locate(site, site_id, point)
        if measurement not in profile.measurements:
            raise Rejected(
                "not_in_profile",
                f"{site} {site_id}{'/' + point if point else ''} has profile {profile.id}, "
                "which does not report this measurement",
                field="measurement",
                value=measurement,
                accepted=", ".join(profile.measurements),
            )
        return dict(tags)

    def devices(self, installed_by: dt.date | None = None) -> Iterator[DeviceRef]:
        """Every device with a profile: street units (installed by `installed_by`, when given), then each
        school's rooms, meters and outdoor station."""
        for unit in self.street_units.values():
            if installed_by is None or unit.installed <= installed_by:
                yield DeviceRef.of(sites.STREET, unit.id, profile=unit.profile, district=str(unit.district))
        for school in self.schools.values():
            yield from school_devices(school)

    def profile_of(self, site: str, site_id: str, point: str | None) -> Profile:
        """The profile of a street unit (point None) or of a school's room, meter or "outdoor" point."""
        return self._locate(site, site_id, point)[0]

    def beacon_by_ibeacon(self, uuid: str, major: int, minor: int) -> Beacon | None:
        """The beacon advertising this iBeacon identity (uuid in any case), or None."""
        return self._by_ibeacon.get((uuid.lower(), major, minor))

    def beacon_by_eddystone(self, namespace: str, instance: str) -> Beacon | None:
        """The beacon advertising this Eddystone-UID (hex in any case), or None."""
        return self._by_eddystone.get((namespace.lower(), instance.lower()))

    def _beacon_tags(self, beacon_id: str, gateway: str | None, measurement: str) -> dict[str, str]:
        if beacon_id not in self.beacons:
            raise Rejected(
                "unknown_device", "no beacon with this id in the inventory", field="beacon", value=beacon_id,
                accepted="a beacon id of hardware/beacons.json, e.g. TO-BC-0001",
            )
        if not gateway or not ID_PATTERN.fullmatch(gateway):
            raise Rejected(
                "unknown_topic", "a beacon topic names the gateway that heard it", field="gateway",
                value=gateway, accepted="letters, digits and '-'",
            )
        if measurement not in self.beacon_measurements:
            raise Rejected(
                "not_in_profile", "not a beacon measurement", field="measurement", value=measurement,
                accepted=", ".join(self.beacon_measurements),
            )
        return {"beacon": beacon_id, "gateway": gateway}

    def _gateway_tags(self, gateway: str, point: str | None, measurement: str) -> dict[str, str]:
        # Gateways are not listed in the inventory: any id that can be a topic level and a tag value.
        if not ID_PATTERN.fullmatch(gateway) or point is not None:
            raise Rejected(
                "unknown_topic", "a gateway topic names only the gateway", field="gateway", value=gateway,
                accepted="iotorino/v1/gateway/{gateway_id}/{measurement}, id of letters, digits and '-'",
            )
        if measurement not in self.gateway_measurements:
            raise Rejected(
                "not_in_profile", "not a gateway measurement", field="measurement", value=measurement,
                accepted=", ".join(self.gateway_measurements),
            )
        return {"gateway": gateway}

    def _locate(self, site: str, site_id: str, point: str | None) -> tuple[Profile, Mapping[str, str]]:
        if site == "street":
            unit = self.street_units.get(site_id)
            if unit is None:
                raise Rejected(
                    "unknown_device", "no street unit with this id in the inventory", field="unit",
                    value=site_id, accepted="a unit id of hardware/street_units.json, e.g. TO-SU-0001",
                )
            if point is not None:
                raise Rejected(
                    "unknown_topic", "street units have no measuring points", field="point",
                    value=point, accepted="topic iotorino/v1/street/{unit}/{measurement}",
                )
            return self.profiles[unit.profile], {"unit": unit.id, "district": str(unit.district)}
        if site == "school":
            school = self.schools.get(site_id)
            if school is None:
                raise Rejected(
                    "unknown_device", "no school with this id in the inventory", field="school",
                    value=site_id, accepted="a school id of hardware/schools.json, e.g. TO-SC-01",
                )
            found = self._school_points.get((site_id, point))
            if found is None:
                points = [room.id for room in school.rooms] + [meter.id for meter in school.meters] + [OUTDOOR]
                raise Rejected(
                    "unknown_device", f"school {site_id} has no such room, meter or outdoor station",
                    field="point", value=point, accepted=", ".join(points),
                )
            profile_id, tags = found
            return self.profiles[profile_id], tags
        raise Rejected(
            "unknown_topic", "no such kind of site with a profile", field="site", value=site,
            accepted="street, school",
        )


def school_devices(school: School) -> tuple[DeviceRef, ...]:
    """A school's rooms, meters and outdoor station as devices."""
    return (
        *(DeviceRef.of(sites.SCHOOL_ROOM, school.id, room.id, room.profile) for room in school.rooms),
        *(DeviceRef.of(sites.SCHOOL_METER, school.id, meter.id, meter.profile) for meter in school.meters),
        DeviceRef.of(sites.SCHOOL_OUTDOOR, school.id, profile=school.outdoor_profile),
    )

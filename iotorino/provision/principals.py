"""Who may connect to the broker and what each may do, derived from the inventory.

One principal per device (street unit, school room sensor, meter, outdoor
station, BLE gateway) and per service (collector, beacon monitor, alert
evaluators, web application). A device may publish only its own topics, one
per measurement of its profile, and subscribe to nothing; a gateway only the
beacon windows it hears and its own heartbeat; the collector only subscribes,
to the native tree (directly or as a member of a shared subscription); the
monitor publishes only beacon statuses; each alert service reads only the
measurements it evaluates and writes only its own `iotorino/alerts/<scope>/`
tree; the web application only reads the alerts. Nobody but the collector may
read `iotorino/v1/#`, and nobody at all `#`.

User names: a street unit's or a gateway's id, `<school id>.<point>` for a
school's room, meter or outdoor station, the service's name otherwise. With
client certificates the certificate's common name is this user name.
"""

from __future__ import annotations

from dataclasses import dataclass

from iotorino.core import contract
from iotorino.core.inventory import OUTDOOR, Inventory
from iotorino.provision.settings import StackSettings
from ingest.ble_beacons.windows import MEASUREMENT as SIGHTING

NATIVE = contract.PREFIX + "#"
STATUS_TOPIC = "iotorino/beacons/{beacon}/status"
ALERTS = "iotorino/alerts/#"
# What each alert service evaluates (iotorino.alerts.service: city_scope, school_scope), by site kind.
ALERT_SCOPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "city": ("street", ("air_quality", "noise")),
    "school": ("school", ("indoor_climate", "energy", "heat", "outdoor_climate")),
}

# InfluxDB users and their privilege on the database: WRITE, READ, or ALL (both; the downsampler reads
# raw readings and writes hourly aggregates). The admin is created separately and used only to provision.
INFLUX_USERS: tuple[tuple[str, str], ...] = (
    ("collector", "WRITE"), ("downsampler", "ALL"),
    ("exports", "READ"), ("web", "READ"), ("monitor", "READ"),
)
INFLUX_ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """A broker user: name, kind (device, gateway, service) and the topics it may publish and read."""

    name: str
    kind: str
    publish: tuple[str, ...]
    read: tuple[str, ...] = ()


def devices(inventory: Inventory) -> list[Principal]:
    """One principal per street unit and per school room, meter and outdoor station."""
    found = []
    for unit in inventory.street_units.values():
        measurements = inventory.profiles[unit.profile].measurements
        found.append(Principal(unit.id, "device", tuple(f"{contract.PREFIX}street/{unit.id}/{m}"
                                                        for m in measurements)))
    for school in inventory.schools.values():
        points = [(room.id, room.profile) for room in school.rooms]
        points += [(meter.id, meter.profile) for meter in school.meters] + [(OUTDOOR, school.outdoor_profile)]
        for point, profile in points:
            found.append(Principal(f"{school.id}.{point}", "device", tuple(
                f"{contract.PREFIX}school/{school.id}/{point}/{m}" for m in inventory.profiles[profile].measurements)))
    return found


def gateways(inventory: Inventory, ids: tuple[str, ...]) -> list[Principal]:
    """One principal per BLE gateway: the sighting windows of any beacon it hears and its own heartbeat
    (not `beacon_status`, which only the monitor writes)."""
    return [
        Principal(gateway, "gateway",
                  (f"{contract.PREFIX}beacon/+/{gateway}/{SIGHTING}",)
                  + tuple(f"{contract.PREFIX}gateway/{gateway}/{m}" for m in inventory.gateway_measurements))
        for gateway in ids
    ]


def services(settings: StackSettings) -> list[Principal]:
    """The project's services on the broker."""
    status = STATUS_TOPIC.format(beacon="+")
    return [
        # The shared subscription is checked by the broker as the filter the client sends.
        Principal("collector", "service", (), (NATIVE, f"$share/{settings.share_group}/{NATIVE}")),
        Principal("monitor", "service",
                  (status, f"{contract.PREFIX}beacon/+/{settings.monitor_id}/beacon_status"),
                  (f"{contract.PREFIX}beacon/+/+/beacon_sighting", f"{contract.PREFIX}gateway/+/ble_gateway", status)),
        *(Principal(f"alerts-{scope}", "service", (f"iotorino/alerts/{scope}/#",),
                    tuple(contract.topic_filter(site, m) for m in measurements))
          for scope, (site, measurements) in ALERT_SCOPES.items()),
        Principal("web", "service", (), (ALERTS,)),
    ]


def all_principals(inventory: Inventory, settings: StackSettings) -> list[Principal]:
    """Devices, gateways and services; names are unique (checked)."""
    found = devices(inventory) + gateways(inventory, settings.gateways) + services(settings)
    seen: set[str] = set()
    for principal in found:
        if principal.name in seen:
            raise ValueError(f"two principals named {principal.name!r}")
        seen.add(principal.name)
    return found


def acl_file(principals: list[Principal]) -> str:
    """The Mosquitto acl_file: one `user` block per principal, no `pattern` lines, nothing for anonymous."""
    lines = ["# Generated by `iotorino provision` from the inventory: do not edit, re-run it.",
             "# Least privilege: each user may publish and read only the topics listed under it;",
             "# whatever is not listed is denied (including every subscription of a device).", ""]
    for principal in principals:
        lines.append(f"# {principal.kind}")
        lines.append(f"user {principal.name}")
        lines += [f"topic write {topic}" for topic in principal.publish]
        lines += [f"topic read {topic}" for topic in principal.read]
        lines.append("")
    return "\n".join(lines)

"""Whole-fleet BLE captures: what each gateway would hear, with phones and misbehaving beacons.

`generate(beacons, ...)` is pure (same inventory, seed and period, same
captures). Gateways cover square cells of `cell_m` metres and stand at the
centre of their cell's beacons; each hears its cell's beacons at one report
per `report_interval_s` (adapters pass far fewer reports than beacons send),
cycling through the beacon's frames (iBeacon, Eddystone-UID, TLM), plus
phones, watches and a stranger's tag, which the gateway must drop. A few
beacons misbehave, one way each, and `expected` says which status each must
get:
- missing: stops advertising after the first fifth of the period;
- low_battery: its TLM reports 82 % of the nominal voltage;
- rebooted: its advertising count and uptime restart halfway;
- suspected_clone: a second device with its id is heard by a far gateway at the same time;
- moved: heard only by a far gateway.
"""

from __future__ import annotations

import math
import random
import uuid as uuidlib
from dataclasses import dataclass
from typing import Mapping

from iotorino.beacons.health import distance_m
from ingest.ble_beacons.capture import CapturedAdvert
from ingest.ble_beacons.const import APPLE_COMPANY_ID, EDDYSTONE_SERVICE_UUID

S = 1_000_000_000
MISBEHAVIOURS = ("missing", "low_battery", "rebooted", "suspected_clone", "moved")
# Gateways farther (m) from a beacon's place than the farthest beacon of any
# cell from its gateway, plus this margin, cannot hear it there: the health
# config's max_range_m that fits the simulated geometry.
RANGE_MARGIN_M = 200.0


@dataclass(frozen=True)
class SimulatedFleet:
    """Captures by gateway id, gateway places, the range that fits them, and the expected statuses."""

    captures: Mapping[str, list[CapturedAdvert]]
    gateways: Mapping[str, tuple[float, float]]
    max_range_m: float
    expected: Mapping[str, str]


def generate(beacons: Mapping, start_ns: int, duration_s: int, *, seed: int = 2026, cell_m: float = 2000.0,
             report_interval_s: float = 5.0, per_kind: int = 2, phones: int = 8) -> SimulatedFleet:
    """The fleet's captures for [start_ns, start_ns + duration_s)."""
    rng = random.Random(seed)
    cells = _cells(beacons, cell_m)
    gateways = {gid: _centre([beacons[b] for b in members]) for gid, members in cells.items()}
    home = {b: gid for gid, members in cells.items() for b in members}
    max_range = round(max(distance_m(gateways[home[b]], (beacons[b].lon, beacons[b].lat)) for b in beacons)
                      + RANGE_MARGIN_M)
    expected = _pick_misbehaving(beacons, rng, per_kind)
    captures: dict[str, list[CapturedAdvert]] = {gid: [] for gid in gateways}
    end_ns = start_ns + duration_s * S
    for beacon_id in sorted(beacons):
        beacon, trouble = beacons[beacon_id], expected.get(beacon_id, "ok")
        address = _mac(rng, 0xC0)
        heard_by = home[beacon_id]
        if trouble == "moved":
            heard_by = _far_gateway(beacon, gateways, max_range)
        stop_ns = start_ns + duration_s * S // 5 if trouble == "missing" else end_ns
        sender = _Beacon(beacon, rng, trouble, start_ns, duration_s)
        captures[heard_by] += sender.reports(address, start_ns, stop_ns, report_interval_s, rng)
        if trouble == "suspected_clone":
            clone_at = _far_gateway(beacon, gateways, max_range)
            captures[clone_at] += sender.reports(_mac(rng, 0xD0), start_ns, end_ns, report_interval_s, rng)
    for gid in sorted(captures):
        captures[gid] += _bystanders(rng, start_ns, end_ns, phones)
        captures[gid].sort(key=lambda a: a.time_ns)
    return SimulatedFleet(captures, gateways, max_range, {b: expected.get(b, "ok") for b in sorted(beacons)})


class _Beacon:
    """The frames one simulated beacon sends."""

    def __init__(self, beacon, rng: random.Random, trouble: str, start_ns: int, duration_s: int) -> None:
        self.beacon = beacon
        nominal = beacon.nominal_mv
        self.battery_mv = int(nominal * 0.82) if trouble == "low_battery" else rng.randint(int(nominal * 0.92), nominal)
        self.uptime0_s = rng.uniform(86400, 200 * 86400)
        self.reboot_ns = start_ns + duration_s * S // 2 if trouble == "rebooted" else None
        self.start_ns = start_ns
        self.temperature = rng.uniform(-5, 25)

    def reports(self, address: str, start_ns: int, stop_ns: int, every_s: float, rng: random.Random):
        """Reports from `address` between the two times, one per `every_s` on average, cycling the frames."""
        kinds = ([("ibeacon",)] if self.beacon.ibeacon_uuid else []) + (
            [("uid",), ("tlm",)] if self.beacon.eddystone_namespace else [])
        t, k, out = start_ns + int(rng.uniform(0, every_s) * S), 0, []
        while t < stop_ns:
            frame = kinds[k % len(kinds)][0]
            rssi = int(rng.gauss(-78, 5))
            if frame == "ibeacon":
                out.append(CapturedAdvert(t, address, rssi, {APPLE_COMPANY_ID: self._ibeacon()}))
            else:
                payload = self._uid() if frame == "uid" else self._tlm(t)
                out.append(CapturedAdvert(t, address, rssi, {}, {EDDYSTONE_SERVICE_UUID: payload},
                                          (EDDYSTONE_SERVICE_UUID,)))
            # A UID is followed closely by its TLM, as beacons interleave frames.
            t += int((0.3 if frame == "uid" else rng.uniform(0.5, 1.5) * every_s) * S)
            k += 1
        return out

    def _ibeacon(self) -> bytes:
        b = self.beacon
        return (b"\x02\x15" + uuidlib.UUID(b.ibeacon_uuid).bytes + b.ibeacon_major.to_bytes(2, "big")
                + b.ibeacon_minor.to_bytes(2, "big") + (-59 & 0xFF).to_bytes(1, "big"))

    def _uid(self) -> bytes:
        b = self.beacon
        return b"\x00" + (-18 & 0xFF).to_bytes(1, "big") + bytes.fromhex(b.eddystone_namespace + b.eddystone_instance) + b"\x00\x00"

    def _tlm(self, t: int) -> bytes:
        booted_ns = self.start_ns - int(self.uptime0_s * S)
        if self.reboot_ns is not None and t >= self.reboot_ns:
            booted_ns = self.reboot_ns
        uptime_s = (t - booted_ns) / S
        adv_count = int(uptime_s / (self.beacon.advertising_interval_ms / 1000))
        temperature = int(round(self.temperature * 256))
        return (b"\x20\x00" + self.battery_mv.to_bytes(2, "big") + temperature.to_bytes(2, "big", signed=True)
                + (adv_count & 0xFFFFFFFF).to_bytes(4, "big") + int(uptime_s * 10).to_bytes(4, "big"))


def _cells(beacons: Mapping, cell_m: float) -> dict[str, list[str]]:
    lat0 = min(b.lat for b in beacons.values())
    lon0 = min(b.lon for b in beacons.values())
    dlat = cell_m / 111_320
    dlon = cell_m / (111_320 * math.cos(math.radians(lat0)))
    keys: dict[tuple[int, int], list[str]] = {}
    for beacon_id in sorted(beacons):
        b = beacons[beacon_id]
        keys.setdefault((int((b.lat - lat0) // dlat), int((b.lon - lon0) // dlon)), []).append(beacon_id)
    return {f"GW-{n:02d}": keys[key] for n, key in enumerate(sorted(keys), start=1)}


def _centre(members) -> tuple[float, float]:
    return (round(sum(b.lon for b in members) / len(members), 6), round(sum(b.lat for b in members) / len(members), 6))


def _far_gateway(beacon, gateways, max_range: float) -> str:
    place = (beacon.lon, beacon.lat)
    far = max(sorted(gateways), key=lambda g: distance_m(gateways[g], place))
    if distance_m(gateways[far], place) <= max_range:
        raise ValueError(f"no gateway farther than {max_range:.0f} m from beacon {beacon.id}: the fleet is too small")
    return far


def _pick_misbehaving(beacons: Mapping, rng: random.Random, per_kind: int) -> dict[str, str]:
    with_tlm = sorted(b for b, v in beacons.items() if v.eddystone_namespace)
    rng.shuffle(with_tlm)
    picked: dict[str, str] = {}
    for n, kind in enumerate(MISBEHAVIOURS):
        for beacon_id in with_tlm[n * per_kind:(n + 1) * per_kind]:
            picked[beacon_id] = kind
    return picked


def _bystanders(rng: random.Random, start_ns: int, end_ns: int, count: int) -> list[CapturedAdvert]:
    """Phones, watches and a stranger's iBeacon tag passing by: all must be dropped by the gateway."""
    out = []
    for n in range(count):
        address, name = _mac(rng, 0x40), rng.choice([None, f"Phone {n}", "Galaxy Watch5", "AirPods Pro"])
        t = start_ns + int(rng.uniform(0, (end_ns - start_ns) / S) * S)
        for _ in range(rng.randint(3, 30)):
            if t >= end_ns:
                break
            if n % 4 == 3:  # someone's own tag: a well-formed iBeacon that is not ours
                data = {APPLE_COMPANY_ID: b"\x02\x15" + rng.randbytes(20) + b"\xc5"}
            else:
                data = {APPLE_COMPANY_ID: b"\x10\x05" + rng.randbytes(5)}
            out.append(CapturedAdvert(t, address, int(rng.gauss(-65, 8)), data, {}, (), None, name))
            t += int(rng.uniform(0.2, 3) * S)
    return out


def _mac(rng: random.Random, first: int) -> str:
    return ":".join(f"{b:02X}" for b in [first | rng.randrange(16), *rng.randbytes(5)])

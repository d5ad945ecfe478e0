"""BLE captures: JSON lines, one advertisement per line (schemas/ble_capture.schema.json).

A capture is what a gateway heard: `--record` writes one after the privacy
filter (advertiser addresses replaced by per-capture tokens), the simulator
writes whole-fleet ones, and `--replay` feeds one back through bleak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, Mapping

from iotorino.core.errors import Rejected
from iotorino.core.times import format_ns, parse_ns


@dataclass(frozen=True)
class CapturedAdvert:
    """One advertisement as bleak reported it, with the time it was heard (UTC epoch ns)."""

    time_ns: int
    address: str
    rssi: int
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict)
    service_data: Mapping[str, bytes] = field(default_factory=dict)
    service_uuids: tuple[str, ...] = ()
    tx_power: int | None = None
    local_name: str | None = None


def to_line(advert: CapturedAdvert) -> str:
    """The capture line (JSON, no newline) for `advert`; company ids as `0x004c`, bytes as hex."""
    return json.dumps({
        "time": format_ns(advert.time_ns),
        "address": advert.address,
        "rssi": advert.rssi,
        "tx_power": advert.tx_power,
        "local_name": advert.local_name,
        "manufacturer_data": {f"0x{k:04x}": v.hex() for k, v in advert.manufacturer_data.items()},
        "service_data": {k: v.hex() for k, v in advert.service_data.items()},
        "service_uuids": list(advert.service_uuids),
    }, separators=(",", ":"))


def from_line(line: str, where: str = "line") -> CapturedAdvert:
    """Parse one capture line; `Rejected` names the line (`where`), the key and the value."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise Rejected("bad_json", f"{where}: not JSON ({error.msg})", field=where, value=line) from None
    if not isinstance(raw, dict):
        raise Rejected("bad_capture", f"{where}: not a JSON object", field=where, value=raw, accepted="an object")
    try:
        rssi = raw["rssi"]
        if not isinstance(rssi, int) or isinstance(rssi, bool):
            raise ValueError
        return CapturedAdvert(
            time_ns=parse_ns(raw["time"], f"{where}.time"),
            address=str(raw["address"]),
            rssi=rssi,
            manufacturer_data={int(k, 16): bytes.fromhex(v) for k, v in (raw.get("manufacturer_data") or {}).items()},
            service_data={str(k).lower(): bytes.fromhex(v) for k, v in (raw.get("service_data") or {}).items()},
            service_uuids=tuple(raw.get("service_uuids") or ()),
            tx_power=raw.get("tx_power"),
            local_name=raw.get("local_name"),
        )
    except Rejected:
        raise
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Rejected("bad_capture", f"{where}: missing or malformed key", field=where, value=raw,
                       accepted="time, address, rssi (integer), manufacturer_data {0xNNNN: hex}, "
                                "service_data {uuid: hex}") from None


def read(path: Path) -> Iterator[CapturedAdvert]:
    """The adverts of capture file `path`, in file order; blank lines are skipped."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield from_line(line, f"{path.name}:{number}")


class CaptureWriter:
    """Appends adverts to a capture file, one flushed line each, addresses replaced by tokens.

    Tokens (`adv-0001`, ...) are stable within one capture, so a replay still
    pairs TLM frames by advertiser; the real addresses never reach the file.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "a", encoding="utf-8")
        self._tokens: dict[str, str] = {}

    def write(self, advert: CapturedAdvert) -> None:
        """Append `advert` with its address replaced by this capture's token for it."""
        token = self._tokens.setdefault(advert.address, f"adv-{len(self._tokens) + 1:04d}")
        self._file.write(to_line(CapturedAdvert(
            advert.time_ns, token, advert.rssi, advert.manufacturer_data, advert.service_data,
            advert.service_uuids, advert.tx_power, advert.local_name)) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

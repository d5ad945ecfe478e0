"""BLE captures: JSON lines, one advertisement per line (schemas/ble_capture.schema.json).

A capture is what a gateway heard: `--record` writes one after the privacy
filter (advertiser addresses replaced by per-capture tokens), the simulator
writes whole-fleet ones, and `--replay` feeds one back through bleak,
skipping (and reporting by line number and field) any line it cannot read.
A capture may hold addresses and names of other devices, so no error ever
quotes a line or a text value of it (numbers only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterator, Mapping

from iotorino.core.errors import Rejected
from iotorino.core.times import format_ns, parse_time


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
    """Parse one capture line; `Rejected` names the line (`where`) and the key, never the line itself.

    A capture holds advertiser addresses and device names (personal data when
    they are a phone's), so an error describes a bad value (its kind and
    length) instead of quoting it; only numbers are quoted.
    """
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        # error.msg is the parser's sentence only ("Unterminated string ..."); the line stays out.
        raise Rejected("bad_json", f"{where}: not JSON ({error.msg} at column {error.colno})", field=where,
                       value=_redacted(line), accepted="one JSON object per line") from None
    except RecursionError:
        raise Rejected("bad_json", f"{where}: JSON nested too deeply", field=where, value=_redacted(line),
                       accepted="one JSON object per line") from None
    if not isinstance(raw, dict):
        raise Rejected("bad_capture", f"{where}: not a JSON object", field=where, value=_redacted(raw),
                       accepted="an object")
    for key in ("time", "address", "rssi"):
        if key not in raw:
            raise Rejected("missing_key", f"{where}: required key missing", field=f"{where}.{key}", value=None,
                           accepted="time, address and rssi on every line")
    rssi, tx_power = raw["rssi"], raw.get("tx_power")
    if not _is_int(rssi):
        raise Rejected("bad_capture", f"{where}: rssi is not an integer", field=f"{where}.rssi",
                       value=_redacted(rssi), accepted="an integer, dBm")
    if tx_power is not None and not _is_int(tx_power):
        raise Rejected("bad_capture", f"{where}: tx_power is not an integer", field=f"{where}.tx_power",
                       value=_redacted(tx_power), accepted="an integer (dBm) or null")
    for key in ("address",) + (("local_name",) if raw.get("local_name") is not None else ()):
        if not isinstance(raw[key], str):
            raise Rejected("bad_capture", f"{where}: {key} is not a string", field=f"{where}.{key}",
                           value=_redacted(raw[key]), accepted="a string")
    uuids = raw.get("service_uuids") or []
    if not isinstance(uuids, list) or not all(isinstance(u, str) for u in uuids):
        raise Rejected("bad_capture", f"{where}: service_uuids is not a list of strings",
                       field=f"{where}.service_uuids", value=_redacted(uuids), accepted="a list of UUID strings")
    try:
        time_ns = parse_time(raw["time"], f"{where}.time")
    except Rejected as error:
        raise Rejected(error.reason, f"{where}: {error.detail}", field=error.field, value=_redacted(raw["time"]),
                       accepted=error.accepted) from None
    return CapturedAdvert(
        time_ns=time_ns,
        address=raw["address"],
        rssi=rssi,
        manufacturer_data=_payloads(raw, "manufacturer_data", where, lambda k: int(k, 16), "0xNNNN"),
        service_data=_payloads(raw, "service_data", where, lambda k: k.lower(), "a service UUID"),
        service_uuids=tuple(uuids),
        tx_power=tx_power,
        local_name=raw.get("local_name"),
    )


def _payloads(raw: dict, key: str, where: str, parse_key, key_form: str) -> dict:
    """The `{key: hex}` table `key` of a line as `{parsed key: bytes}`; `Rejected` naming the entry."""
    table = raw.get(key) or {}
    if not isinstance(table, dict):
        raise Rejected("bad_capture", f"{where}: {key} is not an object", field=f"{where}.{key}",
                       value=_redacted(table), accepted=f"{{{key_form}: hex}}")
    parsed = {}
    for number, (name, value) in enumerate(table.items(), start=1):
        entry = f"{where}.{key}[{number}]"
        try:
            name = parse_key(name)
        except ValueError:
            raise Rejected("bad_capture", f"{where}: {key} entry {number} has a malformed key", field=entry,
                           value=_redacted(name), accepted=key_form) from None
        if not isinstance(value, str):
            raise Rejected("bad_capture", f"{where}: {key} entry {number} is not a hex string", field=entry,
                           value=_redacted(value), accepted="hex digits, two per byte")
        try:
            parsed[name] = bytes.fromhex(value)
        except ValueError:
            what = "odd-length hex" if len(value) % 2 else "not hex"
            raise Rejected("bad_hex", f"{where}: {key} entry {number} is {what}", field=entry,
                           value=_redacted(value), accepted="hex digits, two per byte") from None
    return parsed


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _redacted(value: object) -> str:
    """What a bad value is, without its content: it may be a phone's address or name."""
    if isinstance(value, (str, bytes)):
        return f"<{type(value).__name__} of {len(value)} characters, not shown>"
    if isinstance(value, (dict, list)):
        return f"<{type(value).__name__} of {len(value)} items, not shown>"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"<{type(value).__name__}, not shown>"


@dataclass(frozen=True)
class SkippedLine:
    """A capture line that could not be read: where, which field and why (never the line itself)."""

    line: int
    reason: str
    field: str
    description: str


class CaptureReader:
    """The adverts of capture file `path` in file order, skipping lines that cannot be read.

    A malformed line (invalid JSON or UTF-8, the truncated last line a killed
    recorder leaves, odd-length hex, wrong types) is skipped: `on_skip` gets a
    `SkippedLine` naming the line number and the field, and reading goes on.
    Blank lines are ignored. `read` and `skipped` count as it goes. Without
    `on_skip` the first malformed line raises its `Rejected` instead.
    """

    def __init__(self, path: Path, on_skip: Callable[[SkippedLine], None] | None = None) -> None:
        self.path = path
        self.on_skip = on_skip
        self.read = 0
        self.skipped = 0

    def __iter__(self) -> Iterator[CapturedAdvert]:
        with open(self.path, "rb") as lines:
            for number, data in enumerate(lines, start=1):
                try:
                    line = data.decode("utf-8")
                except UnicodeDecodeError as error:
                    self._skip(Rejected("bad_utf8", f"{self.path.name}:{number}: not UTF-8 (byte {error.start})",
                                        field=f"{self.path.name}:{number}", value=None, accepted="UTF-8 text"),
                               number)
                    continue
                if not line.strip():
                    continue
                try:
                    advert = from_line(line, f"{self.path.name}:{number}")
                except Rejected as error:
                    self._skip(error, number)
                    continue
                self.read += 1
                yield advert

    def _skip(self, error: Rejected, number: int) -> None:
        if self.on_skip is None:
            raise error
        self.skipped += 1
        self.on_skip(SkippedLine(number, error.reason, error.field or "", error.describe()))


def read(path: Path) -> Iterator[CapturedAdvert]:
    """The adverts of capture file `path`, in file order; the first malformed line raises `Rejected`
    (a replay reads with a `CaptureReader` that skips such lines)."""
    return iter(CaptureReader(path))


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

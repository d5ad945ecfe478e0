"""The gateway end to end on a real broker: replay through BleakScanner, privacy, spool, BlueZ error."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import paho.mqtt.publish as publish
import pytest
from bleak.exc import BleakError

from ingest.ble_beacons import capture, collector, config, replay
from ingest.ble_beacons.const import APPLE_COMPANY_ID
from iotorino.core import inventory
from iotorino.core.outbox import Outbox
from iotorino.publisher import Publisher
from iotorino.core.times import parse_ns
from tests.ble_beacons import captures
from tests.ble_beacons.conftest import Recorder
from tests.ble_beacons.fleet import REGISTRY
from tests.beacons.conftest import wait_until

pytestmark = pytest.mark.integration

SIGHTING = "beacon_sighting"
S = captures.S


def make_gateway(gateway_config, *, recorder=None, adverts=captures.TWO_WINDOWS):
    the_replay = replay.Replay(adverts, speed=0)
    mqtt = gateway_config.mqtt
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Outbox(gateway_config.spool_path))
    gateway = collector.Gateway(gateway_config, REGISTRY, publisher, the_replay.clock, recorder)
    make_scanner = collector.scanner_factory(gateway_config, backend=replay.ReplayScanner, replay=the_replay)
    return gateway, make_scanner, the_replay


def test_replay_publishes_one_reading_per_beacon_window(gateway_config, subscriber):
    gateway, make_scanner, the_replay = make_gateway(gateway_config)
    gateway.publisher.start()
    stats = asyncio.run(collector.run(gateway, make_scanner, the_replay.done))
    assert gateway.publisher.stop() == 0
    messages = {topic: json.loads(payload) for topic, payload, _ in subscriber.wait_for(3, measurement=SIGHTING)}
    assert stats.adverts == len(captures.TWO_WINDOWS) and stats.matched == 8
    first = messages["iotorino/v1/beacon/bcn-0002/gw-test/beacon_sighting"]
    assert first == {"time": "2026-11-21T10:00:00.000Z",
                     "fields": {"sightings": 3, "rssi_median": -81.0, "addresses": 1, "measured_power": -59.5,
                                "battery_mv": 2840, "temperature": 19.0, "adv_count": 5223, "uptime_s": 1094.8}}
    assert sorted(messages) == ["iotorino/v1/beacon/bcn-0001/gw-test/beacon_sighting",
                                "iotorino/v1/beacon/bcn-0002/gw-test/beacon_sighting"]
    assert len(subscriber.wait_for(3, measurement=SIGHTING)) == 3  # bcn-0001 twice (two windows), bcn-0002 once


def test_no_trace_of_phones_anywhere(gateway_config, subscriber, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    recording = tmp_path / "recorded.jsonl"
    writer = capture.CaptureWriter(recording)
    gateway, make_scanner, the_replay = make_gateway(gateway_config, recorder=writer)
    gateway.publisher.start()
    asyncio.run(collector.run(gateway, make_scanner, the_replay.done))
    gateway.publisher.stop()
    writer.close()
    published = b"".join(topic.encode() + payload for topic, payload, _ in subscriber.wait_for(3))
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for trace in (captures.PHONE_MAC, captures.WATCH_MAC, captures.PHONE_NAME, "Mi Band", "1005031c0b6a1d",
                  "0000180d", "C3:00:00:00:00:01"):
        for where, data in (("MQTT", published), ("files", stored), ("logs", caplog.text.encode())):
            assert trace.encode() not in data, f"{trace!r} found in {where}"
    assert len(list(capture.read(recording))) == 8
    assert gateway.filter.addresses_held() <= 2


def test_spool_keeps_readings_while_broker_is_down(gateway_config, mosquitto):
    mosquitto.stop()
    gateway, make_scanner, the_replay = make_gateway(gateway_config)
    gateway.publisher.start()
    asyncio.run(collector.run(gateway, make_scanner, the_replay.done))
    spooled = gateway.publisher.stop(timeout_s=0.5)
    assert spooled >= 4  # 3 sightings, at least one heartbeat
    mosquitto.start()
    recorder = Recorder(mosquitto.port)
    try:
        again = Publisher("127.0.0.1", mosquitto.port, "gw-again", Outbox(gateway_config.spool_path))
        again.start()
        assert again.stop(timeout_s=20) == 0
        assert len(recorder.wait_for(spooled)) == spooled
        assert len(recorder.wait_for(3, measurement=SIGHTING)) == 3
    finally:
        recorder.close()


def test_heartbeats_carry_aggregate_counts_on_the_gateway_topic(gateway_config, subscriber):
    gateway, make_scanner, the_replay = make_gateway(gateway_config)
    gateway.publisher.start()
    stats = asyncio.run(collector.run(gateway, make_scanner, the_replay.done))
    assert gateway.publisher.stop() == 0
    publish.single("test/marker", b"", qos=1, hostname="127.0.0.1", port=gateway_config.mqtt.port)
    beats = [(t, json.loads(p)) for t, p, _ in subscriber.wait_for_topic("test/marker") if t.endswith("/ble_gateway")]
    assert beats and {topic for topic, _ in beats} == {"iotorino/v1/gateway/gw-test/ble_gateway"}
    last = beats[-1][1]
    assert last["time"] == "2026-11-21T10:00:45.000Z"  # the replay's clock: its last advert
    assert set(last["fields"]) == {"adverts_per_s", "matched_per_s", "scanner_restarts", "spool_messages",
                                   "uptime_s"}
    assert last["fields"]["uptime_s"] == 44.0 and last["fields"]["scanner_restarts"] == stats.restarts == 0
    # The rates times the time between heartbeats (from the first advert) add up to what was heard.
    times = [captures.T0 + S] + [parse_ns(beat["time"]) for _, beat in beats]
    for rate, count in (("adverts_per_s", len(captures.TWO_WINDOWS)), ("matched_per_s", 8)):
        heard = sum(beat["fields"][rate] * (t - before) / S for (_, beat), before, t in zip(beats, times, times[1:]))
        assert heard == pytest.approx(count, abs=0.05)


def test_live_scan_without_bluez_names_bluez_and_adapter(gateway_config):
    gateway, _, _ = make_gateway(gateway_config)
    with pytest.raises(collector.BluetoothUnavailable, match=r"BlueZ.*adapter 'hci0'.*--replay FILE"):
        asyncio.run(collector.run(gateway, collector.scanner_factory(gateway_config), asyncio.Event()))


class PatternlessBlueZ(replay.ReplayScanner):
    """A replay that refuses passive scanning as bleak's BlueZ backend does without --experimental."""

    modes: list = []

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs) -> None:
        super().__init__(detection_callback, service_uuids, scanning_mode, **kwargs)
        self.mode, self.patterns = scanning_mode, kwargs["bluez"].get("or_patterns")

    async def start(self) -> None:
        PatternlessBlueZ.modes.append((self.mode, bool(self.patterns)))
        if self.mode == "passive":
            raise BleakError("passive scanning on Linux requires BlueZ >= 5.56 with --experimental enabled "
                             "and Linux kernel >= 5.10")
        await super().start()


def test_auto_mode_falls_back_to_active_scanning_where_bluez_lacks_patterns(gateway_config, subscriber, caplog):
    assert gateway_config.gateway.scanning_mode == "auto"  # the default
    gateway, _, the_replay = make_gateway(gateway_config)
    PatternlessBlueZ.modes = []
    make_scanner = collector.scanner_factory(gateway_config, backend=PatternlessBlueZ, replay=the_replay)
    gateway.publisher.start()
    with caplog.at_level(logging.WARNING):
        stats = asyncio.run(collector.run(gateway, make_scanner, the_replay.done))
    assert gateway.publisher.stop() == 0
    assert PatternlessBlueZ.modes == [("passive", True), ("active", False)]
    assert gateway.scanning_mode == "active" and stats.matched == 8
    assert len(subscriber.wait_for(3, measurement=SIGHTING)) == 3
    assert "passive scanning is not available" in caplog.text


def test_passive_mode_without_patterns_support_is_a_clear_error(gateway_config):
    passive = config.parse({"gateway": {"id": "gw-test", "scanning_mode": "passive"},
                            "mqtt": {"port": gateway_config.mqtt.port, "spool": "spool.sqlite"}},
                           gateway_config.spool_path.parent)
    gateway, _, the_replay = make_gateway(passive)
    make_scanner = collector.scanner_factory(passive, backend=PatternlessBlueZ, replay=the_replay)
    with pytest.raises(collector.BluetoothUnavailable, match="--experimental"):
        asyncio.run(collector.run(gateway, make_scanner, the_replay.done))


def odd_power_ibeacon(beacon, t_ns: int, rssi: int) -> capture.CapturedAdvert:
    """A registered iBeacon advertising +127 dBm at 1 m (byte 0x7f): outside the catalogue's -127..20 dBm."""
    payload = (b"\x02\x15" + uuid.UUID(beacon.ibeacon_uuid).bytes + beacon.ibeacon_major.to_bytes(2, "big")
               + beacon.ibeacon_minor.to_bytes(2, "big") + b"\x7f")
    return capture.CapturedAdvert(t_ns, "C3:00:00:00:00:09", rssi, {APPLE_COMPANY_ID: payload})


def test_a_beacon_with_an_odd_tx_power_gets_its_sighting_stored_without_that_field(
        mosquitto, influx, mqtt_collector, tmp_path, caplog):
    registry = inventory.default()
    beacon = next(b for b in registry.beacons.values() if b.ibeacon_uuid)
    window = (time.time_ns() // (60 * S) - 2) * 60 * S  # a whole minute, within the collector's time window
    settings = config.parse({"gateway": {"id": "GW-01", "window_s": 30},
                             "mqtt": {"port": mosquitto.port, "spool": "spool.sqlite"}}, tmp_path)
    the_replay = replay.Replay([odd_power_ibeacon(beacon, window + i * S, -70 - 2 * i) for i in range(3)], speed=0)
    publisher = Publisher("127.0.0.1", mosquitto.port, "gw-odd-power", Outbox(settings.spool_path))
    gateway = collector.Gateway(settings, registry, publisher, the_replay.clock)
    publisher.start()
    with caplog.at_level(logging.WARNING):
        asyncio.run(collector.run(gateway, collector.scanner_factory(settings, backend=replay.ReplayScanner,
                                                                     replay=the_replay), the_replay.done))
    assert publisher.stop(timeout_s=20) == 0

    def stored():
        series = influx.query(f'SELECT * FROM "{SIGHTING}" WHERE "beacon" = \'{beacon.id}\'')
        return series[0] if series else None

    series = wait_until(stored, 30, "the sighting in InfluxDB")
    row = dict(zip(series["columns"], series["values"][0]))
    assert (row["time"], row["gateway"], row["sightings"], row["rssi_median"]) == (window, "GW-01", 3, -72.0)
    assert row.get("measured_power") is None
    quarantined = gateway.metrics.registry.get_sample_value(
        "iotorino_ble_fields_quarantined_total",
        {"measurement": SIGHTING, "field": "measured_power", "reason": "out_of_range"})
    assert quarantined == 1 and gateway.stats.rejected == 0
    assert f"{SIGHTING} of {beacon.id} without field measured_power" in caplog.text
    assert "127" in caplog.text and "C3:00:00:00:00:09" not in caplog.text

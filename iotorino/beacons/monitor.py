"""The health monitor's wiring: sightings from the broker in, status changes out (retained + InfluxDB).

It subscribes to every gateway's `beacon_sighting` and `ble_gateway`
(heartbeat) topics, feeds `FleetHealth` and `GatewayWatch`, evaluates the
fleet every few seconds and publishes each beacon's change twice through the
spooled QoS 1 publisher:
- retained `iotorino/beacons/<beacon_id>/status` (JSON), for anyone who wants
  the current status the moment they subscribe;
- `iotorino/v1/beacon/<beacon_id>/<monitor id>/beacon_status`, the native
  topic family, so the MQTT collector stores it in InfluxDB like any reading.

What it reads is checked before it counts: a message that is not a native
reading (not JSON, no `fields` object, a time that is neither RFC 3339 nor
Unix seconds, no valid field) is skipped with its reason, counted in
`iotorino_beacons_messages_rejected_total{reason}` and logged without its
payload; a field outside the catalogue (an odd Tx power) is left out the
same way and the rest of the sighting still counts; nothing a gateway or a stranger publishes can stop it.
Its threads (the subscriber's network loop, the restorer, the evaluator)
run under the process's `Supervisor` (see serve.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Mapping

import paho.mqtt.client as mqtt

from prometheus_client import CollectorRegistry

from iotorino.beacons.config import BeaconsConfig
from iotorino.beacons.gateways import GatewayStatus, GatewayWatch
from iotorino.beacons.health import PRECEDENCE, S, BeaconStatus, FleetHealth
from iotorino.beacons.metrics import MonitorMetrics
from iotorino.beacons.battery import REFRESH_S, BatteryHistory
from iotorino.beacons.restore import (RetainedStatuses, StoredEvidence, lookback_s, refresh_battery_history,
                                      refresh_fold, stored_evidence)
from iotorino.beacons.snapshot import SNAPSHOT_S, Fold, FoldSnapshot, fleet_key, snapshot_path
from iotorino.core import contract as topics
from iotorino.core.beacon_messages import HEARTBEAT, HEARTBEATS_FILTER, SIGHTING, SIGHTINGS_FILTER, STATUS
from iotorino.core.beacon_messages import checked, reading_message
from iotorino.core.errors import IotorinoError, Rejected
from iotorino.core.outbox import Message
from iotorino.publisher import Publisher
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client
from iotorino.core.supervisor import Supervisor, safe_traceback
from iotorino.core.times import format_ns, parse_time

log = logging.getLogger(__name__)

SIGHTINGS_TOPIC = SIGHTINGS_FILTER
HEARTBEATS_TOPIC = HEARTBEATS_FILTER
STATUS_TOPIC = "iotorino/beacons/{beacon}/status"
# The supervised components' names (threads, `iotorino_thread_restarts_total{thread}`, /readyz).
SUBSCRIBER, RESTORER, EVALUATOR, BATTERY, FOLD = (
    "beacon-mqtt", "beacon-restore", "beacon-health", "beacon-battery", "beacon-fold")


def status_document(status: BeaconStatus) -> dict:
    """The JSON document of a status (retained message and API): ids, times, numbers; no addresses."""
    stamp = lambda t: None if t is None else format_ns(t)  # noqa: E731
    return {
        "beacon": status.beacon, "status": status.status, "status_code": status.code,
        "flags": sorted(status.flags), "since": stamp(status.since_ns), "last_seen": stamp(status.last_seen_ns),
        "last_gateway": status.last_gateway, "battery_mv": status.battery_mv,
        "battery_days_left": status.battery_days_left, "unseen_s": status.unseen_s,
    }


def status_messages(status: BeaconStatus, monitor_id: str, now_ns: int) -> list[Message]:
    """The retained status message and the native `beacon_status` reading message for one change."""
    fields: dict = {"status_code": status.code, "unseen_s": float(status.unseen_s or 0.0)}
    fields.update({flag: flag in status.flags for flag in PRECEDENCE})
    if status.battery_days_left is not None:
        fields["battery_days_left"] = float(status.battery_days_left)
    reading = Reading(STATUS, {"beacon": status.beacon, "gateway": monitor_id}, fields, now_ns)
    document = json.dumps(status_document(status), separators=(",", ":")).encode()
    return [Message(STATUS_TOPIC.format(beacon=status.beacon), document, retain=True), reading_message(reading)]


def parse_reading(topic: str, payload: bytes) -> tuple[Reading, list[Rejected]]:
    """A gateway's `beacon_sighting` or `ble_gateway` message back into its reading, with the fields the
    catalogue accepts, and the reasons of those it left out; `Rejected` naming the field if it is no
    reading at all. The time may be RFC 3339 or Unix seconds."""
    address = topics.parse(topic)
    if address.measurement not in (SIGHTING, HEARTBEAT):
        raise Rejected("unknown_measurement", "the monitor reads sightings and gateway heartbeats only",
                       field="topic", value=address.measurement, accepted=f"{SIGHTING}, {HEARTBEAT}")
    tags = ({"beacon": address.site_id, "gateway": address.point} if address.site == "beacon"
            else {"gateway": address.site_id})
    accepted = '{"time": RFC 3339 or Unix seconds, "fields": {...}}'
    message = topics.decode(payload)  # UTF-8 JSON of the native shape; the time parsed by iotorino.core.times
    if message.time_ns is None:
        raise Rejected("bad_time", f"a {address.measurement} message without a time", field="time", value=None,
                       accepted=accepted)
    valid, left_out = checked(Reading(address.measurement, tags, dict(message.fields), message.time_ns))
    if valid is None:
        raise left_out[-1]
    return valid, left_out


class Monitor:
    """Runs `FleetHealth` on the broker's sightings and publishes status changes.

    At start it first restores (see restore.py): it waits for the broker,
    lets the status spool of the last run drain, takes the retained statuses
    as current, replays the store's recent sightings (when `store` is given)
    and only then the sightings that came meanwhile. Until that is done it
    neither evaluates nor publishes, and `not_ready()` says why.
    """

    def __init__(self, settings: BeaconsConfig, beacons: Mapping, publisher: Publisher,
                 wall_clock=time.time_ns, store: InfluxV1Client | None = None,
                 metrics: MonitorMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or MonitorMetrics(CollectorRegistry())
        self.publisher = publisher
        self.store = store
        self._wall_clock = wall_clock
        self.health = FleetHealth(beacons, settings.gateways, settings.thresholds, wall_clock())
        self.gateways = GatewayWatch(settings.gateways, settings.thresholds.gateway_silent_s)
        self._silent: set[str] = set()  # gateways last reported silent (for the log)
        self._lock = threading.Lock()
        self._latest_by_gateway: dict[str, int] = {}
        self._stop = threading.Event()
        self._started_event_clock = False
        self.subscribed = threading.Event()
        self.restored = threading.Event()
        self._phase = "waiting for the broker"
        self._supervisor: Supervisor | None = None
        self._logged: set[str] = set()  # exception types of failed messages already logged
        self._pending: list[Reading] = []  # sightings that came while restoring
        self._retained = RetainedStatuses(settings.monitor.restore_quiet_s, settings.monitor.restore_timeout_s)
        self.observed = 0
        self._client = self._subscriber("in", [SIGHTINGS_TOPIC, HEARTBEATS_TOPIC], lambda: self.subscribed.set(),
                                        self._on_message)
        self._threads: list[threading.Thread] = []
        store_id = None if store is None else f"{store.settings.url} {store.settings.database}"
        self.battery_history = None if store is None else BatteryHistory(settings.battery_history_path, store_id)
        self.fold_snapshot = None if store is None else FoldSnapshot(
            snapshot_path(settings.battery_history_path), store_id, fleet_key(beacons, settings.gateways))
        self._fold: Fold | None = None  # the replayed span's closed buckets, as last written to the snapshot

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Subscribe, restore and start evaluating, all in the background, under `supervisor` (a private
        one, counting in this monitor's metrics registry, if None)."""
        supervisor = supervisor or Supervisor("beacon-monitor", registry=self.metrics.registry)
        self._supervisor = supervisor
        self._set_phase(self._phase)
        self._client.connect_async(self.settings.mqtt.host, self.settings.mqtt.port, self.settings.mqtt.keepalive_s)
        self._threads = [supervisor.spawn(SUBSCRIBER, lambda: self._network_loop(self._client, self._stop)),
                         supervisor.spawn(RESTORER, self._restore),
                         supervisor.spawn(EVALUATOR, self._evaluate_loop)]
        if self.battery_history is not None:
            self._threads.append(supervisor.spawn(BATTERY, self._battery_loop))
            self._threads.append(supervisor.spawn(FOLD, self._fold_loop))

    def stop(self) -> None:
        """Stop restoring or evaluating, and unsubscribe."""
        self._stop.set()
        self._client.disconnect()
        for thread in self._threads:
            thread.join(10)
        if self.battery_history is not None:
            self.battery_history.close()
            self.fold_snapshot.close()

    def not_ready(self) -> str | None:
        """None once restored, else what the start-up is waiting for."""
        return None if self.restored.is_set() else f"restoring the beacon statuses after a start: {self._phase}"

    def statuses(self) -> dict[str, BeaconStatus]:
        """The latest status of every beacon (the restored ones until the first evaluation)."""
        with self._lock:
            return self.health.current()

    def gateway_statuses(self) -> list[GatewayStatus]:
        """Every configured or heard gateway: its place, latest heartbeat, ok or silent (at `now_ns`, or
        at the newest heartbeat while the event clock has not started)."""
        now = self.now_ns()
        with self._lock:
            now = now if now is not None else self.gateways.newest_ns() or 0
            return self.gateways.report(now)

    def now_ns(self) -> int | None:
        """Wall clock, or with clock = "event" the oldest latest window end among the configured
        gateways (None until each has reported): no beacon is judged on time a gateway has not covered."""
        if self.settings.monitor.clock == "wall":
            return self._wall_clock()
        with self._lock:
            expected = self.settings.gateways or self._latest_by_gateway
            if not expected or any(g not in self._latest_by_gateway for g in expected):
                return None
            return min(self._latest_by_gateway[g] for g in expected)

    def evaluate(self) -> int:
        """Evaluate the fleet now and publish the changes; returns how many beacons changed (0 until restored)."""
        now = self.now_ns() if self.restored.is_set() else None
        if now is None:
            return 0
        with self._lock:
            if not self._started_event_clock and self.settings.monitor.clock == "event":
                self.health.start_ns = now  # never-seen beacons count as unseen from here
                self._started_event_clock = True
            changes = self.health.evaluate(now)
            silent = {g.id for g in self.gateways.report(now) if g.status == "silent"}
        for gateway in sorted(silent ^ self._silent):
            log.warning("gateway %s: %s", gateway, "silent" if gateway in silent else "heard again")
        self._silent = silent
        for status in changes:
            if status.status != "ok":
                log.info("beacon %s: %s", status.beacon, status.status)
        self.publisher.publish(m for status in changes for m in status_messages(status, self.settings.monitor.id, now))
        self.metrics.changes.inc(len(changes))
        return len(changes)

    def _evaluate_loop(self) -> None:
        while not self._stop.wait(self.settings.monitor.evaluate_every_s):
            self.evaluate()

    def _battery_loop(self) -> None:
        """Once restored, record each closed hour's battery voltages in the history file (battery.py)."""
        if not self._wait(self.restored.is_set):
            return
        while True:
            try:
                refresh_battery_history(self.store, self.battery_history, self._wall_clock())
            except IotorinoError as error:  # the store is down: the next round asks for the same hours
                log.warning("battery history not refreshed: %s", error)
            if self._stop.wait(REFRESH_S):
                return

    def _fold_loop(self) -> None:
        """Once restored, keep the snapshot of the replayed span's fold (snapshot.py): the restore's written at
        once, then every `SNAPSHOT_S` the buckets closed meanwhile, and once more at a clean stop (a monitor
        started on an empty store builds its fold from the store's next buckets)."""
        while not self.restored.is_set():
            if self._stop.wait(0.05) and not self.restored.is_set():
                return
        span_s = lookback_s(self.health.beacons, self.settings.thresholds)
        with self._lock:
            fold = self._fold or Fold(0, 0, ())
        if fold.until_ns:
            self.fold_snapshot.write(fold)
        while True:
            stopping = self._stop.wait(SNAPSHOT_S)
            try:
                fold = refresh_fold(self.store, self.fold_snapshot, fold, self._wall_clock(), span_s)
            except IotorinoError as error:  # the store is down: the next round asks for the same buckets
                log.warning("snapshot of the folded sightings not refreshed: %s", error)
            if stopping:
                return

    @staticmethod
    def _network_loop(client: mqtt.Client, done: threading.Event) -> None:
        """paho's network loop in this (supervised) thread, until `done` is set and the client disconnected."""
        while not done.is_set():
            client.loop_forever(retry_first_connection=True)
            done.wait(1.0)  # returned without our disconnect: never spin

    def _set_phase(self, phase: str) -> None:
        """What the start-up waits for now (the feed's 503 and /readyz say it)."""
        self._phase = phase
        if self._supervisor is not None:
            self._supervisor.set_ready(RESTORER, self.restored.is_set(), self.not_ready() or "")

    def _restore(self) -> None:
        monotonic = time.monotonic
        self._set_phase(self._phase)  # (again, after a restart of this thread) not ready until restored
        if not self._wait(self.subscribed.is_set):
            return
        self._set_phase("sending the status changes left in the spool by the last run")
        if not self._wait(lambda: self.publisher.outbox.count() == 0):
            return
        self._set_phase("reading the retained statuses from the broker")
        retained = RetainedStatuses(self.settings.monitor.restore_quiet_s, self.settings.monitor.restore_timeout_s)
        self._retained = retained
        reader = self._subscriber("restore", [STATUS_TOPIC.format(beacon="+")],
                                  lambda: retained.subscribed(monotonic()),
                                  lambda c, u, m: retained.add(m.payload, bool(m.retain), monotonic()))
        reader.connect_async(self.settings.mqtt.host, self.settings.mqtt.port, self.settings.mqtt.keepalive_s)
        reader_done = threading.Event()
        reader_thread = self._supervisor.spawn(f"{RESTORER}-mqtt", lambda: self._network_loop(reader, reader_done))
        try:
            if not self._wait(lambda: retained.complete(monotonic())):
                return
        finally:
            reader_done.set()
            reader.disconnect()
            reader_thread.join(10)
        evidence = self._stored_evidence()
        if evidence is not None and evidence.fold_source != "snapshot":
            log.info("the last hour of sightings read whole from the store (slower, the same result): %s",
                     evidence.fold_source.removeprefix("full read: "))
        with self._lock:
            for status in self._retained.statuses.values():
                self.health.restore(status, with_evidence=evidence is not None)
            if evidence is not None:
                self._take_evidence(evidence)
            for reading in self._pending:
                self._take(reading)
            self._pending.clear()
            self.restored.set()
        self._set_phase("restored")
        if evidence is not None and evidence.skipped:
            self.metrics.rejected.labels(reason="bad_stored_row").inc(evidence.skipped)
        log.info("restored %d retained statuses (%d unreadable) and %d stored sightings (%d read from the store, the "
                 "rest from the snapshot; %d stored rows skipped; %d hours of battery history from %s)",
                 len(self._retained.statuses), self._retained.rejected, evidence.readings if evidence else 0,
                 evidence.rows_read if evidence else 0, evidence.skipped if evidence else 0,
                 evidence.battery_from_file if evidence else 0, self.battery_history.path if evidence else "-")

    def _take_evidence(self, evidence: StoredEvidence) -> None:
        """The store's evidence (with the lock held): battery history, the folded sightings, the heartbeats."""
        for beacon_id, samples in evidence.battery.items():
            self.health.add_battery_history(beacon_id, samples)
        self.health.observe_summaries(evidence.sightings)
        window_ns = self.settings.thresholds.window_s * S
        for summary in evidence.sightings:
            covered = self._latest_by_gateway.get(summary.gateway, 0)
            self._latest_by_gateway[summary.gateway] = max(covered, summary.last_ns + window_ns)
        for reading in evidence.heartbeats:
            self._take(reading)
        self.observed += evidence.readings
        self._fold = evidence.fold

    def _wait(self, done) -> bool:
        while not done():
            if self._stop.wait(0.05):
                return False
        return True

    def _subscriber(self, role: str, topic_filters: list[str], on_subscribed, on_message) -> mqtt.Client:
        """A clean-session client that (re)subscribes to `topic_filters` on every connect."""
        client = self.settings.mqtt.configure_paho(mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{self.settings.mqtt.client_id}-{role}-{uuid.uuid4().hex[:6]}"))
        client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topic_filters])
        client.on_subscribe = lambda *_: on_subscribed()
        client.on_message = on_message
        return client

    def _stored_evidence(self) -> StoredEvidence | None:
        if self.store is None:
            log.warning("no [influxdb]: statuses restored without the stored sightings behind them")
            return None
        self._set_phase("reading the recent sightings from InfluxDB")
        deadline = time.monotonic() + self.settings.monitor.restore_timeout_s
        while True:
            try:
                return stored_evidence(self.store, self.health.beacons, self.settings.thresholds,
                                       self.battery_history, self.fold_snapshot)
            except IotorinoError as error:
                if time.monotonic() >= deadline or self._stop.wait(1.0):
                    log.warning("restoring without the stored sightings: %s", error)
                    return None

    def _on_message(self, client, userdata, message) -> None:
        """paho callback: take one sighting or heartbeat; never raises (a bad one is counted and skipped)."""
        try:
            reading, left_out = parse_reading(message.topic, message.payload)
        except Rejected as error:
            self._rejected(message.topic, error, "skipping a message")
            return
        for error in left_out:
            self._rejected(message.topic, error, "taking a message without one field")
        try:
            with self._lock:
                if self.restored.is_set():
                    self._take(reading)
                else:
                    self._pending.append(reading)
        except Exception as error:  # noqa: BLE001 - one reading must not stop the monitor
            kind = type(error).__name__
            self.metrics.rejected.labels(reason="internal_error").inc()
            if kind not in self._logged:
                self._logged.add(kind)
                log.error("skipping a %s reading whose evaluation raised %s (logged once per type)\n%s",
                          reading.measurement, kind, safe_traceback(error))
            return
        self.metrics.readings.labels(measurement=reading.measurement).inc()

    def _rejected(self, topic: str, error: Rejected, what: str) -> None:
        self.metrics.rejected.labels(reason=error.reason).inc()
        # No payload or value in the log: the reason, the field and what is accepted say enough.
        log.warning("%s on %s: %s: %s (field %s; accepted: %s)", what, topic, error.reason, error.detail,
                    error.field, error.accepted)

    def _take(self, reading: Reading) -> None:
        """Observe one sighting or heartbeat (with the lock held); either shows how far a gateway got."""
        gateway = reading.tags["gateway"]
        if reading.measurement == HEARTBEAT:
            self.gateways.observe(reading)
            covered_until = reading.time_ns  # a gateway publishes the windows ended by then first
        else:
            self.health.observe(reading)
            covered_until = reading.time_ns + self.settings.thresholds.window_s * S
        self._latest_by_gateway[gateway] = max(self._latest_by_gateway.get(gateway, 0), covered_until)
        self.observed += 1

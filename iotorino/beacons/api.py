"""The read-only HTTP feed of the proximity-notification service (FastAPI; OpenAPI at /openapi.json).

List the beacons, get one, or look one up by the identity a phone reports
(iBeacon UUID/major/minor, Eddystone namespace/instance): each answer gives
the place, the content id, the current health status and when it was last
heard, so the service never sends people to a dead or moved beacon.
`/gateways` lists the BLE gateways with their latest heartbeat.

While the monitor is still restoring after a start, every endpoint that
reports a status (and `/health`) answers 503 with the reason and
`Retry-After`, rather than an empty or wrong status.

For operators, beside the feed: `/metrics` (Prometheus), `/healthz` (200
while every supervised thread is alive, 503 once one has failed the
process) and `/readyz` (200 when every component is ready: restored, broker
links up; 503 with the components that are not, and why).
"""

from __future__ import annotations

from typing import Callable, Mapping

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from iotorino.beacons.gateways import GatewayStatus
from iotorino.beacons.health import BeaconStatus
from iotorino.core.beacon_messages import HEARTBEAT_FIELDS
from iotorino.core.supervisor import Supervisor
from iotorino.core.times import format_ns

UUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"


class BeaconView(BaseModel):
    """One beacon as the notification service sees it."""

    id: str
    host_unit: str
    lon: float
    lat: float
    content_id: str
    status: str
    """ok, low_battery, rebooted, moved, suspected_clone, missing; unknown before the first evaluation."""
    usable: bool
    """True when the service may send people to it (status ok, low_battery or rebooted)."""
    flags: list[str]
    status_since: str | None
    last_seen: str | None
    last_gateway: str | None
    battery_mv: int | None
    battery_days_left: float | None


class GatewayView(BaseModel):
    """One BLE gateway and its latest heartbeat (aggregate counts only)."""

    id: str
    lon: float | None
    lat: float | None
    """The configured place (WGS84 degrees); null for a gateway not in the monitor's config."""
    status: str
    """ok, or silent: no heartbeat for gateway_silent_s (never heard counts as silent)."""
    last_heartbeat: str | None
    adverts_per_s: float | None
    matched_per_s: float | None
    scanner_restarts: int | None
    spool_messages: int | None
    uptime_s: float | None


class Health(BaseModel):
    """The feed is serving restored or current statuses."""

    status: str
    beacons: int


USABLE = {"ok", "low_battery", "rebooted"}
GATEWAY_FIELDS = HEARTBEAT_FIELDS
# Seconds a client should wait before asking again while the monitor restores.
RETRY_AFTER_S = 2


def create_app(beacons: Mapping, registry, statuses: Callable[[], Mapping[str, BeaconStatus]],
               not_ready: Callable[[], str | None] = lambda: None,
               gateways: Callable[[], list[GatewayStatus]] = list, *,
               supervisor: Supervisor | None = None, metrics: CollectorRegistry | None = None) -> FastAPI:
    """The app over `beacons` (id -> registry beacon), `registry` lookups, a `statuses()` source,
    `not_ready()`, the reason the statuses cannot be trusted yet (None once they can), and `gateways()`;
    with `supervisor` (and its `metrics` registry) also `/healthz`, `/readyz` and `/metrics`."""

    def ready() -> None:
        reason = not_ready()
        if reason is not None:
            raise HTTPException(503, reason, headers={"Retry-After": str(RETRY_AFTER_S)})

    app = FastAPI(title="IoTorino beacon feed", version="1",
                  description="Read-only feed of Turin's street beacons: place, content and health status. "
                              "503 with the reason while the health monitor restores after a start.")
    if supervisor is not None:
        _operator_routes(app, supervisor, metrics)
    feed = APIRouter(dependencies=[Depends(ready)])

    def view(beacon) -> BeaconView:
        status = statuses().get(beacon.id)
        stamp = lambda t: None if t is None else format_ns(t)  # noqa: E731
        name = status.status if status else "unknown"
        return BeaconView(
            id=beacon.id, host_unit=beacon.host_unit, lon=beacon.lon, lat=beacon.lat, content_id=beacon.content_id,
            status=name, usable=name in USABLE, flags=sorted(status.flags) if status else [],
            status_since=stamp(status.since_ns) if status else None,
            last_seen=stamp(status.last_seen_ns) if status else None,
            last_gateway=status.last_gateway if status else None,
            battery_mv=status.battery_mv if status else None,
            battery_days_left=status.battery_days_left if status else None,
        )

    def found(beacon, what: str) -> BeaconView:
        if beacon is None:
            raise HTTPException(404, f"no registered beacon with {what}")
        return view(beacon)

    @feed.get("/health", response_model=Health, summary="200 once the statuses are restored, else 503 and why")
    def health():
        return Health(status="ok", beacons=len(beacons))

    @feed.get("/gateways", response_model=list[GatewayView], summary="The BLE gateways and their latest heartbeat")
    def list_gateways():
        return [GatewayView(id=g.id, lon=g.place[0] if g.place else None, lat=g.place[1] if g.place else None,
                            status=g.status,
                            last_heartbeat=None if g.last_heartbeat_ns is None else format_ns(g.last_heartbeat_ns),
                            **{name: g.heartbeat.get(name) for name in GATEWAY_FIELDS}) for g in gateways()]

    @feed.get("/beacons", response_model=list[BeaconView], summary="All registered beacons with their status")
    def list_beacons(status: str | None = Query(None, description="only beacons with this status")):
        views = [view(b) for b in beacons.values()]
        return [v for v in views if status is None or v.status == status]

    @feed.get("/beacons/{beacon_id}", response_model=BeaconView, summary="One beacon by id")
    def get_beacon(beacon_id: str):
        return found(beacons.get(beacon_id), f"id {beacon_id!r}")

    @feed.get("/lookup/ibeacon", response_model=BeaconView, summary="The beacon with this iBeacon identity")
    def lookup_ibeacon(uuid: str = Query(..., pattern=UUID_PATTERN), major: int = Query(..., ge=0, le=65535),
                       minor: int = Query(..., ge=0, le=65535)):
        return found(registry.beacon_by_ibeacon(uuid, major, minor), f"iBeacon {uuid} {major} {minor}")

    @feed.get("/lookup/eddystone", response_model=BeaconView, summary="The beacon with this Eddystone-UID")
    def lookup_eddystone(namespace: str = Query(..., pattern=r"^[0-9A-Fa-f]{20}$"),
                         instance: str = Query(..., pattern=r"^[0-9A-Fa-f]{12}$")):
        return found(registry.beacon_by_eddystone(namespace, instance), f"Eddystone-UID {namespace} {instance}")

    app.include_router(feed)
    return app


def _operator_routes(app: FastAPI, supervisor: Supervisor, metrics: CollectorRegistry | None) -> None:
    """`/healthz`, `/readyz` and `/metrics`: answered even while the monitor restores."""

    @app.get("/healthz", summary="Liveness: 200 while no supervised thread has failed the process, else 503")
    def healthz():
        alive = supervisor.alive()
        return JSONResponse({"alive": alive}, status_code=200 if alive else 503)

    @app.get("/readyz", summary="Readiness: 200 when every component is ready, else 503 naming them and why")
    def readyz():
        status = supervisor.status()
        return JSONResponse(status, status_code=200 if status["ready"] else 503)

    @app.get("/metrics", summary="Prometheus metrics of the monitor and its threads")
    def prometheus_metrics():
        return Response(generate_latest(metrics or CollectorRegistry()), media_type=CONTENT_TYPE_LATEST)

"""Hourly aggregates written back to InfluxDB for dashboards (retention policy `hourly`).

For every gauge field of every street and school measurement: mean, min, max
and count per tag group and UTC hour (Turin's hours share UTC's boundaries),
written as `<measurement>` in the retention policy `HOURLY_RP` with fields
`{field}_mean/_min/_max/_count` at the hour's start. Writing the same hour
again overwrites the same points (same measurement, tags and time), so re-runs
are harmless and late data is picked up by re-running. Read with InfluxQL
(`SELECT * FROM "iotorino"."hourly"."air_quality"`); the 1.x API keeps working
on 2.x/3.x through their compatibility endpoints.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from iotorino.core import catalogue as catalogue_mod
from iotorino.core import sites
from iotorino.export import query
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings

HOURLY_RP = "hourly"
SITES = sites.topic_sites(profiled=True)  # street and school: beacons and gateways have their own exports
BATCH = 5_000
log = logging.getLogger(__name__)


def ensure_retention_policy(client: InfluxV1Client, name: str = HOURLY_RP) -> None:
    """Create retention policy `name` (infinite, not default) unless it exists."""
    database = client.settings.database.replace('"', '\\"')
    existing = client.query(f'SHOW RETENTION POLICIES ON "{database}"')
    names = {v[0] for s in existing for v in s.get("values", [])}
    if name not in names:
        client.query(f'CREATE RETENTION POLICY "{name}" ON "{database}" DURATION INF REPLICATION 1')


def downsample(settings: InfluxV1Settings, start_ns: int, end_ns: int, *, rp: str = HOURLY_RP, chunk_hours: int = 6) -> int:
    """Write the hourly aggregates of [start, end) into retention policy `rp`; return the points written."""
    reader = InfluxV1Client(settings)
    writer = InfluxV1Client(replace(settings, retention_policy=rp))
    written = 0
    try:
        ensure_retention_policy(reader, rp)
        for spec in catalogue_mod.default().measurements.values():
            if spec.site not in SITES:
                continue
            fields = [f for f, s in spec.fields.items() if s.kind == "gauge" and s.type != "boolean"]
            batch: list[Reading] = []
            for row in query.hourly_stats(reader, spec.name, fields, list(spec.tags), start_ns, end_ns, chunk_hours=chunk_hours):
                values = {k: (int(v) if k.endswith("_count") else float(v)) for k, v in row.values.items() if v is not None}
                if values:
                    batch.append(Reading(spec.name, {k: v for k, v in row.tags.items() if v}, values, row.time_ns))
                if len(batch) >= BATCH:
                    writer.write(batch)
                    written, batch = written + len(batch), []
            writer.write(batch)
            written += len(batch)
    finally:
        reader.close()
        writer.close()
    log.info("downsampled %d hourly points into retention policy %r", written, rp)
    return written

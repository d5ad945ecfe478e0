"""BLE beacon gateway: scan with bleak, keep only registered beacons, publish windowed readings.

Roles mirror `ingest/mqtt/`: `frames.py` (pure byte decoders), `sightings.py`
(privacy filter and TLM pairing), `windows.py` (per-window readings),
`capture.py` / `replay.py` (JSON-lines captures and the bleak replay backend),
`metrics.py`, `config.py`, `collector.py` (the wiring), `app.py` (the
supervised command), `sample.toml` and `README.md`. The broker link with its
on-disk outbox is the core's (`iotorino/core/outbox.py`), the topics too
(`iotorino/core/beacon_messages.py`).
"""

"""BLE beacon gateway: scan with bleak, keep only registered beacons, publish windowed readings.

Roles mirror `ingest/mqtt/`: `frames.py` (pure byte decoders), `sightings.py`
(privacy filter and TLM pairing), `windows.py` (per-window readings),
`capture.py` / `replay.py` (JSON-lines captures and the bleak replay backend),
`publish.py` (broker link with an on-disk spool), `config.py`, `collector.py`
(the wiring), `sample.toml` and `README.md`.
"""

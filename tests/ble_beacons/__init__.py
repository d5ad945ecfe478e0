"""Tests of the BLE beacon gateway, mirroring ingest/ble_beacons/."""

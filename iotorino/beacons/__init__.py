"""Fleet health of the BLE beacons and the read-only feed the proximity-notification service uses.

`health.py` decides each beacon's status from the gateways' `beacon_sighting`
readings (pure, clock passed in); `gateways.py` each gateway's from its
`ble_gateway` heartbeats; `restore.py` what a restarted monitor starts from
(retained statuses, the store's recent readings); `monitor.py` wires them to
the broker (readings in, retained statuses out); `api.py` is the HTTP feed;
`config.py` the checked TOML config of `iotorino beacons serve`.
"""

"""Fleet health of the BLE beacons and the read-only feed the proximity-notification service uses.

`health.py` decides each beacon's status from the gateways' `beacon_sighting`
readings (pure, clock passed in); `monitor.py` wires it to the broker
(readings in, retained statuses out); `api.py` is the HTTP feed; `config.py`
the checked TOML config of `iotorino beacons serve`.
"""

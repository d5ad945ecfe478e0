"""IoTorino: Turin's sensor pipeline, from MQTT and BLE beacons to InfluxDB and open-data Parquet."""

__version__ = "0.1.0"

"""Assembling a collector from a config file: the one place that picks the real outside world."""

from __future__ import annotations

from pathlib import Path

from ingest.mqtt import config as collector_config
from ingest.mqtt.collector import Collector
from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.pipeline import Pipeline
from iotorino.core import catalogue, inventory
from iotorino.core.store import Writer
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.core.store.influx_v2 import InfluxV2Client


def build_pipeline(config: collector_config.CollectorConfig) -> Pipeline:
    """The pipeline for a config, with the project's catalogue and inventory."""
    return Pipeline(config.routes, catalogue.default(), inventory.default(), config.limits)


def build_writer(config: collector_config.CollectorConfig) -> Writer:
    """The store client of the configured API flavour (`[influxdb] api`)."""
    if isinstance(config.influx, InfluxV1Settings):
        return InfluxV1Client(config.influx)
    return InfluxV2Client(config.influx)


def build_collector(config_path: Path) -> Collector:
    """A collector wired to the real broker, InfluxDB, spool and dead-letter files named in the config."""
    config = collector_config.load(config_path)
    return Collector(config, build_pipeline(config), build_writer(config), DeadLetterStore(config.deadletters_path))

"""Assembling a collector from a config file: the one place that picks the real outside world."""

from __future__ import annotations

from pathlib import Path

from ingest.mqtt import config as collector_config
from ingest.mqtt.collector import Collector
from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.pipeline import Pipeline
from iotorino import catalogue, inventory
from iotorino.store.influx_v1 import InfluxV1Client


def build_pipeline(config: collector_config.CollectorConfig) -> Pipeline:
    """The pipeline for a config, with the project's catalogue and inventory."""
    return Pipeline(config.routes, catalogue.default(), inventory.default(), config.limits)


def build_collector(config_path: Path) -> Collector:
    """A collector wired to the real broker, InfluxDB and dead-letter file named in the config."""
    config = collector_config.load(config_path)
    return Collector(
        config,
        build_pipeline(config),
        InfluxV1Client(config.influx),
        DeadLetterStore(config.deadletters_path),
    )

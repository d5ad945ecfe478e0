"""Shared fixtures of the format tests: the project's catalogue, inventory and LoRaWAN map, a pipeline."""

from __future__ import annotations

import pytest

from ingest.mqtt.formats import DecodeContext
from ingest.mqtt.pipeline import Limits, Pipeline, Route
from iotorino.core import catalogue, inventory, lorawan

from .support import NOW


@pytest.fixture(scope="session")
def context() -> DecodeContext:
    """A decode context on the project's catalogue, inventory and LoRaWAN device map, received at NOW."""
    return DecodeContext(catalogue.default(), inventory.default(), NOW, lorawan.default())


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    """The whole pipeline (decode, catalogue validation, time window), the format given per call."""
    return Pipeline([Route("#", "native")], catalogue.default(), inventory.default(), Limits())


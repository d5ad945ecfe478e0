"""Scale-out: two collectors share one stream through an MQTT v5 shared subscription."""

from __future__ import annotations

import pytest

from iotorino.services import free_port
from tests.mqtt.streams import (CollectorProcess, metric, points, prepare_session, publish, stored_points,
                                street_stream, wait_for, write_config)

pytestmark = pytest.mark.integration


def test_two_collectors_store_every_message_exactly_once(tmp_path, mosquitto, influx):
    collectors, ports = [], []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        prepare_session(mosquitto.port, f"scale-{name}", "$share/iotorino/iotorino/v1/#")
        ports.append(free_port())
        config = write_config(tmp_path / name / "collector.toml", mqtt_port=mosquitto.port,
                              influx_url=influx.settings.url, database=influx.settings.database,
                              client_id=f"scale-{name}", metrics_port=ports[-1], share_group="iotorino")
        collectors.append(CollectorProcess(config).start())
    stream = street_stream(4000, seed=71)
    try:
        publish(mosquitto.port, stream)
        wait_for(lambda: sum(metric(p, "iotorino_messages_stored_total") for p in ports) >= len(stream),
                 what="both collectors to store the stream")
        assert stored_points(influx) == points(stream)
        received = [metric(p, "iotorino_messages_received_total") for p in ports]
        assert sum(received) == len(stream) and all(received), received  # shared, and nothing twice
    finally:
        for collector in collectors:
            collector.stop()

"""The local servers the demo and the tests rely on start, answer and stop."""

import pytest

from iotorino.core.errors import TransientError
from iotorino.core.reading import Reading
from iotorino.core.store import PointsRejected
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings


@pytest.mark.integration
def test_influx_round_trip(influx):
    influx.write([Reading("weather", {"unit": "TO-SU-0001"}, {"temperature": 12.5}, 1_700_000_000_000_000_000)])
    series = influx.query('SELECT "temperature", "unit" FROM "weather"')
    assert series[0]["values"] == [[1_700_000_000_000_000_000, 12.5, "TO-SU-0001"]]


@pytest.mark.integration
def test_type_conflict_is_a_permanent_rejection(influx):
    influx.write([Reading("weather", {}, {"temperature": 1.0}, 1)])
    with pytest.raises(PointsRejected, match="conflict"):
        influx.write([Reading("weather", {}, {"temperature": "warm"}, 2)])


def test_unreachable_store_is_transient(tmp_path):
    from iotorino.services import free_port

    client = InfluxV1Client(InfluxV1Settings(url=f"http://127.0.0.1:{free_port()}", database="x", timeout_s=1))
    with pytest.raises(TransientError, match="unreachable"):
        client.write([Reading("weather", {}, {"temperature": 1.0}, 1)])


@pytest.mark.integration
def test_a_write_after_the_store_restarted_reconnects_without_an_error(tmp_path):
    """The keep-alive write connection dies with the server; the next write makes a new one and succeeds."""
    from iotorino.services import Influxd

    server = Influxd(tmp_path / "influxd").start()
    client = InfluxV1Client(InfluxV1Settings(url=server.url, database="restart"))
    try:
        client.create_database()
        client.write([Reading("weather", {}, {"temperature": 1.0}, 1)])
        server.stop()
        server.start()
        client.write([Reading("weather", {}, {"temperature": 2.0}, 2)])  # on a stale connection: retried once
        assert client.count("weather", "temperature") == 2
        server.stop()
        with pytest.raises(TransientError, match="unreachable"):
            client.write([Reading("weather", {}, {"temperature": 3.0}, 3)])
    finally:
        client.close()
        server.stop()


@pytest.mark.integration
def test_writes_on_both_sides_of_the_compression_threshold_are_stored_whole(influx):
    """A body from GZIP_MIN_BYTES up goes gzip-encoded to a store on another host, a smaller one as it is."""
    from iotorino.core.lineprotocol import encode_batch
    from iotorino.core.store.influx_v1 import GZIP_MIN_BYTES

    assert not influx._compress  # loopback: nothing is compressed
    influx._compress = True  # as for a store on another host (tests reach only loopback)
    big = [Reading("weather", {"unit": f"TO-SU-{n:04d}"}, {"temperature": n / 10}, n + 1) for n in range(200)]
    assert len(encode_batch(big)) >= GZIP_MIN_BYTES
    influx.write(big)
    influx.write([Reading("weather", {"unit": "TO-SU-9999"}, {"temperature": 99.5}, 10_000)])
    assert influx.count("weather", "temperature") == 201


def test_only_stores_on_another_host_get_compressed_writes():
    def compress(url: str, gzip: bool = True) -> bool:
        return InfluxV1Client(InfluxV1Settings(url=url, database="d", gzip=gzip))._compress

    assert not compress("http://127.0.0.1:8086") and not compress("http://localhost:8086")
    assert not compress("http://[::1]:8086") and not compress("http://127.0.0.2:8086")
    assert compress("http://10.0.0.5:8086") and compress("https://influx.comune.torino.it")
    assert not compress("http://10.0.0.5:8086", gzip=False)


def test_password_is_not_in_repr():
    settings = InfluxV1Settings(url="http://127.0.0.1:1", database="d", username="u", password="s3cret")
    assert "s3cret" not in repr(settings)


@pytest.mark.integration
def test_mosquitto_accepts_a_publish(mosquitto):
    import paho.mqtt.publish as publish

    publish.single("iotorino/test", b"x", qos=1, hostname="127.0.0.1", port=mosquitto.port)

"""The supervisor: crashes are counted and restarted, or fail the process; health over HTTP."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request

from prometheus_client import CollectorRegistry

from iotorino.core import health
from iotorino.core.supervisor import EXIT, Supervisor


def _restarts(registry: CollectorRegistry, thread: str) -> float:
    return registry.get_sample_value("iotorino_thread_restarts_total", {"thread": thread}) or 0.0


def test_a_crashing_component_is_restarted_counted_and_logged_without_its_message(caplog):
    registry = CollectorRegistry()
    sup = Supervisor("test", registry=registry, sleep=lambda s: None)
    calls = []
    done = threading.Event()

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("payload AA:BB:CC:DD:EE:FF secret")
        done.set()

    logger = logging.getLogger("iotorino.supervisor")
    logger.addHandler(caplog.handler)  # directly: another test's logging set-up may stop propagation
    with caplog.at_level(logging.ERROR, logger="iotorino.supervisor"):
        sup.spawn("flaky", flaky)
        assert done.wait(5)
        sup.join(5)
    assert len(calls) == 3
    assert _restarts(registry, "flaky") == 2
    logger.removeHandler(caplog.handler)
    assert "ValueError" in caplog.text and "flaky" in caplog.text
    assert "AA:BB" not in caplog.text and "secret" not in caplog.text
    assert sup.alive() and sup.ready()


def test_policy_exit_fails_the_process():
    sup = Supervisor("test", registry=CollectorRegistry())
    sup.spawn("fatal", lambda: 1 / 0, policy=EXIT)
    assert sup.wait(5) is True
    assert not sup.alive() and not sup.ready()
    assert sup.status()["components"]["fatal"]["reason"].startswith("ZeroDivisionError")


def test_give_up_after_repeated_failures():
    sup = Supervisor("test", registry=CollectorRegistry(), sleep=lambda s: None, give_up_after=3)
    sup.spawn("always", lambda: [][1])
    assert sup.wait(5) is True


def test_health_endpoints_follow_readiness_and_liveness():
    registry = CollectorRegistry()
    sup = Supervisor("test", registry=registry)
    server = health.serve(registry, sup, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert urllib.request.urlopen(base + "/healthz", timeout=5).status == 200
        assert urllib.request.urlopen(base + "/readyz", timeout=5).status == 200
        sup.set_ready("store", False, "influxdb unreachable")
        try:
            urllib.request.urlopen(base + "/readyz", timeout=5)
            raise AssertionError("readyz should be 503")
        except urllib.error.HTTPError as err:
            assert err.code == 503
            body = json.loads(err.read())
            assert body["components"]["store"]["reason"] == "influxdb unreachable"
        metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        assert 'iotorino_thread_restarts_total{thread="health-http"} 0.0' in metrics
        sup.fail("store", "gave up")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            raise AssertionError("healthz should be 503")
        except urllib.error.HTTPError as err:
            assert err.code == 503
    finally:
        sup.stop()
        server.shutdown()


def test_a_forever_component_that_returns_or_exits_has_failed():
    registry = CollectorRegistry()
    sup = Supervisor("test", registry=registry, sleep=lambda s: None, give_up_after=2)
    sup.spawn("server", lambda: None, forever=True)
    assert sup.wait(5) is True
    assert _restarts(registry, "server") == 2
    exiting = Supervisor("test", registry=CollectorRegistry(), sleep=lambda s: None)
    exiting.spawn("bind", lambda: (_ for _ in ()).throw(SystemExit(1)), policy=EXIT)
    assert exiting.wait(5) is True
    assert exiting.status()["components"]["bind"]["reason"] == "SystemExit in bind"


def test_a_forever_component_ends_quietly_once_the_process_stops():
    sup = Supervisor("test", registry=CollectorRegistry())
    release = threading.Event()
    thread = sup.spawn("server", release.wait, forever=True)
    sup.stop()
    release.set()
    thread.join(5)
    assert sup.alive() and sup.status()["components"]["server"]["failures"] == 0


def test_readiness_said_before_the_spawn_holds():
    sup = Supervisor("test", registry=CollectorRegistry())
    sup.set_ready("restore", False, "waiting for the broker")
    release = threading.Event()
    sup.spawn("restore", release.wait)
    try:
        assert not sup.ready()
        assert sup.status()["components"]["restore"]["reason"] == "waiting for the broker"
    finally:
        release.set()
        sup.stop()


def test_failures_far_apart_do_not_give_up():
    ticks = iter(range(0, 10_000, 61))  # each run lasts 61 s by this clock: longer than STABLE_S
    registry = CollectorRegistry()
    sup = Supervisor("test", registry=registry, sleep=lambda s: None, give_up_after=2, clock=lambda: next(ticks))
    runs = []
    done = threading.Event()

    def now_and_then():
        runs.append(1)
        if len(runs) == 5:
            done.set()
            return
        raise OSError("flaky link")

    sup.spawn("now-and-then", now_and_then)
    assert done.wait(5)
    sup.join(5)
    assert sup.alive() and _restarts(registry, "now-and-then") == 4

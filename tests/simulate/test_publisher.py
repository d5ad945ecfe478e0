"""The publisher: pacing against an injected clock, and one run through a real mosquitto."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest

from iotorino.simulate import faults
from iotorino.simulate.generator import SimMessage, iter_messages
from iotorino.simulate.period import parse_start
from iotorino.simulate.publisher import publish_messages, simulate

START = parse_start("2026-11-20T07:00")


class FakeClock:
    """A clock that only moves when the publisher sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def message(minutes: float, fault=None) -> SimMessage:
    return SimMessage("iotorino/v1/street/TO-SU-0001/noise", b"{}", START + timedelta(minutes=minutes), fault)


def test_messages_are_sent_when_their_simulated_time_comes():
    clock, sent = FakeClock(), []
    messages = [message(0), message(60), message(60), message(120, faults.MISSING), message(180)]
    summary = publish_messages(messages, lambda t, p: sent.append((clock.now, t)), START, 3600, clock=clock, sleep=clock.sleep)
    assert [at for at, _ in sent] == [100.0, 101.0, 101.0, 103.0]  # one simulated hour per second
    assert summary.generated == 5 and summary.published == 4
    assert summary.faults_by_kind == {faults.MISSING: 1}


def test_max_speed_never_sleeps():
    clock = FakeClock()
    summary = publish_messages([message(0), message(600)], lambda t, p: None, START, None, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [] and summary.published == 2


@pytest.mark.integration
def test_a_subscriber_receives_every_published_message(mosquitto, fleet, catalogue):
    received, done = [], threading.Event()
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-test-sub")
    subscriber.on_connect = lambda c, u, f, rc, p: c.subscribe("iotorino/v1/#", qos=1)
    subscriber.on_subscribe = lambda c, u, mid, rc, p: done.set()
    subscriber.on_message = lambda c, u, msg: received.append((msg.topic, msg.payload))
    subscriber.connect("127.0.0.1", mosquitto.port)
    subscriber.loop_start()
    try:
        assert done.wait(10)
        end = START + timedelta(minutes=30)
        summary = simulate("127.0.0.1", mosquitto.port, START, end, None, 5, 0.05, inventory=fleet, catalogue=catalogue)
        expected = [(m.topic, m.payload) for m in iter_messages(fleet, catalogue, START, end, 5, 0.05) if m.fault != faults.MISSING]
        for _ in range(100):  # QoS 1 deliveries may trail the last PUBACK a little
            if len(received) >= len(expected):
                break
            time.sleep(0.1)
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert summary.published == len(expected) > 0
    assert sorted(received) == sorted(expected)
    assert summary.generated - summary.published == summary.faults_by_kind[faults.MISSING]

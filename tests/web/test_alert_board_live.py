"""The live alert board end to end: the real alert services publish retained alerts to a real mosquitto, the web
app's feed reads them, and the pages in a real headless chromium show each once, moving ended episodes to "ended";
a malformed retained alert is rejected with its reason while the rest shows; with the broker down the pages still
answer 200 and say the alerts are unavailable, and the board reconnects by itself.

Screenshots for review: artifacts/screenshots/allerte-*.png.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
import requests

from iotorino.alerts.service import CityAlertService, SchoolAlertService
from iotorino.core.config import MqttClient
from iotorino.core.times import format_ns, parse_ns
from iotorino.services import Mosquitto, free_port
from iotorino.simulate.publisher import MqttSender
from iotorino.web import WebSettings, create_app
from tests.mqtt.streams import wait_for
from tests.web.conftest import RunningServer
from tests.web.test_browser import CONTRAST

pytestmark = pytest.mark.integration

ROME = ZoneInfo("Europe/Rome")
LESSON = datetime(2026, 3, 3, 9, 0, tzinfo=ROME)  # a Tuesday in term: TO-SC-01 is open 07:45-16:30
T0 = datetime(2026, 3, 3, 6, 0, tzinfo=timezone.utc)  # the city's first hour
NOW = parse_ns("2026-03-03T12:00:00.000Z", "now")  # the web app's clock: the ended episodes are recent
CO2_ID = "school/co2_ventilate/TO-SC-01/R01/2026-03-03T08:05:00.000Z"
NO2_ID = "city/no2_hourly_limit/TO-SU-0001/2026-03-03T07:00:00.000Z"
BAD_TOPIC = "iotorino/alerts/city/TO-SU-0002/no2_hourly_limit"
WAIT_S = 120  # the longest wait for something to flow through broker, services and feed on a loaded machine


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def classroom(ppm: list[int], first: int = 0) -> list[tuple[str, bytes]]:
    """R01's readings every 5 minutes from LESSON + 5·`first` minutes."""
    return [("iotorino/v1/school/TO-SC-01/R01/indoor_climate",
             json.dumps({"time": format_ns(ns(LESSON + timedelta(minutes=5 * (first + i)))),
                         "fields": {"co2": value, "temperature": 21.0, "relative_humidity": 45.0}}).encode())
            for i, value in enumerate(ppm)]


def street(levels: list[float], first_hour: int, next_hour_readings: int = 1) -> list[tuple[str, bytes]]:
    """TO-SU-0001's air every 5 minutes: one hour per NO₂ level from T0 + `first_hour`, then readings of the next."""
    out = []
    for i, level in enumerate([*levels, 50.0]):
        for minute in range(0, 60 if i < len(levels) else 5 * next_hour_readings, 5):
            moment = T0 + timedelta(hours=first_hour + i, minutes=minute)
            out.append(("iotorino/v1/street/TO-SU-0001/air_quality",
                        json.dumps({"time": format_ns(ns(moment)), "fields": {"no2": level, "pm10": 20.0}}).encode()))
    return out


def send(port: int, messages: list[tuple[str, bytes]]) -> None:
    with MqttSender("127.0.0.1", port) as sender:
        for topic, payload in messages:
            sender.send(topic, payload)


def retain(port: int, topic: str, payload: bytes, configure=lambda client: client) -> None:
    """Publish one retained message and wait for the broker to have it (`configure`: TLS and credentials)."""
    client = configure(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2))
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def board(url: str, path: str = "/allerte.json") -> dict:
    answer = requests.get(url + path, timeout=60)
    assert answer.status_code == 200
    return answer.json()


def shown_once(page, list_id: str) -> list[str]:
    """The alert ids of the list `list_id`, asserting none appears twice on the whole page."""
    ids = page.evaluate(f"[...document.querySelectorAll('#{list_id} [data-alert-id]')].map(e => e.dataset.alertId)")
    every = page.evaluate("[...document.querySelectorAll('[data-alert-id]')].map(e => e.dataset.alertId)")
    assert len(every) == len(set(every)), every
    return ids


def test_the_pages_show_the_services_alerts_live_once_each_and_survive_the_broker(tmp_path, browser_page):
    broker = Mosquitto(tmp_path / "broker").start()
    port = broker.port
    city = CityAlertService("127.0.0.1", port, interval_of=lambda unit, m: 300, tick_s=3600).start()
    school = SchoolAlertService("127.0.0.1", port, tick_s=3600).start()
    running = None
    try:
        assert city.subscribed.wait(60) and school.subscribed.wait(60)
        # A classroom over 1,500 ppm for 30 minutes and an NO₂ hour over 200 µg/m³: both episodes open.
        send(port, classroom([1200, 1600, 1700, 1800, 1900, 2000, 2100, 2200]) + street([80, 250], 0))
        wait_for(lambda: [a["id"] for a in school.alerts(True)] == [CO2_ID] and
                 [a["id"] for a in city.alerts(True)] == [NO2_ID],
                 timeout=WAIT_S, what="both services opened their episode")
        bad = json.loads(json.dumps(city.alerts()[0]).replace("TO-SU-0001", "TO-SU-0002")) | {"rating": 42}
        retain(port, BAD_TOPIC, json.dumps(bad).encode())

        # The web app starts later: the retained alerts are what it finds.
        app = create_app(WebSettings(exports_dir=tmp_path / "exports", mqtt=MqttClient(port=port),
                                     clock=lambda: NOW))
        running = RunningServer(app, lifespan="on").start()
        wait_for(lambda: len(board(running.url)["active"]) == 2 and board(running.url)["rejected"],
                 timeout=WAIT_S, what="the board read the retained alerts")
        data = board(running.url)
        assert data["status"] == "live" and [a["id"] for a in data["active"]] == [CO2_ID, NO2_ID]  # rating 8, 7
        assert data["rejected"] == {"bad_alert": 1}
        assert [(r["topic"], r["field"], r["value"]) for r in data["last_rejections"]] == [(BAD_TOPIC, "rating", "42")]

        browser_page.goto(running.url + "/allerte?lang=it")
        browser_page.assert_clean(running.url)
        assert shown_once(browser_page, "active") == [CO2_ID, NO2_ID]
        assert browser_page.evaluate("document.querySelector('#active').innerText").count("Aprite le finestre") == 1
        assert browser_page.evaluate(CONTRAST) == []
        browser_page.screenshot("allerte-live-it")
        browser_page.goto(running.url + "/allerte?ambito=citta&lang=it")
        assert shown_once(browser_page, "active") == [NO2_ID]

        browser_page.goto(running.url + "/scuole/TO-SC-01/alunni")
        browser_page.assert_clean(running.url)
        banner = browser_page.evaluate("document.querySelector('[role=alert]#ventilate').innerText")
        assert "Aprite le finestre, ora!" in banner and "Sezione A" in banner
        assert browser_page.evaluate(CONTRAST) == []
        browser_page.screenshot("allerte-alunni-ventilate")
        browser_page.goto(running.url + "/scuole/TO-SC-01")
        assert shown_once(browser_page, "this-school-active") == [CO2_ID]
        browser_page.goto(running.url + "/scuole")
        browser_page.assert_clean(running.url)
        assert shown_once(browser_page, "school-alerts-list") == [CO2_ID]
        assert browser_page.evaluate("document.querySelector('#alerts-by-school tbody').innerText").split()[-1] == "1"
        browser_page.goto(running.url + "/citta")
        browser_page.assert_clean(running.url)
        assert shown_once(browser_page, "city-alerts-list") == [NO2_ID]
        browser_page.screenshot("allerte-citta")

        # Both episodes end: the classroom aired, the next NO₂ hour back under the limit. The open page says so.
        browser_page.goto(running.url + "/scuole/TO-SC-01/alunni")
        updated = "document.querySelector('[data-alert-updated]').hidden"
        browser_page.evaluate("window.iotorinoAlertCheck()")
        assert browser_page.evaluate(updated) is True  # nothing changed yet
        send(port, classroom([1300], first=9) + street([90], 2))
        wait_for(lambda: not board(running.url)["active"] and len(board(running.url)["ended"]) == 2,
                 timeout=WAIT_S, what="both episodes ended on the board")
        browser_page.evaluate("window.iotorinoAlertCheck()")
        assert browser_page.evaluate(updated) is False
        browser_page.assert_clean(running.url)
        browser_page.screenshot("allerte-alunni-updated")
        browser_page.goto(running.url + "/en/allerte")
        browser_page.assert_clean(running.url)
        assert shown_once(browser_page, "ended") == [CO2_ID, NO2_ID]  # newest end first: 08:45 UTC, then 08:00
        assert browser_page.evaluate("document.querySelectorAll('#active').length") == 0
        assert "No alert going on." in browser_page.evaluate("document.body.innerText")
        browser_page.screenshot("allerte-ended-en")
        browser_page.goto(running.url + "/scuole/TO-SC-01/alunni")
        assert browser_page.evaluate("document.querySelectorAll('#ventilate').length") == 0

        # The broker goes down: every page still answers, saying the alerts are unavailable.
        broker.stop()
        wait_for(lambda: board(running.url)["status"] == "unavailable",
                 timeout=WAIT_S, what="the board noticed the broker down")
        for path in ("/allerte", "/scuole", "/scuole/TO-SC-01", "/scuole/TO-SC-01/alunni", "/citta"):
            answer = requests.get(running.url + path, params={"lang": "it"}, timeout=10)
            assert answer.status_code == 200 and "Allerte non disponibili" in answer.text, path
        browser_page.goto(running.url + "/allerte?lang=it")
        browser_page.assert_clean(running.url)
        assert "Allerte non disponibili" in browser_page.evaluate("document.querySelector('[role=status]').innerText")
        assert len(shown_once(browser_page, "ended")) == 2  # what was known stays, marked as not updated
        browser_page.screenshot("allerte-broker-down-it")

        broker = Mosquitto(tmp_path / "broker", port).start()  # back on the same port: the feed reconnects by itself
        wait_for(lambda: board(running.url)["status"] == "live", timeout=WAIT_S, what="the board reconnected")
    finally:
        if running is not None:
            running.stop()
        city.stop()
        school.stop()
        broker.stop()


def test_the_app_serves_every_page_when_the_broker_is_down_from_the_start(tmp_path):
    app = create_app(WebSettings(exports_dir=tmp_path, mqtt=MqttClient(port=free_port())))
    running = RunningServer(app, lifespan="on").start()
    try:
        for path in ("/allerte", "/allerte.json", "/scuole", "/scuole/TO-SC-01/alunni", "/citta"):
            answer = requests.get(running.url + path, params={"lang": "en"}, timeout=10)
            assert answer.status_code == 200, path
        assert board(running.url)["status"] == "unavailable"
        assert "Alerts unavailable" in requests.get(running.url + "/en/allerte", timeout=10).text
    finally:
        running.stop()


def test_the_board_reads_over_tls_with_the_password_from_a_file_named_in_the_settings_file(secure_broker, tmp_path,
                                                                                          caplog):
    import logging
    from dataclasses import replace

    from iotorino.web import settings as web_settings
    from tests.web.alert_fixtures import CO2_R01, message

    broker, certs = secure_broker
    secret = tmp_path / "mqtt_password"
    secret.write_text("s3nsor\n")
    path = tmp_path / "web.toml"
    path.write_text(f'[mqtt]\nport = {broker.port}\nusername = "sensor"\npassword_file = "{secret}"\n'
                    f'tls = true\nca_file = "{certs["ca"]}"\n')
    settings = web_settings.load(path, {}, with_store=False)
    retain(broker.port, *message(CO2_R01), configure=settings.mqtt.configure_paho)
    app = create_app(replace(settings, exports_dir=tmp_path / "exports", clock=lambda: NOW))
    with caplog.at_level(logging.DEBUG):
        running = RunningServer(app, lifespan="on").start()
        try:
            wait_for(lambda: board(running.url)["status"] == "live" and board(running.url)["active"],
                     timeout=WAIT_S, what="the board connected over TLS and read the retained alert")
            assert [a["id"] for a in board(running.url)["active"]] == [CO2_R01.id]
        finally:
            running.stop()
    assert "s3nsor" not in caplog.text and "s3nsor" not in repr(settings)


def test_iotorino_web_with_a_settings_file_shows_the_board_and_keeps_the_password_off_argv_and_logs(
        secure_broker, tmp_path, python, cli_env, monkeypatch):
    import subprocess
    import time

    from iotorino.core.config import mqtt_client, read_toml
    from tests.web.alert_fixtures import NO2_TO_SU_0001, message

    broker, certs = secure_broker
    path = tmp_path / "web.toml"
    path.write_text(f'[mqtt]\nport = {broker.port}\nusername = "sensor"\npassword_env = "IOTORINO_WEB_MQTT_PASSWORD"\n'
                    f'tls = true\nca_file = "{certs["ca"]}"\n[alert_board]\nended_days = 366\n')
    monkeypatch.setenv("IOTORINO_WEB_MQTT_PASSWORD", "s3nsor")
    retain(broker.port, *message(NO2_TO_SU_0001), configure=mqtt_client(read_toml(path)).configure_paho)
    port = free_port()
    env = dict(cli_env, IOTORINO_EXPORT_DIR=str(tmp_path / "exports"), IOTORINO_WEB_MQTT_PASSWORD="s3nsor")
    process = subprocess.Popen([python, "-m", "iotorino", "web", "--port", str(port), "--config", str(path)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    data = {}
    try:
        deadline = time.monotonic() + 180  # the start-up imports take long on a loaded machine
        while process.poll() is None and time.monotonic() < deadline:
            try:
                data = board(f"http://127.0.0.1:{port}")
                if data["status"] == "live" and data["active"]:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        with open(f"/proc/{process.pid}/cmdline", "rb") as cmdline:
            assert b"s3nsor" not in cmdline.read()
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert [a["id"] for a in data.get("active", [])] == [NO2_TO_SU_0001.id], (data, output.decode()[-3000:])
    assert b"s3nsor" not in output


def test_a_refused_password_leaves_the_board_unavailable_and_is_never_logged(secure_broker, tmp_path, monkeypatch,
                                                                            caplog):
    import logging

    from iotorino.core.config import mqtt_client

    broker, certs = secure_broker
    monkeypatch.setenv("IOTORINO_TEST_WRONG", "wr0ng-secret")
    mqtt_settings = mqtt_client({"mqtt": {"port": broker.port, "tls": True, "ca_file": str(certs["ca"]),
                                          "username": "sensor", "password_env": "IOTORINO_TEST_WRONG"}})
    app = create_app(WebSettings(exports_dir=tmp_path, mqtt=mqtt_settings))
    with caplog.at_level(logging.DEBUG):
        running = RunningServer(app, lifespan="on").start()
        try:
            wait_for(lambda: "refused the connection" in caplog.text, timeout=WAIT_S, what="the refusal logged")
            assert board(running.url)["status"] == "unavailable"
            assert "Allerte non disponibili" in requests.get(running.url + "/allerte?lang=it", timeout=60).text
            ready = app.state.supervisor.status()["components"]["alert-feed-broker"]
            assert ready["ready"] is False and "refused" in ready["reason"]
        finally:
            running.stop()
    assert "wr0ng-secret" not in caplog.text

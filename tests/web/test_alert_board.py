"""The alert board (iotorino.web.alertboard) and its pages, without a broker: messages posted as the feed would.

The live board against a real mosquitto and the real alert services, in chromium: test_alert_board_live.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from iotorino.core import alerts as contract
from iotorino.core.config import MqttClient
from iotorino.core.errors import ConfigError, Rejected
from iotorino.core.times import parse_ns
from iotorino.web import WebSettings, create_app
from iotorino.web import settings as web_settings
from iotorino.web.alertboard import AlertBoard, AlertBoardSettings, AlertFeed
from tests.web.alert_fixtures import BASELOAD_TO_SC_02, CO2_R01, NO2_TO_SU_0001, ended, later_episode, message

NOW = parse_ns("2026-03-03T10:00:00.000Z", "now")
DAY_NS = 86_400 * 10**9


def board_with(*alerts: contract.Alert, **settings) -> AlertBoard:
    board = AlertBoard(AlertBoardSettings(**settings), clock=lambda: NOW)
    for alert in alerts:
        board.post(*message(alert))
    return board


def test_active_alerts_come_by_rating_and_an_ended_episode_moves_to_ended():
    board = board_with(BASELOAD_TO_SC_02, NO2_TO_SU_0001, CO2_R01)
    assert [p.alert.rating for p in board.snapshot().active] == [8, 7, 5]
    board.post(*message(ended(NO2_TO_SU_0001, "2026-03-03T09:00:00.000Z")))
    snap = board.snapshot()
    assert [p.alert.id for p in snap.active] == [CO2_R01.id, BASELOAD_TO_SC_02.id]
    assert [(p.scope, p.alert.id, p.alert.end_ns) for p in snap.ended] == [
        ("city", NO2_TO_SU_0001.id, parse_ns("2026-03-03T09:00:00.000Z", "end"))]
    board.post(*message(ended(NO2_TO_SU_0001, "2026-03-03T09:00:00.000Z")))  # retained again on a reconnect
    assert len(board.snapshot().ended) == 1


def test_a_new_episode_takes_the_topic_and_the_ended_one_stays_listed():
    board = board_with(CO2_R01, ended(CO2_R01, "2026-03-03T08:40:00.000Z"))
    again = later_episode(CO2_R01, "2026-03-03T09:30:00.000Z")
    board.post(*message(again))
    snap = board.snapshot()
    assert [p.alert.id for p in snap.active] == [again.id] and [p.alert.id for p in snap.ended] == [CO2_R01.id]


def test_an_empty_retained_message_clears_its_topic():
    board = board_with(CO2_R01, NO2_TO_SU_0001)
    assert board.post(message(CO2_R01)[0], b"") is None
    assert [p.alert.id for p in board.snapshot().active] == [NO2_TO_SU_0001.id]


def test_ended_episodes_are_kept_by_count_and_shown_within_ended_days():
    board = AlertBoard(AlertBoardSettings(keep_ended=2, ended_days=1.0), clock=lambda: NOW)
    for hours, start in ((30, "2026-03-01T08:00:00.000Z"), (3, "2026-03-03T06:00:00.000Z"),
                         (2, "2026-03-03T07:00:00.000Z")):
        episode = later_episode(CO2_R01, start)
        board.post(*message(episode.ended(NOW - hours * 3_600 * 10**9)))
    # Three ended: the oldest received is forgotten (keep_ended 2); of the two kept, both ended within a day.
    assert [p.alert.start_ns for p in board.snapshot().ended] == [parse_ns("2026-03-03T07:00:00.000Z", "s"),
                                                                  parse_ns("2026-03-03T06:00:00.000Z", "s")]
    late = AlertBoard(AlertBoardSettings(ended_days=1.0), clock=lambda: NOW + 2 * DAY_NS)
    late.post(*message(ended(CO2_R01, "2026-03-03T08:40:00.000Z")))
    assert late.snapshot().ended == ()


def _payload(**changes) -> bytes:
    data = CO2_R01.to_dict() | changes
    return json.dumps(data).encode()


CO2_TOPIC = message(CO2_R01)[0]
MALFORMED = [
    # (name, topic, payload, reason, field, value as kept)
    ("not json", CO2_TOPIC, b"{\"id\": ", "bad_json", "payload", "b'{\"id\": '"),
    ("rating 11", CO2_TOPIC, _payload(rating=11), "bad_alert", "rating", "11"),
    ("rating text", CO2_TOPIC, _payload(rating="high"), "bad_alert", "rating", "'high'"),
    ("no message", CO2_TOPIC, json.dumps({k: v for k, v in CO2_R01.to_dict().items() if k != "message_it"}).encode(),
     "bad_alert", "message_it", "None"),
    ("end before start", CO2_TOPIC, _payload(end="2026-03-03T08:00:00.000Z"), "bad_alert", "end",
     "'2026-03-03T08:00:00.000Z'"),
    ("bad time", CO2_TOPIC, _payload(start="yesterday"), "bad_time", "start", "'yesterday'"),
    ("site of another topic", "iotorino/alerts/school/TO-SC-02/R01/co2_ventilate", _payload(), "topic_mismatch",
     "site", "'TO-SC-01/R01'"),
    ("id of another episode", CO2_TOPIC, _payload(id="school/co2_ventilate/TO-SC-01/R01/x"), "bad_alert", "id",
     "'school/co2_ventilate/TO-SC-01/R01/x'"),
    ("unknown scope", "iotorino/alerts/region/TO-SC-01/R01/co2_ventilate", _payload(), "unknown_topic", "topic",
     "'iotorino/alerts/region/TO-SC-01/R01/co2_ventilate'"),
    ("huge", CO2_TOPIC, _payload(message_it="x" * 40_000), "too_large", "payload", None),
    ("huge field", CO2_TOPIC, _payload(kind=["k"] * 2_000), "bad_alert", "kind", None),
]


@pytest.mark.parametrize("name, topic, payload, reason, field, value", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_alert_is_rejected_naming_field_and_value_and_the_board_goes_on(name, topic, payload, reason,
                                                                                    field, value):
    board = board_with(NO2_TO_SU_0001)
    with pytest.raises(Rejected) as error:
        board.post(topic, payload)
    assert (error.value.reason, error.value.field) == (reason, field)
    snap = board.snapshot()
    assert snap.rejected == {reason: 1} and [p.alert.id for p in snap.active] == [NO2_TO_SU_0001.id]
    kept = snap.last_rejections[0]
    assert (kept.reason, kept.field, kept.topic) == (reason, field, topic)
    assert len(kept.value) <= 80 and (value is None or kept.value == value)
    if name == "huge":
        assert kept.value == f"'{len(payload)} bytes'"


def test_the_feed_logs_a_rejection_once_and_survives_any_failure(caplog):
    class Breaking(AlertBoard):
        def post(self, topic, payload):
            if payload == b"boom":
                raise RuntimeError("secret payload text")
            return super().post(topic, payload)

    board = Breaking(clock=lambda: NOW)
    feed = AlertFeed(board, MqttClient(host="127.0.0.1", port=1))

    class Message:
        def __init__(self, topic, payload):
            self.topic, self.payload = topic, payload

    with caplog.at_level(logging.WARNING, "iotorino.web.alertboard"):
        for payload in (b"{", b"{", b"boom", message(CO2_R01)[1]):
            feed._on_message(feed.client, None, Message(CO2_TOPIC, payload))
    assert board.snapshot().rejected == {"bad_json": 2, "unexpected_error": 1}
    assert [p.alert.id for p in board.snapshot().active] == [CO2_R01.id]
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2 and "bad_json" in logged[0] and "field 'payload'" in logged[0]
    assert "RuntimeError" in logged[1] and "secret" not in " ".join(logged)


# --- pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def board_app(tmp_path):
    """The app with an alert board (its broker never started: the pages say the alerts are unavailable)."""
    app = create_app(WebSettings(exports_dir=tmp_path, mqtt=MqttClient(port=1), clock=lambda: NOW))
    for alert in (CO2_R01, BASELOAD_TO_SC_02, NO2_TO_SU_0001, ended(later_episode(
            NO2_TO_SU_0001, "2026-03-02T07:00:00.000Z"), "2026-03-02T08:00:00.000Z")):
        app.state.alert_board.post(*message(alert))
    app.state.alert_board.link(False)
    return app


def test_the_board_page_lists_active_by_rating_then_ended_in_the_pages_language(board_app):
    client = TestClient(board_app)
    data = client.get("/allerte.json").json()
    assert [a["id"] for a in data["active"]] == [CO2_R01.id, NO2_TO_SU_0001.id, BASELOAD_TO_SC_02.id]
    assert [(a["kind"], a["end"]) for a in data["ended"]] == [("no2_hourly_limit", "2026-03-02T08:00:00.000Z")]
    first = data["active"][0]
    assert (first["scope"], first["rating"], first["start_local"], first["message"]) == (
        "school", 8, "2026-03-03 09:05", CO2_R01.message_it)
    assert data["status"] == "unavailable"
    html = client.get("/allerte").text
    assert html.count('data-alert-id="') == 4 and "Gravità 8/10" in html and "Aprite le finestre" in html
    assert 'role="status"' in html and "Allerte non disponibili" in html
    english = client.get("/en/allerte").text
    assert "Rating 8/10" in english and "Open the windows for 5-10 minutes" in english
    assert "Aprite le finestre" not in english and "Alerts unavailable" in english


def test_the_board_filters_by_scope_and_site(board_app):
    client = TestClient(board_app)
    ids = lambda query: [a["id"] for a in client.get("/allerte.json" + query).json()["active"]]  # noqa: E731
    assert ids("?ambito=citta") == [NO2_TO_SU_0001.id]
    assert ids("?ambito=scuole") == [CO2_R01.id, BASELOAD_TO_SC_02.id]
    assert ids("?sito=TO-SC-01") == [CO2_R01.id] == ids("?ambito=scuole&sito=TO-SC-01/R01")
    assert ids("?ambito=citta&sito=TO-SC-01") == []
    assert client.get("/allerte.json").json()["sites"] == ["TO-SC-01", "TO-SC-02", "TO-SU-0001"]
    bad = client.get("/allerte.json?ambito=regione")
    assert bad.status_code == 400 and "scuole, citta" in bad.json()["message"]["it"]
    assert client.get("/allerte?sito=<script>").status_code == 400


def test_school_and_city_pages_carry_their_alerts(board_app):
    client = TestClient(board_app)
    overview = client.get("/scuole.json").json()["alerts"]
    assert overview["by_school"] == [{"school_id": "TO-SC-01", "name": "Scuola dell'infanzia Aristide Gabelli",
                                      "active": 1}, {"school_id": "TO-SC-02", "name": overview["by_school"][1]["name"],
                                                     "active": 1}]
    assert [a["id"] for a in overview["active"]] == [CO2_R01.id, BASELOAD_TO_SC_02.id]
    school = client.get("/scuole/TO-SC-01.json").json()["alerts"]
    assert [a["id"] for a in school["active"]] == [CO2_R01.id] and school["ended"] == []
    pupils = client.get("/scuole/TO-SC-01/alunni.json").json()["alerts"]
    assert [(r["room_id"], r["room"]) for r in pupils["ventilate"]] == [("R01", "Sezione A")]
    assert client.get("/scuole/TO-SC-02/alunni.json").json()["alerts"]["ventilate"] == []  # a meter's alert: no banner
    html = client.get("/scuole/TO-SC-01/alunni").text
    assert 'role="alert"' in html and "Aprite le finestre, ora!" in html and "Sezione A" in html
    city = client.get("/citta.json").json()["alerts"]
    assert [a["id"] for a in city["active"]] == [NO2_TO_SU_0001.id]
    assert 'id="city-alerts-list"' in client.get("/citta").text


def test_a_cached_city_page_shows_the_alerts_as_they_change(board_app):
    """/citta keeps its rendered HTML per data version: the alert panel is part of that version."""
    client = TestClient(board_app)
    first = client.get("/citta").text
    assert first.count('data-alert-id="') == 1 and NO2_TO_SU_0001.id in first
    assert client.get("/citta").text == first  # the same version: the same page
    board_app.state.alert_board.post(*message(ended(NO2_TO_SU_0001, "2026-03-03T10:00:00.000Z")))
    after = client.get("/citta").text
    assert 'data-alert-id="' not in after and client.get("/citta.json").json()["alerts"]["active"] == []


def test_without_mqtt_the_pages_say_the_board_is_not_configured(tmp_path):
    client = TestClient(create_app(WebSettings(exports_dir=tmp_path)))
    assert client.get("/allerte.json").json()["status"] == "not_configured"
    for path in ("/allerte", "/scuole", "/scuole/TO-SC-01", "/citta"):
        answer = client.get(path)
        assert answer.status_code == 200 and "non è configurato" in answer.text, path
        assert "alerts.js" not in answer.text, path  # a board that is off is not polled (nor in the static mirror)
    assert "ventilate" not in client.get("/scuole/TO-SC-01/alunni").text


# --- the settings file -------------------------------------------------------------------------------------

SAMPLE = Path(web_settings.__file__).parent / "sample.toml"


def test_the_sample_settings_file_loads_and_shows_every_key_with_its_default():
    import dataclasses
    import re
    import tomllib

    settings = web_settings.load(SAMPLE, {}, with_store=False)
    assert settings.mqtt == MqttClient() and settings.alert_board == AlertBoardSettings()
    text = SAMPLE.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    for table, cls in (("mqtt", MqttClient), ("alert_board", AlertBoardSettings)):
        for f in dataclasses.fields(cls):
            if f.metadata.get("iotorino.derived"):
                continue
            assert re.search(rf"^{f.name} = ", text, re.M), f"{table}.{f.name} not shown"
            assert raw[table][f.name] == f.default, f"{table}.{f.name}"


def test_the_settings_file_takes_the_password_from_the_environment_and_names_bad_keys(tmp_path, monkeypatch):
    path = tmp_path / "web.toml"
    path.write_text('[mqtt]\nport = 8883\nusername = "web"\npassword_env = "WEB_MQTT_PASSWORD"\n'
                    '[alert_board]\nended_days = 2\n')
    monkeypatch.setenv("WEB_MQTT_PASSWORD", "s3cret-w3b")
    settings = web_settings.load(path, {}, with_store=False)
    assert (settings.mqtt.port, settings.mqtt.password, settings.alert_board.ended_days) == (8883, "s3cret-w3b", 2.0)
    assert "s3cret" not in repr(settings)
    path.write_text('[alert_board]\nkeep_endeded = 3\n')
    with pytest.raises(ConfigError) as error:
        web_settings.load(path, {}, with_store=False)
    assert error.value.key == "alert_board.keep_endeded"
    path.write_text('[mqt]\nport = 1883\n')
    with pytest.raises(ConfigError) as error:
        web_settings.load(path, {}, with_store=False)
    assert error.value.key == "mqt"

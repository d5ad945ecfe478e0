"""The format registry, its default topics and the sample config's commented subscriptions agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ingest.mqtt import config
from ingest.mqtt.formats import DEFAULT_TOPICS, FORMATS

SAMPLE = Path(__file__).resolve().parents[3] / "ingest" / "mqtt" / "sample.toml"


def test_every_format_has_a_default_topic():
    assert set(DEFAULT_TOPICS) == set(FORMATS)


def test_sample_config_shows_a_subscription_per_format():
    text = SAMPLE.read_text(encoding="utf-8")
    uncommented = re.sub(r"^# (\[\[subscriptions\]\]|topic = |format = )", r"\1", text, flags=re.MULTILINE)
    routes = config.from_dict(tomllib.loads(uncommented)).routes
    assert {r.format: r.topic for r in routes} == DEFAULT_TOPICS

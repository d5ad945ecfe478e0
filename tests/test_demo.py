"""The main job, shortened to two simulated hours: its printed counts match InfluxDB and the dead letters."""

import re
import subprocess
import sys
from datetime import date, timedelta

import pytest


@pytest.mark.integration
def test_demo_counts_add_up_and_export_is_written(tmp_path, cli_env):
    day = date.today() - timedelta(days=2)
    result = subprocess.run(
        [sys.executable, "-m", "iotorino", "demo", "--day", day.isoformat(), "--hours", "2",
         "--fault-rate", "0.01", "--history-days", "2", "--stop-servers", "--state-dir", str(tmp_path / "demo")],
        env=cli_env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout

    def number(label):
        return int(re.search(rf"{label}\s+([\d,]+)", out).group(1).replace(",", ""))

    published, stored, rejected = number("messages published"), number("readings stored"), number("messages rejected")
    assert published > 1000 and rejected > 0
    assert stored + rejected == published
    assert "published = stored + rejected: yes" in out
    assert number("values quarantined") > 0  # out-of-range faults: stored without the spiked value
    export = tmp_path / "demo" / "exports" / "air_quality_hourly" / "data" / f"date={day.isoformat()}"
    assert list(export.glob("*.parquet")) and number("export rows") > 0
    schools = tmp_path / "demo" / "exports" / "school_energy_daily" / "data"
    days = [day - timedelta(days=1), day]
    assert sorted(p.name for p in schools.iterdir()) == [f"date={d.isoformat()}" for d in days]
    assert f"school KPIs             {days[0]} to {days[1]}   (2 days" in out


@pytest.mark.integration
def test_demo_school_week_gives_the_dashboards_seven_days(influx, tmp_path):
    from zoneinfo import ZoneInfo

    import pandas as pd

    from iotorino.demo import school_history

    day = date(2026, 11, 27)  # a Friday: the week before holds a weekend and five school days
    school = "TO-SC-07"
    days, loaded = school_history(influx.settings, tmp_path, day, 7, 2026, only=(school,))
    assert days == [day - timedelta(days=6 - i) for i in range(7)] and loaded.schools == 1
    first_point = influx.query(f'SELECT first("co2") FROM "indoor_climate" WHERE "school" = \'{school}\'')
    first = pd.Timestamp(first_point[0]["values"][0][0], tz="UTC").tz_convert(ZoneInfo("Europe/Rome"))
    assert first.date() == day - timedelta(days=7) and first.hour == 23  # an hour before the week, for the registers
    root = tmp_path / "school_energy_daily" / "data"
    assert sorted(p.name for p in root.iterdir()) == [f"date={d.isoformat()}" for d in days]
    for d in days[:-1]:  # the six loaded days have the school's kWh; the demo's own day comes over MQTT
        frame = pd.read_parquet(root / f"date={d.isoformat()}" / "part-0.parquet")
        mine = frame[(frame["school_id"] == school) & (frame["fuel"] == "electricity")]
        assert len(mine) == 1 and mine["kwh"].iloc[0] > 0
    assert len(list((tmp_path / "classroom_air_daily" / "data").iterdir())) == 7


def _processes_naming(text: str) -> list[int]:
    """Pids of running processes whose command line names `text` (the demo's servers name its state folder)."""
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            zombie = ") Z " in (proc / "stat").read_text()
        except (OSError, ValueError):
            continue
        if proc.name.isdigit() and text in cmdline and not zombie:
            found.append(int(proc.name))
    return found


@pytest.mark.integration
def test_ctrl_c_while_publishing_stops_the_demo_and_its_servers(tmp_path, cli_env):
    import os
    import signal
    import time

    from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
    from iotorino.demo import Demo, stored_points

    state = tmp_path / "demo"
    day = date.today() - timedelta(days=2)
    # As a terminal's Ctrl-C: SIGINT to the demo's whole process group (the collector it started too).
    demo = subprocess.Popen(
        [sys.executable, "-m", "iotorino", "demo", "--day", day.isoformat(), "--history-days", "1",
         "--state-dir", str(state)],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        url = None
        for line in demo.stdout:
            url = url or (re.search(r"InfluxDB on (http://\S+)", line) or [None, None])[1]
            if "publishing" in line:
                break
        assert url, "the demo never started publishing"
        influx = InfluxV1Client(InfluxV1Settings(url=url, database="iotorino"))
        for _ in range(600):  # mid-publishing: messages are flowing
            if sum(stored_points(influx).values()) >= 2000:
                break
            assert demo.poll() is None, "the demo ended before it was interrupted"
            time.sleep(0.5)
        else:
            pytest.fail("the collector stored nothing in 5 minutes of publishing")
        os.killpg(demo.pid, signal.SIGINT)
        out, _ = demo.communicate(timeout=120)  # it ends: the bound is the wait, not a speed
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
            Demo(state).stop_leftovers()
    assert demo.returncode == 130, out[-3000:]
    assert re.search(r"interrupted \(Ctrl-C\) while publishing the simulated day \([\d,]+ messages sent, "
                     r"simulated time up to \d{4}-\d\d-\d\d \d\d:\d\d\)", out), out[-3000:]
    assert "demo stopped: collector, Mosquitto and InfluxDB stopped" in out
    assert "keeps running" not in out and not (state / "influxd.pid").exists()
    assert _processes_naming(str(state)) == []  # no collector, Mosquitto or InfluxDB left behind

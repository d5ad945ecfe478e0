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
         "--fault-rate", "0.01", "--stop-servers", "--state-dir", str(tmp_path / "demo")],
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

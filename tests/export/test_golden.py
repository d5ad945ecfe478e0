"""The published bytes do not change: every dataset of a small simulated slice, byte for byte against stored files.

`tests/export/golden/2026-10-25/` holds the Parquet partitions and CSV copies
that the export code before the raw-point aggregation wrote for the slice
below (the DST day with 25 hours, the repeated 02:00 hour included, eight
street units and two schools, plus hand-made edge cases: a value out of the
sensor's range, a point with one field only, a second series of the same unit
under an extra tag). Every registered dataset has its files there (a new dataset
must add its own); those added after the README's list were written by the code of
commit a40528f, which wrote exactly the stored files of the others. See golden/README.md for how they were made.

`noise_hourly` was regenerated when its hourly means of sound levels became energetic
(10·lg(mean(10^(L/10))), the catalogue's `average: energetic`) instead of arithmetic means
of decibels: only `laeq_mean`, `lamax_mean` and their descriptions differ from the old output
(golden/README.md); every other dataset is still the old server-side output, byte for byte.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from iotorino.core.reading import Reading
from iotorino.export import registry
from iotorino.export.run import run_day
from iotorino.testing.city import load_city
from tests.export.helpers import ns, utc

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 25)
GOLDEN = Path(__file__).parent / "golden" / DAY.isoformat()
SLICE_UNITS = [f"TO-SU-{n:04d}" for n in range(1, 9)]
SLICE_SCHOOLS = ["TO-SC-01", "TO-SC-02"]


def load_slice(client) -> int:
    """The slice: 21:00Z on the day before to 01:30Z (energy registers before the day's start included)."""
    _, written = load_city(client, utc(2026, 10, 24, 21), utc(2026, 10, 25, 1, 30), seed=3, only=SLICE_UNITS + SLICE_SCHOOLS)
    client.write([
        # Out of the sensor's range (pm25 0-1000 µg/m³): counted by the quality report.
        Reading("air_quality", {"unit": "TO-SU-0001", "district": "2"}, {"pm25": 5000.0}, ns(utc(2026, 10, 25, 0, 10, 1))),
        # One field only: the other fields' counts stay 0 for this point.
        Reading("air_quality", {"unit": "TO-SU-0002", "district": "2"}, {"pm10": 12.25}, ns(utc(2026, 10, 25, 1, 10, 2))),
        # A second series of the same unit (extra tag): merged with the first in every dataset.
        Reading("air_quality", {"unit": "TO-SU-0003", "district": "3", "time_source": "receive"},
                {"pm1": 7.5, "pm25": 9.5}, ns(utc(2026, 10, 25, 0, 20, 3))),
        Reading("noise", {"unit": "TO-SU-0005", "district": "4", "time_source": "receive"},
                {"laeq": -0.0, "lamax": 61.5}, ns(utc(2026, 10, 25, 0, 40, 4))),
    ])
    return written + 4


def published(root: Path) -> dict[str, bytes]:
    """Every Parquet partition and CSV copy under `root`, by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix == ".parquet" or p.parent.name == "csv")
    }


def test_every_dataset_is_byte_identical_to_the_stored_output(influx, tmp_path):
    assert load_slice(influx) > 1000
    stored = sorted({path.split("/")[0] for path in published(GOLDEN)})
    assert stored == sorted(registry())
    run_day(stored, DAY, influx.settings, tmp_path, client=influx)
    got, want = published(tmp_path), published(GOLDEN)
    assert sorted(got) == sorted(want)
    different = [path for path in want if got[path] != want[path]]
    assert different == [], different

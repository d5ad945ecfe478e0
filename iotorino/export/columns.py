"""Export columns: name, Arrow type, description and unit, with descriptions taken from the catalogue.

Field columns get their text and unit from `schemas/catalogue.yaml`; only the
columns the export itself invents (hour bounds, completeness) are described here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from iotorino.core.catalogue import ENERGETIC, FieldSpec, MeasurementSpec

UTC_MS = pa.timestamp("ms", tz="UTC")

# What each hourly statistic means, for column descriptions.
STAT_TEXT = {
    "mean": "Mean over the hour of: {}",
    "min": "Minimum over the hour of: {}",
    "max": "Maximum over the hour of: {}",
    "count": "Number of values received in the hour of: {}",
}
# The mean of a field whose catalogue `average` is energetic (sound levels in dB).
ENERGETIC_MEAN_TEXT = (
    "Energetic mean over the hour, 10·lg(mean(10^(L/10))) of the hour's readings (never the arithmetic "
    "mean of the decibels), of: {}"
)


@dataclass(frozen=True)
class Column:
    """One output column: `name`, Arrow `type`, `description`, `unit` ('' when it has none)."""

    name: str
    type: pa.DataType
    description: str
    unit: str = ""


def tag_column(spec: MeasurementSpec, tag: str, name: str) -> Column:
    """A string column holding tag `tag`, described by the catalogue."""
    return Column(name, pa.string(), spec.tags[tag])


def stat_columns(field: FieldSpec) -> list[Column]:
    """`{field}_mean/_min/_max/_count` columns for one catalogue field."""
    out = []
    for stat, text in STAT_TEXT.items():
        if stat == "count":
            out.append(Column(f"{field.name}_count", pa.int32(), text.format(field.description), "count"))
        else:
            if stat == "mean" and field.average == ENERGETIC:
                text = ENERGETIC_MEAN_TEXT
            out.append(Column(f"{field.name}_{stat}", pa.float64(), text.format(field.description), field.unit))
    return out


HOUR_COLUMNS = [
    Column("date_observed_from", UTC_MS, "Start of the hour (inclusive), UTC.", "UTC"),
    Column("date_observed_to", UTC_MS, "End of the hour (exclusive), UTC.", "UTC"),
    Column(
        "local_time_from",
        pa.string(),
        "Start of the hour in Turin local time with its UTC offset (ISO 8601); "
        "tells apart the two 02:00 hours of the October DST change.",
    ),
]

COMPLETENESS = Column(
    "completeness",
    pa.float64(),
    "Share (0-1) of the values the device's profile should send in the hour that arrived, "
    "for its most complete field; empty when the inventory gives no reporting interval.",
    "1",
)

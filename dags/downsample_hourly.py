"""Hourly aggregates back into InfluxDB for dashboards (see iotorino/export/downsample.py)."""

from iotorino.export.airflow_downsample import build

dag = build()

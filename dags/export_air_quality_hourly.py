"""Daily export of street air-quality hourly aggregates (see iotorino/export/airflow_dags.py)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("air_quality_hourly")

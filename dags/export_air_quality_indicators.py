"""Daily export of air_quality_indicators, also written back into InfluxDB (see iotorino/export/airflow_dags.py and dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("air_quality_indicators", to_influx=True)

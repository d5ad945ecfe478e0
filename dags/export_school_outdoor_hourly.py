"""Daily export of school_outdoor_hourly (see iotorino/export/airflow_dags.py and dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("school_outdoor_hourly")

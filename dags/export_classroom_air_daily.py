"""Daily export of classroom_air_daily (see iotorino/export/airflow_dags.py and dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("classroom_air_daily")

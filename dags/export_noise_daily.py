"""Daily export of noise_daily at 06:00 local, when the day's night has ended (see dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("noise_daily", local_hour=6)

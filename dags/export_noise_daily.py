"""Daily export of noise_daily at 06:00 local, when the day's night has ended, also written back into InfluxDB (see dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("noise_daily", local_hour=6, to_influx=True)

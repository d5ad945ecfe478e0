"""Daily export of beacon_fleet_daily (see iotorino/export/beacons.py and dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("beacon_fleet_daily")

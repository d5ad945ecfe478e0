"""The hourly DAG `downsample_hourly`: the hour that just closed, aggregated back into InfluxDB.

A cron data-interval timetable every hour (Europe/Rome): the run at 12:00 covers
11:00-12:00. `catchup=False`: a missed hour is re-done by a manual run with
`start`/`end` params (ISO 8601 instants) or `iotorino export influx_hourly --date D`.
Settings: the Airflow connection `iotorino_influx_writer` (a user allowed to write), else
`iotorino_influx`, else the environment, when the task runs.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from iotorino.export.airflow_dags import INFLUX_WRITER_CONN_ID, START_DATE, influx_settings

HOURLY = CronDataIntervalTimetable("0 * * * *", timezone="Europe/Rome")


@dag(
    dag_id="downsample_hourly",
    description="Hourly aggregates of every gauge measurement written into the InfluxDB retention policy 'hourly'.",
    schedule=HOURLY,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["iotorino", "influxdb"],
    params={
        "start": Param("", type="string", description="Override: first instant (ISO 8601 with offset)."),
        "end": Param("", type="string", description="Override: end instant, exclusive (ISO 8601 with offset)."),
    },
)
def downsample_hourly():
    @task
    def downsample() -> int:
        """Aggregate the run's window into the `hourly` retention policy; returns the points written."""
        from datetime import datetime

        from iotorino.core.errors import ConfigError
        from iotorino.export.downsample import downsample as run
        from iotorino.export.window import to_ns

        context = get_current_context()
        start, end = context["data_interval_start"], context["data_interval_end"]
        try:
            if context["params"].get("start"):
                start = datetime.fromisoformat(context["params"]["start"])
            if context["params"].get("end"):
                end = datetime.fromisoformat(context["params"]["end"])
        except ValueError as exc:
            raise ConfigError("start/end", str(exc), "ISO 8601 instants with offset, e.g. 2026-11-21T10:00:00+01:00") from None
        if start.tzinfo is None or end.tzinfo is None:
            raise ConfigError("start/end", "an instant without offset", "ISO 8601 with offset, e.g. 2026-11-21T10:00:00+01:00")
        return run(influx_settings(INFLUX_WRITER_CONN_ID), to_ns(start), to_ns(end))

    downsample()


def build():
    """The DAG object (for dags/downsample_hourly.py)."""
    return downsample_hourly()

"""DAG factory for the daily exports: one DAG per dataset, one run per local day (Europe/Rome).

Imported only by the files in `dags/`. Builds the DAG with TaskFlow: a fixed UTC
`start_date`, a cron data-interval timetable at local midnight (a run covers the
local day that just ended, 23/24/25 hours), `catchup=False` on purpose (backfills
are explicit: `iotorino export DATASET --from/--to`), and a `date` param that
overrides the day for manual runs. No I/O at parse time: settings are read from
the Airflow connection `iotorino_influx` when it exists (e.g.
`AIRFLOW_CONN_IOTORINO_INFLUX=http://user:password@127.0.0.1:8086/iotorino`,
the path being the database), else from the `IOTORINO_INFLUX_*` environment,
when a task runs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
# A run at local midnight covers the local day that just ended.
DAILY_AT_LOCAL_MIDNIGHT = CronDataIntervalTimetable("0 0 * * *", timezone="Europe/Rome")


INFLUX_CONN_ID = "iotorino_influx"
# Tasks that write (the downsampler) use this one where it exists: a secured InfluxDB gives the
# exports a read-only user (see `iotorino provision`).
INFLUX_WRITER_CONN_ID = "iotorino_influx_writer"


def influx_settings(conn_id: str = INFLUX_CONN_ID):
    """InfluxDB settings from the Airflow connection `conn_id` (falling back to `iotorino_influx`),
    else from the environment."""
    from dataclasses import replace

    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from iotorino.export import settings

    from_env = settings.influx_from_env()
    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return influx_settings() if conn_id != INFLUX_CONN_ID else from_env
    scheme = "https" if conn.conn_type == "https" else "http"
    return replace(
        from_env,
        url=f"{scheme}://{conn.host}:{conn.port or 8086}",
        database=conn.schema or from_env.database,
        username=conn.login or "",
        password=conn.password or "",
    )


def export_day_from_context() -> str:
    """The local day a run exports: the `date` param if given, else the data interval's local start date."""
    from iotorino.export.window import local_date_of, parse_day

    context = get_current_context()
    chosen = (context["params"].get("date") or "").strip()
    if chosen:
        return parse_day(chosen).isoformat()
    return local_date_of(context["data_interval_start"]).isoformat()


def daily_export_dag(dataset: str, local_hour: int = 0, to_influx: bool = False):
    """The DAG `export_<dataset>`: export one local day of `dataset` to Parquet.

    `local_hour` shifts the daily run: the data interval runs from that local
    hour to the same hour of the next day and the run exports the local date it
    starts on (noise_daily runs at 06:00, when the night of the day has ended).
    `to_influx` adds a task after the export that writes the day's partition back
    into InfluxDB (`iotorino.export.influx_indicators`) with the writer connection
    (`iotorino_influx_writer`, else `iotorino_influx`), replacing the day's points.
    """

    @dag(
        dag_id=f"export_{dataset}",
        description=f"Daily open-data export of {dataset} (one Parquet partition per local day).",
        schedule=DAILY_AT_LOCAL_MIDNIGHT if local_hour == 0
        else CronDataIntervalTimetable(f"0 {local_hour} * * *", timezone="Europe/Rome"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["iotorino", "export"],
        params={
            "date": Param(
                "",
                type="string",
                pattern=r"^(\d{4}-\d{2}-\d{2})?$",
                description="Local day to export (YYYY-MM-DD); empty: the run's data interval.",
            )
        },
    )
    def export_dag():
        @task
        def export() -> dict:
            """Export the day; returns the partition path and row count (paths, not data)."""
            from iotorino.export import settings
            from iotorino.export.run import run_export
            from iotorino.export.window import parse_day

            day = parse_day(export_day_from_context())
            context = get_current_context()
            trigger = f"airflow {context['dag'].dag_id} {context['run_id']}"
            result = run_export(dataset, day, influx_settings(), settings.export_dir_from_env(), trigger=trigger)
            return {
                "dataset": dataset, "date": day.isoformat(), "path": str(result.path), "rows": result.rows,
                "summary": result.summary,
            }

        exported = export()
        if to_influx:

            @task
            def write_influx(result: dict) -> int:
                """Write the exported partition into InfluxDB; returns the points written."""
                from iotorino.export import settings
                from iotorino.export.influx_indicators import write_day
                from iotorino.export.window import parse_day

                return write_day(result["dataset"], parse_day(result["date"]), influx_settings(INFLUX_WRITER_CONN_ID),
                                 settings.export_dir_from_env())

            write_influx(exported)

    return export_dag()

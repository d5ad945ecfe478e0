"""The main job end to end, on local servers with their state in var/demo.

1. start Mosquitto and InfluxDB on 127.0.0.1;
2. start the MQTT collector (a subprocess, as in production) and wait for its subscription;
3. publish one simulated city day for the whole inventory;
4. wait until every published message is either stored or dead-lettered;
5. run the daily air-quality export DAG for that day (`airflow dags test`);
6. put the schools' simulated history of the days before it straight into InfluxDB (a week by default,
   `school_history`) and export the school datasets for the whole week, so the dashboards have a week
   of KPIs and charts behind them;
7. print what happened, counted from InfluxDB and the dead letters.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from iotorino.core import catalogue, paths
from iotorino.core.catalogue import QUARANTINED_FIELD
from iotorino.core.errors import IotorinoError
from iotorino.services import Influxd, Mosquitto, free_port
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings

ROME = ZoneInfo("Europe/Rome")
DATABASE = "iotorino"
EXPORT_DAG = "export_air_quality_hourly"
# Preferred ports; a free one is taken when these are busy.
MQTT_PORT, INFLUX_PORT = 11883, 18086
DRAIN_TIMEOUT_S = 600
HISTORY_DAYS = 7  # the days of school KPIs behind the dashboards: the demo's day and the six before it
SCHOOL_DATASETS = ("school_energy_hourly", "school_heat_hourly", "school_energy_daily", "classroom_air_daily")


def say(text: str) -> None:
    """Progress line on stdout."""
    print(f"\033[1m[demo]\033[0m {text}", flush=True)


class Demo:
    """One demo installation: servers, collector and exports under `state`."""

    def __init__(self, state: Path) -> None:
        self.state = Path(state)
        self._stage = "not started"  # what `run` is doing, for the message of an interrupted demo
        self._progress = None  # the simulator's last progress report while publishing

    def run(self, day: date, hours: float, speed: str, seed: int, fault_rate: float, keep_running: bool,
            history_days: int = HISTORY_DAYS) -> int:
        """Run the whole demo for the first `hours` of local `day`, with `history_days` of school KPIs; exit code."""
        from iotorino.simulate import simulate

        self.stop_leftovers()
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True)
        broker = influxd = collector = None
        self._stage, self._progress = "starting Mosquitto and InfluxDB", None
        interrupted = False
        try:
            broker = Mosquitto(self.state / "mosquitto", _port(MQTT_PORT)).start()
            influxd = Influxd(self.state / "influxd", _port(INFLUX_PORT)).start()
            (self.state / "influxd.pid").write_text(str(influxd.pid))
            say(f"Mosquitto on 127.0.0.1:{broker.port}, InfluxDB on {influxd.url} (state in {self.state})")
            influx = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=DATABASE))
            influx.create_database()
            self._stage = "starting the collector"
            collector = self._start_collector(broker.port, influxd.url)
            start = datetime.combine(day, dtime(0), ROME)
            end = min(start + timedelta(hours=hours), datetime.combine(day + timedelta(days=1), dtime(0), ROME))
            say(f"publishing {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (Europe/Rome) for the whole fleet, "
                f"speed {speed}")
            self._stage = "publishing the simulated day"
            t0 = time.monotonic()
            summary = simulate("127.0.0.1", broker.port, start, end, speed, seed, fault_rate,
                               on_progress=self._published_so_far, progress_every=1000)
            say(f"published {summary.published:,} messages in {time.monotonic() - t0:.0f} s")
            self._stage = "waiting for the collector to store the published messages"
            stored, rejected = self._wait_for_drain(influx, summary.published)
            _stop_collector(collector)
            collector = None
            self._stage = "running the export DAG"
            export = self._run_export_dag(day, influxd.url)
            t0 = time.monotonic()
            say(f"loading the schools' {history_days - 1} days before {day} into InfluxDB (simulated, in bulk) and "
                f"exporting the school KPIs of {history_days} days for the dashboards")
            self._stage = "loading and exporting the schools' days"
            days, loaded = school_history(InfluxV1Settings(url=influxd.url, database=DATABASE, timeout_s=300),
                                          export["dir"], day, history_days, seed)
            say(f"  {loaded.points:,} points of {loaded.schools} schools loaded, {days[0]} to {days[-1]} exported "
                f"in {time.monotonic() - t0:.0f} s")
            export["school_days"] = days
            ok = stored + sum(rejected.values()) == summary.published
            self._print_summary(day, summary, stored, dict(rejected), export, influxd)
            return 0 if ok else 1
        except KeyboardInterrupt:
            interrupted = True
            say(f"interrupted (Ctrl-C) while {self._where()}; stopping the collector, Mosquitto and InfluxDB")
            return 130
        finally:
            # Stopping is bounded (SIGTERM, then SIGKILL after a timeout): a second Ctrl-C must not cut it short.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if interrupted else None
            if collector is not None:
                _stop_collector(collector)
            if broker is not None:
                broker.stop()
            if influxd is not None and keep_running and not interrupted:
                say(f"InfluxDB keeps running at {influxd.url}; stop it with: .venv/bin/iotorino demo --stop")
            elif influxd is not None:
                influxd.stop()
                (self.state / "influxd.pid").unlink(missing_ok=True)
            if interrupted:
                signal.signal(signal.SIGINT, previous)
                say(f"demo stopped: collector, Mosquitto and InfluxDB stopped; what it wrote so far is in {self.state}")

    def _published_so_far(self, summary) -> None:
        """The simulator's progress (every 1,000 messages), for the message of an interrupted demo."""
        self._progress = summary

    def _where(self) -> str:
        """The stage the demo is in, with how far the publishing got."""
        progress = self._progress
        if self._stage.startswith("publishing") and progress is not None and progress.last_time is not None:
            return (f"{self._stage} ({progress.published:,} messages sent, simulated time up to "
                    f"{progress.last_time.astimezone(ROME):%Y-%m-%d %H:%M})")
        return self._stage

    def stop_leftovers(self) -> None:
        """Stop the InfluxDB a previous demo left running."""
        pid_file = self.state / "influxd.pid"
        if pid_file.exists():
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
                say("stopped the InfluxDB left running by the previous demo")
            except (ProcessLookupError, ValueError):
                pass
            pid_file.unlink()

    def _start_collector(self, mqtt_port: int, influx_url: str) -> subprocess.Popen:
        config = self.state / "collector.toml"
        config.write_text(
            "# Written by the demo; every key is documented in ingest/mqtt/sample.toml.\n"
            f'[mqtt]\nhost = "127.0.0.1"\nport = {mqtt_port}\nclient_id = "iotorino-demo-collector"\n'
            '[[subscriptions]]\ntopic = "iotorino/v1/#"\nformat = "native"\n'
            f'[influxdb]\nurl = "{influx_url}"\ndatabase = "{DATABASE}"\n'
            f'[deadletters]\npath = "{self.state / "deadletters.sqlite"}"\n'
        )
        log_path = self.state / "collector.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "iotorino", "collect", "mqtt", "--config", str(config)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(paths.ROOT)},
            )
        deadline = time.monotonic() + 60
        while "subscribed" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise IotorinoError(f"the collector did not subscribe; see {log_path}:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        say(f"collector subscribed (log: {log_path})")
        return process

    def dead_letter_counts(self) -> dict[str, int]:
        """Dead letters per reason in the demo's dead-letter file."""
        from ingest.mqtt.deadletters import DeadLetterStore

        store = DeadLetterStore(self.state / "deadletters.sqlite")
        try:
            return store.count_by_reason()
        finally:
            store.close()

    def _wait_for_drain(self, influx: InfluxV1Client, published: int) -> tuple[int, dict[str, int]]:
        say("waiting until every message is stored or rejected")
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        last = None
        while True:
            stored, rejected = sum(stored_points(influx).values()), self.dead_letter_counts()
            # A quarantined value's dead letter belongs to a stored message: it is no rejected message.
            rejected[QUARANTINED_LETTERS] = -quarantined_values(influx)
            if stored + sum(rejected.values()) >= published:
                say(f"  stored {stored:,}, rejected {sum(rejected.values()):,}: all {published:,} accounted for")
                return stored, rejected
            if time.monotonic() > deadline:
                say(f"gave up waiting after {DRAIN_TIMEOUT_S} s: stored {stored}, rejected {sum(rejected.values())}")
                return stored, rejected
            if (stored, sum(rejected.values())) != last:
                last = (stored, sum(rejected.values()))
                say(f"  stored {stored:,}, rejected {last[1]:,} of {published:,}")
            time.sleep(1)

    def _run_export_dag(self, day: date, influx_url: str) -> dict:
        airflow_home = self.state / "airflow"
        export_dir = self.state / "exports"
        env = {
            **os.environ,
            "PYTHONPATH": str(paths.ROOT),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(paths.DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "IOTORINO_INFLUX_URL": influx_url,
            "IOTORINO_INFLUX_DB": DATABASE,
            "IOTORINO_EXPORT_DIR": str(export_dir),
        }
        airflow = [sys.executable, "-m", "airflow"]
        say("preparing Airflow's metadata database (airflow db migrate)")
        _check_run(airflow + ["db", "migrate"], env, airflow_home / "migrate.log")
        logical = datetime.combine(day + timedelta(days=1), dtime(0), ROME).isoformat()
        say(f"running the DAG {EXPORT_DAG} for {day} (airflow dags test)")
        _check_run(airflow + ["dags", "test", EXPORT_DAG, logical, "-c", json.dumps({"date": day.isoformat()})],
                   env, airflow_home / "dags-test.log")
        files = sorted((export_dir / "air_quality_hourly").rglob(f"date={day.isoformat()}/*.parquet"))
        if not files:
            raise IotorinoError(f"the export DAG ran but wrote no Parquet file under {export_dir}")
        import pyarrow.parquet as pq

        return {"path": files[0], "rows": pq.ParquetFile(files[0]).metadata.num_rows, "dir": export_dir}

    def _print_summary(self, day, summary, stored, rejected, export, influxd) -> None:
        quarantined = -rejected.pop(QUARANTINED_LETTERS, 0)
        total_rejected = sum(rejected.values()) - quarantined
        ok = stored + total_rejected == summary.published
        port, since = influxd.port, datetime.combine(day, dtime(0), ROME).isoformat()
        faults = dict(summary.faults_by_kind) or "none"
        print(textwrap.dedent(f"""
            IoTorino demo: {day} (Europe/Rome)
              messages published      {summary.published:>10,}   (faults injected: {faults})
              readings stored         {stored:>10,}   (counted in InfluxDB, database {DATABASE})
              messages rejected       {total_rejected:>10,}   (dead letters: {rejected or 'none'})
              values quarantined      {quarantined:>10,}   (their messages stored without them)
              published = stored + rejected: {'yes' if ok else 'NO'}
              export                  {export['path']}
              export rows             {export['rows']:>10,}   (one per unit and hour)
              school KPIs             {export['school_days'][0]} to {export['school_days'][-1]}   ({len(export['school_days'])} days of {', '.join(SCHOOL_DATASETS)})

            Query the data (InfluxDB at {influxd.url}; `iotorino demo --stop` stops it, and
              `influxd -config {self.state / 'influxd' / 'influxdb.conf'}` starts it again on the same data):
              influx -port {port} -database {DATABASE} -execute 'SHOW MEASUREMENTS'
              influx -port {port} -database {DATABASE} -precision rfc3339 -execute \\
                "SELECT mean(no2) FROM air_quality WHERE time >= '{since}' GROUP BY time(1h), district LIMIT 3"
              curl -sG {influxd.url}/query --data-urlencode db={DATABASE} \\
                --data-urlencode 'q=SELECT count(pm25) FROM air_quality GROUP BY district'
            Dead letters: {self.state / 'deadletters.sqlite'}

            Dashboards and open data: the web application over these exports ({len(export['school_days'])} days of school KPIs)
              .venv/bin/iotorino web --exports {export['dir']}
              then open http://127.0.0.1:8080/scuole (schools), /dati (open data), /citta (city);
              English at http://127.0.0.1:8080/en/scuole
            """))


def school_history(settings: InfluxV1Settings, export_dir: Path, day: date, days: int = HISTORY_DAYS, seed: int = 2026,
                   only: tuple[str, ...] = (), jobs: int = 2):
    """Load the schools' `days - 1` simulated days before `day` into the store and export the school datasets
    for those days and `day` itself (whose data the demo published over MQTT): (the days exported, what loaded).

    The history comes from the simulator's own models in bulk (`iotorino.simulate.history`), an hour more
    at its start for the first day's meter registers; `only` keeps the schools it names.
    """
    from iotorino.export.backfill import export_days
    from iotorino.simulate import history

    first = day - timedelta(days=days - 1)
    start = datetime.combine(first, dtime(0), ROME) - timedelta(hours=1)
    loaded = history.load(settings, start, datetime.combine(day, dtime(0), ROME), seed, only, jobs)
    exported = [d for d, _ in export_days(SCHOOL_DATASETS, [first + timedelta(days=i) for i in range(days)],
                                          settings, export_dir, jobs, trigger="iotorino demo")]
    return exported, loaded


def _port(preferred: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()





def _stop_collector(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# Key of `_wait_for_drain`'s counts: minus the dead letters that are quarantined values, not rejected messages.
QUARANTINED_LETTERS = "quarantined values"


def stored_points(influx: InfluxV1Client) -> dict[str, int]:
    """Points per catalogue measurement, counted by InfluxDB.

    A simulated point carries all its fields, except one whose message had
    values quarantined: it lacks those and carries `quarantined_values`.
    """
    counts = {}
    for name in catalogue.default().measurements:
        every = _field_counts(influx, f'SELECT count(*) FROM "{name}"')
        partial = _field_counts(influx, f'SELECT count(*) FROM "{name}" WHERE "{QUARANTINED_FIELD}" > 0')
        complete = max((n - partial.get(f, 0) for f, n in every.items() if f != QUARANTINED_FIELD), default=0)
        counts[name] = complete + partial.get(QUARANTINED_FIELD, 0)
    return counts


def quarantined_values(influx: InfluxV1Client) -> int:
    """Values the collector set aside in the dead letters while storing the rest of their messages."""
    total = 0
    for name in catalogue.default().measurements:
        series = influx.query(f'SELECT sum("{QUARANTINED_FIELD}") FROM "{name}"')
        total += int(series[0]["values"][0][1] or 0) if series else 0
    return total


def _field_counts(influx: InfluxV1Client, query: str) -> dict[str, int]:
    series = influx.query(query)
    if not series:
        return {}
    return {column.removeprefix("count_"): value or 0
            for column, value in zip(series[0]["columns"][1:], series[0]["values"][0][1:])}











def _check_run(argv: list[str], env: dict, log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        result = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise IotorinoError(f"{' '.join(argv[2:4])} failed; log {log_path}:\n{log_path.read_text()[-3000:]}")

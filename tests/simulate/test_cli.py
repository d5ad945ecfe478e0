"""`iotorino simulate` as an operator runs it: dry run on the committed inventory, option errors."""

from __future__ import annotations

import re

from tests import cli


def run_cli(python, cli_env, *args):
    return cli.run(["simulate", *args], text=True)


def test_dry_run_counts_the_fleet_without_a_broker(python, cli_env):
    result = run_cli(python, cli_env, "--dry-run", "--start", "2026-11-20T08:00", "--duration", "30m", "--fault-rate", "0.01")
    assert result.returncode == 0, result.stderr
    announced = int(re.search(r"(\d+) messages for 2026-11-20T08:00:00\+01:00 to 2026-11-20T08:30:00\+01:00", result.stdout)[1])
    generated = int(re.search(r"generated (\d+) messages", result.stdout)[1])
    assert announced == generated > 0
    assert "nothing published" in result.stdout


def test_bad_options_name_the_option_and_what_is_accepted(python, cli_env):
    result = run_cli(python, cli_env, "--dry-run", "--duration", "one day")
    assert result.returncode == 2
    assert "--duration" in result.stderr and "1d" in result.stderr
    result = run_cli(python, cli_env, "--dry-run", "--fault-rate", "2")
    assert result.returncode == 2 and "--fault-rate" in result.stderr

"""Subcommands of the `iotorino` command; each has `add_arguments(parser)` and `run(args) -> int`."""

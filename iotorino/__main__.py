"""`python -m iotorino` is the `iotorino` command."""

from iotorino.cli import main

raise SystemExit(main())

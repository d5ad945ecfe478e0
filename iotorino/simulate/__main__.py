"""`python -m iotorino.simulate`: the fleet simulator without the project CLI."""

from iotorino.simulate.cli import main

raise SystemExit(main())

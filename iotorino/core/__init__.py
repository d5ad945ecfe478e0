"""The core every other layer stands on: readings, errors, the topic and payload
contract, times, the catalogue and inventory, the durable SQLite helpers, the
store clients and the thread supervisor.

Nothing in here imports from `ingest`, `iotorino.beacons`, `iotorino.export`,
`iotorino.simulate`, `iotorino.web`, `iotorino.commands` or `iotorino.cli`; an
import-linter contract in the tests keeps it so.
"""

"""`iotorino restore BACKUP`: the stack's data and state back into empty servers (see iotorino backup)."""

from __future__ import annotations

from iotorino.commands.backup import add_arguments, run_restore as run

__all__ = ["add_arguments", "run"]

"""`iotorino ...` run in the test's own process: the same `iotorino.cli.main` an operator's command runs,
without a new interpreter's start-up (imports, inventory) for every call.

`run(argv, stdin)` answers like `subprocess.run(..., capture_output=True)`: a `CompletedProcess` with the
exit status and what the command wrote (bytes, or text with `text=True`). Logging set up by the command
is undone afterwards. One test per entry point still runs `python -m iotorino` as a real subprocess.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys

from iotorino import cli


def run(argv: list[str], stdin: bytes = b"", text: bool = False) -> subprocess.CompletedProcess:
    """Run `iotorino argv` in-process with `stdin` as its standard input; exit status and output as a subprocess's."""
    streams = {name: io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
               for name in ("stdout", "stderr")}
    saved = sys.stdin, sys.stdout, sys.stderr
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = streams["stdout"], streams["stderr"]
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's usage errors and --help
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        root.handlers[:], root.level = handlers, level
    out, err = (streams[name].buffer.getvalue() for name in ("stdout", "stderr"))
    if text:
        out, err = out.decode("utf-8"), err.decode("utf-8")
    return subprocess.CompletedProcess(["iotorino", *argv], code, out, err)

"""Structured log lines: `event=NAME key=value ...` (logfmt), easy to grep and to parse.

Callers pass only what an operator may see: never secrets, and payloads only
of rejected messages (which the dead letters keep anyway). A value that no
UTF-8 encoder takes (a lone surrogate from a JSON key) is written with
backslash escapes, so a log line never fails on content.
"""

from __future__ import annotations


def event(name: str, **fields: object) -> str:
    """`event=name k=v ...`; values with spaces, quotes or `=` are double-quoted."""
    parts = [f"event={name}"]
    for key, value in fields.items():
        text = str(value)
        if not text.isascii():
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        if not text or any(c in text for c in ' "=\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)

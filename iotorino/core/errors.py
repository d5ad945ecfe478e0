"""The project's exceptions: one root, with retryable and permanent made explicit.

A `TransientError` may succeed if tried again (a store that is down, a 503); a
`PermanentError` never will (a malformed message, a bad config). Context is
kept as attributes so callers can count, log and store it without parsing
the message.
"""

from __future__ import annotations

from typing import Any


class IotorinoError(Exception):
    """Root of every error this project raises on purpose."""


class TransientError(IotorinoError):
    """A failure that may go away: retry with backoff."""


class PermanentError(IotorinoError):
    """A failure that will not go away by retrying."""


class Rejected(PermanentError):
    """A message or reading that cannot be accepted.

    `reason` is a short stable code (for counting and `--reason` filters),
    `field` and `value` name what was wrong, `accepted` says what would be.
    """

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        field: str | None = None,
        value: Any = None,
        accepted: str | None = None,
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(self.describe())

    def describe(self) -> str:
        """The operator-facing sentence: what, which field, which value, what is accepted."""
        text = f"{self.reason}: {self.detail}"
        if self.field is not None:
            text += f" (field {self.field!r}, value {_short(self.value)}"
            text += f"; accepted: {self.accepted})" if self.accepted else ")"
        elif self.accepted:
            text += f" (accepted: {self.accepted})"
        return text


class ConfigError(PermanentError):
    """A configuration value that cannot be used; names the key and the accepted values."""

    def __init__(self, key: str, problem: str, accepted: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.accepted = accepted
        text = f"config key {key!r}: {problem}"
        if accepted:
            text += f" (accepted: {accepted})"
        super().__init__(text)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

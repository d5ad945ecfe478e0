"""Replaying dead letters through the current pipeline, after the catalogue or the inventory was fixed.

Each letter is decoded and validated again as if it had just arrived at its
original receive time (so the time window and the fallback time are the
same as then). Accepted ones are written to the store and marked replayed;
the others stay, with the reason they would be rejected for now (its text
made safe to print, like everything in the dead letters). A letter of a
quarantined field holds its whole message: its valid fields are written
again (an overwrite) and it is marked replayed once the field passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.mqtt.deadletters import DeadLetter, DeadLetterStore, safe_text
from ingest.mqtt.pipeline import Pipeline
from iotorino.core.errors import Rejected, TransientError
from iotorino.core.store import PointsRejected, Writer


@dataclass
class ReplayResult:
    """What a replay did: ids written, and (id, why) of those still rejected."""

    replayed: list[int] = field(default_factory=list)
    still_rejected: list[tuple[int, str]] = field(default_factory=list)


def replay(store: DeadLetterStore, pipeline: Pipeline, writer: Writer, *,
           reason: str | None = None, letter_id: int | None = None) -> ReplayResult:
    """Replay not-yet-replayed letters (all, one `reason`, or one id); transient store errors propagate."""
    result = ReplayResult()
    for letter in _selected(store, reason, letter_id):
        try:
            decoded = pipeline.decode(letter.topic, letter.payload, letter.received_ns)
            if decoded.readings:
                writer.write(decoded.readings)  # the valid fields again: an overwrite
            if decoded.rejected:  # a value still outside the catalogue: the letter stays
                raise decoded.rejected[0]
        except Rejected as rejection:
            result.still_rejected.append((letter.id, safe_text(rejection.describe())))
            continue
        except PointsRejected as refused:
            result.still_rejected.append((letter.id, safe_text(f"store_rejected: {refused.detail}")))
            continue
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - a decoder bug on this letter must not stop the others
            result.still_rejected.append((letter.id, f"internal: {type(exc).__name__} while replaying"))
            continue
        store.mark_replayed(letter.id)
        result.replayed.append(letter.id)
    return result


def _selected(store: DeadLetterStore, reason: str | None, letter_id: int | None) -> list[DeadLetter]:
    if letter_id is None:
        return list(store.list(reason=reason))
    letter = store.get(letter_id)
    if letter is None or letter.replayed_ns is not None or (reason and letter.reason != reason):
        return []
    return [letter]

"""Moving a waiting interaction between queues in the running center (engine Rule 7).

The API asks where the interaction is (:func:`waiting_place`: its queue, that queue's
hotline and tenant, so the caller's scope can be checked) and then moves it
(:func:`move_waiting`).  The move goes through the center's inbox like every other input;
the center handles it at once (the API runs on the loop, never inside a dispatch), so the
answer can say where the interaction is now.  What the engine would refuse (a queue it
does not route to, another channel, an interaction already answered) is refused here
first with a reason, since errors raised inside the inbox are only logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core import events as ev
from hotline.live.center import LiveCenter

__all__ = ["MoveRefusedError", "WaitingPlace", "move_waiting", "waiting_place"]


@dataclass(frozen=True, slots=True)
class WaitingPlace:
    """Where an interaction the routing engine holds is now.

    ``status``: ``waiting``, ``ringing`` (offered, not answered), ``callback`` (a promised
    callback waiting its turn) or ``answered``.  ``position`` is the 1-based place in line
    of a waiting one (None otherwise)."""

    interaction_id: int
    tenant_id: int | None
    hotline_id: int | None
    queue_id: int
    status: str
    position: int | None


class MoveRefusedError(Exception):
    """The move cannot be done in the interaction's or the queue's state (the caller's to
    fix: pick another queue, or the interaction was answered meanwhile)."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


def waiting_place(center: LiveCenter, interaction_id: int) -> WaitingPlace | None:
    """Where the interaction is, or None when the engine does not hold it."""
    where = center.engine.interaction_queue(interaction_id)
    if where is None:
        return None
    queue_id, status = where
    config = center.directory.queues.get(queue_id)
    hotline = center.directory.hotlines.get(config.hotline_id) if config else None
    return WaitingPlace(
        interaction_id,
        hotline.tenant_id if hotline else None,
        config.hotline_id if config else None,
        queue_id,
        status,
        center.engine.position_of(interaction_id),
    )


def move_waiting(
    center: LiveCenter, interaction_id: int, queue_id: int, by: int | None
) -> WaitingPlace:
    """Move a waiting or ringing interaction to ``queue_id``; where it is afterwards.

    Raises :class:`MoveRefusedError` (``not_waiting``, ``queue_unavailable``,
    ``channel_mismatch``, ``same_queue``) and LookupError when the engine does not know
    ``queue_id`` (the caller may reload the directory and try again)."""
    engine = center.engine
    before = waiting_place(center, interaction_id)
    if before is None or before.status not in ("waiting", "ringing"):
        state = "gone" if before is None else before.status
        raise MoveRefusedError(
            "not_waiting", f"interaction {interaction_id} is not waiting in a queue ({state})"
        )
    if not engine.has_queue(queue_id):
        raise LookupError(queue_id)
    target = engine.queue_config(queue_id)
    source = engine.queue_config(before.queue_id) or center.directory.queues.get(before.queue_id)
    if target is None:
        raise MoveRefusedError("queue_unavailable", f"queue {queue_id} takes no new interactions")
    if queue_id == before.queue_id:
        raise MoveRefusedError("same_queue", f"interaction {interaction_id} is in that queue")
    if source is not None and target.channel is not source.channel:
        raise MoveRefusedError(
            "channel_mismatch",
            f"queue {queue_id} serves {target.channel.value}, not {source.channel.value}",
        )
    center.handle(ev.MoveWaiting(interaction_id, queue_id, by))
    after = waiting_place(center, interaction_id)
    if after is None:  # answered and ended in between: cannot happen on one loop
        raise MoveRefusedError("not_waiting", f"interaction {interaction_id} left its queue")
    if after.queue_id != before.queue_id:
        center.writer.update(interaction_id, queue_id=after.queue_id)
    return after

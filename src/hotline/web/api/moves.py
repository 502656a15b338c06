"""Supervisors move a waiting interaction to another queue (the wallboard's "move").

``POST /api/v1/interactions/{id}/move {"queue_id": N}``.  Rules: supervisors and admins
only; the interaction must be waiting (or ringing, not yet answered) in the running
center, in a queue of a hotline the caller may see, and the target must be a queue of the
same tenant the caller may see (a site supervisor moves neither into nor out of other
hotlines).  Anything outside the caller's scope is answered 404, as for any other row.
The move keeps the caller's seniority in the new queue (routing engine Rule 7).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from hotline.core.access import Action, Principal, Resource
from hotline.core.model import Role
from hotline.live.moves import MoveRefusedError, WaitingPlace
from hotline.store import models as m
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import ApiError, forbidden, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX

__all__ = ["MoveControl", "router"]

router = APIRouter(tags=["telephony"], responses=ERRORS)
CallControl = Annotated[Principal, Depends(require(Action.WRITE, Resource.CALL))]
Id64 = Annotated[int, Path(ge=1, le=INT64_MAX)]


@runtime_checkable
class MoveControl(Protocol):
    """What the running center offers for moves, on top of ``deps.LiveControl``
    (``live.control.LiveControlImpl`` has both)."""

    def waiting_place(self, interaction_id: int) -> WaitingPlace | None: ...

    def move_waiting(self, interaction_id: int, queue_id: int, by: int | None) -> WaitingPlace: ...

    async def reload(self) -> None: ...


class MoveBody(BaseModel):
    queue_id: int = Field(ge=1, le=INT32_MAX, description="the queue to move it to")


class MoveResult(BaseModel):
    interaction_id: int
    from_queue_id: int
    queue_id: int = Field(description="the queue it waits in now")
    status: str = Field(description="waiting, or ringing when offered at once")
    position: int | None = Field(description="1-based place in line (None while ringing)")


def _visible(principal: Principal, tenant_id: int | None, hotline_id: int | None) -> bool:
    return hotline_id is not None and principal.sees_hotline(tenant_id, hotline_id)


@router.post(
    "/interactions/{interaction_id}/move",
    response_model=MoveResult,
    summary="Move a waiting interaction to another queue (supervisors)",
)
async def move(
    interaction_id: Id64, body: MoveBody, ctx: Ctx, session: Session, principal: CallControl
) -> Any:
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise forbidden("only supervisors and admins move waiting interactions")
    live = ctx.live
    if not isinstance(live, MoveControl):
        raise ApiError(503, "telephony_unavailable", "this server runs without telephony")
    before = live.waiting_place(interaction_id)
    if before is None or not _visible(principal, before.tenant_id, before.hotline_id):
        raise not_found("live interaction", interaction_id)
    queue = await session.get(m.Queue, body.queue_id)  # scoped: tenant and hotlines
    if queue is None or queue.tenant_id != before.tenant_id:
        raise not_found("queue", body.queue_id)
    try:
        try:
            after = live.move_waiting(interaction_id, queue.id, principal.user_id)
        except LookupError:  # a queue created since the center last loaded the directory
            await live.reload()
            try:
                after = live.move_waiting(interaction_id, queue.id, principal.user_id)
            except LookupError:
                raise not_found("queue", body.queue_id) from None
    except MoveRefusedError as exc:
        raise ApiError(409, exc.error_id, exc.message) from None
    return MoveResult(
        interaction_id=interaction_id,
        from_queue_id=before.queue_id,
        queue_id=after.queue_id,
        status=after.status,
        position=after.position,
    )

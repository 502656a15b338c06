"""Live contact-center control over the API: operator states, call control (hold, resume,
blind transfer, hang up), operators' SIP phone passwords, and versioned IVR flows.

Rules: an operator acts on their own state and their own calls; a supervisor on any
operator and call of their tenant; admins everywhere.  Flow versions are rows that are
never rewritten: saving adds a version; publishing stamps one; restoring an old version
is publishing it again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource
from hotline.core.flows.schema import flow_json_schema
from hotline.core.flows.validate import FlowError, validate_flow
from hotline.core.model import Role
from hotline.store import models as m
from hotline.telephony.outbound import dialable_number
from hotline.telephony.prompts import STANDARD_PROMPTS, TONES
from hotline.telephony.registrar import SIP_REALM
from hotline.telephony.sip.digest import ha1
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import ApiContext, Ctx, LiveControl, Session, require
from hotline.web.api.errors import ApiError, forbidden, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX
from hotline.web.live_hub import LiveHub
from hotline.web.pages.wrap_up_rule import WRAP_UP_REQUIRED, last_missing_wrap_up

__all__ = ["router"]

router = APIRouter(tags=["telephony"], responses=ERRORS)
CallControl = Annotated[Principal, Depends(require(Action.WRITE, Resource.CALL))]
FlowReader = Annotated[Principal, Depends(require(Action.READ, Resource.FLOW))]
FlowWriter = Annotated[Principal, Depends(require(Action.WRITE, Resource.FLOW))]
Id32 = Annotated[int, Path(ge=1, le=INT32_MAX)]
Id64 = Annotated[int, Path(ge=1, le=INT64_MAX)]


def _live(ctx: ApiContext) -> LiveControl:
    if ctx.live is None:
        raise ApiError(503, "telephony_unavailable", "this server runs without telephony")
    return ctx.live


# -- operator state ---------------------------------------------------------------------------


class StateChange(BaseModel):
    state: Literal["ready", "not_ready", "offline"]
    reason: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[a-z_]+$")


class StateRead(BaseModel):
    operator_id: int
    state: str
    reason: str | None


async def _operator_in_scope(session: AsyncSession, principal: Principal, operator_id: int) -> None:
    if principal.role is Role.OPERATOR:
        if operator_id != principal.user_id:
            raise forbidden("operators change only their own state")
        return
    user = await session.get(m.User, operator_id)
    if user is None or user.role is not Role.OPERATOR:
        raise not_found("operator", operator_id)


@router.get("/agent/state", response_model=StateRead, summary="Your own operator state")
async def my_state(ctx: Ctx, principal: CallControl) -> Any:
    state, reason = _live(ctx).operator_state(principal.user_id)
    return StateRead(operator_id=principal.user_id, state=state, reason=reason)


@router.post(
    "/agent/state",
    response_model=StateRead,
    summary="Go ready / not ready / offline",
    description="Ready is refused (409 `wrap_up_required`) while your last answered "
    "interaction is on a hotline that requires a topic and an outcome and has none saved.",
)
async def set_my_state(
    body: StateChange, request: Request, ctx: Ctx, principal: CallControl
) -> Any:
    if principal.role is not Role.OPERATOR:
        raise forbidden("only operators have a state; use /operators/{id}/state")
    if body.state == "ready":
        await _check_wrap_up(request, ctx, principal.user_id)
    return await _set_state(ctx, principal.user_id, body)


@router.post(
    "/operators/{operator_id}/state", response_model=StateRead, summary="Change an operator's state"
)
async def set_state(
    operator_id: Id32, body: StateChange, ctx: Ctx, session: Session, principal: CallControl
) -> Any:
    await _operator_in_scope(session, principal, operator_id)
    return await _set_state(ctx, operator_id, body)


async def _check_wrap_up(request: Request, ctx: ApiContext, operator_id: int) -> None:
    """Rule 2 of :mod:`hotline.web.pages.wrap_up_rule`; already ready is no change."""
    live = _live(ctx)
    if live.operator_state(operator_id)[0] == "ready":
        return
    hub = getattr(request.app.state, "hub", None)
    if isinstance(hub, LiveHub):
        await hub.center.writer.flush()  # the call just answered may still be queued
    missing = await last_missing_wrap_up(ctx.db, operator_id)
    if missing is not None:
        raise ApiError(409, WRAP_UP_REQUIRED, missing.message, missing.details())


async def _set_state(ctx: ApiContext, operator_id: int, body: StateChange) -> StateRead:
    live = _live(ctx)
    try:
        live.set_operator_state(operator_id, body.state, body.reason)
    except LookupError:
        await live.reload()
        try:
            live.set_operator_state(operator_id, body.state, body.reason)
        except LookupError:
            raise not_found("operator", operator_id) from None
    except ValueError as exc:
        raise ApiError(409, "state_conflict", str(exc)) from None
    state, reason = live.operator_state(operator_id)
    return StateRead(operator_id=operator_id, state=state, reason=reason)


# -- call control -----------------------------------------------------------------------------


class TransferBody(BaseModel):
    """Exactly one target: a queue (of the call's tenant), or an outside number dialled
    through the outbound trunk (the caller hears music meanwhile; if the number does not
    answer, the call comes back to the operator)."""

    queue_id: int | None = Field(default=None, ge=1, le=INT32_MAX)
    number: str | None = Field(default=None, min_length=2, max_length=40)

    @model_validator(mode="after")
    def _one_target(self) -> TransferBody:
        if (self.queue_id is None) == (self.number is None):
            raise ValueError("give either queue_id or number")
        return self


class CallActionResult(BaseModel):
    interaction_id: int
    done: bool


def _check_call(ctx: ApiContext, principal: Principal, interaction_id: int) -> LiveControl:
    live = _live(ctx)
    parties = live.call_parties(interaction_id)
    if parties is None or not principal.sees_tenant(parties[0]):
        raise not_found("live call", interaction_id)
    if principal.role is Role.OPERATOR and parties[1] != principal.user_id:
        raise forbidden("this call is not yours")
    return live


def _done(interaction_id: int, ok: bool, what: str) -> CallActionResult:
    if not ok:
        raise ApiError(409, "call_state", f"cannot {what} call {interaction_id} in its state")
    return CallActionResult(interaction_id=interaction_id, done=True)


@router.post("/calls/{interaction_id}/hold", response_model=CallActionResult, summary="Hold")
async def hold(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    live = _check_call(ctx, principal, interaction_id)
    return _done(interaction_id, live.hold(interaction_id), "hold")


@router.post("/calls/{interaction_id}/resume", response_model=CallActionResult, summary="Resume")
async def resume(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    live = _check_call(ctx, principal, interaction_id)
    return _done(interaction_id, live.resume(interaction_id), "resume")


@router.post("/calls/{interaction_id}/hangup", response_model=CallActionResult, summary="Hang up")
async def hang_up(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    live = _check_call(ctx, principal, interaction_id)
    return _done(interaction_id, live.hang_up(interaction_id), "hang up")


@router.post(
    "/calls/{interaction_id}/transfer",
    response_model=CallActionResult,
    summary="Transfer to a queue, or to an outside number through the outbound trunk",
)
async def transfer(
    interaction_id: Id64, body: TransferBody, ctx: Ctx, session: Session, principal: CallControl
) -> Any:
    live = _check_call(ctx, principal, interaction_id)
    if body.number is not None:
        try:
            number = dialable_number(body.number)
        except ValueError as exc:
            raise ApiError(422, "invalid_number", str(exc), {"number": body.number}) from None
        why = live.transfer_to_number(interaction_id, number)
        if why == "no_trunk":
            raise ApiError(
                409,
                "no_outbound_trunk",
                "no trunk takes calls out: add one with "
                "`hotline trunk add NAME --outbound sip:IP[:PORT]`",
            )
        return _done(interaction_id, why is None, "transfer")
    queue = await session.get(m.Queue, body.queue_id)
    if queue is None:
        raise not_found("queue", body.queue_id)
    return _done(interaction_id, live.transfer_to_queue(interaction_id, queue.id), "transfer")


# -- SIP phone password -----------------------------------------------------------------------


class SipPassword(BaseModel):
    password: str = Field(min_length=8, max_length=128)


@router.put(
    "/users/{user_id}/sip-password",
    status_code=204,
    summary="Set the operator's SIP phone password (stored as a digest HA1 only)",
)
async def set_sip_password(
    user_id: Id32,
    body: SipPassword,
    ctx: Ctx,
    session: Session,
    principal: Annotated[Principal, Depends(require(Action.READ, Resource.USER))],
) -> None:
    if principal.user_id != user_id and not principal.may(Action.WRITE, Resource.USER):
        raise forbidden("you may set only your own SIP password")
    user = await session.get(m.User, user_id)
    if user is None:
        raise not_found("user", user_id)
    if user.role is not Role.OPERATOR:
        raise ApiError(409, "not_an_operator", f"user {user_id} is not an operator")
    user.sip_ha1 = ha1(user.login, SIP_REALM, body.password)
    await session.commit()
    if ctx.live is not None:
        await ctx.live.reload()


# -- flows ------------------------------------------------------------------------------------


class FlowSave(BaseModel):
    document: dict[str, Any]
    comment: str = Field(default="", max_length=500)
    publish: bool = False


class FlowRead(BaseModel):
    hotline_id: int
    version: int
    document: dict[str, Any]
    comment: str
    created_at: dt.datetime
    published_at: dt.datetime | None


def _flow_read(row: m.Flow) -> FlowRead:
    return FlowRead(
        hotline_id=row.hotline_id,
        version=row.version,
        document=row.document,
        comment=row.comment,
        created_at=row.created_at,
        published_at=row.published_at,
    )


async def _hotline(session: AsyncSession, hotline_id: int) -> m.Hotline:
    hotline = await session.get(m.Hotline, hotline_id)
    if hotline is None:
        raise not_found("hotline", hotline_id)
    return hotline


async def _validate(session: AsyncSession, hotline: m.Hotline, document: dict[str, Any]) -> None:
    queue_ids = set(
        await session.scalars(select(m.Queue.id).where(m.Queue.hotline_id == hotline.id))
    )
    prompts = set(STANDARD_PROMPTS.get(hotline.language) or STANDARD_PROMPTS["en"]) | set(TONES)
    try:
        validate_flow(
            document,
            prompt_exists=lambda name: name in prompts,
            queue_exists=lambda qid: qid in queue_ids,
        )
    except FlowError as exc:
        raise ApiError(
            422,
            "invalid_flow",
            f"the flow has {len(exc.problems)} problem(s)",
            [{"path": p.path, "node": p.node, "message": p.message} for p in exc.problems],
        ) from None


@router.get("/flow-schema", summary="JSON Schema of a flow document")
async def schema(_p: FlowReader) -> dict[str, Any]:
    return flow_json_schema()


@router.get(
    "/hotlines/{hotline_id}/flows", response_model=list[FlowRead], summary="All flow versions"
)
async def list_flows(hotline_id: Id32, session: Session, _p: FlowReader) -> Any:
    await _hotline(session, hotline_id)
    rows = await session.scalars(
        select(m.Flow).where(m.Flow.hotline_id == hotline_id).order_by(m.Flow.version)
    )
    return [_flow_read(r) for r in rows]


@router.post(
    "/hotlines/{hotline_id}/flows",
    response_model=FlowRead,
    status_code=201,
    summary="Save a new flow version (validated; optionally published)",
)
async def save_flow(
    hotline_id: Id32, body: FlowSave, ctx: Ctx, session: Session, principal: FlowWriter
) -> Any:
    hotline = await _hotline(session, hotline_id)
    await _validate(session, hotline, body.document)
    top = await session.scalar(
        select(func.max(m.Flow.version)).where(m.Flow.hotline_id == hotline_id)
    )
    now = ctx.clock()
    row = m.Flow(
        tenant_id=hotline.tenant_id,
        hotline_id=hotline_id,
        version=(top or 0) + 1,
        document=body.document,
        comment=body.comment,
        created_by=principal.user_id,
        created_at=now,
        published_at=now if body.publish else None,
    )
    session.add(row)
    await session.commit()
    if body.publish and ctx.live is not None:
        await ctx.live.reload()
    return _flow_read(row)


@router.post(
    "/hotlines/{hotline_id}/flows/{version}/publish",
    response_model=FlowRead,
    summary="Publish a version (also how an earlier version is restored)",
)
async def publish_flow(
    hotline_id: Id32,
    version: Annotated[int, Path(ge=1, le=INT32_MAX)],
    ctx: Ctx,
    session: Session,
    _p: FlowWriter,
) -> Any:
    hotline = await _hotline(session, hotline_id)
    row = await session.scalar(
        select(m.Flow).where(m.Flow.hotline_id == hotline_id, m.Flow.version == version)
    )
    if row is None:
        raise not_found("flow version", version)
    await _validate(session, hotline, row.document)  # queues may have gone since it was saved
    row.published_at = ctx.clock()
    await session.commit()
    if ctx.live is not None:
        await ctx.live.reload()
    return _flow_read(row)

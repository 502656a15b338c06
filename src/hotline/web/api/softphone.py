"""The operator's browser softphone over the API: open the WebRTC session (the page's SDP
offer in, our answer out, no trickle ICE), see whether audio flows, switch it off; answer
or decline a call that rings in the browser.

Rules: operators, supervisors and admins have a softphone, only their own (clients have
none); answering and declining go through the same call checks as hold or hang-up (an
operator's own live call); a silent monitor is for supervisors and admins, on calls of
hotlines they may see, and nobody on the call hears them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from hotline.core.access import Action, Principal, Resource
from hotline.core.model import Role
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import ApiContext, Ctx, SoftphoneControl, require
from hotline.web.api.errors import ApiError, forbidden, not_found
from hotline.web.api.telephony import CallActionResult, Id64, _check_call, _done

__all__ = ["router"]

router = APIRouter(tags=["telephony"], responses=ERRORS)
CallControl = Annotated[Principal, Depends(require(Action.WRITE, Resource.CALL))]
#: a browser's offer is 3–6 kB; ten times that is no offer
MAX_SDP = 65_536
#: operators talk through it; supervisors (and admins) listen to calls with it
_PHONE_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


class SessionDescription(BaseModel):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=10, max_length=MAX_SDP)


class SoftphoneOffer(SessionDescription):
    auto_answer: bool = Field(
        default=False,
        description="answer offered calls at once, without the answer button (a headset)",
    )


class SoftphoneStatus(BaseModel):
    state: str = Field(description="the WebRTC connection state (new, connecting, connected…)")
    in_call: bool
    auto_answer: bool
    frames_from_browser: int = Field(description="audio frames received from the browser")
    packets_to_leg: int = Field(description="RTP packets sent on to the call")
    packets_from_leg: int = Field(description="RTP packets received from the call")
    frames_to_browser: int = Field(description="non-silent frames played to the browser")


def _softphones(ctx: ApiContext, principal: Principal) -> SoftphoneControl:
    if principal.role not in _PHONE_ROLES:
        raise forbidden("clients have no browser softphone")
    if ctx.softphones is None:
        raise ApiError(503, "telephony_unavailable", "this server runs without telephony")
    return ctx.softphones


@router.post(
    "/softphone", response_model=SessionDescription, summary="Start your browser softphone"
)
async def open_softphone(body: SoftphoneOffer, ctx: Ctx, principal: CallControl) -> Any:
    phones = _softphones(ctx, principal)
    if body.type != "offer":
        raise ApiError(422, "invalid_sdp", "send the browser's offer (type 'offer')")
    try:
        answer = await phones.open(principal.user_id, body.sdp, auto_answer=body.auto_answer)
    except ValueError as exc:
        raise ApiError(422, "invalid_sdp", str(exc)) from exc
    return SessionDescription(type="answer", sdp=answer)


@router.get("/softphone", response_model=SoftphoneStatus, summary="Your softphone's state")
async def softphone_status(ctx: Ctx, principal: CallControl) -> Any:
    status = _softphones(ctx, principal).status(principal.user_id)
    if status is None:
        raise not_found("softphone", principal.user_id)
    return status


@router.delete("/softphone", status_code=204, summary="Switch your browser softphone off")
async def close_softphone(ctx: Ctx, principal: CallControl) -> None:
    if not await _softphones(ctx, principal).close(principal.user_id):
        raise not_found("softphone", principal.user_id)


@router.post(
    "/calls/{interaction_id}/answer",
    response_model=CallActionResult,
    summary="Answer a call ringing in your browser softphone",
)
async def answer(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    phones = _ringing_call(ctx, principal, interaction_id)
    return _done(interaction_id, phones.answer(interaction_id, principal.user_id), "answer")


@router.post(
    "/calls/{interaction_id}/decline",
    response_model=CallActionResult,
    summary="Decline a call ringing in your browser softphone (it goes to someone else)",
)
async def decline(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    phones = _ringing_call(ctx, principal, interaction_id)
    return _done(interaction_id, phones.decline(interaction_id, principal.user_id), "decline")


def _ringing_call(ctx: ApiContext, principal: Principal, interaction_id: int) -> SoftphoneControl:
    """Answer and decline: the caller's softphone, on a live call they may act on."""
    phones = _softphones(ctx, principal)
    _check_call(ctx, principal, interaction_id)
    return phones


def _monitored_call(ctx: ApiContext, principal: Principal, interaction_id: int) -> SoftphoneControl:
    phones = _softphones(ctx, principal)
    if principal.role is Role.OPERATOR:
        raise forbidden("listening to calls is for supervisors")
    where = phones.call_hotline(interaction_id)
    if where is None or not principal.sees_hotline(*where):
        raise not_found("live call", interaction_id)
    return phones


@router.post(
    "/calls/{interaction_id}/monitor",
    response_model=CallActionResult,
    summary="Listen to a live call through your browser softphone (silent monitor)",
)
async def monitor(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    phones = _monitored_call(ctx, principal, interaction_id)
    try:
        ok = phones.monitor(interaction_id, principal.user_id)
    except ValueError as exc:
        raise ApiError(409, "monitor_unsupported", str(exc)) from exc
    if not ok:
        raise ApiError(
            409,
            "call_state",
            f"cannot listen to call {interaction_id}: it must be talking, and your "
            "browser softphone on and in no call",
        )
    return CallActionResult(interaction_id=interaction_id, done=True)


@router.delete(
    "/calls/{interaction_id}/monitor",
    response_model=CallActionResult,
    summary="Stop listening to a call",
)
async def stop_monitor(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    phones = _softphones(ctx, principal)
    ok = phones.stop_monitor(interaction_id, principal.user_id)
    return _done(interaction_id, ok, "stop listening to")

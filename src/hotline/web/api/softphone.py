"""The operator's browser softphone over the API: open the WebRTC session (the page's SDP
offer in, our answer out, no trickle ICE), see whether audio flows, switch it off; answer
or decline a call that rings in the browser.

Rules: only operators have a softphone, and only their own; answering and declining go
through the same call checks as hold or hang-up (their own live call, their tenant).
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


class SessionDescription(BaseModel):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=10, max_length=MAX_SDP)


class SoftphoneStatus(BaseModel):
    state: str = Field(description="the WebRTC connection state (new, connecting, connected…)")
    in_call: bool
    frames_from_browser: int = Field(description="audio frames received from the browser")
    packets_to_leg: int = Field(description="RTP packets sent on to the call")
    packets_from_leg: int = Field(description="RTP packets received from the call")
    frames_to_browser: int = Field(description="non-silent frames played to the browser")


def _softphones(ctx: ApiContext, principal: Principal) -> SoftphoneControl:
    if principal.role is not Role.OPERATOR:
        raise forbidden("only operators have a browser softphone")
    if ctx.softphones is None:
        raise ApiError(503, "telephony_unavailable", "this server runs without telephony")
    return ctx.softphones


@router.post(
    "/softphone", response_model=SessionDescription, summary="Start your browser softphone"
)
async def open_softphone(body: SessionDescription, ctx: Ctx, principal: CallControl) -> Any:
    phones = _softphones(ctx, principal)
    if body.type != "offer":
        raise ApiError(422, "invalid_sdp", "send the browser's offer (type 'offer')")
    try:
        answer = await phones.open(principal.user_id, body.sdp)
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
    phones = _softphones(ctx, principal)
    _check_call(ctx, principal, interaction_id)
    return _done(interaction_id, phones.answer(interaction_id, principal.user_id), "answer")


@router.post(
    "/calls/{interaction_id}/decline",
    response_model=CallActionResult,
    summary="Decline a call ringing in your browser softphone (it goes to someone else)",
)
async def decline(interaction_id: Id64, ctx: Ctx, principal: CallControl) -> Any:
    phones = _softphones(ctx, principal)
    _check_call(ctx, principal, interaction_id)
    return _done(interaction_id, phones.decline(interaction_id, principal.user_id), "decline")

"""The running center as the API drives it (``web.api.deps.LiveControl``)."""

from __future__ import annotations

from typing import Any

from hotline.core import events as ev
from hotline.live.center import LiveCenter
from hotline.live.directory import load_directory
from hotline.live.moves import WaitingPlace, move_waiting, waiting_place
from hotline.store.db import Database
from hotline.telephony.b2bua import B2bua
from hotline.telephony.media.base import MediaError
from hotline.telephony.webrtc.phone import SoftphoneError
from hotline.telephony.webrtc.softphones import Softphones

__all__ = ["LiveControlImpl", "SoftphoneControlImpl"]


class LiveControlImpl:
    def __init__(self, db: Database, center: LiveCenter, b2bua: B2bua) -> None:
        self._db = db
        self._center = center
        self._b2bua = b2bua

    def operator_state(self, operator_id: int) -> tuple[str, str | None]:
        if not self._center.engine.has_operator(operator_id):
            return "offline", None
        state, reason = self._center.engine.operator_state(operator_id)
        return str(state), reason

    def set_operator_state(self, operator_id: int, state: str, reason: str | None) -> None:
        if not self._center.engine.has_operator(operator_id):
            raise LookupError(operator_id)
        event: ev.Event
        if state == "ready":
            event = ev.OperatorWentReady(operator_id)
        elif state == "not_ready":
            event = ev.OperatorWentNotReady(operator_id, reason or "break")
        elif state == "offline":
            event = ev.OperatorLoggedOut(operator_id)
        else:
            raise ValueError(f"unknown state {state!r}")
        self._center.handle(event)
        self._b2bua.flush()

    def complete_wrap_up(self, operator_id: int, interaction_id: int) -> None:
        """``web.api.deps.WrapUpControl``: the saved wrap-up ends a hold (engine Rule 8);
        call control then rings whatever the now ready operator is offered."""
        if not self._center.engine.has_operator(operator_id):
            return  # not routed (deactivated meanwhile): nobody to release
        self._center.handle(ev.WrapUpCompleted(operator_id, interaction_id))
        self._b2bua.flush()

    def call_parties(self, interaction_id: int) -> tuple[int, int | None] | None:
        call = self._b2bua.calls.get(interaction_id)
        if call is None:
            return None
        operator = call.operator.operator_id if call.operator is not None else None
        return call.hotline.tenant_id, operator

    def hold(self, interaction_id: int) -> bool:
        return self._b2bua.hold(interaction_id)

    def resume(self, interaction_id: int) -> bool:
        return self._b2bua.resume(interaction_id)

    def hang_up(self, interaction_id: int) -> bool:
        return self._b2bua.hang_up(interaction_id)

    def transfer_to_queue(self, interaction_id: int, queue_id: int) -> bool:
        return self._b2bua.transfer_to_queue(interaction_id, queue_id)

    def transfer_to_number(self, interaction_id: int, number: str) -> str | None:
        return self._b2bua.transfer_to_number(interaction_id, number)

    def waiting_place(self, interaction_id: int) -> WaitingPlace | None:
        return waiting_place(self._center, interaction_id)

    def move_waiting(self, interaction_id: int, queue_id: int, by: int | None) -> WaitingPlace:
        """A supervisor's move (``live.moves``); call control then rings whoever the new
        queue offers it to.  Call control needs nothing new: a ringing phone is cancelled
        by the engine's ``CancelOffer`` and the caller stays on hold music."""
        place = move_waiting(self._center, interaction_id, queue_id, by)
        self._b2bua.flush()
        return place

    async def reload(self) -> None:
        self._center.reload(await load_directory(self._db))
        self._b2bua.flush()  # the change may have offered a waiting call: ring it now


class SoftphoneControlImpl:
    """Browser softphones as the API drives them (``web.api.deps.SoftphoneControl``)."""

    def __init__(self, b2bua: B2bua, softphones: Softphones) -> None:
        self._b2bua = b2bua
        self._softphones = softphones

    async def open(self, operator_id: int, offer_sdp: str, *, auto_answer: bool = False) -> str:
        try:
            return await self._softphones.open(operator_id, offer_sdp, auto_answer=auto_answer)
        except SoftphoneError as exc:
            raise ValueError(str(exc)) from exc

    async def close(self, operator_id: int) -> bool:
        return await self._softphones.close(operator_id)

    def status(self, operator_id: int) -> dict[str, Any] | None:
        phone = self._softphones.get(operator_id)
        if phone is None:
            return None
        return {
            "state": phone.connection_state,
            "in_call": phone.in_call,
            "auto_answer": phone.auto_answer,
            **phone.stats.as_dict(),
        }

    def answer(self, interaction_id: int, operator_id: int) -> bool:
        return self._b2bua.answer_in_browser(interaction_id, operator_id)

    def decline(self, interaction_id: int, operator_id: int) -> bool:
        return self._b2bua.decline_in_browser(interaction_id, operator_id)

    def call_hotline(self, interaction_id: int) -> tuple[int, int] | None:
        call = self._b2bua.calls.get(interaction_id)
        return None if call is None else (call.hotline.tenant_id, call.hotline.id)

    def monitor(self, interaction_id: int, user_id: int) -> bool:
        try:
            return self._b2bua.monitor(interaction_id, user_id)
        except MediaError as exc:
            raise ValueError(str(exc)) from exc

    def stop_monitor(self, interaction_id: int, user_id: int) -> bool:
        return self._b2bua.stop_monitor(interaction_id, user_id)

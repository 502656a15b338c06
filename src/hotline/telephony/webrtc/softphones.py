"""The browser softphones that are connected, one per operator (the WebRTC counterpart of
the SIP registrar's bindings): call control asks it whom to ring in the browser."""

from __future__ import annotations

from collections.abc import Callable

import aioice.ice
import structlog

from hotline.telephony.webrtc.phone import BrowserPhone

__all__ = ["Softphones", "use_ice_hosts"]

log = structlog.get_logger("hotline.softphone")


def use_ice_hosts(hosts: list[str]) -> None:
    """Offer ICE host candidates on exactly these addresses.

    aioice gathers every interface's address but never 127.0.0.1
    (``aioice/ice.py`` ``get_host_addresses``), and aiortc exposes no option for it: a
    server reachable only on loopback (a laptop demo, the tests) or on one chosen
    interface sets ``HOTLINE_WEBRTC_HOSTS``.  Process-wide, called once by the
    composition root.
    """
    chosen = list(hosts)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [h for h in chosen if (":" in h and use_ipv6) or (":" not in h and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


class Softphones:
    """Connected browser phones by operator id.

    ``on_gone(operator_id)`` is called when a phone's connection ends (the page closed,
    the network failed, or the operator switched it off), so call control can end the
    call that phone was in: that is the browser's "BYE".
    """

    def __init__(self, rtp_host: str) -> None:
        self._rtp_host = rtp_host
        self._phones: dict[int, BrowserPhone] = {}
        self.on_gone: Callable[[int], None] | None = None

    def get(self, operator_id: int) -> BrowserPhone | None:
        """The operator's live browser phone, if one is connected (or connecting)."""
        phone = self._phones.get(operator_id)
        if phone is None or phone.connection_state in ("failed", "closed"):
            return None
        return phone

    async def open(self, operator_id: int, offer_sdp: str, *, auto_answer: bool = False) -> str:
        """A new session for the operator (replacing an older one: the newest tab wins);
        returns the answer SDP.  Raises :class:`~hotline.telephony.webrtc.phone.SoftphoneError`
        for an unusable offer."""
        await self.close(operator_id)
        phone = BrowserPhone(operator_id, self._rtp_host, self._closed, auto_answer=auto_answer)
        self._phones[operator_id] = phone
        try:
            answer = await phone.start(offer_sdp)
        except BaseException:
            await phone.close()
            raise
        log.info("softphone.opened", operator_id=operator_id)
        return answer

    async def close(self, operator_id: int) -> bool:
        phone = self._phones.get(operator_id)
        if phone is None:
            return False
        await phone.close()
        return True

    def _closed(self, phone: BrowserPhone) -> None:
        if self._phones.get(phone.operator_id) is phone:
            del self._phones[phone.operator_id]
            log.info("softphone.closed", operator_id=phone.operator_id)
            if self.on_gone is not None:
                self.on_gone(phone.operator_id)

    async def close_all(self) -> None:
        for operator_id in list(self._phones):
            await self.close(operator_id)

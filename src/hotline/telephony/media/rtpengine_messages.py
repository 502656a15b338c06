"""The ng messages the rtpengine backend sends, and what it reads from the replies.

Kept apart from ``rtpengine.py`` (which decides *when* to send them) so the exact
dictionaries — the part a reader compares with ``docs/ng_control_protocol.md`` — are
in one place.  The tags: ``peer`` is the phone or trunk, ``hotline`` the inner side of
the leg's call, pointed at a bridged partner or on hold.
"""

from __future__ import annotations

from typing import Final

from hotline.telephony import sdp
from hotline.telephony.media import ng
from hotline.telephony.media.base import Codec, MediaError, RemoteMedia

__all__ = ["HOTLINE_TAG", "INNER_DTMF_PT", "PEER_TAG", "answer", "audio_address", "offer"]

PEER_TAG: Final = "peer"
HOTLINE_TAG: Final = "hotline"
#: telephone-event payload type of the inner side until the peer's is known
INNER_DTMF_PT: Final = 101
#: RFC 2543 hold: the inner side points nowhere and rtpengine sends nothing to it
_HOLD: Final = ("0.0.0.0", 9)  # noqa: S104 - an SDP address, not a bind


def offer(call_id: str, target: tuple[str, int] | None, dtmf_pt: int | None) -> dict[str, object]:
    """The ``hotline`` side's offer: PCMU and telephone-event, pointed at the partner's
    inner port when bridged, else on hold.

    rtpengine 10.5 forwards telephone-events under the payload type they came with,
    even when the other side answered another number, so the inner side offers the
    peer's own number (once known) and the peer's answer matches it.  ``inject-DTMF``:
    ``play DTMF`` (digits relayed to a bridged partner) needs it in offer and answer.
    """
    host, port = target or _HOLD
    body = sdp.build_sdp(
        session_id=1, version=1, host=host, port=port, codec=Codec.PCMU, dtmf_payload_type=dtmf_pt
    )
    return {
        "call-id": call_id,
        "from-tag": HOTLINE_TAG,
        "sdp": body,
        "codec": {"transcode": ["PCMA"]},
        "ICE": "remove",
        "flags": ["inject-DTMF"],
    }


def answer(call_id: str, remote: RemoteMedia, *, symmetric: bool) -> dict[str, object]:
    """The peer's answer, from what its SDP said (direction seen from the peer)."""
    direction = {
        (True, True): "sendrecv",
        (False, True): "sendonly",
        (True, False): "recvonly",
        (False, False): "inactive",
    }[(remote.send, remote.receive)]
    body = sdp.build_sdp(
        session_id=1,
        version=1,
        host=remote.host,
        port=remote.port,
        codec=remote.codec,
        dtmf_payload_type=remote.dtmf_payload_type,
        direction=direction,
    )
    return {
        "call-id": call_id,
        "from-tag": HOTLINE_TAG,
        "to-tag": PEER_TAG,
        "sdp": body,
        "ICE": "remove",
        "flags": ["inject-DTMF"] if symmetric else ["inject-DTMF", "asymmetric"],
    }


def audio_address(reply: dict[str, ng.NgValue], command: str, leg_id: str) -> tuple[str, int]:
    """The audio address in a reply's SDP: the port the *other* side sends to."""
    body = reply.get("sdp")
    if not isinstance(body, bytes):
        raise MediaError(f"rtpengine {command!r} for leg {leg_id!r}: reply has no SDP")
    parsed = sdp.parse_sdp(body)
    audio = next((m for m in parsed.media if m.media == "audio"), None)
    connection = (audio.connection if audio else None) or parsed.connection
    if audio is None or connection is None:
        raise MediaError(f"rtpengine {command!r} for leg {leg_id!r}: no audio in its SDP")
    return connection.address, audio.port

"""RTP, sans-I/O: packets (RFC 3550), G.711, DTMF events (RFC 4733), reordering.

Bytes in, values out: nothing here opens a socket, reads a clock or draws a random
number (SSRC and initial sequence numbers are the caller's to draw), so every rule is
tested with plain data.  The asyncio shell is ``hotline.telephony.media.inprocess``.
"""

from hotline.telephony.rtp.dtmf import (
    DTMF_DIGITS,
    DtmfPacket,
    DtmfReceiver,
    TelephoneEvent,
    digit_for_event,
    dtmf_packets,
    event_for_digit,
    parse_telephone_event,
)
from hotline.telephony.rtp.g711 import (
    alaw_to_linear,
    alaw_to_ulaw,
    linear_to_alaw,
    linear_to_ulaw,
    ulaw_to_alaw,
    ulaw_to_linear,
)
from hotline.telephony.rtp.jitter import ReorderBuffer
from hotline.telephony.rtp.packet import RtpPacket, build_rtp, is_rtcp, parse_rtp, seq_distance

__all__ = [
    "DTMF_DIGITS",
    "DtmfPacket",
    "DtmfReceiver",
    "ReorderBuffer",
    "RtpPacket",
    "TelephoneEvent",
    "alaw_to_linear",
    "alaw_to_ulaw",
    "build_rtp",
    "digit_for_event",
    "dtmf_packets",
    "event_for_digit",
    "is_rtcp",
    "linear_to_alaw",
    "linear_to_ulaw",
    "parse_rtp",
    "parse_telephone_event",
    "seq_distance",
    "ulaw_to_alaw",
    "ulaw_to_linear",
]

"""RTP packets as values (RFC 3550 §5.1), parsed from and built to bytes.

The fixed header, as drawn in RFC 3550 §5.1::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                           timestamp                           |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |           synchronization source (SSRC) identifier            |
    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
    |            contributing source (CSRC) identifiers             |
    |                             ....                              |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Whatever a peer sends is parsed without raising: :func:`parse_rtp` answers ``None`` for
anything that is not a well-formed RTP packet (RTCP multiplexed on the same port, STUN,
garbage), so the media loop can drop it and carry on.  :func:`build_rtp` is on the hot
path (one call per 20 ms frame per leg): one ``struct.pack`` and one concatenation.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

__all__ = [
    "RTP_HEADER_SIZE",
    "RTP_VERSION",
    "RtpPacket",
    "build_rtp",
    "is_rtcp",
    "parse_rtp",
    "seq_distance",
]

RTP_VERSION: Final = 2
RTP_HEADER_SIZE: Final = 12
_HEADER: Final = struct.Struct("!BBHII")
_WORD: Final = struct.Struct("!I")
_EXTENSION_HEADER: Final = struct.Struct("!HH")
# First header byte of a plain packet: V=2, no padding, no extension, CC=0.
_PLAIN_V2: Final = RTP_VERSION << 6
# RFC 5761 §4: with RTP and RTCP on one port, the second byte of an RTCP packet (its
# packet type, 200-204 for SR, RR, SDES, BYE, APP) reads as marker + payload type
# 72-76, which RTP must not use.  We widen it to 64-95, the whole range §4 reserves.
_RTCP_PT_MIN: Final = 64
_RTCP_PT_MAX: Final = 95
_new_tuple: Final = tuple.__new__


class RtpPacket(NamedTuple):
    """One RTP packet (RFC 3550 §5.1).

    ``payload`` has padding removed (§5.1, P bit); ``csrc`` and the header extension
    (§5.3.1: a profile-defined 16-bit id and its data) are kept so a packet can be
    rebuilt, although G.711 peers rarely send them.  A named tuple rather than a frozen
    dataclass: one is built per received packet, and a tuple is built several times
    faster.
    """

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension_profile: int | None = None
    extension: bytes = b""

    def to_bytes(self) -> bytes:
        """Serialize, header extension and CSRC list included (never padded)."""
        return build_rtp(
            self.payload_type,
            self.sequence_number,
            self.timestamp,
            self.ssrc,
            self.payload,
            marker=self.marker,
            csrc=self.csrc,
            extension_profile=self.extension_profile,
            extension=self.extension,
        )


def is_rtcp(data: bytes) -> bool:
    """True when ``data`` looks like RTCP sent on the RTP port (RFC 5761 §4)."""
    return (
        len(data) >= 2
        and data[0] >> 6 == RTP_VERSION
        and (_RTCP_PT_MIN <= data[1] & 0x7F <= _RTCP_PT_MAX)
    )


def parse_rtp(data: bytes) -> RtpPacket | None:
    """Parse one datagram; ``None`` when it is not a well-formed RTP version 2 packet.

    RTCP (RFC 5761 §4), truncated headers, a CSRC list or extension running past the
    end and impossible padding (§5.1: the last octet counts the padding octets,
    itself included) all give ``None``: the peer's fault, never an exception.
    """
    size = len(data)
    if size < RTP_HEADER_SIZE:
        return None
    first, second, seq, timestamp, ssrc = _HEADER.unpack_from(data)
    payload_type = second & 0x7F
    if first == _PLAIN_V2:  # The common case: no padding, extension or CSRC.
        if _RTCP_PT_MIN <= payload_type <= _RTCP_PT_MAX:
            return None
        # tuple.__new__ skips the named tuple's Python-level __new__: half the cost,
        # on a path that runs for every packet received.
        return _new_tuple(
            RtpPacket,
            (
                payload_type,
                seq,
                timestamp,
                ssrc,
                data[RTP_HEADER_SIZE:],
                second > 0x7F,
                (),
                None,
                b"",
            ),
        )
    if first >> 6 != RTP_VERSION or _RTCP_PT_MIN <= payload_type <= _RTCP_PT_MAX:
        return None
    offset = RTP_HEADER_SIZE
    csrc_count = first & 0x0F
    if offset + 4 * csrc_count > size:
        return None
    csrc = tuple(_WORD.unpack_from(data, offset + 4 * i)[0] for i in range(csrc_count))
    offset += 4 * csrc_count
    extension_profile: int | None = None
    extension = b""
    if first & 0x10:  # §5.3.1: 16-bit profile id, 16-bit length in 32-bit words.
        if offset + 4 > size:
            return None
        extension_profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
        offset += 4
        if offset + 4 * words > size:
            return None
        extension = data[offset : offset + 4 * words]
        offset += 4 * words
    end = size
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or offset + padding > size:
            return None
        end -= padding
    return RtpPacket(
        payload_type,
        seq,
        timestamp,
        ssrc,
        data[offset:end],
        bool(second & 0x80),
        csrc,
        extension_profile,
        extension,
    )


def build_rtp(
    payload_type: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    *,
    marker: bool = False,
    csrc: tuple[int, ...] = (),
    extension_profile: int | None = None,
    extension: bytes = b"",
) -> bytes:
    """Build one RTP packet; sequence number and timestamp wrap (16 and 32 bits).

    The plain case (no CSRC, no extension) is one ``struct.pack``: it runs once per
    frame per leg.  ``extension`` must be a whole number of 32-bit words (§5.3.1).
    """
    second = (payload_type & 0x7F) | (0x80 if marker else 0)
    if not csrc and extension_profile is None:
        return (
            _HEADER.pack(_PLAIN_V2, second, sequence_number & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
            + payload
        )
    if len(csrc) > 15 or len(extension) % 4:
        raise ValueError(
            f"RTP header: {len(csrc)} CSRC (at most 15) and a {len(extension)}-byte "
            "extension (whole 32-bit words) asked by our own code"
        )
    first = _PLAIN_V2 | len(csrc) | (0x10 if extension_profile is not None else 0)
    parts = [_HEADER.pack(first, second, sequence_number & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)]
    parts.extend(_WORD.pack(source) for source in csrc)
    if extension_profile is not None:
        parts.append(_EXTENSION_HEADER.pack(extension_profile, len(extension) // 4))
        parts.append(extension)
    parts.append(payload)
    return b"".join(parts)


def seq_distance(later: int, earlier: int) -> int:
    """Signed distance ``later - earlier`` between two 16-bit sequence numbers.

    RFC 3550 §A.1 arithmetic: the result is in ``[-32768, 32767]``, so 2 follows 65535
    by 3.
    """
    return ((later - earlier + 0x8000) & 0xFFFF) - 0x8000

"""SDP for G.711 calls: parse, choose, answer (RFC 4566, RFC 3264, RFC 4733).

The subset a contact center needs: one audio stream of PCMU or PCMA with
telephone-event for DTMF. Sans-I/O like ``telephony.sip``: bytes in, values
out; the session id and version are the caller's to choose.

Theory of operation:

Rule 1. :func:`parse_sdp` reads what any peer may send — every line type,
unknown attributes, extra streams — and rejects only what breaks the
grammar of RFC 4566 §5 (400, :class:`RemoteSipError`).

Rule 2. :func:`negotiate_audio` decides, :func:`build_answer` (or
:func:`build_sdp`) writes: we take the first audio stream we can use and the
offerer's first codec we speak (RFC 3264 §6.1: the offer's order is its
preference). Nothing in common is 488 Not Acceptable Here (RFC 3261 §21.4.26).

Rule 3. Directions are always from our side: an offer that is ``sendonly``
makes us ``recvonly``. An RFC 2543 hold (``c=0.0.0.0``) means "do not send to
me" (RFC 3264 §8.4), so our direction loses its sending half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError

__all__ = [
    "DEFAULT_DTMF_PAYLOAD_TYPE",
    "DIRECTIONS",
    "AudioChoice",
    "Connection",
    "MediaDescription",
    "Origin",
    "RtpMap",
    "SessionDescription",
    "build_answer",
    "build_offer",
    "build_sdp",
    "negotiate_audio",
    "parse_sdp",
]

DIRECTIONS: Final = ("sendrecv", "sendonly", "recvonly", "inactive")
# RFC 3264 §6.1: the answer's direction mirrors the offer's.
_MIRRORED: Final[Mapping[str, str]] = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}
# What is left of our direction when we must not send (RFC 3264 §8.4 hold).
_WITHOUT_SEND: Final[Mapping[str, str]] = {
    "sendrecv": "recvonly",
    "sendonly": "inactive",
    "recvonly": "recvonly",
    "inactive": "inactive",
}
# RFC 3551 table 4: the static payload types of G.711.
_G711_NAMES: Final[Mapping[int, str]] = {0: "PCMU", 8: "PCMA"}
_G711_BY_NAME: Final[Mapping[str, int]] = {"PCMU": 0, "PCMA": 8}
# RFC 4733 §7.1.1: events 0-15 are the DTMF digits, 16 is flash.
_DTMF_EVENTS: Final = "0-16"
DEFAULT_DTMF_PAYLOAD_TYPE: Final = 101  # the dynamic type everyone uses (RFC 3551 §3)
# RFC 3264 §8.4: the "unspecified" address of an RFC 2543 hold (not a bind).
_HOLD_ADDRESSES: Final = frozenset({"0.0.0.0", "::"})  # noqa: S104
_RTPMAP_RE: Final = re.compile(r"([0-9]{1,3})[ \t]+([^/ \t]+)/([0-9]+)(?:/([0-9]+))?[ \t]*")
_LINE_RE: Final = re.compile(r"([a-z])=(.*)")


class RtpMap(NamedTuple):
    """An ``a=rtpmap`` (RFC 4566 §6): encoding name, clock rate, channels (``None`` = 1)."""

    encoding: str
    clock_rate: int
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """The ``o=`` line (RFC 4566 §5.2): who made this session, and which version it is."""

    username: str
    session_id: int
    session_version: int
    nettype: str
    addrtype: str
    address: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A ``c=`` line (RFC 4566 §5.7), without the multicast ``/ttl`` suffix."""

    nettype: str
    addrtype: str
    address: str


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One ``m=`` section (RFC 4566 §5.14) and what our choice needs of its attributes.

    ``formats`` are as written (payload type numbers for RTP); ``direction``
    is resolved (media attribute, else session attribute, else sendrecv);
    ``ptime`` likewise falls back to a session-level ``a=ptime``.
    ``attributes`` keeps every ``a=`` line of the section, parsed or not.
    """

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    rtpmap: Mapping[int, RtpMap] = field(default_factory=dict)
    fmtp: Mapping[int, str] = field(default_factory=dict)
    direction: str = "sendrecv"
    ptime: int | None = None
    port_count: int = 1
    attributes: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A parsed SDP body (RFC 4566 §5): the session lines and its media sections."""

    origin: Origin
    session_name: str
    connection: Connection | None
    media: tuple[MediaDescription, ...]
    direction: str = "sendrecv"
    attributes: tuple[tuple[str, str | None], ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class AudioChoice:
    """What :func:`negotiate_audio` chose, from our side of the call.

    ``codec`` names the codec by its static payload type (0 PCMU, 8 PCMA);
    ``payload_type`` is the number to put in RTP packets (the offerer's, which
    differs only if it mapped G.711 to a dynamic type). ``host`` and ``port``
    are the peer's: where our RTP goes. ``direction`` is ours (Rule 3);
    ``ptime`` the offer's, if any. ``media_index`` is the position of the
    chosen m-line, so the answer can keep the offer's order.
    """

    codec: int
    payload_type: int
    dtmf_payload_type: int | None
    host: str
    port: int
    direction: str
    ptime: int | None = None
    media_index: int = 0

    @property
    def encoding(self) -> str:
        """The codec's encoding name: ``PCMU`` or ``PCMA``."""
        return _G711_NAMES[self.codec]

    @property
    def send_allowed(self) -> bool:
        """Whether we may send RTP to the peer (our direction sendrecv or sendonly)."""
        return self.direction in ("sendrecv", "sendonly")

    @property
    def receive_allowed(self) -> bool:
        """Whether the peer will send RTP to us (our direction sendrecv or recvonly)."""
        return self.direction in ("sendrecv", "recvonly")


def parse_sdp(body: bytes) -> SessionDescription:
    """Parse an SDP body (RFC 4566 §5); raise :class:`RemoteSipError` (400) if malformed.

    Lines may end in CRLF or a lone LF (§5 asks parsers to accept both).
    ``v=0`` must come first and ``o=`` must be present; other lines we do not
    need (``b=``, ``k=``, ``t=``...) are skipped.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteSipError(f"SDP is not UTF-8 at byte {exc.start} (RFC 4566 §5)") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines or lines[0].strip() != "v=0":
        raise RemoteSipError("SDP must start with v=0 (RFC 4566 §5.1)")
    session = _Section()
    origin: Origin | None = None
    session_name = ""
    media: list[_Section] = []
    for number, line in enumerate(lines[1:], start=2):
        match = _LINE_RE.fullmatch(line)
        if match is None:
            raise RemoteSipError(f"SDP line {number} is not <type>=<value>: {line[:40]!r}")
        kind, value = match[1], match[2]
        current = media[-1] if media else session
        if kind == "o":
            origin = _parse_origin(value, number)
        elif kind == "s":
            session_name = value
        elif kind == "c":
            current.connection = _parse_connection(value, number)
        elif kind == "m":
            media.append(_parse_media_line(value, number))
        elif kind == "a":
            current.add_attribute(value, number)
    if origin is None:
        raise RemoteSipError("SDP has no o= line (RFC 4566 §5.2)")
    return SessionDescription(
        origin=origin,
        session_name=session_name,
        connection=session.connection,
        media=tuple(section.freeze(session) for section in media),
        direction=session.direction or "sendrecv",
        attributes=tuple(session.attributes),
    )


def negotiate_audio(offer: SessionDescription, *, prefer: Sequence[int] = (0, 8)) -> AudioChoice:
    """Choose the audio stream, codec, DTMF type and remote address for ``offer``.

    Takes the first ``audio`` stream over RTP/AVP with a nonzero port (port 0
    is a rejected or disabled stream, RFC 3264 §5.1; SRTP we do not speak),
    then the offerer's first format that is a codec in ``prefer`` — PCMU (0)
    or PCMA (8), by static type or by ``a=rtpmap`` name — and
    telephone-event/8000 if offered (RFC 4733 §7.1.1). Raises
    :class:`RemoteSipError` with hint 488 when nothing fits, 400 when the
    stream has no connection address. Works on an answer to our offer too.
    """
    streams = [
        (index, stream)
        for index, stream in enumerate(offer.media)
        if stream.media.lower() == "audio" and stream.port != 0
    ]
    usable = [(i, s) for i, s in streams if s.proto.upper() == "RTP/AVP"]
    if not usable:
        what = "audio stream"
        if streams:
            offered = ", ".join(sorted({stream.proto for _, stream in streams}))
            what = f"RTP/AVP audio stream (only {offered}; SRTP is not supported)"
        raise RemoteSipError(f"no common codec: the offer has no {what}", status_hint=488)
    index, stream = usable[0]
    codec: int | None = None
    payload_type: int | None = None
    dtmf: int | None = None
    for fmt in stream.formats:
        if not fmt.isdigit():
            continue
        number = int(fmt)
        found = _g711(number, stream.rtpmap)
        if codec is None and found is not None and found in prefer:
            codec, payload_type = found, number
        rtpmap = stream.rtpmap.get(number)
        if dtmf is None and rtpmap is not None and _is_telephone_event(rtpmap):
            dtmf = number
    if codec is None or payload_type is None:
        ours = ", ".join(f"{_G711_NAMES.get(pt, pt)} ({pt})" for pt in prefer)
        raise RemoteSipError(
            f"no common codec: offered {' '.join(stream.formats)}, we take {ours}",
            status_hint=488,
        )
    connection = stream.connection or offer.connection
    if connection is None:
        raise RemoteSipError("the audio stream has no c= line, nor has the session (§5.7)")
    direction = _MIRRORED[stream.direction]
    if connection.address in _HOLD_ADDRESSES:
        direction = _WITHOUT_SEND[direction]
    return AudioChoice(
        codec=codec,
        payload_type=payload_type,
        dtmf_payload_type=dtmf,
        host=connection.address,
        port=stream.port,
        direction=direction,
        ptime=stream.ptime,
        media_index=index,
    )


def build_sdp(
    *,
    session_id: int,
    version: int,
    host: str,
    port: int,
    codec: int,
    dtmf_payload_type: int | None,
    direction: str = "sendrecv",
    ptime: int = 20,
) -> bytes:
    """An SDP body with one audio stream of ``codec`` (0 PCMU or 8 PCMA) and DTMF.

    For an answer to a one-stream offer, or an offer of one codec. ``version``
    must grow with each change in the session (RFC 3264 §8); ``host`` is an
    IPv4 or IPv6 address. telephone-event gets ``a=fmtp:<pt> 0-16``.
    """
    _check_direction(direction)
    if codec not in _G711_NAMES:
        raise LocalSipError(f"codec must be 0 (PCMU) or 8 (PCMA), not {codec}")
    lines = _session_lines(session_id, version, host)
    lines += _audio_lines(port, [codec], dtmf_payload_type, direction, ptime)
    return _join(lines)


def build_offer(
    *,
    session_id: int,
    version: int,
    host: str,
    port: int,
    dtmf_payload_type: int | None = DEFAULT_DTMF_PAYLOAD_TYPE,
    direction: str = "sendrecv",
    ptime: int = 20,
) -> bytes:
    """An offer of PCMU, PCMA and telephone-event, for the calls we place to phones."""
    _check_direction(direction)
    lines = _session_lines(session_id, version, host)
    lines += _audio_lines(port, [0, 8], dtmf_payload_type, direction, ptime)
    return _join(lines)


def build_answer(
    offer: SessionDescription,
    choice: AudioChoice,
    *,
    session_id: int,
    version: int,
    host: str,
    port: int,
    ptime: int | None = None,
) -> bytes:
    """The answer to ``offer`` for ``choice``, with one m-line per offered m-line.

    RFC 3264 §6 wants as many m-lines in the answer as in the offer, in the
    same order: the chosen audio stream is answered, every other one is
    rejected with port 0. Payload types are the offerer's (§6.1). ``ptime``
    defaults to the offer's, else 20 ms.
    """
    lines = _session_lines(session_id, version, host)
    for index, stream in enumerate(offer.media):
        if index == choice.media_index:
            lines += _audio_lines(
                port,
                [choice.payload_type],
                choice.dtmf_payload_type,
                choice.direction,
                ptime or choice.ptime or 20,
                names={choice.payload_type: choice.encoding},
            )
        else:
            # §6: a rejected stream keeps its media, proto and one format.
            lines.append(f"m={stream.media} 0 {stream.proto} {stream.formats[0]}")
    return _join(lines)


class _Section:
    # What parse_sdp gathers for the session or one media section before freezing.
    def __init__(self, media: str = "", port: int = 0, proto: str = "") -> None:
        self.media, self.port, self.proto = media, port, proto
        self.formats: tuple[str, ...] = ()
        self.port_count = 1
        self.connection: Connection | None = None
        self.rtpmap: dict[int, RtpMap] = {}
        self.fmtp: dict[int, str] = {}
        self.direction: str | None = None
        self.ptime: int | None = None
        self.attributes: list[tuple[str, str | None]] = []

    def add_attribute(self, text: str, number: int) -> None:
        name, colon, value = text.partition(":")
        self.attributes.append((name, value if colon else None))
        if name in DIRECTIONS and not colon:
            self.direction = name
        elif name == "rtpmap":
            match = _RTPMAP_RE.fullmatch(value)
            if match is None or int(match[1]) > 127:
                raise RemoteSipError(f"SDP line {number}: bad a=rtpmap {value[:40]!r} (§6)")
            channels = int(match[4]) if match[4] is not None else None
            self.rtpmap[int(match[1])] = RtpMap(match[2], int(match[3]), channels)
        elif name == "fmtp":
            fmt, _, params = value.partition(" ")
            if fmt.isdigit():
                self.fmtp[int(fmt)] = params.strip()
        elif name == "ptime":
            try:
                self.ptime = round(float(value))
            except ValueError:
                raise RemoteSipError(f"SDP line {number}: bad a=ptime {value[:20]!r}") from None

    def freeze(self, session: _Section) -> MediaDescription:
        ptime = self.ptime if self.ptime is not None else session.ptime
        return MediaDescription(
            media=self.media,
            port=self.port,
            proto=self.proto,
            formats=self.formats,
            connection=self.connection,
            rtpmap=MappingProxyType(self.rtpmap),
            fmtp=MappingProxyType(self.fmtp),
            direction=self.direction or session.direction or "sendrecv",
            ptime=ptime,
            port_count=self.port_count,
            attributes=tuple(self.attributes),
        )


def _parse_origin(value: str, number: int) -> Origin:
    # o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
    parts = value.split()
    if len(parts) != 6 or not parts[1].isdigit() or not parts[2].isdigit():
        raise RemoteSipError(f"SDP line {number}: bad o= line {value[:60]!r} (RFC 4566 §5.2)")
    return Origin(parts[0], int(parts[1]), int(parts[2]), parts[3], parts[4], parts[5])


def _parse_connection(value: str, number: int) -> Connection:
    # c=<nettype> <addrtype> <connection-address>[/<ttl>][/<number>]
    parts = value.split()
    if len(parts) != 3:
        raise RemoteSipError(f"SDP line {number}: bad c= line {value[:60]!r} (RFC 4566 §5.7)")
    return Connection(parts[0], parts[1], parts[2].split("/", 1)[0])


def _parse_media_line(value: str, number: int) -> _Section:
    # m=<media> <port>[/<number of ports>] <proto> <fmt> ...
    parts = value.split()
    if len(parts) < 4:
        raise RemoteSipError(f"SDP line {number}: bad m= line {value[:60]!r} (RFC 4566 §5.14)")
    port_text, slash, count_text = parts[1].partition("/")
    if not port_text.isdigit() or int(port_text) > 65535 or (slash and not count_text.isdigit()):
        raise RemoteSipError(f"SDP line {number}: bad port {parts[1]!r} in m= line")
    section = _Section(parts[0], int(port_text), parts[2])
    section.formats = tuple(parts[3:])
    section.port_count = int(count_text) if slash else 1
    return section


def _g711(payload_type: int, rtpmap: Mapping[int, RtpMap]) -> int | None:
    # An rtpmap names the codec; without one, the static types of RFC 3551 do.
    mapped = rtpmap.get(payload_type)
    if mapped is None:
        return payload_type if payload_type in _G711_NAMES else None
    if mapped.clock_rate != 8000 or mapped.channels not in (None, 1):
        return None
    return _G711_BY_NAME.get(mapped.encoding.upper())


def _is_telephone_event(rtpmap: RtpMap) -> bool:
    return rtpmap.encoding.lower() == "telephone-event" and rtpmap.clock_rate == 8000


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise LocalSipError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")


def _session_lines(session_id: int, version: int, host: str) -> list[str]:
    addrtype = "IP6" if ":" in host else "IP4"
    return [
        "v=0",
        f"o=- {session_id} {version} IN {addrtype} {host}",
        "s=-",
        f"c=IN {addrtype} {host}",
        "t=0 0",
    ]


def _audio_lines(
    port: int,
    codecs: Sequence[int],
    dtmf_payload_type: int | None,
    direction: str,
    ptime: int,
    *,
    names: Mapping[int, str] = _G711_NAMES,
) -> list[str]:
    formats = [*codecs, *([dtmf_payload_type] if dtmf_payload_type is not None else [])]
    lines = [f"m=audio {port} RTP/AVP {' '.join(map(str, formats))}"]
    lines += [f"a=rtpmap:{pt} {names[pt]}/8000" for pt in codecs]
    if dtmf_payload_type is not None:
        lines.append(f"a=rtpmap:{dtmf_payload_type} telephone-event/8000")
        lines.append(f"a=fmtp:{dtmf_payload_type} {_DTMF_EVENTS}")
    lines += [f"a=ptime:{ptime}", f"a={direction}"]
    return lines


def _join(lines: list[str]) -> bytes:
    # RFC 4566 §5: lines end with CRLF, the last one included.
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")

"""SIP messages as values: parse, serialize and answer (RFC 3261 §7, §8.2.6).

Sans-I/O: bytes in, frozen values out, and back. No sockets, no clock, no
randomness — the asyncio shell (``hotline.telephony.listener``) moves the bytes.

Theory of operation:

Rule 1. :func:`parse` takes one whole message (a UDP datagram, or one frame cut
by :class:`~hotline.telephony.sip.framing.StreamFramer` from TCP) and either
returns a :class:`SipRequest` / :class:`SipResponse` or raises
:class:`RemoteSipError` whose ``reason`` says what the peer got wrong and whose
``status_hint`` is the code to answer with.

Rule 2. :func:`serialize` writes the start line, then each header field in the
order held with the spacing it arrived with (or ``Name: value`` for fields we
add), then the body. So ``serialize(parse(data)) == data`` byte for byte for
any message without folded lines, trailing blanks or leading CRLFs.

Rule 3. Nothing here fixes a message up on the way out: whoever builds a
message owns its Content-Length (:func:`build_response` writes ``0``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, NamedTuple

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.framing import StreamFramer
from hotline.telephony.sip.headers import TOKEN_RE, HeaderField, Headers, header_key
from hotline.telephony.sip.status import REASON_PHRASES

__all__ = [
    "SIP_VERSION",
    "CSeq",
    "SipMessage",
    "SipRequest",
    "SipResponse",
    "StreamFramer",
    "build_response",
    "parse",
    "parse_cseq",
    "response_to_malformed",
    "serialize",
    "stateless_to_tag",
]

SIP_VERSION: Final = "SIP/2.0"

# RFC 3261 §8.1.1: the header fields every request carries. A response copies
# them (§8.2.6.2), so we demand them of responses too: without them a response
# cannot be matched to a transaction (§17.1.3) and is useless.
MANDATORY_HEADERS: Final = ("Via", "From", "To", "Call-ID", "CSeq")
# Of those, the ones whose grammar is not a list may appear once only (§7.3.1).
_SINGLE_HEADERS: Final = ("From", "To", "Call-ID", "CSeq")

# RFC 3261 §25.1: SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive).
_VERSION_RE: Final = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)
_STATUS_CODE_RE: Final = re.compile(r"[1-6][0-9][0-9]")
_CSEQ_RE: Final = re.compile(r"([0-9]{1,10})[ \t]+(\S+)")
_TO_TAG_RE: Final = re.compile(r";[ \t]*tag[ \t]*=", re.IGNORECASE)
# A Reason-Phrase we write from an error: long enough to be useful, short
# enough not to bloat the datagram.
_MAX_REASON_CHARS: Final = 120


@dataclass(frozen=True, slots=True)
class SipRequest:
    """A SIP request (RFC 3261 §7.1): ``method uri version``, header fields, body."""

    method: str
    uri: str
    headers: Headers
    body: bytes = b""
    version: str = SIP_VERSION


@dataclass(frozen=True, slots=True)
class SipResponse:
    """A SIP response (RFC 3261 §7.2): ``version status reason``, header fields, body."""

    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    version: str = SIP_VERSION


SipMessage = SipRequest | SipResponse


class CSeq(NamedTuple):
    """The parsed CSeq header field (RFC 3261 §8.1.1.5): sequence number and method."""

    number: int
    method: str


def parse_cseq(value: str) -> CSeq:
    """Parse a CSeq value such as ``"314159 INVITE"``; raise :class:`RemoteSipError` if bad."""
    match = _CSEQ_RE.fullmatch(value.strip(" \t"))
    # §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned
    # integer and be less than 2**31.
    if match is None or int(match[1]) >= 2**31 or not TOKEN_RE.fullmatch(match[2]):
        raise RemoteSipError(
            f"bad CSeq {value!r}: expected a number below 2**31 and a method (RFC 3261 §8.1.1.5)"
        )
    return CSeq(int(match[1]), match[2])


def parse(data: bytes) -> SipMessage:
    """Parse one complete SIP message; raise :class:`RemoteSipError` if it is malformed."""
    start = 0
    # §7.5: CRLFs before the start line (keep-alives) are ignored.
    while data.startswith(b"\r\n", start):
        start += 2
    if start == len(data):
        raise RemoteSipError("empty message: no start line")
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        raise RemoteSipError(
            "no empty line after the header fields: lines must end with CRLF and the"
            " header section with CRLF CRLF (RFC 3261 §7)"
        )
    try:
        head = data[start:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteSipError(
            f"header section is not valid UTF-8 at byte {start + exc.start} (RFC 3261 §7)"
        ) from None
    lines = head.split("\r\n")
    if any("\r" in line or "\n" in line for line in lines):
        raise RemoteSipError("bare CR or LF in the header section: lines must end with CRLF")
    headers = _parse_header_lines(lines[1:])
    body = _cut_body(headers, data[end + 4 :])
    message = _parse_start_line(lines[0], headers, body)
    _check_mandatory(message)
    return message


def serialize(message: SipMessage) -> bytes:
    """Write ``message`` as bytes, header fields in the order held (Rule 2)."""
    if isinstance(message, SipRequest):
        start = f"{message.method} {message.uri} {message.version}"
    else:
        start = f"{message.version} {message.status} {message.reason}"
    lines = [
        start,
        *(f"{name}{separator}{value}" for name, value, separator in message.headers.fields),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + message.body


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipResponse:
    """Build the response a UAS sends to ``request`` (RFC 3261 §8.2.6).

    Copies every Via (in order), From, To, Call-ID and CSeq (§8.2.6.2) and a
    Timestamp if present (§8.2.6.1, with no delay: we hold no clock), adds
    ``extra_headers`` and ends with ``Content-Length: 0``. If the request's To
    has no tag, ``to_tag`` is added — required for every status but 100
    (§8.2.6.2); a To that already has a tag is kept as it is. ``reason``
    defaults to the RFC's phrase for ``status``.

    Raises :class:`LocalSipError` (our bug) for a status outside 100–699, or a
    missing ``to_tag`` where one is required.
    """
    if not 100 <= status <= 699:
        raise LocalSipError(f"SIP status must be within 100..699, not {status}")
    if request.method == "ACK":
        raise LocalSipError("ACK is never answered (RFC 3261 §17.1.1.3)")
    to = request.headers.get("To") or ""
    if status != 100 and not _TO_TAG_RE.search(to):
        if to_tag is None:
            raise LocalSipError(
                f"a {status} response needs a To tag (RFC 3261 §8.2.6.2): pass to_tag="
            )
        to = f"{to};tag={to_tag}"
    headers = Headers.from_pairs(("Via", via) for via in request.headers.field_values("Via"))
    headers = headers.with_added("From", request.headers.get("From") or "")
    headers = headers.with_added("To", to)
    headers = headers.with_added("Call-ID", request.headers.get("Call-ID") or "")
    headers = headers.with_added("CSeq", request.headers.get("CSeq") or "")
    timestamp = request.headers.get("Timestamp")
    if timestamp is not None:
        headers = headers.with_added("Timestamp", timestamp)
    for name, value in extra_headers:
        headers = headers.with_added(name, value)
    headers = headers.with_added("Content-Length", "0")
    if reason is None:
        reason = REASON_PHRASES.get(status, "Unknown")
    return SipResponse(status=status, reason=reason, headers=headers)


def stateless_to_tag(headers: Headers) -> str:
    """Derive a To tag that is the same for every retransmission of one request.

    RFC 3261 §8.2.7: a stateless UAS must construct the To tag "in a manner that
    will generate the same tag for the same request consistently" (§19.3 asks
    for at least 32 bits of randomness; a 64-bit digest serves both).
    """
    material = "\n".join(
        headers.get(name) or "" for name in ("Call-ID", "From", "Via", "CSeq")
    ).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:16]


def response_to_malformed(data: bytes, error: RemoteSipError) -> SipResponse | None:
    """Build the best answer to a request that :func:`parse` rejected, or ``None``.

    RFC 3261 §18.3 and §8.2 ask a UAS to answer a bad request with an error
    response, which must reach the sender along its Via (§18.2.2). This reads
    the raw bytes leniently for Via, From, To, Call-ID and CSeq and answers
    ``error.status_hint`` with ``error.reason`` as Reason-Phrase. It returns
    ``None`` where no answer is possible or allowed: no Via, a response (§18.1.2
    discards bad responses) or an ACK (never answered, §17.1.1.3).
    """
    text = data.decode("utf-8", errors="replace").lstrip("\r\n")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].split(" ", 1)[0]
    if start.upper().startswith("SIP/") or start == "ACK":
        return None
    wanted = {header_key(name): name for name in MANDATORY_HEADERS}
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            break
        name, colon, value = line.partition(":")
        key = header_key(name.strip(" \t"))
        # Skip what we could not write back safely: undecodable bytes, lone CRs.
        if colon and key in wanted and "\ufffd" not in value and "\r" not in value:
            fields.append((wanted[key], value.strip(" \t")))
    # Keep each single-valued header once (§7.3.1); every Via is kept, in order.
    seen: set[str] = set()
    kept: list[tuple[str, str]] = []
    for name, value in fields:
        if name == "Via" or name not in seen:
            kept.append((name, value))
            seen.add(name)
    headers = Headers.from_pairs(kept)
    if "Via" not in headers:
        return None
    to = headers.get("To")
    if to is not None and error.status_hint != 100 and not _TO_TAG_RE.search(to):
        headers = headers.with_replaced("To", f"{to};tag={stateless_to_tag(headers)}")
    headers = headers.with_added("Content-Length", "0")
    reason = error.reason[:_MAX_REASON_CHARS]
    return SipResponse(status=error.status_hint, reason=reason, headers=headers)


def _parse_header_lines(lines: list[str]) -> Headers:
    fields: list[HeaderField] = []
    # Start line is line 1, so the first header line is line 2 in messages.
    for number, line in enumerate(lines, start=2):
        if line[:1] in (" ", "\t"):
            # §7.3.1: a line starting with whitespace continues the previous
            # field; the fold is equivalent to one SP.
            if not fields:
                raise RemoteSipError(f"line {number}: continuation line before any header field")
            name, value, separator = fields[-1]
            value = " ".join(part for part in (value, line.strip(" \t")) if part)
            fields[-1] = HeaderField(name, value, separator)
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise RemoteSipError(f"line {number}: header field has no colon: {line[:40]!r}")
        # §7.3.1 / §25.1 HCOLON = *( SP / HTAB ) ":" SWS; the whitespace is
        # kept in the separator so the line serializes back as it came.
        stripped_name = name.rstrip(" \t")
        if not TOKEN_RE.fullmatch(stripped_name):
            raise RemoteSipError(f"line {number}: invalid header field name {name[:40]!r}")
        stripped_value = value.lstrip(" \t")
        separator = f"{name[len(stripped_name) :]}:{value[: len(value) - len(stripped_value)]}"
        fields.append(HeaderField(stripped_name, stripped_value.rstrip(" \t"), separator))
    return Headers(tuple(fields))


def _cut_body(headers: Headers, rest: bytes) -> bytes:
    values = headers.field_values("Content-Length")
    if not values:
        # §18.3: over UDP the body may run to the end of the datagram.
        return rest
    if len(set(values)) > 1:
        raise RemoteSipError(f"conflicting Content-Length values {values!r}")
    if not values[0].isascii() or not values[0].isdigit() or len(values[0]) > 10:
        raise RemoteSipError(f"bad Content-Length {values[0]!r}: must be a number (§20.14)")
    length = int(values[0])
    if length > len(rest):
        raise RemoteSipError(
            f"Content-Length says {length} bytes but the body has only {len(rest)} (RFC 3261 §18.3)"
        )
    # §18.3: bytes past Content-Length in a datagram MUST be discarded.
    return rest[:length]


def _parse_start_line(line: str, headers: Headers, body: bytes) -> SipMessage:
    parts = line.split(" ", 2)
    if parts[0].upper().startswith("SIP/"):
        # §7.2 Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        _check_version(parts[0])
        if len(parts) < 2 or not _STATUS_CODE_RE.fullmatch(parts[1]):
            raise RemoteSipError(f"bad status line {line[:60]!r}: status code must be 100..699")
        reason = parts[2] if len(parts) == 3 else ""
        return SipResponse(int(parts[1]), reason, headers, body, parts[0])
    # §7.1 Request-Line = Method SP Request-URI SP SIP-Version
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise RemoteSipError(
            f"start line is neither a Request-Line nor a Status-Line: {line[:60]!r} (RFC 3261 §7)"
        )
    method, uri, version = parts
    if not TOKEN_RE.fullmatch(method):
        raise RemoteSipError(f"bad method {method[:40]!r}: must be a token (RFC 3261 §25.1)")
    if ":" not in uri:
        raise RemoteSipError(f"bad Request-URI {uri[:60]!r}: must be an absolute URI (§19.1)")
    _check_version(version)
    return SipRequest(method, uri, headers, body, version)


def _check_version(version: str) -> None:
    if not _VERSION_RE.fullmatch(version):
        raise RemoteSipError(f"bad SIP version {version[:20]!r}: expected SIP/2.0")
    if version.upper() != SIP_VERSION:
        raise RemoteSipError(f"SIP version {version} is not supported (§8.2.2)", status_hint=505)


def _check_mandatory(message: SipMessage) -> None:
    for name in MANDATORY_HEADERS:
        if name not in message.headers:
            raise RemoteSipError(f"missing mandatory header field {name} (RFC 3261 §8.1.1)")
    for name in _SINGLE_HEADERS:
        count = len(message.headers.field_values(name))
        if count > 1:
            raise RemoteSipError(f"header field {name} appears {count} times; it must appear once")
    cseq = parse_cseq(message.headers.get("CSeq") or "")
    # §8.1.1.5: the CSeq method MUST match the method of the request.
    if isinstance(message, SipRequest) and cseq.method != message.method:
        raise RemoteSipError(
            f"CSeq method {cseq.method} does not match request method {message.method}"
        )

"""rtpengine's ng control protocol, sans I/O: bencode and the cookie framing.

A request is one UDP datagram ``COOKIE SPACE BENCODED-DICT``; the reply echoes the
cookie, so a client can retransmit the *same* datagram after a loss and rtpengine
answers a duplicate from its cookie cache instead of performing the command twice
(``docs/ng_control_protocol.md`` in sipwise/rtpengine).  Every reply dictionary has a
``result`` key: ``ok``, ``pong`` (for ``ping``) or ``error`` with ``error-reason``.

Bencode (BEP 3): ``i42e`` integers, ``4:spam`` byte strings, ``l...e`` lists and
``d...e`` dictionaries with keys sorted as raw bytes.  Strings decode to :class:`bytes`
here (SDP and file contents are bytes); callers convert what they know to be text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

__all__ = [
    "BencodeError",
    "NgError",
    "NgValue",
    "decode",
    "encode",
    "parse_reply",
    "reply_dict",
    "request_datagram",
    "text",
]

NgValue: TypeAlias = "int | bytes | str | list[NgValue] | dict[str, NgValue]"


class BencodeError(ValueError):
    """The bytes are not valid bencode; the message says what and at which offset."""


class NgError(Exception):
    """rtpengine answered ``result: error`` (its ``error-reason`` is the message) or sent
    a reply that is not a valid ng reply."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"rtpengine {command!r}: {reason}")
        self.command = command
        self.reason = reason


def encode(value: object) -> bytes:
    """Bencode ``value`` (int, str as UTF-8, bytes, list/tuple, mapping with str keys)."""
    out: list[bytes] = []
    _encode(value, out, "$")
    return b"".join(out)


def _encode(value: object, out: list[bytes], where: str) -> None:
    if isinstance(value, bool):
        raise TypeError(f"{where}: bencode has no booleans (use a flag string or 0/1)")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, str):
        _encode(value.encode(), out, where)
    elif isinstance(value, bytes | bytearray):
        out.append(b"%d:" % len(value))
        out.append(bytes(value))
    elif isinstance(value, Mapping):
        items: list[tuple[bytes, object]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dictionary key {key!r} is not a string")
            items.append((key.encode(), item))
        out.append(b"d")
        for raw, item in sorted(items, key=lambda pair: pair[0]):
            _encode(raw, out, where)
            _encode(item, out, f"{where}.{raw.decode()}")
        out.append(b"e")
    elif isinstance(value, Sequence):
        out.append(b"l")
        for index, item in enumerate(value):
            _encode(item, out, f"{where}[{index}]")
        out.append(b"e")
    else:
        raise TypeError(f"{where}: cannot bencode {type(value).__name__}")


def decode(data: bytes) -> NgValue:
    """Decode one complete bencoded value; trailing bytes are an error."""
    value, end = _decode(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"offset {end}: {len(data) - end} trailing bytes after the value")
    return value


_MAX_DEPTH = 64


def _decode(data: bytes, pos: int, depth: int) -> tuple[NgValue, int]:
    if depth > _MAX_DEPTH:
        raise BencodeError(f"offset {pos}: nested deeper than {_MAX_DEPTH} levels")
    if pos >= len(data):
        raise BencodeError(f"offset {pos}: unexpected end of data")
    lead = data[pos : pos + 1]
    if lead == b"i":
        end = data.find(b"e", pos + 1)
        if end < 0:
            raise BencodeError(f"offset {pos}: integer without its closing 'e'")
        digits = data[pos + 1 : end]
        if not _is_integer(digits):
            raise BencodeError(f"offset {pos}: bad integer {digits!r}")
        return int(digits), end + 1
    if lead.isdigit():
        colon = data.find(b":", pos)
        if colon < 0 or not data[pos:colon].isdigit():
            raise BencodeError(f"offset {pos}: string length without ':'")
        length = int(data[pos:colon])
        start = colon + 1
        if start + length > len(data):
            raise BencodeError(f"offset {pos}: string of {length} bytes runs past the end")
        return data[start : start + length], start + length
    if lead == b"l":
        items: list[NgValue] = []
        pos += 1
        while data[pos : pos + 1] != b"e":
            item, pos = _decode(data, pos, depth + 1)
            items.append(item)
        return items, pos + 1
    if lead == b"d":
        result: dict[str, NgValue] = {}
        pos += 1
        while data[pos : pos + 1] != b"e":
            if pos >= len(data):
                raise BencodeError(f"offset {pos}: unexpected end of data in a dictionary")
            key, next_pos = _decode(data, pos, depth + 1)
            if not isinstance(key, bytes):
                raise BencodeError(f"offset {pos}: dictionary key is not a string")
            try:
                name = key.decode()
            except UnicodeDecodeError:
                raise BencodeError(f"offset {pos}: dictionary key is not UTF-8") from None
            result[name], pos = _decode(data, next_pos, depth + 1)
        return result, pos + 1
    raise BencodeError(f"offset {pos}: unexpected byte {lead!r}")


def _is_integer(digits: bytes) -> bool:
    body = digits[1:] if digits.startswith(b"-") else digits
    if not body.isdigit():
        return False
    # BEP 3: no leading zeros, no negative zero
    return not (body.startswith(b"0") and (len(body) > 1 or digits.startswith(b"-")))


def request_datagram(cookie: str, command: str, params: Mapping[str, object]) -> bytes:
    """The datagram for ``command`` with ``params`` (``command`` is added to them)."""
    if not cookie or any(ch.isspace() for ch in cookie):
        raise ValueError(f"cookie {cookie!r}: must be non-empty and without spaces")
    return cookie.encode() + b" " + encode({**params, "command": command})


def parse_reply(datagram: bytes) -> tuple[str, bytes]:
    """Split a reply into its cookie and bencoded body (no decoding yet)."""
    cookie, space, body = datagram.partition(b" ")
    if not space or not cookie:
        raise BencodeError("reply has no 'COOKIE ' prefix")
    return cookie.decode("ascii", "replace"), body


def reply_dict(command: str, body: bytes) -> dict[str, NgValue]:
    """Decode a reply body and check ``result``; raises :class:`NgError` on an error
    reply or on a malformed one."""
    try:
        value = decode(body)
    except BencodeError as exc:
        raise NgError(command, f"malformed reply: {exc}") from None
    if not isinstance(value, dict):
        raise NgError(command, "malformed reply: not a dictionary")
    result = value.get("result")
    if result == b"error":
        reason = value.get("error-reason", b"(no error-reason)")
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise NgError(command, text)
    if result not in (b"ok", b"pong"):
        raise NgError(command, f"malformed reply: result is {result!r}")
    return value


def text(value: NgValue | None, default: str = "") -> str:
    """A reply string as text (rtpengine sends UTF-8/ASCII)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return default

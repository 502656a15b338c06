"""Cutting a SIP byte stream (TCP, TLS) into whole messages (RFC 3261 §18.3).

On a stream nothing marks where one message ends: the header section ends at
the first CRLF CRLF and the body is exactly Content-Length bytes, so
Content-Length is mandatory there (§18.3, §20.14).

Theory of operation:

Rule 1. :meth:`StreamFramer.feed` takes whatever the socket delivered — half a
message, three messages, a keep-alive — and returns the complete messages in
order, each as the exact bytes of one message for :func:`message.parse`.

Rule 2. CRLFs between messages are skipped (§7.5), which covers the CRLF CRLF
keep-alive ping of RFC 5626 §3.5.1.

Rule 3. A framing error never eats good messages: if a bad frame follows good
ones in the same call, ``feed`` returns the good ones and raises
:class:`RemoteSipError` on the next call (``feed(b"")`` will do). After that
error the stream cannot be resynchronised: close the connection.

Rule 4. Memory is bounded: a header section longer than ``max_head_bytes`` or a
Content-Length above ``max_body_bytes`` is an error (513, §21.5.11), so a peer
cannot make us buffer without end.
"""

from __future__ import annotations

from typing import Final

from hotline.telephony.sip.errors import RemoteSipError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_HEAD_BYTES", "StreamFramer"]

# Our own limits, not the RFC's (it sets none for streams). A realistic INVITE
# head is 1-2 KiB and an SDP body a few KiB; these leave ample room.
DEFAULT_MAX_HEAD_BYTES: Final = 64 * 1024
DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024

_CONTENT_LENGTH_NAMES: Final = (b"content-length", b"l")  # §7.3.3 compact form "l"


class StreamFramer:
    """Splits a stream of bytes into SIP messages (RFC 3261 §18.3). Pure: no I/O."""

    def __init__(
        self,
        *,
        max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._buffer = bytearray()
        self._max_head_bytes = max_head_bytes
        self._max_body_bytes = max_body_bytes

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data`` and return every message it completes, oldest first (Rules 1-3)."""
        self._buffer += data
        messages: list[bytes] = []
        while True:
            try:
                message = self._next_message()
            except RemoteSipError:
                if messages:
                    return messages  # Rule 3: the bad frame stays and raises next time.
                raise
            if message is None:
                return messages
            messages.append(message)

    def _next_message(self) -> bytes | None:
        buffer = self._buffer
        skip = 0
        while buffer.startswith(b"\r\n", skip):
            skip += 2
        if skip:
            del buffer[:skip]
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buffer) > self._max_head_bytes:
                raise self._too_large("header section", len(buffer), self._max_head_bytes)
            return None
        if head_end > self._max_head_bytes:
            raise self._too_large("header section", head_end, self._max_head_bytes)
        length = _content_length(bytes(buffer[:head_end]))
        if length > self._max_body_bytes:
            raise self._too_large("body", length, self._max_body_bytes)
        total = head_end + 4 + length
        if len(buffer) < total:
            return None
        message = bytes(buffer[:total])
        del buffer[:total]
        return message

    @staticmethod
    def _too_large(part: str, size: int, limit: int) -> RemoteSipError:
        return RemoteSipError(
            f"message {part} of {size} bytes exceeds our limit of {limit}", status_hint=513
        )


def _content_length(head: bytes) -> int:
    """Read Content-Length from a header section (start line included)."""
    values: set[bytes] = set()
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.rstrip(b" \t").lower() in _CONTENT_LENGTH_NAMES:
            values.add(value.strip(b" \t"))
    if not values:
        raise RemoteSipError(
            "Content-Length is missing: it is mandatory over TCP (RFC 3261 §18.3, §20.14)"
        )
    if len(values) > 1:
        raise RemoteSipError(f"conflicting Content-Length values {sorted(values)!r}")
    value = values.pop()
    # More than 10 digits is beyond any limit (and int() refuses > 4300 digits).
    if not value.isdigit() or len(value) > 10:
        raise RemoteSipError(f"bad Content-Length {value[:20]!r}: must be a number (§20.14)")
    return int(value)

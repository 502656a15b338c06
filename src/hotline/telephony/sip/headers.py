"""Header fields of a SIP message: an ordered multi-map (RFC 3261 §7.3).

Theory of operation:

Rule 1. A :class:`Headers` keeps every field as it arrived: its position, the
name as the peer spelled it (``call-id``, ``Call-ID`` or the compact ``i``),
the value as written and even the whitespace around the colon (SIPp pads
``Content-Length:   129``). That is what lets ``serialize(parse(data)) ==
data`` hold for golden messages captured from SIPp and baresip.

Rule 2. Lookups are by meaning, not by spelling: names compare
case-insensitively (§7.3.1) and a compact form equals its long form (§7.3.3),
so ``headers.get("Call-ID")`` finds ``i: abc``.

Rule 3. Where the grammar of a header is a comma-separated list (§7.3.1: only
then may a header appear on several lines), ``get_all`` returns one value per
element, whether the peer wrote ``Via: a, b`` or two ``Via`` lines. Commas
inside quoted strings and ``<...>`` URIs do not split. Other headers
(``WWW-Authenticate``, ``Date``...) are never split: their commas are data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from hotline.telephony.sip.errors import LocalSipError

__all__ = ["COMPACT_FORMS", "HeaderField", "Headers", "header_key", "split_list"]

#: Compact header names and the long names they stand for. RFC 3261 §7.3.3
#: defines i, m, e, l, c, f, s, k, t and v; the rest come from extensions that
#: baresip, SIPp and common PBXs send.
COMPACT_FORMS: Final[Mapping[str, str]] = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",  # RFC 6665 §8.2.1
    "u": "Allow-Events",  # RFC 6665 §8.2.2
    "r": "Refer-To",  # RFC 3515 §2.1
    "b": "Referred-By",  # RFC 3892 §3
    "x": "Session-Expires",  # RFC 4028 §4
}

# Headers whose ABNF (RFC 3261 §25.1 and the extensions named) is a
# comma-separated list, keyed by header_key().
_LIST_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "alert-info",
        "allow",
        "call-info",
        "contact",
        "content-encoding",
        "content-language",
        "error-info",
        "in-reply-to",
        "proxy-require",
        "record-route",
        "require",
        "route",
        "supported",
        "unsupported",
        "via",
        "warning",
        "allow-events",  # RFC 6665 §8.2.2
        "path",  # RFC 3327 §4
        "reason",  # RFC 3326 §2
        "service-route",  # RFC 3608 §6
    }
)

_KEY_OF_COMPACT: Final[Mapping[str, str]] = {
    short: long.lower() for short, long in COMPACT_FORMS.items()
}

# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_RE: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def header_key(name: str) -> str:
    """Return the lookup key of a header name: lower case, compact forms expanded.

    >>> header_key("i") == header_key("CALL-ID") == "call-id"
    True
    """
    key = name.lower()
    return _KEY_OF_COMPACT.get(key, key)


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value into its elements (RFC 3261 §7.3.1).

    Commas inside a quoted string (with ``\\`` escapes, §25.1 quoted-pair) or
    inside ``<...>`` do not split, so ``"Doe, John" <sip:j@x>`` stays whole.
    Empty elements (``a,,b``) are dropped, as the ``#rule`` of RFC 2616 §2.1
    that RFC 3261 builds on allows.
    """
    elements: list[str] = []
    start = 0
    in_quotes = False
    in_angle = False
    escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif in_quotes:
            if char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == "<":
            in_angle = True
        elif char == ">":
            in_angle = False
        elif char == "," and not in_angle:
            elements.append(value[start:index])
            start = index + 1
    elements.append(value[start:])
    return [element.strip(" \t") for element in elements if element.strip(" \t")]


class HeaderField(NamedTuple):
    """One header field line: ``name``, ``separator``, ``value`` make up the line."""

    name: str
    value: str
    #: What stood between name and value (RFC 3261 §25.1 HCOLON and SWS);
    #: kept only so that serializing a parsed message gives back its bytes.
    separator: str = ": "


@dataclass(frozen=True, slots=True)
class Headers:
    """The header fields of one SIP message, in order.

    Immutable: the ``with_*`` methods return a new :class:`Headers`. Names keep
    the peer's spelling; lookups ignore case and accept compact forms.
    Iterating gives ``(name, value)`` pairs; :attr:`fields` has the full lines.
    """

    fields: tuple[HeaderField, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Build headers from ``(name, value)`` pairs, written ``Name: value``."""
        headers = cls()
        for name, value in pairs:
            headers = headers.with_added(name, value)
        return headers

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter([(field.name, field.value) for field in self.fields])

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = header_key(name)
        return any(header_key(field.name) == key for field in self.fields)

    def field_values(self, name: str) -> list[str]:
        """Return the value of every field named ``name``, unsplit, in order."""
        key = header_key(name)
        return [field.value for field in self.fields if header_key(field.name) == key]

    def get_all(self, name: str) -> list[str]:
        """Return every value of ``name`` in order; list headers are split (Rule 3)."""
        values = self.field_values(name)
        if header_key(name) not in _LIST_HEADERS:
            return values
        return [element for value in values for element in split_list(value)]

    def get(self, name: str) -> str | None:
        """Return the first value of ``name`` (the topmost Via, say).

        ``None`` if the header is absent, or is a list header with no elements
        (baresip sends an empty ``Supported:``).
        """
        values = self.get_all(name)
        return values[0] if values else None

    def with_added(self, name: str, value: str) -> Headers:
        """Return a copy with the field ``name: value`` appended at the end."""
        return Headers((*self.fields, _new_field(name, value)))

    def without(self, name: str) -> Headers:
        """Return a copy with every field named ``name`` (in any spelling) removed."""
        key = header_key(name)
        return Headers(tuple(field for field in self.fields if header_key(field.name) != key))

    def with_replaced(self, name: str, value: str) -> Headers:
        """Return a copy where one ``name: value`` field takes the place of all ``name`` fields.

        The new field sits where the first old one was (or at the end), so
        replacing Content-Length keeps a message's header order stable.
        """
        new = _new_field(name, value)
        key = header_key(name)
        fields: list[HeaderField] = []
        placed = False
        for field in self.fields:
            if header_key(field.name) != key:
                fields.append(field)
            elif not placed:
                fields.append(new)
                placed = True
        if not placed:
            fields.append(new)
        return Headers(tuple(fields))


def _new_field(name: str, value: str) -> HeaderField:
    # Only our own code builds fields this way; a CR or LF would let a value
    # inject extra header lines, so it is a bug, not a peer's fault.
    if not TOKEN_RE.fullmatch(name):
        raise LocalSipError(f"invalid SIP header name {name!r}: must be a token (RFC 3261 §25.1)")
    if "\r" in value or "\n" in value:
        raise LocalSipError(f"SIP header {name} value contains CR or LF: {value!r}")
    return HeaderField(name, value, ": " if value else ":")

"""Registrar (RFC 3261 §10.3): where each operator's phone can be reached.

Pure: :class:`Registrar` keeps bindings of an address-of-record (the operator's login) to
contacts with expiry times and the address the REGISTER came from (so we reach a phone
behind NAT at its source address over the same transport, the RFC 5626 idea without
its machinery).  Authentication is decided by call control before a binding is touched.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Final

__all__ = ["SIP_REALM", "Binding", "Registrar"]

#: The digest realm of operators' phones and trunks (RFC 3261 §22.1).  Stored HA1 values
#: depend on it: changing it means every SIP password must be set again.
SIP_REALM: Final = "hotline"

Address = tuple[str, int]

#: §10.2.1.1: the registrar may shorten what the phone asks for; an hour is the common
#: default of phones and PBXs, 60 s the floor that keeps keep-alive traffic sane
#: (§10.3 step 7 answers 423 Interval Too Brief below it).
DEFAULT_EXPIRES: Final = 3600
MIN_EXPIRES: Final = 60
MAX_EXPIRES: Final = 7200


@dataclass(frozen=True, slots=True)
class Binding:
    aor: str
    contact: str  # the Contact URI, as sent
    source: Address
    transport: str
    expires_at: float
    call_id: str
    cseq: int


class Registrar:
    def __init__(self) -> None:
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._expiry: list[tuple[float, str, str]] = []

    def update(
        self,
        aor: str,
        contacts: list[tuple[str, int]],
        *,
        remove_all: bool,
        call_id: str,
        cseq: int,
        source: Address,
        transport: str,
        now: float,
    ) -> list[Binding]:
        """Apply one REGISTER (§10.3 steps 6–8) and return the AOR's bindings after it.

        ``contacts`` are ``(uri, expires)``; an expires of 0 removes that binding.  A
        repeated or older CSeq of the same Call-ID is ignored (step 7, out of order)."""
        current = self._bindings.setdefault(aor, {})
        if remove_all:
            current.clear()
        for uri, expires in contacts:
            old = current.get(uri)
            if old is not None and old.call_id == call_id and old.cseq >= cseq:
                continue
            if expires == 0:
                current.pop(uri, None)
                continue
            binding = Binding(aor, uri, source, transport, now + expires, call_id, cseq)
            current[uri] = binding
            heapq.heappush(self._expiry, (binding.expires_at, aor, uri))
        if not current:
            del self._bindings[aor]
        return self.lookup(aor, now)

    def lookup(self, aor: str, now: float) -> list[Binding]:
        """Live bindings of ``aor``, newest first (the phone most recently registered)."""
        found = [b for b in self._bindings.get(aor, {}).values() if b.expires_at > now]
        found.sort(key=lambda b: -b.expires_at)
        return found

    def expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            _at, aor, uri = heapq.heappop(self._expiry)
            current = self._bindings.get(aor)
            if current is not None and uri in current and current[uri].expires_at <= now:
                del current[uri]
                if not current:
                    del self._bindings[aor]

    def next_deadline(self) -> float | None:
        return self._expiry[0][0] if self._expiry else None

    def __len__(self) -> int:
        return sum(len(c) for c in self._bindings.values())


def granted_expires(requested: int | None) -> int:
    """What we grant for a requested expiry (None: the default); below the minimum the
    caller answers 423 instead (checked separately, §10.3 step 7)."""
    if requested is None:
        return DEFAULT_EXPIRES
    return min(requested, MAX_EXPIRES)

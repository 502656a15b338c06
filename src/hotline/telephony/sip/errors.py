"""SIP errors that say whose fault it is.

* :class:`RemoteSipError` — the peer broke the rules of RFC 3261. The caller
  answers with :attr:`RemoteSipError.status_hint` (where a response is possible)
  and carries on serving everybody else.
* :class:`LocalSipError` — we broke them: a bug in our own code, never caused by
  what arrived on the wire. It should surface in logs and tests, not in a reply.
"""

from __future__ import annotations

__all__ = ["LocalSipError", "RemoteSipError", "SipError"]


class SipError(Exception):
    """Base class of every SIP error raised by ``hotline.telephony.sip``."""


class RemoteSipError(SipError):
    """The peer sent something RFC 3261 does not allow.

    ``reason`` is a short, human-readable sentence naming what is wrong (it may
    become the Reason-Phrase of the answer, so it never contains CR or LF);
    ``status_hint`` is the response code a UAS should answer with: 400 (Bad
    Request) unless the RFC names a better one, e.g. 505 (Version Not
    Supported, §21.5.7) or 513 (Message Too Large, §21.5.11).
    """

    def __init__(self, reason: str, *, status_hint: int = 400) -> None:
        # A Reason-Phrase may not contain CR or LF (RFC 3261 §25.1,
        # Reason-Phrase); folding them here keeps every caller safe.
        self.reason = " ".join(reason.split())
        self.status_hint = status_hint
        super().__init__(f"{status_hint} {self.reason}")


class LocalSipError(SipError):
    """Our own code asked for something RFC 3261 does not allow (a bug)."""

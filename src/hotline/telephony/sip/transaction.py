"""SIP transactions (RFC 3261 §17, with the fixes of RFC 6026), sans-I/O.

A :class:`TransactionLayer` takes messages, the time and timer expiries in, and
gives :class:`Transmit` values (bytes to send) and TU events out. It holds no
socket and no clock: the shell calls :meth:`~TransactionLayer.handle_timer` at
:meth:`~TransactionLayer.next_deadline`, as with aioquic's ``get_timer()``.

Theory of operation:

Rule 1. Each transaction is one of four machines (client/server × INVITE/
non-INVITE), each a table ``(state, input) -> (action, next state)`` below its
RFC figure. Inputs are responses (``1xx``, ``2xx``, ``300-699``), requests (a
retransmission, or ``ACK``) and timers (``Timer A`` … ``Timer M``). A peer's
input the table lacks is dropped; a TU input it lacks is a :class:`LocalSipError`.

Rule 2. A transaction runs at most two timers: one retransmission timer (A, E,
G, or the 2xx timer of §13.3.1.4) and one lifetime timer (B, D, F, H, I, J, K, L
or M). A timer that runs in both the old and the new state keeps running (Timer
E and F across Trying → Proceeding, §17.1.2.2). A lifetime of zero (D, I, J, K
over TCP) ends the transaction at once, so ``len()`` drops at once.

Rule 3. One heap of ``(deadline, seq, transaction)`` holds every timer; a
transaction whose timers change pushes a new entry and the old one is skipped
when it surfaces (its ``seq`` no longer matches). No operation scans all
transactions.

Rule 4. RFC 6026 replaces "2xx ends the INVITE transaction": a server INVITE
transaction that sent a 2xx stays *Accepted* for Timer L (64*T1), absorbing the
INVITE's retransmissions and retransmitting the 2xx until the ACK (matched by
Call-ID and CSeq number: it has its own branch, §17.1.1.3) arrives; a client
INVITE transaction that got a 2xx stays *Accepted* for Timer M, passing each 2xx
up so the TU can ACK it again.

Rule 5. A response goes back where its request came from: over UDP to the
source address and port (RFC 3581 §4; the top Via gets ``received`` and a filled
``rport`` so the client learns them, §18.2.1), over TCP on the request's
connection (§18.2.2), which the shell finds by that same address.

The module is longer than our usual 400 lines because four machines share one
heap, one set of keys and one response path; the tables are most of it.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.headers import TOKEN_RE, HeaderField, Headers, header_key, split_list
from hotline.telephony.sip.message import (
    CSeq,
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
    parse_cseq,
    serialize,
    stateless_to_tag,
)

__all__ = [
    "MAGIC_COOKIE",
    "AckTimedOut",
    "Address",
    "CancelReceived",
    "ClientKey",
    "RequestReceived",
    "ResponseReceived",
    "ServerKey",
    "TransactionLayer",
    "TransactionTimedOut",
    "Transmit",
    "TuEvent",
    "build_cancel",
    "make_branch",
]

#: RFC 3261 §8.1.1.7: a branch starting with this was made by an RFC 3261 stack
#: and is unique across space and time, so it alone can name a transaction.
MAGIC_COOKIE: Final = "z9hG4bK"

Address = tuple[str, int]
"""``(host, port)``; over TCP the peer's address names the connection."""

# Transports we know, and whether each is reliable (§17: no retransmission
# timers, zero-length Timers D, I, J, K).
_RELIABLE: Final[Mapping[str, bool]] = {"udp": False, "tcp": True}


@dataclass(frozen=True, slots=True)
class Transmit:
    """Bytes the shell must send to ``destination`` over ``transport`` (``"udp"``/``"tcp"``)."""

    data: bytes
    destination: Address
    transport: str


@dataclass(frozen=True, slots=True)
class ServerKey:
    """Names a server transaction (RFC 3261 §17.2.3): top Via branch and sent-by, and method.

    ``method`` is the request's, except that an ACK names ``INVITE`` (it
    belongs to the INVITE's transaction). For a branch without the magic
    cookie (RFC 2543 peers) ``branch`` is built from Call-ID, CSeq number and
    From tag and ``sent_by`` is the whole top Via.
    """

    branch: str
    sent_by: str
    method: str


@dataclass(frozen=True, slots=True)
class ClientKey:
    """Names a client transaction (RFC 3261 §17.1.3): our branch and the CSeq method."""

    branch: str
    method: str


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request (never a retransmission) for the TU to answer with ``respond(key, ...)``.

    For an INVITE the layer has already sent 100 Trying (§17.2.1). Also
    reported: an ACK that no non-2xx transaction absorbs, i.e. the ACK to a 2xx
    (§17.2.3, RFC 6026 §8.7); its ``key`` names no live transaction.
    """

    request: SipRequest
    source: Address
    transport: str
    key: ServerKey


@dataclass(frozen=True, slots=True)
class CancelReceived:
    """A CANCEL hit the INVITE ``invite_key`` while it awaits a final response (§9.2).

    The layer has answered the CANCEL 200 OK; the TU must answer the INVITE
    487 (Request Terminated). CANCELs that match nothing (481) or an INVITE
    already answered (200) are handled by the layer without an event.
    """

    request: SipRequest
    invite_key: ServerKey


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response in the client transaction ``key``: each provisional and final once.

    Except every 2xx to an INVITE, retransmissions included, within 64*T1 of
    the first (RFC 6026 §7.2): the TU ACKs each, since its ACK may be lost.
    """

    response: SipResponse
    key: ClientKey


@dataclass(frozen=True, slots=True)
class TransactionTimedOut:
    """No answer in time: Timer B or F (client), or no ACK to a non-2xx final (Timer H)."""

    key: ClientKey | ServerKey


@dataclass(frozen=True, slots=True)
class AckTimedOut:
    """The 2xx to INVITE ``key`` was sent for 64*T1 without an ACK: send BYE (§13.3.1.4)."""

    key: ServerKey


TuEvent = RequestReceived | CancelReceived | ResponseReceived | TransactionTimedOut | AckTimedOut


def make_branch(token: str) -> str:
    """Return the Via branch ``z9hG4bK<token>``; the TU makes ``token`` unique (§8.1.1.7)."""
    if not TOKEN_RE.fullmatch(token):
        raise LocalSipError(f"branch token {token!r} must be a SIP token (RFC 3261 §25.1)")
    return MAGIC_COOKIE + token


def build_cancel(invite: SipRequest) -> SipRequest:
    """Build the CANCEL of a client ``invite`` (RFC 3261 §9.1), to send with ``request()``.

    Same Request-URI, Call-ID, From, To and CSeq number, the top Via alone
    (same branch, so the UAS can match it) and the same Route header fields.
    """
    return _hop_request(invite, "CANCEL", invite.headers.get("To") or "")


def _hop_request(request: SipRequest, method: str, to: str) -> SipRequest:
    # §9.1 (CANCEL) and §17.1.1.3 (ACK to a non-2xx) build the same shape:
    # top Via only, Route copied, the request's identity with a new CSeq method.
    old = request.headers
    cseq = _own_cseq(request)
    pairs = [("Via", old.get("Via") or "")]
    pairs += [("Route", route) for route in old.field_values("Route")]
    pairs += [
        ("Max-Forwards", old.get("Max-Forwards") or "70"),
        ("From", old.get("From") or ""),
        ("To", to),
        ("Call-ID", old.get("Call-ID") or ""),
        ("CSeq", f"{cseq.number} {method}"),
        ("Content-Length", "0"),
    ]
    return SipRequest(method, request.uri, Headers.from_pairs(pairs))


# --- the four machines ------------------------------------------------------

# States (RFC 3261 §17 names). _INITIAL exists only so entering the first state
# arms its timers like any other transition.
_INITIAL: Final = "Initial"
CALLING: Final = "Calling"
TRYING: Final = "Trying"
PROCEEDING: Final = "Proceeding"
COMPLETED: Final = "Completed"
CONFIRMED: Final = "Confirmed"
ACCEPTED: Final = "Accepted"
TERMINATED: Final = "Terminated"

# Inputs. Responses by class, requests, timers by their RFC name.
_1XX: Final = "1xx"
_2XX: Final = "2xx"
_FINAL: Final = "300-699"
_REQUEST: Final = "request"  # a retransmission of the request that made the transaction
_ACK: Final = "ACK"
TIMER_A: Final = "Timer A"
TIMER_B: Final = "Timer B"
TIMER_D: Final = "Timer D"
TIMER_E: Final = "Timer E"
TIMER_F: Final = "Timer F"
TIMER_G: Final = "Timer G"
TIMER_H: Final = "Timer H"
TIMER_I: Final = "Timer I"
TIMER_J: Final = "Timer J"
TIMER_K: Final = "Timer K"
TIMER_L: Final = "Timer L"  # RFC 6026 §8.7
TIMER_M: Final = "Timer M"  # RFC 6026 §8.4
TIMER_2XX: Final = "2xx timer"  # RFC 3261 §13.3.1.4 names no timer: we call it this

# Actions.
_NOTHING: Final = "-"
_TO_TU: Final = "pass to TU"
_ACK_TO_TU: Final = "send ACK, pass to TU"
_ACK_AGAIN: Final = "send ACK again"
_RETRANSMIT: Final = "retransmit, re-arm"  # a retransmission timer fired
_RESEND: Final = "send last response again"  # the peer retransmitted its request
_SEND: Final = "send response"
_SEND_2XX: Final = "send 2xx, await ACK"
_STOP_2XX: Final = "stop 2xx retransmission"
_TIMEOUT: Final = "inform TU: timeout"
_ACCEPTED_END: Final = "inform TU if no ACK"

_Table = Mapping[tuple[str, str], tuple[str, str]]
_NO_TIMERS: Final = (None, None)


class _Machine(NamedTuple):
    name: str
    transitions: _Table
    #: state -> (retransmission timer, lifetime timer) armed while in it.
    timers: Mapping[str, tuple[str | None, str | None]]


# RFC 3261 §17.1.1.2, Figure 5, as amended by RFC 6026 §7.2 (Figure 4):
#
#                                |INVITE from TU
#              Timer A fires     |INVITE sent       Timer B fires
#              Reset A,          V                  inform TU
#              INVITE sent +-----------+           +-------------+
#                +---------|           |-----------+             |
#                |         |  Calling  |                         |
#                +-------->|           |------------+            |
#   300-699                +-----------+ 2xx        |            |
#   ACK sent                  |  |       2xx to TU  |            |
#   resp. to TU               |  |1xx               |            |
#   +-------------------------+  |1xx to TU         |            |
#   |                            V                  |            |
#   |                1xx   +-----------+            |            |
#   |          1xx to TU   |           |  2xx       |            |
#   |            +---------|Proceeding |--------+   |            |
#   |            +-------->|           |2xx to TU|  |            |
#   |                      +-----------+         V  V            |
#   |         300-699         |             +-----------+        |
#   |         ACK sent,       |      2xx    |           |        |
#   |         resp. to TU     |  2xx to TU  | Accepted  |        |
#   |  300-699 +--------------+    +--------|           |        |
#   |  ACK sent|                   +------->|           |        |
#   |  +-----+ |                            +-----------+        |
#   |  |     V V                                  |              |
#   |  |  +-----------+                           | Timer M      |
#   +--+->| Completed |                           | -            |
#      +--|           |                           |              |
#         +-----------+                           |              |
#               | Timer D fires                   |              |
#               V -                               V              |
#         +------------------------------------------------------+
#         |                       Terminated                     |
#         +------------------------------------------------------+
_CLIENT_INVITE: Final = _Machine(
    "client INVITE",
    {
        (CALLING, TIMER_A): (_RETRANSMIT, CALLING),
        (CALLING, TIMER_B): (_TIMEOUT, TERMINATED),
        (CALLING, _1XX): (_TO_TU, PROCEEDING),
        (CALLING, _2XX): (_TO_TU, ACCEPTED),
        (CALLING, _FINAL): (_ACK_TO_TU, COMPLETED),
        (PROCEEDING, _1XX): (_TO_TU, PROCEEDING),
        (PROCEEDING, _2XX): (_TO_TU, ACCEPTED),
        (PROCEEDING, _FINAL): (_ACK_TO_TU, COMPLETED),
        (COMPLETED, _FINAL): (_ACK_AGAIN, COMPLETED),
        (COMPLETED, TIMER_D): (_NOTHING, TERMINATED),
        (ACCEPTED, _2XX): (_TO_TU, ACCEPTED),
        (ACCEPTED, TIMER_M): (_NOTHING, TERMINATED),
    },
    {CALLING: (TIMER_A, TIMER_B), COMPLETED: (None, TIMER_D), ACCEPTED: (None, TIMER_M)},
)

# RFC 3261 §17.1.2.2, Figure 6:
#
#                                |Request from TU
#                                |send request
#            Timer E             V
#            send request  +-----------+
#                +---------|           |-------------------+
#                |         |  Trying   |  Timer F          |
#                +-------->|           |  or Transport Err.|
#                          +-----------+  inform TU        |
#             200-699         |  |                         |
#             resp. to TU     |  |1xx                      |
#             +---------------+  |resp. to TU              |
#             |                  |                         |
#             |   Timer E        V       Timer F           |
#             |   send req +-----------+ or Transport Err. |
#             |  +---------|           | inform TU         |
#             |  |         |Proceeding |------------------>|
#             |  +-------->|           |-----+             |
#             |            +-----------+     |1xx          |
#             |              |      ^        |resp to TU   |
#             | 200-699      |      +--------+             |
#             | resp. to TU  |                             |
#             |              |                             |
#             |              V                             |
#             |            +-----------+                   |
#             |            |           |                   |
#             |            | Completed |                   |
#             |            |           |                   |
#             |            +-----------+                   |
#             |              ^   |                         |
#             |              |   | Timer K                 |
#             +--------------+   | -                       |
#                                |                         |
#                                V                         |
#          NOTE:           +-----------+                   |
#                          |           |                   |
#      transitions         | Terminated|<------------------+
#      labeled with        |           |
#      the event           +-----------+
#      over the action
#      to take
_CLIENT_NON_INVITE: Final = _Machine(
    "client non-INVITE",
    {
        (TRYING, TIMER_E): (_RETRANSMIT, TRYING),
        (TRYING, TIMER_F): (_TIMEOUT, TERMINATED),
        (TRYING, _1XX): (_TO_TU, PROCEEDING),
        (TRYING, _2XX): (_TO_TU, COMPLETED),
        (TRYING, _FINAL): (_TO_TU, COMPLETED),
        (PROCEEDING, TIMER_E): (_RETRANSMIT, PROCEEDING),
        (PROCEEDING, TIMER_F): (_TIMEOUT, TERMINATED),
        (PROCEEDING, _1XX): (_TO_TU, PROCEEDING),
        (PROCEEDING, _2XX): (_TO_TU, COMPLETED),
        (PROCEEDING, _FINAL): (_TO_TU, COMPLETED),
        (COMPLETED, TIMER_K): (_NOTHING, TERMINATED),
    },
    {TRYING: (TIMER_E, TIMER_F), PROCEEDING: (TIMER_E, TIMER_F), COMPLETED: (None, TIMER_K)},
)

# RFC 3261 §17.2.1, Figure 7, as amended by RFC 6026 §7.1 (Figure 5); the 2xx
# retransmission of §13.3.1.4 runs in Accepted (the RFC gives it to the TU):
#
#                                |INVITE
#                                |pass INV to TU
#             INVITE             V send 100 Trying
#             send response+-----------+
#                 +--------|           |--------+ 101-199 from TU
#                 |        |Proceeding |        | send response
#                 +------->|           |<-------+
#                          +-----------+
#             300-699 from TU |     | 2xx from TU
#             send response   |     | send response, arm 2xx timer
#              +--------------+     +------------------+
#              |                                       |
#  INVITE      V          Timer G fires                |   INVITE, Timer L
#  send resp.+-----------+ send response               V   -
#    +-------|           |--------+            +-----------+
#    |       | Completed |        |  ACK       |           |--+ 2xx timer: send 2xx
#    +------>|           |<-------+  to TU,    | Accepted  |  | ACK: stop, to TU
#            +-----------+      stop 2xx timer |           |<-+
#              |       |                       +-----------+
#              | ACK   | Timer H fires               |
#              | -     | inform TU                   | Timer L fires
#              V       |                             | AckTimedOut if no ACK
#            +-----------+                           |
#  ACK  +----|           |                           |
#  -    +--->| Confirmed |                           |
#            +-----------+                           |
#              | Timer I fires                       |
#              V -                                   V
#            +-----------------------------------------+
#            |               Terminated                |
#            +-----------------------------------------+
_SERVER_INVITE: Final = _Machine(
    "server INVITE",
    {
        (PROCEEDING, _REQUEST): (_RESEND, PROCEEDING),
        (PROCEEDING, _1XX): (_SEND, PROCEEDING),
        (PROCEEDING, _2XX): (_SEND_2XX, ACCEPTED),
        (PROCEEDING, _FINAL): (_SEND, COMPLETED),
        (COMPLETED, _REQUEST): (_RESEND, COMPLETED),
        (COMPLETED, TIMER_G): (_RETRANSMIT, COMPLETED),
        (COMPLETED, TIMER_H): (_TIMEOUT, TERMINATED),
        (COMPLETED, _ACK): (_NOTHING, CONFIRMED),
        (CONFIRMED, _REQUEST): (_NOTHING, CONFIRMED),
        (CONFIRMED, _ACK): (_NOTHING, CONFIRMED),
        (CONFIRMED, TIMER_I): (_NOTHING, TERMINATED),
        (ACCEPTED, _REQUEST): (_NOTHING, ACCEPTED),
        (ACCEPTED, _ACK): (_STOP_2XX, ACCEPTED),
        (ACCEPTED, TIMER_2XX): (_RETRANSMIT, ACCEPTED),
        (ACCEPTED, TIMER_L): (_ACCEPTED_END, TERMINATED),
    },
    {COMPLETED: (TIMER_G, TIMER_H), CONFIRMED: (None, TIMER_I), ACCEPTED: (TIMER_2XX, TIMER_L)},
)

# RFC 3261 §17.2.2, Figure 8:
#
#                                   |Request received
#                                   |pass to TU
#                                   V
#                             +-----------+
#                             |           |
#                             | Trying    |-------------+
#                             |           |             |
#                             +-----------+             |200-699 from TU
#                                   |                   |send response
#                                   |1xx from TU        |
#                                   |send response      |
#                                   |                   |
#                Request            V      1xx from TU  |
#                send response+-----------+send response|
#                    +--------|           |--------+    |
#                    |        | Proceeding|        |    |
#                    +------->|           |<-------+    |
#             +<--------------|           |             |
#             |Trnsprt Err    +-----------+             |
#             |Inform TU            |                   |
#             |                     |                   |
#             |                     |200-699 from TU    |
#             |                     |send response      |
#             |  Request            V                   |
#             |  send response+-----------+             |
#             |      +--------|           |             |
#             |      |        | Completed |<------------+
#             |      +------->|           |
#             +<--------------|           |
#             |Trnsprt Err    +-----------+
#             |Inform TU            |
#             |                     |Timer J fires
#             |                     |-
#             |                     |
#             |                     V
#             |               +-----------+
#             |               |           |
#             +-------------->| Terminated|
#                             |           |
#                             +-----------+
_SERVER_NON_INVITE: Final = _Machine(
    "server non-INVITE",
    {
        (TRYING, _REQUEST): (_NOTHING, TRYING),  # §17.2.2: discarded in Trying
        (TRYING, _1XX): (_SEND, PROCEEDING),
        (TRYING, _2XX): (_SEND, COMPLETED),
        (TRYING, _FINAL): (_SEND, COMPLETED),
        (PROCEEDING, _REQUEST): (_RESEND, PROCEEDING),
        (PROCEEDING, _1XX): (_SEND, PROCEEDING),
        (PROCEEDING, _2XX): (_SEND, COMPLETED),
        (PROCEEDING, _FINAL): (_SEND, COMPLETED),
        (COMPLETED, _REQUEST): (_RESEND, COMPLETED),
        (COMPLETED, TIMER_J): (_NOTHING, TERMINATED),
    },
    {COMPLETED: (None, TIMER_J)},
)

# RFC 3261 §17.1.1.2: Timer D is "at least 32 seconds" over UDP, whatever T1.
_TIMER_D_UDP: Final = 32.0


class _Transaction:
    """One transaction's mutable state; the layer drives it through its machine's table."""

    __slots__ = (
        "ack",
        "ack_id",
        "acked",
        "heap_deadline",
        "heap_seq",
        "key",
        "last",
        "last_response",
        "machine",
        "peer",
        "reliable",
        "request",
        "retransmit_at",
        "retransmit_interval",
        "state",
        "timeout_at",
        "transport",
    )

    def __init__(
        self,
        machine: _Machine,
        key: ClientKey | ServerKey,
        request: SipRequest,
        peer: Address,
        transport: str,
    ) -> None:
        self.machine = machine
        self.key = key
        self.request = request
        self.peer = peer  # where we send: the destination (client) or the source (server)
        self.transport = transport
        self.reliable = _RELIABLE[transport]
        self.state: str = _INITIAL
        self.last: bytes | None = None  # what a retransmission sends again
        self.last_response: SipResponse | None = None  # server: last sent; client: last passed up
        self.ack: bytes | None = None  # client INVITE: our ACK to the non-2xx
        self.ack_id: tuple[str, int] | None = None  # server INVITE in Accepted: Call-ID, CSeq
        self.acked = False
        self.retransmit_at: float | None = None
        self.retransmit_interval = 0.0
        self.timeout_at: float | None = None
        self.heap_seq = -1  # the seq of the heap entry that is current; -1: none
        self.heap_deadline = 0.0


class TransactionLayer:
    """All client and server transactions of one SIP endpoint (RFC 3261 §17).

    Feed it with :meth:`receive`, :meth:`respond`, :meth:`request` and
    :meth:`handle_timer`; after each call drain :meth:`transmits` (send them)
    and :meth:`events` (act on them), then re-arm one timer for
    :meth:`next_deadline`. ``t1``, ``t2`` and ``t4`` are the RFC's timer
    values in seconds (§17.1.1.1 and Table 4).
    """

    def __init__(self, *, t1: float = 0.5, t2: float = 4.0, t4: float = 5.0) -> None:
        if not 0 < t1 <= t2 or t4 < 0:
            raise LocalSipError(f"timers must satisfy 0 < T1 <= T2, T4 >= 0: {t1=} {t2=} {t4=}")
        self._t1 = t1
        self._t2 = t2
        lifetime = 64 * t1  # Table 4: B, F, H, J (UDP), L, M
        udp = {TIMER_B: lifetime, TIMER_D: _TIMER_D_UDP, TIMER_F: lifetime, TIMER_H: lifetime}
        udp |= {TIMER_I: t4, TIMER_J: lifetime, TIMER_K: t4, TIMER_L: lifetime, TIMER_M: lifetime}
        tcp = udp | {TIMER_D: 0.0, TIMER_I: 0.0, TIMER_J: 0.0, TIMER_K: 0.0}
        self._lifetimes: Mapping[bool, Mapping[str, float]] = {False: udp, True: tcp}
        self._server: dict[ServerKey, _Transaction] = {}
        self._client: dict[ClientKey, _Transaction] = {}
        # Server INVITE transactions in Accepted awaiting the ACK to their 2xx.
        self._awaiting_ack: dict[tuple[str, int], _Transaction] = {}
        self._heap: list[tuple[float, int, _Transaction]] = []
        self._seq = 0
        self._events: list[TuEvent] = []
        self._transmits: list[Transmit] = []

    def __len__(self) -> int:
        return len(self._server) + len(self._client)

    def events(self) -> list[TuEvent]:
        """Return and forget the events for the TU, oldest first."""
        events, self._events = self._events, []
        return events

    def transmits(self) -> list[Transmit]:
        """Return and forget what must be sent, in order."""
        transmits, self._transmits = self._transmits, []
        return transmits

    def next_deadline(self) -> float | None:
        """Return the earliest time a timer of any transaction fires, or ``None``."""
        heap = self._heap
        while heap and heap[0][1] != heap[0][2].heap_seq:
            heapq.heappop(heap)  # Rule 3: an entry superseded or of a finished transaction
        return heap[0][0] if heap else None

    def handle_timer(self, now: float) -> None:
        """Fire every timer due at ``now`` (calling early or late is harmless)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, tx = heapq.heappop(heap)
            if seq != tx.heap_seq:
                continue
            tx.heap_seq = -1
            self._expire(tx, now)

    # --- from the peer --------------------------------------------------

    def receive(self, message: SipMessage, source: Address, transport: str, now: float) -> None:
        """Take a parsed message from ``source``; never raises for what the peer sent."""
        if transport not in _RELIABLE:
            raise LocalSipError(f"unknown transport {transport!r}: the shell passes udp or tcp")
        try:
            if isinstance(message, SipResponse):
                self._receive_response(message, now)
            else:
                self._receive_request(message, source, transport, now)
        except RemoteSipError:
            pass  # A value parse() would have refused (a bad CSeq): drop it, like §18.1.2.

    def _receive_response(self, response: SipResponse, now: float) -> None:
        # §17.1.3: the branch of the top Via and the CSeq method name the transaction.
        via = _top_via(response.headers)
        if via is None:
            return
        key = ClientKey(via.branch, parse_cseq(response.headers.get("CSeq") or "").method)
        tx = self._client.get(key)
        if tx is None:
            return  # §17.1.3 / §18.1.2: stray (a late 2xx, or not ours): drop it.
        status = response.status
        self._input(tx, _1XX if status < 200 else _2XX if status < 300 else _FINAL, now, response)

    def _receive_request(
        self, request: SipRequest, source: Address, transport: str, now: float
    ) -> None:
        via = _top_via(request.headers)
        if via is None:
            return  # nowhere to answer (§18.2.2): drop it.
        method = request.method
        key = _server_key(request, via, "INVITE" if method == "ACK" else method)
        if method == "ACK":
            self._receive_ack(request, source, transport, key, now)
            return
        tx = self._server.get(key)
        if tx is not None:
            self._input(tx, _REQUEST, now)  # a retransmission
            return
        request = _stamp_via(request, via, source)
        if method == "CANCEL":
            self._receive_cancel(request, source, transport, key, now)
            return
        machine = _SERVER_INVITE if method == "INVITE" else _SERVER_NON_INVITE
        tx = self._new_server(machine, key, request, source, transport, now)
        if method == "INVITE":
            # §17.2.1: 100 Trying at once, so the client stops retransmitting.
            self._input(tx, _1XX, now, build_response(request, 100))
        self._events.append(RequestReceived(request, source, transport, key))

    def _receive_ack(
        self, ack: SipRequest, source: Address, transport: str, key: ServerKey, now: float
    ) -> None:
        tx = self._server.get(key)
        if tx is not None and tx.state != ACCEPTED:
            self._input(tx, _ACK, now)  # §17.2.1: the ACK to a non-2xx is absorbed
            return
        # The ACK to a 2xx has a branch of its own (§17.1.1.3): match it to the
        # Accepted transaction by Call-ID and CSeq number (§13.3.1.4).
        cseq = parse_cseq(ack.headers.get("CSeq") or "")
        accepted = self._awaiting_ack.pop((ack.headers.get("Call-ID") or "", cseq.number), None)
        if accepted is not None:
            self._input(accepted, _ACK, now)
        self._events.append(RequestReceived(ack, source, transport, key))

    def _receive_cancel(
        self, cancel: SipRequest, source: Address, transport: str, key: ServerKey, now: float
    ) -> None:
        # §9.2: a CANCEL has its own non-INVITE transaction (its retransmissions
        # get the same answer) and names the INVITE by the same branch.
        invite_key = ServerKey(key.branch, key.sent_by, "INVITE")
        invite = self._server.get(invite_key)
        tx = self._new_server(_SERVER_NON_INVITE, key, cancel, source, transport, now)
        if invite is None:
            answer = build_response(cancel, 481, to_tag=stateless_to_tag(cancel.headers))
            self._input(tx, _FINAL, now, answer)
            return
        # §9.2: the To tag SHOULD equal the one of the INVITE's responses.
        sent = invite.last_response
        tag = _to_tag(sent.headers) if sent is not None else None
        ok = build_response(cancel, 200, to_tag=tag or stateless_to_tag(invite.request.headers))
        self._input(tx, _2XX, now, ok)
        if invite.state == PROCEEDING:
            self._events.append(CancelReceived(cancel, invite_key))

    # --- from the TU ----------------------------------------------------

    def respond(self, key: ServerKey, response: SipResponse, now: float) -> None:
        """Send ``response`` in server transaction ``key``: any 1xx, then one final.

        A 2xx to an INVITE is retransmitted until its ACK arrives or 64*T1
        passes (then :class:`AckTimedOut`), over any transport (§13.3.1.4: the
        2xx goes end to end and a later hop may be UDP).
        """
        tx = self._server.get(key)
        if tx is None:
            raise LocalSipError(f"no server transaction {key}: it has ended or never existed")
        status = response.status
        if not 100 <= status <= 699:
            raise LocalSipError(f"SIP status must be within 100..699, not {status}")
        if not self._input(
            tx, _1XX if status < 200 else _2XX if status < 300 else _FINAL, now, response
        ):
            raise LocalSipError(
                f"{tx.machine.name} transaction {key} is {tx.state}: it cannot send {status}"
                " (RFC 3261 §17.2: one final response per transaction)"
            )

    def request(
        self, request: SipRequest, destination: Address, transport: str, now: float
    ) -> ClientKey:
        """Send ``request`` in a new client transaction and return its key.

        The top Via must carry a branch starting with ``z9hG4bK`` (see
        :func:`make_branch`). A non-2xx final answer to an INVITE is ACKed here
        (§17.1.1.3); the ACK to a 2xx is the TU's, via :meth:`send_stateless`.
        """
        if transport not in _RELIABLE:
            raise LocalSipError(f"unknown transport {transport!r}: use udp or tcp")
        if request.method == "ACK":
            raise LocalSipError("an ACK starts no transaction: use send_stateless (§17.1.1.3)")
        via = _top_via(request.headers)
        if via is None or not via.branch.startswith(MAGIC_COOKIE):
            raise LocalSipError(
                f"{request.method} needs a top Via with a branch starting {MAGIC_COOKIE}"
                " (RFC 3261 §8.1.1.7): build it with make_branch()"
            )
        _own_cseq(request)  # fail here, not when a response to it arrives
        key = ClientKey(via.branch, request.method)
        if key in self._client:
            raise LocalSipError(f"branch {via.branch} is already in use by {key}: make a new one")
        machine = _CLIENT_INVITE if request.method == "INVITE" else _CLIENT_NON_INVITE
        tx = _Transaction(machine, key, request, destination, transport)
        self._client[key] = tx
        tx.last = serialize(request)
        self._send(tx, tx.last)
        self._enter(tx, CALLING if machine is _CLIENT_INVITE else TRYING, now)
        return key

    def send_stateless(self, message: SipMessage, destination: Address, transport: str) -> None:
        """Send ``message`` outside any transaction: the ACK to a 2xx, a stateless answer."""
        if transport not in _RELIABLE:
            raise LocalSipError(f"unknown transport {transport!r}: use udp or tcp")
        self._transmits.append(Transmit(serialize(message), destination, transport))

    # --- the machinery --------------------------------------------------

    def _new_server(
        self,
        machine: _Machine,
        key: ServerKey,
        request: SipRequest,
        source: Address,
        transport: str,
        now: float,
    ) -> _Transaction:
        tx = _Transaction(machine, key, request, source, transport)
        self._server[key] = tx
        self._enter(tx, PROCEEDING if machine is _SERVER_INVITE else TRYING, now)
        return tx

    def _input(
        self, tx: _Transaction, event: str, now: float, response: SipResponse | None = None
    ) -> bool:
        """Run one transition; ``False`` if the table has none (Rule 1 decides what that means)."""
        transition = tx.machine.transitions.get((tx.state, event))
        if transition is None:
            return False
        action, next_state = transition
        if action == _TO_TU:
            self._pass_up(tx, _given(response, event))
        elif action in (_SEND, _SEND_2XX):
            tx.last_response = _given(response, event)
            tx.last = serialize(tx.last_response)
            self._send(tx, tx.last)
            if action == _SEND_2XX:
                tx.ack_id = _ack_id(tx.request)
                self._awaiting_ack[tx.ack_id] = tx
        elif action in (_RESEND, _RETRANSMIT):
            if tx.last is not None:  # None only before a server's first response
                self._send(tx, tx.last)
            if action == _RETRANSMIT:
                tx.retransmit_interval = self._next_interval(tx, event)
                tx.retransmit_at = now + tx.retransmit_interval
                self._schedule(tx)
        elif action == _ACK_TO_TU:
            response = _given(response, event)
            ack = _hop_request(tx.request, "ACK", response.headers.get("To") or "")
            tx.ack = serialize(ack)
            self._send(tx, tx.ack)
            self._pass_up(tx, response)
        elif action == _ACK_AGAIN:
            if tx.ack is not None:
                self._send(tx, tx.ack)
        elif action == _STOP_2XX:
            tx.acked = True
            tx.retransmit_at = None
            self._schedule(tx)
        elif action == _TIMEOUT:
            self._events.append(TransactionTimedOut(tx.key))
        elif action == _ACCEPTED_END and not tx.acked and isinstance(tx.key, ServerKey):
            self._events.append(AckTimedOut(tx.key))
        if next_state != tx.state:
            self._enter(tx, next_state, now)
        return True

    def _pass_up(self, tx: _Transaction, response: SipResponse) -> None:
        # A UAS re-sends its last provisional when our INVITE is retransmitted
        # (§17.2.1); the TU sees each provisional once.
        if response.status < 200 and response == tx.last_response:
            return
        tx.last_response = response
        if isinstance(tx.key, ClientKey):  # always: only client machines pass responses up
            self._events.append(ResponseReceived(response, tx.key))

    def _enter(self, tx: _Transaction, state: str, now: float) -> None:
        """Move ``tx`` to ``state`` and arm that state's timers (Rule 2)."""
        old_retransmit, old_lifetime = tx.machine.timers.get(tx.state, _NO_TIMERS)
        retransmit, lifetime = tx.machine.timers.get(state, _NO_TIMERS)
        tx.state = state
        if state == TERMINATED:
            self._terminate(tx)
            return
        if retransmit != old_retransmit:
            tx.retransmit_at = None
            # §17: no A, E, G over a reliable transport; the 2xx timer always (§13.3.1.4).
            if retransmit is not None and (retransmit == TIMER_2XX or not tx.reliable):
                tx.retransmit_interval = self._t1
                tx.retransmit_at = now + self._t1
        if lifetime != old_lifetime:
            tx.timeout_at = None
            if lifetime is not None:
                duration = self._lifetimes[tx.reliable][lifetime]
                if duration == 0:
                    self._input(tx, lifetime, now)
                    return
                tx.timeout_at = now + duration
        self._schedule(tx)

    def _next_interval(self, tx: _Transaction, timer: str) -> float:
        if timer == TIMER_A:
            # §17.1.1.2: "intervals that double after each transmission", no cap:
            # Timer B ends it (7 transmissions over 32 s with the defaults).
            return 2 * tx.retransmit_interval
        if timer == TIMER_E and tx.state == PROCEEDING:
            return self._t2  # §17.1.2.2: T2 once a provisional has arrived
        # §17.1.2.2 (E), §17.2.1 (G), §13.3.1.4 (2xx): double, capped at T2.
        return min(2 * tx.retransmit_interval, self._t2)

    def _expire(self, tx: _Transaction, now: float) -> None:
        """Fire ``tx``'s due timers, earliest first, until none is due or it ends."""
        while tx.state != TERMINATED:
            retransmit_timer, lifetime_timer = tx.machine.timers.get(tx.state, _NO_TIMERS)
            retransmit_at, timeout_at = tx.retransmit_at, tx.timeout_at
            if (
                timeout_at is not None
                and timeout_at <= now
                and (retransmit_at is None or timeout_at <= retransmit_at)
            ):
                tx.timeout_at = None
                event = lifetime_timer
            elif retransmit_at is not None and retransmit_at <= now:
                tx.retransmit_at = None
                event = retransmit_timer
            else:
                self._schedule(tx)
                return
            if event is None or not self._input(tx, event, now):
                raise LocalSipError(f"{tx.machine.name} {tx.state}: {event} armed but not handled")

    def _schedule(self, tx: _Transaction) -> None:
        """Push ``tx``'s earliest deadline onto the heap unless it is there already (Rule 3)."""
        retransmit_at, timeout_at = tx.retransmit_at, tx.timeout_at
        if retransmit_at is None:
            deadline = timeout_at
        elif timeout_at is None or retransmit_at < timeout_at:
            deadline = retransmit_at
        else:
            deadline = timeout_at
        if deadline is None:
            tx.heap_seq = -1
        elif tx.heap_seq < 0 or tx.heap_deadline != deadline:
            self._seq += 1
            tx.heap_seq = self._seq
            tx.heap_deadline = deadline
            heapq.heappush(self._heap, (deadline, self._seq, tx))

    def _terminate(self, tx: _Transaction) -> None:
        tx.heap_seq = -1
        if isinstance(tx.key, ServerKey):
            del self._server[tx.key]
        else:
            del self._client[tx.key]
        if tx.ack_id is not None and self._awaiting_ack.get(tx.ack_id) is tx:
            del self._awaiting_ack[tx.ack_id]

    def _send(self, tx: _Transaction, data: bytes) -> None:
        self._transmits.append(Transmit(data, tx.peer, tx.transport))


# --- Via, tags, keys ---------------------------------------------------------


class _Via(NamedTuple):
    field_index: int  # of the header field holding the top Via value
    value: str  # the top Via value (the first element of that field)
    sent_by: str  # lower case, no blanks
    host: str  # of sent-by, without IPv6 brackets
    branch: str  # "" if none
    params: str  # ";name=value..." as written


# §20.42 / §25.1: Via = sent-protocol LWS sent-by *( SEMI via-params ).
_VIA_RE: Final = re.compile(r"\s*SIP\s*/\s*[^\s/]+\s*/\s*[^\s;]+\s+([^;]+?)\s*(;.*)?", re.I | re.S)
_BRANCH_RE: Final = re.compile(r";\s*branch\s*=\s*([^;\s]+)", re.I)
_RPORT_RE: Final = re.compile(r";\s*rport\s*(=\s*[0-9]*)?\s*(?=;|$)", re.I)
_RECEIVED_RE: Final = re.compile(r";\s*received\s*=", re.I)
_TAG_RE: Final = re.compile(r";\s*tag\s*=\s*([^;\s>]+)", re.I)


def _top_via(headers: Headers) -> _Via | None:
    """Read the top Via; ``None`` if it is missing or unreadable (the peer's fault)."""
    for index, field in enumerate(headers.fields):
        if header_key(field.name) == "via":
            value = split_list(field.value)[0] if "," in field.value else field.value
            match = _VIA_RE.fullmatch(value)
            if match is None:
                return None
            sent_by = "".join(match[1].split()).lower()
            if sent_by.startswith("["):  # IPv6 reference (§25.1)
                host = sent_by[1 : sent_by.find("]")]
            else:
                host = sent_by.partition(":")[0]
            params = match[2] or ""
            branch = _BRANCH_RE.search(params)
            return _Via(index, value, sent_by, host, branch[1] if branch else "", params)
    return None


def _server_key(request: SipRequest, via: _Via, method: str) -> ServerKey:
    if via.branch.startswith(MAGIC_COOKIE):
        return ServerKey(via.branch, via.sent_by, method)
    # §17.2.3 for RFC 2543 peers, simplified: the request's identity and its
    # whole top Via (the ACK and CANCEL of an INVITE repeat all of them).
    headers = request.headers
    cseq = parse_cseq(headers.get("CSeq") or "")
    tag = _to_tag_of(headers.get("From") or "") or ""
    identity = f"{headers.get('Call-ID')} {cseq.number} {tag}"
    return ServerKey(identity, via.value, method)


def _stamp_via(request: SipRequest, via: _Via, source: Address) -> SipRequest:
    """Add ``received`` and fill ``rport`` in the top Via (§18.2.1, RFC 3581 §4).

    The response copies the Via, so the client learns the address we saw.
    Returns ``request`` itself when nothing is to add, the usual case on trunks.
    """
    rport = _RPORT_RE.search(via.params)
    fill_rport = rport is not None and not (rport[1] or "").strip("= \t")
    add_received = (via.host != source[0] or rport is not None) and not _RECEIVED_RE.search(
        via.params
    )
    if not fill_rport and not add_received:
        return request
    params = via.params
    if fill_rport and rport is not None:
        params = f"{params[: rport.start()]};rport={source[1]}{params[rport.end() :]}"
    if add_received:
        params += f";received={source[0]}"
    head = via.value[: len(via.value) - len(via.params)] if via.params else via.value
    top = head + params
    field = request.headers.fields[via.field_index]
    rest = split_list(field.value)[1:] if "," in field.value else []
    fields = list(request.headers.fields)
    fields[via.field_index] = HeaderField(field.name, ", ".join([top, *rest]), field.separator)
    return SipRequest(
        request.method, request.uri, Headers(tuple(fields)), request.body, request.version
    )


def _own_cseq(request: SipRequest) -> CSeq:
    # The TU built this request: a bad CSeq is our bug, not the peer's.
    try:
        cseq = parse_cseq(request.headers.get("CSeq") or "")
    except RemoteSipError as exc:
        raise LocalSipError(f"{request.method} we send has {exc.reason}") from None
    if cseq.method != request.method:
        raise LocalSipError(f"{request.method} we send has CSeq method {cseq.method} (§8.1.1.5)")
    return cseq


def _given(response: SipResponse | None, event: str) -> SipResponse:
    # Response inputs always come with their response; this keeps mypy and us honest.
    if response is None:
        raise LocalSipError(f"transaction input {event} arrived without its response (a bug)")
    return response


def _to_tag_of(value: str) -> str | None:
    match = _TAG_RE.search(value[value.find(">") + 1 :] if ">" in value else value)
    return match[1] if match else None


def _to_tag(headers: Headers) -> str | None:
    return _to_tag_of(headers.get("To") or "")


def _ack_id(request: SipRequest) -> tuple[str, int]:
    cseq = parse_cseq(request.headers.get("CSeq") or "")
    return (request.headers.get("Call-ID") or "", cseq.number)

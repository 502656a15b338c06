"""Dialogs (RFC 3261 §12) and the requests and responses built from them.

A dialog is the peer-to-peer relationship an INVITE creates: who we are
(local tag and URI), who they are (remote tag, URI and target), how to reach
them (route set) and where each side's CSeq stands. It is per-call state the
call-control layer owns; the functions here read and update it, and build
messages as values. No sockets, clock or randomness: tags, branches and
Call-IDs are drawn by the caller and passed in.

Theory of operation:

Rule 1. A dialog is created from the message pair that establishes it: a UAS
from the request it answers with a to-tag (:func:`dialog_as_uas`, §12.1.1), a
UAC from the request it sent and the 1xx-with-tag or 2xx it got back
(:func:`dialog_as_uac`, §12.1.2). A 2xx after an early dialog recomputes it:
call :func:`dialog_as_uac` again (§13.2.2.4 takes the route set from the 2xx).

Rule 2. Every new request in the dialog takes the next local CSeq (§12.2.1.1);
ACK and CANCEL reuse the number of the request they belong to.

Rule 3. Every request that arrives in the dialog passes
:func:`check_in_dialog_request` before it is acted on: a wrong dialog is 481,
a CSeq lower than the last one is 500 (§12.2.2).

Rule 4. Whoever builds a message here owns its Content-Length: every request
and response written by this module carries one, always.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.headers import Headers
from hotline.telephony.sip.message import SipRequest, SipResponse, build_response, parse_cseq

# §9.1 CANCEL belongs to the transaction layer, which must match it to the
# INVITE's client transaction; it is re-exported here because call control
# builds it next to the dialog's other requests. One implementation.
from hotline.telephony.sip.transaction import build_cancel
from hotline.telephony.sip.uri import NameAddr, SipUri, parse_name_addr, parse_uri, parse_via

__all__ = [
    "Dialog",
    "DialogId",
    "build_ack_for_2xx",
    "build_cancel",
    "build_dialog_response",
    "build_in_dialog_request",
    "check_in_dialog_request",
    "dialog_as_uac",
    "dialog_as_uas",
    "new_request",
    "refresh_remote_target",
    "uac_dialog_id",
    "uas_dialog_id",
]

# RFC 3261 §8.1.1.6: a UAC SHOULD start Max-Forwards at 70.
MAX_FORWARDS: Final = 70
# §8.1.1.5: a CSeq number must stay below 2**31.
_MAX_CSEQ: Final = 2**31 - 1


class DialogId(NamedTuple):
    """A dialog's identity (§12): Call-ID, local tag, remote tag — as seen from our side."""

    call_id: str
    local_tag: str
    remote_tag: str


@dataclass(slots=True)
class Dialog:
    """The state of one dialog (RFC 3261 §12), from our side of it.

    ``local_uri`` and ``remote_uri`` are From/To values without tags (name-addr
    text such as ``"Bob" <sip:bob@h>``); ``remote_target`` is the URI of the
    peer's Contact, where in-dialog requests go; ``route_set`` holds the
    Route values to put on them, in order. ``remote_tag`` is ``""`` when the
    peer sent none (RFC 2543 style, §12.1.1). ``local_cseq`` is the CSeq of
    our last request (0 before the first); ``remote_cseq`` the peer's, or
    ``None`` before its first. ``transport`` is the Via transport the dialog
    started on (``UDP``, ``TCP``, ``TLS``); ``secure`` is the §12.1 flag (a
    SIPS Request-URI over TLS). Mutable on purpose: the functions below move
    the CSeqs and the remote target.
    """

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: SipUri
    route_set: tuple[str, ...] = ()
    local_cseq: int = 0
    remote_cseq: int | None = None
    transport: str = "UDP"
    secure: bool = False

    @property
    def id(self) -> DialogId:
        """The dialog ID (§12): what an arriving request is matched against."""
        return DialogId(self.call_id, self.local_tag, self.remote_tag)


def uas_dialog_id(request: SipRequest) -> DialogId:
    """The ID of the dialog ``request`` belongs to, as its UAS sees it (§12.2.2).

    Local tag from To, remote tag from From (``""`` where a tag is missing).
    """
    return DialogId(
        _call_id(request.headers),
        _name_addr(request.headers, "To").tag or "",
        _name_addr(request.headers, "From").tag or "",
    )


def uac_dialog_id(response: SipResponse) -> DialogId:
    """The ID of the dialog ``response`` belongs to, as the UAC sees it (§12.1.2)."""
    return DialogId(
        _call_id(response.headers),
        _name_addr(response.headers, "From").tag or "",
        _name_addr(response.headers, "To").tag or "",
    )


def dialog_as_uas(request: SipRequest, local_tag: str, *, local_cseq: int = 0) -> Dialog:
    """The dialog a UAS creates when it answers ``request`` with ``local_tag`` (§12.1.1).

    The route set is the request's Record-Route values in order; the remote
    target is its Contact, which must be a single SIP or SIPS URI (400 if
    not); the remote CSeq is the request's. ``local_cseq`` is where our own
    CSeq starts (§12.1.1 leaves it empty: the first request we send is
    ``local_cseq + 1``).
    """
    headers = request.headers
    local = _name_addr(headers, "To")
    remote = _name_addr(headers, "From")
    transport = parse_via(_top_via(headers)).transport.upper()
    return Dialog(
        call_id=_call_id(headers),
        local_tag=local_tag,
        remote_tag=remote.tag or "",
        local_uri=str(local.without_tag()),
        remote_uri=str(remote.without_tag()),
        remote_target=_contact_target(headers, f"{request.method} request"),
        route_set=tuple(headers.get_all("Record-Route")),
        local_cseq=local_cseq,
        remote_cseq=parse_cseq(headers.get("CSeq") or "").number,
        transport=transport,
        secure=_is_secure(request.uri, transport),
    )


def dialog_as_uac(request: SipRequest, response: SipResponse) -> Dialog:
    """The dialog a UAC holds once ``response`` (101–299, with a To tag) answers ``request``.

    §12.1.2: the route set is the response's Record-Route in reverse order,
    the remote target its Contact, the remote tag its To tag; our CSeq is the
    request's and the remote CSeq stays empty. A provisional response without
    Contact targets the Request-URI until the 2xx says otherwise. A response
    without a To tag creates no dialog: 400-hinted :class:`RemoteSipError`.
    """
    if not 101 <= response.status <= 299:
        raise LocalSipError(f"a {response.status} response creates no dialog (RFC 3261 §12.1)")
    local = _name_addr(request.headers, "From")
    if local.tag is None:
        raise LocalSipError("our request has no From tag (RFC 3261 §8.1.1.3)")
    remote_tag = _name_addr(response.headers, "To").tag
    if remote_tag is None:
        raise RemoteSipError(f"{response.status} response has no To tag: no dialog (§12.1.2)")
    if response.status < 200 and "Contact" not in response.headers:
        target = parse_uri(request.uri)
    else:
        target = _contact_target(response.headers, f"{response.status} response")
    transport = parse_via(_top_via(request.headers)).transport.upper()
    return Dialog(
        call_id=_call_id(request.headers),
        local_tag=local.tag,
        remote_tag=remote_tag,
        local_uri=str(local.without_tag()),
        remote_uri=str(_name_addr(request.headers, "To").without_tag()),
        remote_target=target,
        route_set=tuple(reversed(response.headers.get_all("Record-Route"))),
        local_cseq=parse_cseq(request.headers.get("CSeq") or "").number,
        remote_cseq=None,
        transport=transport,
        secure=_is_secure(request.uri, transport),
    )


def refresh_remote_target(dialog: Dialog, message: SipRequest | SipResponse) -> None:
    """Take the remote target from the Contact of a target refresh (§12.2.1.2, §12.2.2).

    Call it for a re-INVITE or UPDATE that passed :func:`check_in_dialog_request`,
    and for the 2xx answering ours. Without Contact the target stays as it was.
    """
    if "Contact" in message.headers:
        what = message.method if isinstance(message, SipRequest) else str(message.status)
        dialog.remote_target = _contact_target(message.headers, what)


def check_in_dialog_request(dialog: Dialog, request: SipRequest) -> None:
    """Admit ``request`` into ``dialog`` or raise, and advance the remote CSeq (§12.2.2).

    Raises :class:`RemoteSipError` with hint 481 (Call/Transaction Does Not
    Exist) if the Call-ID or tags are not this dialog's, and 500 (Server
    Internal Error, as §12.2.2 prescribes) if the CSeq is lower than the last
    one seen. An equal CSeq passes: ACK and CANCEL carry their INVITE's
    number, and retransmissions are absorbed by the transaction layer.
    """
    found = uas_dialog_id(request)
    if found != dialog.id:
        raise RemoteSipError(
            f"{request.method} does not match any dialog (Call-ID and tags)", status_hint=481
        )
    number = parse_cseq(request.headers.get("CSeq") or "").number
    if dialog.remote_cseq is not None and number < dialog.remote_cseq:
        raise RemoteSipError(
            f"{request.method} CSeq {number} is lower than {dialog.remote_cseq}: out of order"
            " (RFC 3261 §12.2.2)",
            status_hint=500,
        )
    dialog.remote_cseq = number


def build_in_dialog_request(
    dialog: Dialog,
    method: str,
    *,
    via: str,
    contact: str | None,
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipRequest:
    """Build a request within ``dialog`` (§12.2.1.1), advancing its local CSeq.

    Request-URI is the remote target and Route the route set. We only do
    loose routing (§16.12.1.1, every RFC 3261 proxy): with an RFC 2543 strict
    router first in the route set (no ``;lr``) §12.2.1.1 would move it into the
    Request-URI; we send it as a Route like any other. ``via`` is the whole
    Via value with a fresh branch; ``contact`` may be ``None`` for requests
    that need none (BYE), but target refreshes (re-INVITE, UPDATE) must have
    one (§12.2.1.1, §14.1). ACK and CANCEL keep the current CSeq (Rule 2);
    :func:`build_cancel` is the surer way to a CANCEL, since §9.1 wants the
    cancelled request's own Via and CSeq.
    """
    if method not in ("ACK", "CANCEL"):
        if dialog.local_cseq >= _MAX_CSEQ:
            raise LocalSipError(f"local CSeq {dialog.local_cseq} cannot grow (§8.1.1.5)")
        dialog.local_cseq += 1
    if method in ("INVITE", "UPDATE") and contact is None:
        raise LocalSipError(f"an in-dialog {method} needs a Contact (RFC 3261 §12.2.1.1)")
    return _request(
        method,
        str(dialog.remote_target),
        via=via,
        route_set=dialog.route_set,
        from_=_tagged(dialog.local_uri, dialog.local_tag),
        to=_tagged(dialog.remote_uri, dialog.remote_tag),
        call_id=dialog.call_id,
        cseq=dialog.local_cseq,
        contact=contact,
        body=body,
        content_type=content_type,
        extra_headers=extra_headers,
    )


def build_ack_for_2xx(
    dialog: Dialog,
    invite_cseq: int,
    *,
    via: str,
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipRequest:
    """Build the ACK for a 2xx to our INVITE numbered ``invite_cseq`` (§13.2.2.4).

    Built like any in-dialog request, but with the INVITE's CSeq number and
    method ACK; it leaves the dialog's CSeq alone. ``via`` needs a new
    branch: a 2xx's ACK is a transaction of its own (§17.1.1.3). Pass the
    INVITE's Authorization or Proxy-Authorization in ``extra_headers``
    (§22.1: the ACK carries the same credentials).
    """
    return _request(
        "ACK",
        str(dialog.remote_target),
        via=via,
        route_set=dialog.route_set,
        from_=_tagged(dialog.local_uri, dialog.local_tag),
        to=_tagged(dialog.remote_uri, dialog.remote_tag),
        call_id=dialog.call_id,
        cseq=invite_cseq,
        contact=None,
        body=body,
        content_type=content_type,
        extra_headers=extra_headers,
    )


def new_request(
    method: str,
    request_uri: str | SipUri,
    *,
    from_: str,
    to: str,
    call_id: str,
    cseq: int,
    via: str,
    contact: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
    route_set: Sequence[str] = (),
) -> SipRequest:
    """Build a request outside any dialog (§8.1.1): INVITE, REGISTER, OPTIONS...

    ``from_`` must carry our fresh tag (§8.1.1.3); ``to`` normally has none.
    ``route_set`` is a pre-loaded route, such as a trunk's outbound proxy
    (§8.1.2). An INVITE needs ``contact`` (§8.1.1.8).
    """
    if _parse_own(from_, "From").tag is None:
        raise LocalSipError(f"From {from_!r} needs a tag (RFC 3261 §8.1.1.3)")
    if method == "INVITE" and contact is None:
        raise LocalSipError("an INVITE needs a Contact (RFC 3261 §8.1.1.8)")
    return _request(
        method,
        str(request_uri),
        via=via,
        route_set=tuple(route_set),
        from_=from_,
        to=to,
        call_id=call_id,
        cseq=cseq,
        contact=contact,
        body=body,
        content_type=content_type,
        extra_headers=extra_headers,
    )


def build_dialog_response(
    request: SipRequest,
    status: int,
    *,
    to_tag: str,
    contact: str,
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipResponse:
    """Build a response that creates (or confirms) a dialog: 101–299 (§12.1.1).

    On top of :func:`~hotline.telephony.sip.message.build_response` it copies
    every Record-Route of the request, in order (§12.1.1), adds ``contact``
    (§12.1.1: where the peer will send in-dialog requests), the body and
    Content-Type, and the true Content-Length.
    """
    if not 101 <= status <= 299:
        raise LocalSipError(f"a {status} response creates no dialog (RFC 3261 §12.1)")
    _check_body(body, content_type)
    extra = [("Record-Route", value) for value in request.headers.field_values("Record-Route")]
    extra.append(("Contact", contact))
    extra.extend(extra_headers)
    if content_type is not None:
        extra.append(("Content-Type", content_type))
    response = build_response(request, status, to_tag=to_tag, extra_headers=extra)
    headers = response.headers.with_replaced("Content-Length", str(len(body)))
    return SipResponse(response.status, response.reason, headers, body)


def _request(
    method: str,
    uri: str,
    *,
    via: str,
    route_set: tuple[str, ...],
    from_: str,
    to: str,
    call_id: str,
    cseq: int,
    contact: str | None,
    body: bytes,
    content_type: str | None,
    extra_headers: Iterable[tuple[str, str]],
) -> SipRequest:
    _check_body(body, content_type)
    if not 0 <= cseq <= _MAX_CSEQ:
        raise LocalSipError(f"CSeq {cseq} is outside 0..2**31-1 (RFC 3261 §8.1.1.5)")
    pairs = [("Via", via), ("Max-Forwards", str(MAX_FORWARDS))]
    pairs.extend(("Route", route) for route in route_set)
    pairs.extend([("From", from_), ("To", to), ("Call-ID", call_id), ("CSeq", f"{cseq} {method}")])
    if contact is not None:
        pairs.append(("Contact", contact))
    pairs.extend(extra_headers)
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    pairs.append(("Content-Length", str(len(body))))
    return SipRequest(method, uri, Headers.from_pairs(pairs), body)


def _check_body(body: bytes, content_type: str | None) -> None:
    # §7.4.1: a non-empty body MUST come with its Content-Type.
    if body and content_type is None:
        raise LocalSipError("a message with a body needs content_type (RFC 3261 §7.4.1)")


def _tagged(name_addr: str, tag: str) -> str:
    return f"{name_addr};tag={tag}" if tag else name_addr


def _call_id(headers: Headers) -> str:
    call_id = headers.get("Call-ID")
    if not call_id:
        raise RemoteSipError("missing Call-ID (RFC 3261 §8.1.1.4)")
    return call_id


def _name_addr(headers: Headers, name: str) -> NameAddr:
    value = headers.get(name)
    if value is None:
        raise RemoteSipError(f"missing {name} header field (RFC 3261 §8.1.1)")
    return parse_name_addr(value)


def _parse_own(value: str, name: str) -> NameAddr:
    # What we pass in ourselves is our bug if it does not parse.
    try:
        return parse_name_addr(value)
    except RemoteSipError as exc:
        raise LocalSipError(f"our {name} {value!r} does not parse: {exc.reason}") from None


def _top_via(headers: Headers) -> str:
    via = headers.get("Via")
    if via is None:
        raise RemoteSipError("missing Via header field (RFC 3261 §8.1.1.7)")
    return via


def _contact_target(headers: Headers, what: str) -> SipUri:
    contacts = headers.get_all("Contact")
    if len(contacts) != 1:
        raise RemoteSipError(
            f"{what} has {len(contacts)} Contact values; a dialog needs exactly one (§12.1)"
        )
    uri = parse_name_addr(contacts[0]).uri
    if uri.scheme not in ("sip", "sips"):
        raise RemoteSipError(f"{what} Contact must be a SIP or SIPS URI, not {uri.scheme}")
    return uri


def _is_secure(request_uri: str, transport: str) -> bool:
    # §12.1.1/§12.1.2: secure if the request was sent over TLS to a SIPS URI.
    return request_uri.lower().startswith("sips:") and transport == "TLS"

"""Call control: a back-to-back user agent between callers, the IVR flow, the routing
engine and operators' phones (RFC 3261 §6 "B2BUA"; DESIGN.md §3).

Theory of operation
-------------------
Rule 1. Every SIP message from the transport goes through the transaction layer
        (``sip/transaction.py``); what comes out (new requests, responses, time-outs) is
        handled here; what the layer wants sent goes to the transport.  One loop timer
        serves the transaction layer, the registrar and every flow run (STYLE.md #2).
Rule 2. An INVITE to a hotline number from a trusted trunk is answered at once (200 OK
        with our SDP): the caller is in the hotline's IVR flow (``core/flows``), whose
        actions this module performs (play, enqueue, record a voicemail…).
Rule 3. The routing engine (through :class:`~hotline.live.center.LiveCenter`) decides who
        answers; an ``Offer`` rings the operator's registered phone with a new INVITE
        (our second dialog); its 200 OK bridges the two media legs and starts the
        recording; a failure or time-out declines the offer (the engine re-offers).
Rule 4. Either side's BYE ends the talk: the other side gets a BYE (or, for the caller
        after the operator hung up, the flow continues: survey).  A caller who hangs up
        while queued abandons; every step is a line in the interaction's event log.
Rule 5. Nothing a peer sends may break the process: parse errors are answered by the
        transport, unexpected requests get the RFC's error codes, and each handler is
        wrapped so an exception is logged with its Call-ID and the call is torn down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import structlog

from hotline import __version__
from hotline.core import commands as cmd
from hotline.core import events as ev
from hotline.core.flows import actions as fa
from hotline.core.flows.interpreter import FlowRun
from hotline.core.flows.validate import FlowError, validate_flow
from hotline.core.greeting import render_greeting
from hotline.core.model import CallbackOrigin, CallbackStatus, Channel, Direction, EventType
from hotline.live.center import LiveCenter
from hotline.live.directory import HotlineInfo
from hotline.live.eventlog import InteractionStart
from hotline.store import models as m
from hotline.telephony import sdp
from hotline.telephony.calls import Call, CallPhase, OperatorLeg
from hotline.telephony.flowtimers import FlowDeadlines
from hotline.telephony.media.base import Codec, MediaBackend, MediaError, RemoteMedia
from hotline.telephony.outbound import OutboundRoute, parse_outbound_uri
from hotline.telephony.prompts import PromptLibrary, hotline_overrides
from hotline.telephony.registrar import (
    MIN_EXPIRES,
    SIP_REALM,
    Registrar,
    granted_expires,
)
from hotline.telephony.sip import digest
from hotline.telephony.sip.dialog import (
    Dialog,
    build_ack_for_2xx,
    build_cancel,
    build_dialog_response,
    build_in_dialog_request,
    check_in_dialog_request,
    dialog_as_uac,
    dialog_as_uas,
    new_request,
)
from hotline.telephony.sip.errors import RemoteSipError
from hotline.telephony.sip.message import SipMessage, SipRequest, SipResponse, build_response
from hotline.telephony.sip.transaction import (
    AckTimedOut,
    Address,
    CancelReceived,
    ClientKey,
    RequestReceived,
    ResponseReceived,
    ServerKey,
    TransactionLayer,
    TransactionTimedOut,
)
from hotline.telephony.sip.uri import parse_name_addr, parse_uri
from hotline.telephony.transport import SipTransport
from hotline.telephony.uas import (
    ALLOW,
    address_matches,
    http_date,
    info_digit,
    int_or_none,
    phone_address,
    quote,
    refusal,
)
from hotline.telephony.webrtc.phone import BrowserPhone
from hotline.telephony.webrtc.softphones import Softphones

__all__ = ["B2bua", "TelephonySettings"]

log = structlog.get_logger("hotline.b2bua")

SERVER: Final = f"hotline/{__version__}"


@dataclass(frozen=True, slots=True)
class TelephonySettings:
    data_dir: Path
    #: an address phones and trunks can reach us at (Via, Contact, SDP ``c=``)
    advertised_host: str
    #: the digest nonce key; random per process unless configured (nonces then expire
    #: at restart, which phones handle with a fresh challenge)
    secret: bytes
    voicemail_max_seconds: int = 120


def _token() -> str:
    return secrets.token_hex(8)


def _user_of(value: str | None) -> str:
    if not value:
        return ""
    try:
        return parse_name_addr(value).uri.user or ""
    except RemoteSipError:
        return ""


class B2bua:
    def __init__(
        self,
        settings: TelephonySettings,
        center: LiveCenter,
        media: MediaBackend,
        prompts: PromptLibrary,
        *,
        clock: Callable[[], float] = time.time,
        softphones: Softphones | None = None,
    ) -> None:
        self.settings = settings
        self.softphones = softphones
        if softphones is not None:
            softphones.on_gone = self.browser_phone_gone
        self.center = center
        self.media = media
        self.prompts = prompts
        self.clock = clock
        self.layer = TransactionLayer()
        self.registrar = Registrar()
        self.transport: SipTransport | None = None
        self.calls: dict[int, Call] = {}
        # dialogs by (Call-ID, our tag): (call, side) where side is "caller" | "operator"
        self._dialogs: dict[tuple[str, str], tuple[Call, str]] = {}
        self._by_leg: dict[str, Call] = {}
        self._server_txn_call: dict[ServerKey, Call] = {}
        self._client_txn: dict[ClientKey, tuple[Call, str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        # every call's next flow deadline (a menu's timeout…): see _perform and _on_timer
        self._flow_deadlines: FlowDeadlines[Call] = FlowDeadlines()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flows: dict[int, Any] = {}
        self._local_media: dict[str, tuple[str, int]] = {}
        # operator legs bridged to a browser softphone: detached when the leg closes
        self._browser_legs: dict[str, BrowserPhone] = {}
        # outside legs given up while ringing (CANCEL sent), until their INVITE ends
        self._abandoned_external: dict[ClientKey, OperatorLeg] = {}
        # silent monitors: interaction id -> listening user id -> their browser phone
        self._monitors: dict[int, dict[int, BrowserPhone]] = {}
        self._hangup_after: dict[int, Call] = {}
        center.subscribe(self._on_command)
        self.stats = {"calls": 0, "answered": 0, "rejected": 0}

    # -- wiring -------------------------------------------------------------------------------

    def attach(self, transport: SipTransport) -> None:
        self.transport = transport

    @property
    def _host_port(self) -> str:
        port = self.transport.port if self.transport is not None else 5060
        return f"{self.settings.advertised_host}:{port}"

    def _via(self, transport: str) -> str:
        return f"SIP/2.0/{transport.upper()} {self._host_port};branch=z9hG4bK{_token()};rport"

    def _contact(self, transport: str = "udp") -> str:
        suffix = ";transport=tcp" if transport == "tcp" else ""
        return f"<sip:hotline@{self._host_port}{suffix}>"

    def on_message(self, message: SipMessage, source: Address, transport: str) -> None:
        """The transport's handler: one parsed message."""
        now = time.monotonic()
        self.layer.receive(message, source, transport, now)
        self._pump()

    def _pump(self) -> None:
        for event in self.layer.events():
            try:
                match event:
                    case RequestReceived():
                        self._checked_request(event)
                    case ResponseReceived():
                        self._on_response(event)
                    case CancelReceived():
                        self._on_cancel(event)
                    case TransactionTimedOut():
                        self._on_timeout(event.key)
                    case AckTimedOut():
                        call = self._server_txn_call.pop(event.key, None)
                        if call is not None:
                            self._hang_up_caller(call, "no_ack")
            except Exception:
                log.exception("b2bua.handler_failed", sip_event=type(event).__name__)
        self._flush()

    def flush(self) -> None:
        """Send what routing decided outside a SIP event (an operator went ready)."""
        self._pump()

    def _flush(self) -> None:
        transport = self.transport
        for transmit in self.layer.transmits():
            if transport is not None:
                transport.send(transmit)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        deadlines: list[float] = []
        layer_deadline = self.layer.next_deadline()
        if layer_deadline is not None:
            deadlines.append(loop.time() + max(0.0, layer_deadline - time.monotonic()))
        flow_deadline = self._flow_deadlines.next_deadline()
        if flow_deadline is not None:
            deadlines.append(loop.time() + max(0.0, flow_deadline - self.clock()))
        if deadlines:
            self._timer = loop.call_at(min(deadlines), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.layer.handle_timer(time.monotonic())
            now = self.clock()
            self.registrar.expire(now)
            # due ones first, then run them: a deadline set while running waits for the
            # next timer (at once if due), as with the former scan of every call
            for call in self._flow_deadlines.pop_due(now):
                flow = call.flow
                if flow is not None and call.phase is not CallPhase.ENDED:
                    self._perform(call, flow.on_timer(now))
        except Exception:
            log.exception("b2bua.timer_failed")
        self._pump()

    def _respond(self, key: ServerKey, request: SipRequest, status: int, **kw: Any) -> None:
        extra = (("Server", SERVER), *kw.pop("extra_headers", ()))
        response = build_response(
            request, status, to_tag=kw.pop("to_tag", None) or _token(), extra_headers=extra
        )
        self.layer.respond(key, response, time.monotonic())

    # -- requests -----------------------------------------------------------------------------

    def _checked_request(self, event: RequestReceived) -> None:
        """Rule 5: a request whose header fields we cannot read is the peer's fault: answer
        with the status the parser names (400, 416…), never leave the transaction open."""
        request = event.request
        try:
            refused = refusal(request)
            if refused is not None:
                if request.method != "ACK":
                    status, extra = refused
                    self._respond(event.key, request, status, extra_headers=extra)
                return
            self._on_request(event)
        except RemoteSipError as exc:
            if request.method != "ACK":
                warning = ("Warning", f'399 hotline "{quote(exc.reason)}"')
                # 416 is for the Request-URI only (§8.2.2.1, checked above); an address in
                # To/From/Contact we cannot use makes the request bad (RFC 4475 §3.3.4)
                status = 400 if exc.status_hint == 416 else exc.status_hint
                self._respond(event.key, request, status, extra_headers=(warning,))

    def _on_request(self, event: RequestReceived) -> None:
        request = event.request
        method = request.method
        to_tag = parse_name_addr(request.headers.get("To") or "").tag
        if to_tag:
            self._in_dialog(event, to_tag)
            return
        if method == "INVITE":
            self._new_call(event)
        elif method == "REGISTER":
            self._register(event)
        elif method == "OPTIONS":
            self._respond(
                event.key,
                request,
                200,
                extra_headers=(("Allow", ALLOW), ("Accept", "application/sdp")),
            )
        elif method == "ACK":
            return
        elif method in ("BYE", "INFO"):
            self._respond(event.key, request, 481)
        else:
            self._respond(event.key, request, 405, extra_headers=(("Allow", ALLOW),))

    def _trusted(self, request: SipRequest, source: Address) -> bool | None:
        """True: a trunk by address or valid credentials; None: challenge; False: 403."""
        for trunk in self.center.directory.trunks:
            if trunk.address and address_matches(source[0], trunk.address):
                return True
        header = request.headers.get("Proxy-Authorization")
        if header is None:
            return None
        try:
            credentials = digest.parse_credentials(header)
        except RemoteSipError:
            return False
        for trunk in self.center.directory.trunks:
            if trunk.username == credentials.username and trunk.sip_ha1:
                verdict = digest.verify(
                    credentials,
                    method=request.method,
                    ha1=trunk.sip_ha1,
                    realm=SIP_REALM,
                    now=self.clock(),
                    secret=self.settings.secret,
                )
                if verdict is digest.DigestVerdict.OK:
                    return True
                if verdict is digest.DigestVerdict.STALE:
                    return None
        return False

    def _new_call(self, event: RequestReceived) -> None:
        request, key = event.request, event.key
        trusted = self._trusted(request, event.source)
        if trusted is None:
            challenge = digest.make_challenge(
                SIP_REALM, now=self.clock(), secret=self.settings.secret
            )
            self._respond(key, request, 407, extra_headers=(("Proxy-Authenticate", challenge),))
            return
        if not trusted:
            self.stats["rejected"] += 1
            self._respond(key, request, 403)
            return
        number = parse_uri(request.uri).user or ""
        hotline = self.center.directory.hotline_for(number)
        if hotline is None:
            self.stats["rejected"] += 1
            self._respond(key, request, 404)
            return
        if hotline.flow_document is None and not hotline.queue_ids:
            # a number with neither an IVR nor a queue: nobody can take the call (§21.4.18)
            self.stats["rejected"] += 1
            self._respond(key, request, 480, extra_headers=(("Retry-After", "300"),))
            return
        try:
            offer = sdp.parse_sdp(request.body)
            choice = sdp.negotiate_audio(offer)
        except RemoteSipError as exc:
            warning = f'399 hotline "{exc.reason}"'
            self._respond(key, request, exc.status_hint, extra_headers=(("Warning", warning),))
            return
        task = asyncio.get_running_loop().create_task(
            self._answer(event, hotline, number, offer, choice)
        )
        self._keep(task)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("b2bua.task_failed", error=repr(task.exception()))

    async def _answer(
        self,
        event: RequestReceived,
        hotline: HotlineInfo,
        number: str,
        offer: sdp.SessionDescription,
        choice: sdp.AudioChoice,
    ) -> None:
        request, key = event.request, event.key
        iid = self.center.writer.new_interaction_id()
        leg = f"c{iid}"
        try:
            # the hotline's uploaded prompts, read per call so an upload plays at once
            uploads = await asyncio.to_thread(hotline_overrides, self.settings.data_dir, hotline.id)
        except OSError as exc:  # unreadable uploads: the standard prompts still play
            log.error("b2bua.uploads_unreadable", hotline_id=hotline.id, error=str(exc))
            uploads = {}
        try:
            local = await self.media.open_leg(leg)
        except MediaError as exc:
            log.warning("b2bua.no_media", error=str(exc))
            self._respond(key, request, 503, extra_headers=(("Retry-After", "5"),))
            self._flush()
            return
        self.media.connect(leg, _remote(choice))
        self._local_media[leg] = (local.host, local.port)
        tag = _token()
        dialog = dialog_as_uas(request, tag)
        # RFC 3264 §6.1: the answer mirrors the offer's m-lines and payload numbers
        body = sdp.build_answer(
            offer, choice, session_id=iid, version=1, host=local.host, port=local.port
        )
        response = build_dialog_response(
            request,
            200,
            to_tag=tag,
            contact=self._contact(event.transport),
            body=body,
            content_type="application/sdp",
            extra_headers=(("Server", SERVER), ("Allow", ALLOW)),
        )
        caller = _user_of(request.headers.get("From"))
        now = self.clock()
        flow = self._flow_for(hotline, caller)
        call = Call(
            interaction_id=iid,
            hotline=hotline,
            dialog=dialog,
            leg_id=leg,
            invite_key=key,
            source=event.source,
            transport=event.transport,
            caller=caller,
            flow=flow,
            prompts=self.prompts.with_overrides(uploads),
        )
        call.legs.append(leg)
        self.calls[iid] = call
        self._dialogs[(dialog.call_id, tag)] = (call, "caller")
        self._by_leg[leg] = call
        self._server_txn_call[key] = call
        self.stats["calls"] += 1
        self.layer.respond(key, response, time.monotonic())
        self.center.writer.start_interaction(
            InteractionStart(
                interaction_id=iid,
                tenant_id=hotline.tenant_id,
                hotline_id=hotline.id,
                channel=Channel.CALL,
                direction=Direction.INBOUND,
                caller=caller[:64] or None,
                callee=number[:64],
                source=number[:200],
                at=now,
            )
        )
        self.center.log(
            cmd.Log(
                iid,
                EventType.ARRIVED,
                now,
                {"hotline_id": hotline.id, "channel": "call", "source": number, "caller": caller},
            )
        )
        if flow is None:
            queue_id = hotline.queue_ids[0] if hotline.queue_ids else None
            if queue_id is None:
                self._hang_up_caller(call, "no_queue")
            else:
                self._perform(call, [fa.Enqueue(queue_id), fa.StartMusic("moh")])
        else:
            self._perform(call, flow.start(now))
        self._pump()

    def _flow_for(self, hotline: HotlineInfo, caller: str) -> FlowRun | None:
        document = hotline.flow_document
        if document is None:
            return None
        flow = self._flows.get(hotline.id)
        if flow is None or flow[0] is not document:
            try:
                validated = validate_flow(
                    document,
                    prompt_exists=lambda name: self.prompts.exists(name, hotline.language),
                    queue_exists=lambda qid: qid in self.center.directory.queues,
                )
            except FlowError as exc:
                log.error("b2bua.flow_invalid", hotline_id=hotline.id, problems=str(exc))
                return None
            flow = (document, validated)
            self._flows[hotline.id] = flow
        return FlowRun(flow[1], hours=hotline.hours, language=hotline.language, caller=caller)

    def _register(self, event: RequestReceived) -> None:
        request, key = event.request, event.key
        aor = parse_name_addr(request.headers.get("To") or "").uri.user or ""
        operator = self.center.directory.operators_by_login.get(aor)
        header = request.headers.get("Authorization")
        now = self.clock()
        if header is None:
            challenge = digest.make_challenge(SIP_REALM, now=now, secret=self.settings.secret)
            self._respond(key, request, 401, extra_headers=(("WWW-Authenticate", challenge),))
            return
        if not header.lstrip().lower().startswith("digest"):
            # RFC 3261 §22.2 / RFC 4475 §3.3.7: a scheme we do not speak is answered with
            # the challenge of one we do, not as a malformed request
            challenge = digest.make_challenge(SIP_REALM, now=now, secret=self.settings.secret)
            self._respond(key, request, 401, extra_headers=(("WWW-Authenticate", challenge),))
            return
        try:
            credentials = digest.parse_credentials(header)
        except RemoteSipError as exc:
            self._respond(
                key, request, 400, extra_headers=(("Warning", f'399 hotline "{exc.reason}"'),)
            )
            return
        if operator is None or not operator.sip_ha1 or credentials.username != aor:
            self._respond(key, request, 403)
            return
        verdict = digest.verify(
            credentials,
            method="REGISTER",
            ha1=operator.sip_ha1,
            realm=SIP_REALM,
            now=now,
            secret=self.settings.secret,
        )
        if verdict is digest.DigestVerdict.STALE or verdict is digest.DigestVerdict.BAD_NONCE:
            challenge = digest.make_challenge(
                SIP_REALM, now=now, secret=self.settings.secret, stale=True
            )
            self._respond(key, request, 401, extra_headers=(("WWW-Authenticate", challenge),))
            return
        if verdict is not digest.DigestVerdict.OK:
            self._respond(key, request, 403)
            return
        default = int_or_none(request.headers.get("Expires"))
        contacts: list[tuple[str, int]] = []
        remove_all = False
        for value in request.headers.get_all("Contact"):
            if value.strip() == "*":
                remove_all = True
                continue
            address = parse_name_addr(value)
            expires = int_or_none(dict(address.params).get("expires")) if address.params else None
            requested = expires if expires is not None else default
            if requested is not None and 0 < requested < MIN_EXPIRES:
                self._respond(key, request, 423, extra_headers=(("Min-Expires", str(MIN_EXPIRES)),))
                return
            contacts.append((str(address.uri), 0 if requested == 0 else granted_expires(requested)))
        cseq = int((request.headers.get("CSeq") or "0").split()[0])
        bindings = self.registrar.update(
            aor,
            contacts,
            remove_all=remove_all,
            call_id=request.headers.get("Call-ID") or "",
            cseq=cseq,
            source=event.source,
            transport=event.transport,
            now=now,
        )
        extra = tuple(
            ("Contact", f"<{b.contact}>;expires={max(0, int(b.expires_at - now))}")
            for b in bindings
        )
        self._respond(key, request, 200, extra_headers=(*extra, ("Date", http_date(now))))
        log.info("sip.registered", aor=aor, bindings=len(bindings), source=event.source)

    # -- in-dialog requests -------------------------------------------------------------------

    def _in_dialog(self, event: RequestReceived, to_tag: str) -> None:
        request = event.request
        call_id = request.headers.get("Call-ID") or ""
        found = self._dialogs.get((call_id, to_tag))
        if found is None:
            if request.method != "ACK":
                self._respond(event.key, request, 481, to_tag=to_tag)
            return
        call, side = found
        other = call.operator if side == "operator" else call.external
        dialog = call.dialog if side == "caller" else (other.dialog if other else None)
        if dialog is None:
            self._respond(event.key, request, 481, to_tag=to_tag)
            return
        if request.method == "ACK":
            self._server_txn_call.pop(event.key, None)
            return
        try:
            check_in_dialog_request(dialog, request)
        except RemoteSipError as exc:
            self._respond(event.key, request, exc.status_hint, to_tag=to_tag)
            return
        method = request.method
        if method == "BYE":
            self._respond(event.key, request, 200, to_tag=to_tag)
            if side == "caller":
                self._caller_left(call)
            elif side == "external":
                self._external_left(call)
            else:
                self._operator_left(call)
        elif method == "INVITE":
            self._reinvite(event, call, side, to_tag)
        elif method == "INFO":
            self._respond(event.key, request, 200, to_tag=to_tag)
            if side == "caller":
                digit = info_digit(request)
                if digit is not None:
                    self.on_dtmf(call.leg_id, digit)
        elif method == "OPTIONS":
            self._respond(event.key, request, 200, to_tag=to_tag, extra_headers=(("Allow", ALLOW),))
        else:
            self._respond(event.key, request, 405, to_tag=to_tag, extra_headers=(("Allow", ALLOW),))

    def _reinvite(self, event: RequestReceived, call: Call, side: str, to_tag: str) -> None:
        """Hold / resume (RFC 3264 §8.4): answer with our same media, note the direction."""
        request = event.request
        other = call.operator if side == "operator" else call.external
        leg = call.leg_id if side == "caller" else other.leg_id if other else ""
        try:
            choice = sdp.negotiate_audio(sdp.parse_sdp(request.body)) if request.body else None
        except RemoteSipError as exc:
            self._respond(event.key, request, exc.status_hint, to_tag=to_tag)
            return
        task = asyncio.get_running_loop().create_task(
            self._answer_reinvite(event, call, side, leg, choice, to_tag)
        )
        self._keep(task)

    async def _answer_reinvite(
        self,
        event: RequestReceived,
        call: Call,
        side: str,
        leg: str,
        choice: sdp.AudioChoice | None,
        to_tag: str,
    ) -> None:
        body = b""
        if choice is not None:
            self.media.connect(leg, _remote(choice))
            info = self._local_media.get(leg)
            if info is not None:
                body = sdp.build_sdp(
                    session_id=call.interaction_id,
                    version=2,
                    host=info[0],
                    port=info[1],
                    codec=choice.codec,
                    dtmf_payload_type=choice.dtmf_payload_type,
                    direction=choice.direction,
                )
        response = build_dialog_response(
            event.request,
            200,
            to_tag=to_tag,
            contact=self._contact(event.transport),
            body=body,
            content_type="application/sdp" if body else None,
            extra_headers=(("Server", SERVER),),
        )
        self.layer.respond(event.key, response, time.monotonic())
        if side == "operator" and choice is not None:
            if not choice.send_allowed and call.phase is CallPhase.TALKING:
                self.hold(call.interaction_id)
            elif choice.send_allowed and call.phase is CallPhase.HELD:
                self.resume(call.interaction_id)
        self._pump()

    def _on_cancel(self, event: CancelReceived) -> None:
        call = self._server_txn_call.pop(event.invite_key, None)
        if call is None:
            return
        # we answer INVITEs at once, so a CANCEL that still matched raced our 200
        self._caller_left(call)

    # -- responses (we are the UAC towards operator phones) -----------------------------------

    def _on_response(self, event: ResponseReceived) -> None:
        found = self._client_txn.get(event.key)
        if found is None:
            return
        call, what = found
        response = event.response
        if what == "external":
            self._on_external_response(call, event)
            return
        if what != "invite":
            if response.status >= 200:
                self._client_txn.pop(event.key, None)
            return
        leg = call.operator
        if leg is None or leg.invite_key != event.key:
            return
        status = response.status
        if status < 200:
            return
        if 200 <= status < 300:
            self._operator_answered(call, leg, response)
            return
        self._client_txn.pop(event.key, None)
        self._operator_failed(call, leg, f"{status}")

    def _on_timeout(self, key: ServerKey | ClientKey) -> None:
        found = self._client_txn.pop(key, None)  # type: ignore[arg-type]
        if found is None:
            return
        call, what = found
        if what == "invite" and call.operator is not None and call.operator.invite_key == key:
            self._operator_failed(call, call.operator, "timeout")
        elif what == "external" and call.external is not None and call.external.invite_key == key:
            call.external.cancelled = True  # timed out: nothing to cancel
            self._external_failed(call, "timeout")
        elif what == "external":
            self._abandoned_external.pop(key, None)  # type: ignore[arg-type]

    def _operator_failed(self, call: Call, leg: OperatorLeg, why: str) -> None:
        call.operator = None
        self._close_leg(call, leg.leg_id)
        if not leg.cancelled and call.phase is CallPhase.QUEUED:
            log.info("b2bua.offer_failed", interaction_id=call.interaction_id, why=why)
            self.center.handle(ev.OfferDeclined(call.interaction_id, leg.operator_id))

    def _operator_answered(self, call: Call, leg: OperatorLeg, response: SipResponse) -> None:
        if leg.invite is None or leg.invite_key is None:
            return  # a browser leg has no INVITE: its answer comes from answer_in_browser
        dialog = dialog_as_uac(leg.invite, response)
        ack = build_ack_for_2xx(dialog, 1, via=self._via(leg.transport))
        self.layer.send_stateless(ack, leg.destination, leg.transport)
        if leg.dialog is not None:
            return  # a retransmitted 2xx: the ACK above was all it needed
        leg.dialog = dialog
        self._dialogs[(dialog.call_id, dialog.local_tag)] = (call, "operator")
        self._client_txn.pop(leg.invite_key, None)
        if leg.cancelled or call.phase is not CallPhase.QUEUED:
            self._send_bye(dialog, leg.destination, leg.transport, call, "operator")
            self._close_leg(call, leg.leg_id)
            call.operator = None
            return
        try:
            choice = sdp.negotiate_audio(sdp.parse_sdp(response.body))
        except RemoteSipError as exc:
            log.warning("b2bua.operator_sdp", error=exc.reason)
            self._send_bye(dialog, leg.destination, leg.transport, call, "operator")
            self._operator_failed(call, leg, "sdp")
            return
        self._operator_connected(call, leg, _remote(choice))

    def _operator_connected(self, call: Call, leg: OperatorLeg, remote: RemoteMedia) -> None:
        """The operator answered (phone's 200 OK or the browser's answer): bridge,
        record, and tell routing."""
        self.media.connect(leg.leg_id, remote)
        leg.answered = True
        call.phase = CallPhase.TALKING
        call.answered_at = self.clock()
        self.stats["answered"] += 1
        self.center.handle(ev.OfferAccepted(call.interaction_id, leg.operator_id))
        self.center.writer.update(call.interaction_id, operator_id=leg.operator_id)
        call.play_generation += 1
        self.media.stop_playback(call.leg_id)
        self.media.bridge(call.leg_id, leg.leg_id)
        if call.flow is not None:
            self._perform(call, call.flow.on_answered(self.clock()))
        if call.hotline.recording_enabled:
            self._start_recording(call, leg)

    # -- commands from routing ----------------------------------------------------------------

    def _on_command(self, command: cmd.Command) -> None:
        match command:
            case cmd.Offer():
                self._ring(command)
            case cmd.CancelOffer():
                call = self.calls.get(command.interaction_id)
                if call is not None and call.operator is not None and not call.operator.answered:
                    self._cancel_ring(call)
            case cmd.AnnounceWait():
                call = self.calls.get(command.interaction_id)
                if call is not None and call.flow is not None:
                    ewt = None if command.ewt_seconds < 0 else command.ewt_seconds
                    self._perform(
                        call,
                        call.flow.on_wait_estimate(
                            ewt, command.position, command.offer_callback, self.clock()
                        ),
                    )
            case cmd.Divert():
                call = self.calls.get(command.interaction_id)
                if call is not None:
                    self._divert(call, command)
            case cmd.OperatorStateChanged() | cmd.Log():
                pass

    def _ring(self, offer: cmd.Offer) -> None:
        call = self.calls.get(offer.interaction_id)
        info = self.center.directory.operator_info.get(offer.operator_id)
        if call is None or info is None:
            self.center.handle(ev.OfferDeclined(offer.interaction_id, offer.operator_id))
            return
        phone = self.softphones.get(offer.operator_id) if self.softphones is not None else None
        if phone is not None and not phone.in_call:
            self._keep(asyncio.get_running_loop().create_task(self._ring_browser(call, offer)))
            return
        bindings = self.registrar.lookup(info.login, self.clock())
        if not bindings:
            log.info("b2bua.no_phone", operator=info.login)
            self.center.handle(ev.OfferDeclined(offer.interaction_id, offer.operator_id))
            return
        task = asyncio.get_running_loop().create_task(
            self._ring_phone(call, offer, info, bindings[0])
        )
        self._keep(task)

    async def _open_operator_leg(self, call: Call, offer: cmd.Offer) -> str | None:
        """A media leg for the operator's side; None (offer declined or moot) when no
        port is free or the caller left meanwhile."""
        leg_id = f"o{call.interaction_id}.{_token()[:6]}"
        try:
            local = await self.media.open_leg(leg_id)
        except MediaError:
            self.center.handle(ev.OfferDeclined(offer.interaction_id, offer.operator_id))
            return None
        if call.phase is not CallPhase.QUEUED or call.interaction_id not in self.calls:
            await self.media.close_leg(leg_id)
            return None
        self._local_media[leg_id] = (local.host, local.port)
        call.legs.append(leg_id)
        self._by_leg[leg_id] = call
        return leg_id

    async def _ring_phone(self, call: Call, offer: cmd.Offer, info: Any, binding: Any) -> None:
        leg_id = await self._open_operator_leg(call, offer)
        if leg_id is None:
            return
        local_host, local_port = self._local_media[leg_id]
        greeting = render_greeting(
            call.hotline.greeting_template,
            operator=info.display_name,
            company=call.hotline.tenant_name,
        )
        body = sdp.build_offer(
            session_id=call.interaction_id, version=1, host=local_host, port=local_port
        )
        transport = binding.transport
        host = self._host_port
        caller = call.caller or "anonymous"
        request = new_request(
            "INVITE",
            binding.contact,
            from_=f'"{quote(call.hotline.name)}" <sip:{caller}@{host}>;tag={_token()}',
            to=f"<sip:{info.login}@{host}>",
            call_id=f"{_token()}@{self.settings.advertised_host}",
            cseq=1,
            via=self._via(transport),
            contact=self._contact(transport),
            body=body,
            content_type="application/sdp",
            extra_headers=(
                ("Subject", greeting),
                ("X-Hotline-Interaction", str(call.interaction_id)),
                ("Allow", ALLOW),
            ),
        )
        destination = phone_address(binding)
        key = self.layer.request(request, destination, transport, time.monotonic())
        call.operator = OperatorLeg(
            operator_id=offer.operator_id,
            leg_id=leg_id,
            invite=request,
            invite_key=key,
            destination=destination,
            transport=transport,
        )
        self._client_txn[key] = (call, "invite")
        self._flush()

    async def _ring_browser(self, call: Call, offer: cmd.Offer) -> None:
        """The browser softphone "rings": the desktop shows the offer (live hub) with an
        answer button; only the media leg is opened here, ready to bridge."""
        leg_id = await self._open_operator_leg(call, offer)
        if leg_id is None:
            return
        call.operator = OperatorLeg(
            operator_id=offer.operator_id,
            leg_id=leg_id,
            invite=None,
            invite_key=None,
            destination=("", 0),
            transport="webrtc",
            browser=True,
        )
        phone = self.softphones.get(offer.operator_id) if self.softphones is not None else None
        if phone is not None and phone.auto_answer:
            self.answer_in_browser(call.interaction_id, offer.operator_id)

    def answer_in_browser(self, interaction_id: int, operator_id: int) -> bool:
        """The operator pressed "answer" on the desktop with the browser softphone on."""
        call = self.calls.get(interaction_id)
        phone = self.softphones.get(operator_id) if self.softphones is not None else None
        leg = call.operator if call is not None else None
        if (
            call is None
            or leg is None
            or phone is None
            or not leg.browser
            or leg.operator_id != operator_id
            or leg.answered
            or leg.cancelled
            or call.phase is not CallPhase.QUEUED
        ):
            return False
        host, port = phone.rtp_address
        phone.attach(self._local_media[leg.leg_id])
        self._browser_legs[leg.leg_id] = phone
        self._operator_connected(call, leg, RemoteMedia(host, port, Codec.PCMU, None))
        self._pump()
        return True

    def decline_in_browser(self, interaction_id: int, operator_id: int) -> bool:
        """The operator rejected a ringing offer: routing offers the call to someone else."""
        call = self.calls.get(interaction_id)
        leg = call.operator if call is not None else None
        if call is None or leg is None or not leg.browser or leg.operator_id != operator_id:
            return False
        if leg.answered or leg.cancelled:
            return False
        self._operator_failed(call, leg, "declined")
        self._pump()
        return True

    def monitor(self, interaction_id: int, user_id: int) -> bool:
        """Silent monitor: the user's browser phone hears both parties of a call being
        talked (copies of each leg's incoming audio, mixed in the gateway); nobody hears
        them.  Raises :class:`MediaError` when the media backend cannot tap legs."""
        call = self.calls.get(interaction_id)
        phone = self.softphones.get(user_id) if self.softphones is not None else None
        leg = call.operator if call is not None else None
        if call is None or leg is None or not leg.answered or phone is None or phone.in_call:
            return False
        listeners = self._monitors.setdefault(interaction_id, {})
        listeners[user_id] = phone
        try:
            self._retap(call)
        except MediaError:
            del listeners[user_id]
            raise
        phone.listen([self._local_media[call.leg_id], self._local_media[leg.leg_id]])
        return True

    def stop_monitor(self, interaction_id: int, user_id: int) -> bool:
        listeners = self._monitors.get(interaction_id, {})
        phone = listeners.pop(user_id, None)
        if phone is None:
            return False
        phone.stop_listening()
        call = self.calls.get(interaction_id)
        if call is not None:
            self._retap(call)
        return True

    def _retap(self, call: Call) -> None:
        listeners = self._monitors.get(call.interaction_id, {})
        destinations = [phone.rtp_address for phone in listeners.values()]
        legs = [call.leg_id] + ([call.operator.leg_id] if call.operator is not None else [])
        for leg_id in legs:
            self.media.tap(leg_id, destinations)
        if not listeners:
            self._monitors.pop(call.interaction_id, None)

    def _end_monitors(self, call: Call) -> None:
        """The talk ended (or its operator leg did): listeners hear nothing more."""
        for phone in self._monitors.pop(call.interaction_id, {}).values():
            phone.stop_listening()
        if call.leg_id in self._local_media:
            self.media.tap(call.leg_id, [])

    def browser_phone_gone(self, operator_id: int) -> None:
        """A softphone's connection ended: its call ends as if the operator hung up, a
        ringing offer is declined, a monitor stops."""
        for interaction_id, listeners in list(self._monitors.items()):
            if operator_id in listeners:
                self.stop_monitor(interaction_id, operator_id)
        for call in list(self.calls.values()):
            leg = call.operator
            if leg is None or not leg.browser or leg.operator_id != operator_id:
                continue
            if leg.answered:
                self._operator_left(call)
            elif not leg.cancelled:
                self._operator_failed(call, leg, "softphone_gone")
        self._pump()

    def _cancel_ring(self, call: Call) -> None:
        leg = call.operator
        if leg is None or leg.cancelled:
            return
        leg.cancelled = True
        if leg.invite is None:  # the browser: nothing was sent, nothing to cancel
            call.operator = None
            self._close_leg(call, leg.leg_id)
            return
        cancel = build_cancel(leg.invite)
        key = self.layer.request(cancel, leg.destination, leg.transport, time.monotonic())
        self._client_txn[key] = (call, "cancel")
        self._flush()

    def _divert(self, call: Call, divert: cmd.Divert) -> None:
        """The queue gave up (max wait): offer a callback or take a voicemail."""
        call.phase = CallPhase.IVR
        if divert.action.value == "callback":
            self._promise_callback(call, CallbackOrigin.QUEUE, divert.queue_id)
            self._play(call, [fa.Prompt("callback_accepted")], then_hang_up=True)
        else:
            self._perform(
                call,
                [
                    fa.Play(
                        (fa.Prompt("voicemail"), fa.Prompt("beep")), False, call.hotline.language
                    ),
                ],
            )
            call.flow = None
            self._start_voicemail(call, self.settings.voicemail_max_seconds)

    # -- flow actions -------------------------------------------------------------------------

    def _perform(self, call: Call, actions: Sequence[fa.FlowAction]) -> None:
        """Carry out what the flow asked for.  Every report to a flow run comes through
        here, so this is where the run's next deadline is read into the heap."""
        try:
            for action in actions:
                if call.phase is CallPhase.ENDED:
                    return
                try:
                    self._perform_one(call, action)
                except Exception:
                    log.exception(
                        "b2bua.action_failed",
                        action=repr(action),
                        interaction_id=call.interaction_id,
                    )
        finally:
            flow, deadline = call.flow, None
            if flow is not None and call.phase is not CallPhase.ENDED:
                deadline = flow.next_deadline()
            self._flow_deadlines.set(call, deadline)

    def _perform_one(self, call: Call, action: fa.FlowAction) -> None:
        now = self.clock()
        iid = call.interaction_id
        match action:
            case fa.Play():
                self._play(call, list(action.items), language=action.language)
            case fa.StopPlayback():
                call.play_generation += 1
                self.media.stop_playback(call.leg_id)
            case fa.StartMusic():
                self._play(call, [fa.Prompt(action.name)], loop=True)
            case fa.Enqueue():
                call.phase = CallPhase.QUEUED
                call.queue_id = action.queue_id
                self.center.writer.update(iid, queue_id=action.queue_id)
                self.center.handle(ev.InteractionArrived(iid, action.queue_id))
            case fa.RequestWaitEstimate():
                announce = self.center.engine.announcement_for(iid)
                if announce is not None and call.flow is not None:
                    ewt = None if announce.ewt_seconds < 0 else announce.ewt_seconds
                    self._perform(
                        call,
                        call.flow.on_wait_estimate(
                            ewt, announce.position, announce.offer_callback, now
                        ),
                    )
            case fa.RequestCallback():
                self._promise_callback(call, CallbackOrigin.QUEUE, action.queue_id)
                if call.phase is CallPhase.QUEUED:
                    call.phase = CallPhase.IVR
                    self.center.handle(ev.CallbackAccepted(iid, call.caller))
            case fa.StartVoicemail():
                self._start_voicemail(call, action.max_seconds)
            case fa.StopVoicemail():
                self._stop_voicemail(call)
            case fa.CallbackRequested():
                self._promise_callback(call, CallbackOrigin.VOICEMAIL, None, action.number)
                self.center.log(
                    cmd.Log(iid, EventType.CALLBACK_REQUESTED, now, {"origin": "voicemail"})
                )
            case fa.Transfer():
                self._transfer_from_flow(call, action)
            case fa.SetTag():
                self.center.log(cmd.Log(iid, EventType.IVR, now, {action.key: action.value}))
            case fa.SurveyAnswered():
                self.center.log(cmd.Log(iid, EventType.IVR, now, {"csat": action.score}))
            case fa.LogIvr():
                self.center.log(cmd.Log(iid, EventType.IVR, now, dict(action.data)))
            case fa.Hangup():
                self._hang_up_caller(call, str(action.reason))

    def _play(
        self,
        call: Call,
        items: list[fa.PromptItem],
        *,
        language: str | None = None,
        loop: bool = False,
        then_hang_up: bool = False,
    ) -> None:
        try:
            paths = (call.prompts or self.prompts).render(items, language or call.hotline.language)
        except Exception as exc:
            log.error("b2bua.prompt_missing", error=str(exc), interaction_id=call.interaction_id)
            paths = []
        call.play_generation += 1
        generation = call.play_generation
        task = asyncio.get_running_loop().create_task(
            self._start_play(call, paths, generation, loop, then_hang_up)
        )
        self._keep(task)

    async def _start_play(
        self, call: Call, paths: list[Path], generation: int, loop: bool, then_hang_up: bool
    ) -> None:
        if not paths:
            self._prompt_done(call, generation, then_hang_up)
            return
        try:
            playback = await self.media.play(call.leg_id, paths, loop=loop)
        except MediaError as exc:
            log.warning("b2bua.play_failed", error=str(exc))
            self._prompt_done(call, generation, then_hang_up)
            return
        if generation != call.play_generation:
            return  # a newer play replaced it while it loaded: the media layer did too
        call.playback_id = playback
        if then_hang_up:
            self._hangup_after[playback] = call

    def _prompt_done(self, call: Call, generation: int, then_hang_up: bool) -> None:
        if generation != call.play_generation or call.phase is CallPhase.ENDED:
            return
        if then_hang_up:
            self._hang_up_caller(call, "flow")
        elif call.flow is not None:
            self._perform(call, call.flow.on_prompt_finished(self.clock()))
        self._pump()

    # -- media listener -----------------------------------------------------------------------

    def on_dtmf(self, leg_id: str, digit: str) -> None:
        call = self._by_leg.get(leg_id)
        if call is None or leg_id != call.leg_id or call.flow is None:
            return
        if call.phase in (CallPhase.TALKING, CallPhase.HELD):
            return  # digits during talk are the operator's business (relayed by the bridge)
        self._perform(call, call.flow.on_digit(digit, self.clock()))
        self._pump()

    def on_playback_finished(self, leg_id: str, playback_id: int) -> None:
        call = self._by_leg.get(leg_id)
        if call is None or leg_id != call.leg_id:
            return
        if self._hangup_after.pop(playback_id, None) is not None:
            self._hang_up_caller(call, "flow")
            self._pump()
            return
        if call.playback_id != playback_id:
            return
        call.playback_id = None
        if call.flow is not None and call.phase is not CallPhase.ENDED:
            self._perform(call, call.flow.on_prompt_finished(self.clock()))
        self._pump()

    # -- voicemail, recording, callbacks ------------------------------------------------------

    def _media_path(self, call: Call, kind: str) -> Path:
        day = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        return (
            self.settings.data_dir
            / "recordings"
            / str(call.hotline.tenant_id)
            / f"{day:%Y/%m/%d}"
            / f"{call.interaction_id}-{kind}.wav"
        )

    def _start_voicemail(self, call: Call, max_seconds: int) -> None:
        key = f"vm{call.interaction_id}"
        path = self._media_path(call, "voicemail")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.media.start_recording(key, path, call.leg_id, None)
        call.voicemail_key = key
        call.voicemail_started_at = self.clock()

    def _stop_voicemail(self, call: Call) -> None:
        key = call.voicemail_key
        if key is None:
            return
        call.voicemail_key = None
        task = asyncio.get_running_loop().create_task(self._save_recording(call, key, "voicemail"))
        self._keep(task)

    def _start_recording(self, call: Call, leg: OperatorLeg) -> None:
        key = f"rec{call.interaction_id}"
        path = self._media_path(call, "call")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.media.start_recording(key, path, call.leg_id, leg.leg_id)
        call.recording_key = key
        call.recording_started_at = self.clock()

    def _stop_recording(self, call: Call) -> None:
        key = call.recording_key
        if key is None:
            return
        call.recording_key = None
        task = asyncio.get_running_loop().create_task(self._save_recording(call, key, "call"))
        self._keep(task)

    async def _save_recording(self, call: Call, key: str, kind: str) -> None:
        result = await self.media.stop_recording(key)
        started = call.voicemail_started_at if kind == "voicemail" else call.recording_started_at
        retain = None
        self.center.writer.add_row(
            m.Recording,
            {
                "tenant_id": call.hotline.tenant_id,
                "hotline_id": call.hotline.id,
                "interaction_id": call.interaction_id,
                "path": str(result.path),
                "started_at": dt.datetime.fromtimestamp(started, dt.UTC),
                "duration_seconds": result.duration_seconds,
                "channels": result.channels,
                "size_bytes": result.size_bytes,
                "retain_until": retain,
            },
        )
        self.center.log(
            cmd.Log(
                call.interaction_id,
                EventType.IVR,
                self.clock(),
                {"recording": kind, "seconds": round(result.duration_seconds, 2)},
            )
        )

    def _promise_callback(
        self, call: Call, origin: CallbackOrigin, queue_id: int | None, number: str | None = None
    ) -> None:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        self.center.writer.add_row(
            m.Callback,
            {
                "tenant_id": call.hotline.tenant_id,
                "hotline_id": call.hotline.id,
                "queue_id": queue_id,
                "interaction_id": call.interaction_id,
                "number": (number or call.caller or "")[:64],
                "origin": origin,
                "status": CallbackStatus.PENDING,
                "requested_at": now,
                "queued_at": now,
                "attempts": 0,
            },
        )

    # -- transfers, hold (also used by the operator API) ----------------------------------------

    def _transfer_from_flow(self, call: Call, action: fa.Transfer) -> None:
        if action.kind is fa.TransferKind.QUEUE and action.value.isdigit():
            self._perform(call, [fa.Enqueue(int(action.value)), fa.StartMusic("moh")])
        elif action.kind is fa.TransferKind.HOTLINE:
            target = next(
                (h for h in self.center.directory.hotlines.values() if str(h.id) == action.value),
                None,
            )
            flow = None if target is None else self._flow_for(target, call.caller)
            if target is None or flow is None:
                self._hang_up_caller(call, "transfer_failed")
                return
            call.flow = flow
            self._perform(call, flow.start(self.clock()))
        else:
            # dialling out needs an outbound trunk, not configured in this release
            log.warning("b2bua.transfer_unsupported", kind=str(action.kind), value=action.value)
            self._hang_up_caller(call, "transfer_unsupported")

    # -- transfer to an outside number (through an outbound trunk) ----------------------------
    #
    # Rule 1. The caller is held (music) while the number is dialled; the operator stays
    #         on the call, so a failure (busy, no answer, refused) gives the caller back
    #         to them (resume), and "resume" before the answer cancels the transfer.
    # Rule 2. When the number answers, the operator's part ends as if they hung up (they
    #         go to wrap-up; a TRANSFERRED line names the number) and the caller is
    #         bridged to it until either side hangs up.
    # Rule 3. The operator may hang up while it rings (a blind transfer): their part
    #         ends there; a failure then ends the call.

    def _outbound_route(self) -> OutboundRoute | None:
        for trunk in self.center.directory.trunks:
            if trunk.outbound_uri:
                try:
                    return parse_outbound_uri(trunk.outbound_uri)
                except ValueError as exc:
                    log.error("b2bua.outbound_uri", trunk=trunk.name, error=str(exc))
        return None

    def transfer_to_number(self, interaction_id: int, number: str) -> str | None:
        """Start dialling ``number`` (already :func:`dialable_number`) for the caller;
        ``None`` when it started, else why not: ``"call_state"`` or ``"no_trunk"``."""
        call = self.calls.get(interaction_id)
        if (
            call is None
            or call.operator is None
            or not call.operator.answered
            or call.phase not in (CallPhase.TALKING, CallPhase.HELD)
            or call.transferring_to is not None
        ):
            return "call_state"
        route = self._outbound_route()
        if route is None:
            return "no_trunk"
        if call.phase is CallPhase.TALKING:
            self.hold(interaction_id)  # Rule 1
        call.transferring_to = number
        self.center.log(
            cmd.Log(interaction_id, EventType.IVR, self.clock(), {"transfer_dialing": number})
        )
        self._keep(asyncio.get_running_loop().create_task(self._dial_out(call, route, number)))
        return None

    async def _dial_out(self, call: Call, route: OutboundRoute, number: str) -> None:
        leg_id = f"x{call.interaction_id}.{_token()[:6]}"
        try:
            local = await self.media.open_leg(leg_id)
        except MediaError:
            self._external_failed(call, "no_media")
            return
        if call.transferring_to != number or call.interaction_id not in self.calls:
            await self.media.close_leg(leg_id)  # cancelled (resume, hang-up) meanwhile
            return
        self._local_media[leg_id] = (local.host, local.port)
        call.legs.append(leg_id)
        self._by_leg[leg_id] = call
        host = self._host_port
        caller = call.caller or "anonymous"
        request = new_request(
            "INVITE",
            route.request_uri(number),
            from_=f'"{quote(call.hotline.name)}" <sip:{caller}@{host}>;tag={_token()}',
            to=f"<sip:{number}@{route.host};user=phone>",
            call_id=f"{_token()}@{self.settings.advertised_host}",
            cseq=1,
            via=self._via(route.transport),
            contact=self._contact(route.transport),
            body=sdp.build_offer(
                session_id=call.interaction_id, version=1, host=local.host, port=local.port
            ),
            content_type="application/sdp",
            extra_headers=(
                ("X-Hotline-Interaction", str(call.interaction_id)),
                ("Allow", ALLOW),
            ),
        )
        destination = (route.host, route.port)
        key = self.layer.request(request, destination, route.transport, time.monotonic())
        operator_id = call.operator.operator_id if call.operator is not None else 0
        call.external = OperatorLeg(
            operator_id=operator_id,
            leg_id=leg_id,
            invite=request,
            invite_key=key,
            destination=destination,
            transport=route.transport,
        )
        self._client_txn[key] = (call, "external")
        self._flush()

    def _on_external_response(self, call: Call, event: ResponseReceived) -> None:
        response = event.response
        leg = call.external
        if leg is None or leg.invite_key != event.key:
            # a leg already given up (CANCEL sent): its last answer still needs an end
            late = self._abandoned_external.get(event.key)
            if late is not None and response.status >= 200:
                del self._abandoned_external[event.key]
                self._client_txn.pop(event.key, None)
                if response.status < 300 and late.invite is not None:  # 200 raced CANCEL
                    dialog = dialog_as_uac(late.invite, response)
                    ack = build_ack_for_2xx(dialog, 1, via=self._via(late.transport))
                    self.layer.send_stateless(ack, late.destination, late.transport)
                    self._send_bye(dialog, late.destination, late.transport, call, "external")
            return
        if leg.invite is None or response.status < 200:
            return  # ringing: the caller keeps hearing music
        if response.status >= 300:
            self._client_txn.pop(event.key, None)
            leg.cancelled = True  # the INVITE is over: nothing to cancel
            self._external_failed(call, str(response.status))
            return
        dialog = dialog_as_uac(leg.invite, response)
        ack = build_ack_for_2xx(dialog, 1, via=self._via(leg.transport))
        self.layer.send_stateless(ack, leg.destination, leg.transport)
        if leg.dialog is not None:
            return  # a retransmitted 2xx
        leg.dialog = dialog
        self._dialogs[(dialog.call_id, dialog.local_tag)] = (call, "external")
        self._client_txn.pop(event.key, None)
        if call.phase is not CallPhase.HELD:
            self._drop_external(call)
            return
        try:
            choice = sdp.negotiate_audio(sdp.parse_sdp(response.body))
        except RemoteSipError as exc:
            log.warning("b2bua.external_sdp", error=exc.reason)
            self._external_failed(call, "sdp")
            return
        self.media.connect(leg.leg_id, _remote(choice))
        leg.answered = True
        now = self.clock()
        operator = call.operator
        self.center.log(
            cmd.Log(
                call.interaction_id,
                EventType.TRANSFERRED,
                now,
                {"to": call.transferring_to, "operator_id": leg.operator_id or None},
            )
        )
        if operator is not None:  # Rule 2: the operator's part ends (wrap-up)
            self._end_operator_leg(call, operator)
            self.center.handle(ev.InteractionEnded(call.interaction_id))
        call.phase = CallPhase.EXTERNAL
        call.play_generation += 1
        self.media.stop_playback(call.leg_id)
        self.media.bridge(call.leg_id, leg.leg_id)
        log.info("b2bua.transferred_out", interaction_id=call.interaction_id)

    def _external_failed(self, call: Call, why: str) -> None:
        number = call.transferring_to
        self._drop_external(call)
        log.info("b2bua.transfer_failed", interaction_id=call.interaction_id, why=why)
        self.center.log(
            cmd.Log(
                call.interaction_id,
                EventType.IVR,
                self.clock(),
                {"transfer_failed": why, "to": number},
            )
        )
        if call.phase is CallPhase.HELD and call.operator is not None:
            self.resume(call.interaction_id)  # Rule 1: back to the operator
        elif call.phase is CallPhase.HELD:
            self._hang_up_caller(call, "transfer_failed")  # Rule 3
        self._pump()

    def _external_left(self, call: Call) -> None:
        """The outside party hung up (BYE): the call ends."""
        leg = call.external
        if leg is not None and leg.dialog is not None:
            self._dialogs.pop((leg.dialog.call_id, leg.dialog.local_tag), None)
            leg.dialog = None  # nothing more to send it
        self._hang_up_caller(call, "external_hung_up")

    def _drop_external(self, call: Call) -> None:
        """End the leg towards the outside number, whatever its state (CANCEL while it
        rings, BYE once answered)."""
        leg = call.external
        call.transferring_to = None
        if leg is None:
            return
        call.external = None
        if leg.dialog is not None:
            self._send_bye(leg.dialog, leg.destination, leg.transport, call, "external")
            self._dialogs.pop((leg.dialog.call_id, leg.dialog.local_tag), None)
        elif leg.invite is not None and leg.invite_key is not None and not leg.cancelled:
            leg.cancelled = True
            cancel = build_cancel(leg.invite)
            key = self.layer.request(cancel, leg.destination, leg.transport, time.monotonic())
            self._client_txn[key] = (call, "cancel")
            self._abandoned_external[leg.invite_key] = leg
        self.media.unbridge(leg.leg_id)
        self._close_leg(call, leg.leg_id)

    def hold(self, interaction_id: int) -> bool:
        call = self.calls.get(interaction_id)
        if call is None or call.phase is not CallPhase.TALKING or call.operator is None:
            return False
        call.phase = CallPhase.HELD
        self.media.unbridge(call.leg_id)
        self._play(call, [fa.Prompt("moh")], loop=True)
        self.center.handle(ev.InteractionHeld(interaction_id))
        self._pump()
        return True

    def resume(self, interaction_id: int) -> bool:
        call = self.calls.get(interaction_id)
        if call is None or call.phase is not CallPhase.HELD or call.operator is None:
            return False
        self._drop_external(call)  # taking the caller back cancels a transfer being dialled
        call.phase = CallPhase.TALKING
        call.play_generation += 1
        self.media.stop_playback(call.leg_id)
        self.media.bridge(call.leg_id, call.operator.leg_id)
        self.center.handle(ev.InteractionResumed(interaction_id))
        self._pump()
        return True

    def transfer_to_queue(self, interaction_id: int, queue_id: int) -> bool:
        call = self.calls.get(interaction_id)
        if (
            call is None
            or call.operator is None
            or call.phase not in (CallPhase.TALKING, CallPhase.HELD)
        ):
            return False
        leg = call.operator
        self._drop_external(call)
        self._end_operator_leg(call, leg)
        call.phase = CallPhase.QUEUED
        call.queue_id = queue_id
        self.center.handle(ev.InteractionTransferred(interaction_id, queue_id))
        self._play(call, [fa.Prompt("moh")], loop=True)
        self._pump()
        return True

    def hang_up(self, interaction_id: int) -> bool:
        """The operator's "hang up" button: same as the operator's phone sending BYE."""
        call = self.calls.get(interaction_id)
        if call is None or call.operator is None or not call.operator.answered:
            return False
        leg = call.operator
        if leg.dialog is not None:
            self._send_bye(leg.dialog, leg.destination, leg.transport, call, "operator")
        self._operator_left(call)
        self._pump()
        return True

    # -- teardown -----------------------------------------------------------------------------

    def _end_operator_leg(self, call: Call, leg: OperatorLeg) -> None:
        self._end_monitors(call)
        self._stop_recording(call)
        self.media.unbridge(call.leg_id)
        if leg.dialog is not None:
            self._send_bye(leg.dialog, leg.destination, leg.transport, call, "operator")
            self._dialogs.pop((leg.dialog.call_id, leg.dialog.local_tag), None)
        call.operator = None
        self._close_leg(call, leg.leg_id)

    def _operator_left(self, call: Call) -> None:
        leg = call.operator
        if leg is None:
            return
        if leg.dialog is not None:
            self._dialogs.pop((leg.dialog.call_id, leg.dialog.local_tag), None)
        call.operator = None
        self._end_monitors(call)
        self._stop_recording(call)
        self.media.unbridge(call.leg_id)
        self._close_leg(call, leg.leg_id)
        if call.transferring_to is not None and call.phase is CallPhase.HELD:
            # a blind transfer: the operator may hang up while the number rings
            self.center.handle(ev.InteractionEnded(call.interaction_id))
            return
        if call.phase in (CallPhase.TALKING, CallPhase.HELD):
            self.center.handle(ev.InteractionEnded(call.interaction_id))
            call.phase = CallPhase.AFTER_CALL
            if call.flow is not None:
                self._perform(call, call.flow.on_operator_hung_up(self.clock()))
            else:
                self._hang_up_caller(call, "operator_hung_up")

    def _caller_left(self, call: Call) -> None:
        """The caller hung up (BYE or CANCEL)."""
        if call.phase is CallPhase.ENDED:
            return
        now = self.clock()
        phase = call.phase
        if call.flow is not None:
            self._perform(call, call.flow.on_caller_hung_up(now))
        self._stop_voicemail(call)
        if phase is CallPhase.QUEUED:
            if call.operator is not None:
                self._cancel_ring(call)
            self.center.handle(ev.CallerAbandoned(call.interaction_id))
        elif phase in (CallPhase.TALKING, CallPhase.HELD):
            leg = call.operator
            if leg is not None:
                self._end_operator_leg(call, leg)
            self.center.handle(ev.InteractionEnded(call.interaction_id))
        elif phase is CallPhase.IVR and call.queue_id is None:
            self.center.log(
                cmd.Log(call.interaction_id, EventType.ABANDONED, now, {"where": "ivr"})
            )
        self._finish(call)

    def _hang_up_caller(self, call: Call, reason: str) -> None:
        if call.phase is CallPhase.ENDED:
            return
        if call.phase is CallPhase.QUEUED:
            if call.operator is not None:
                self._cancel_ring(call)
            self.center.handle(ev.CallerAbandoned(call.interaction_id))
        elif call.operator is not None:
            self._end_operator_leg(call, call.operator)
            if call.phase in (CallPhase.TALKING, CallPhase.HELD):
                self.center.handle(ev.InteractionEnded(call.interaction_id))
        self._stop_voicemail(call)
        self._send_bye(call.dialog, call.source, call.transport, call, "caller")
        self.center.log(
            cmd.Log(call.interaction_id, EventType.IVR, self.clock(), {"hangup": reason})
        )
        self._finish(call)

    def _finish(self, call: Call) -> None:
        self._drop_external(call)
        if call.interaction_id in self._monitors:
            self._end_monitors(call)
        call.phase = CallPhase.ENDED
        self._flow_deadlines.discard(call)
        self.center.forget(call.interaction_id)
        self._stop_recording(call)
        self._dialogs.pop((call.dialog.call_id, call.dialog.local_tag), None)
        self.calls.pop(call.interaction_id, None)
        self.center.writer.update(call.interaction_id, ended_at=self.clock())
        for leg in list(call.legs):
            self._close_leg(call, leg)

    def _close_leg(self, call: Call, leg_id: str) -> None:
        phone = self._browser_legs.pop(leg_id, None)
        if phone is not None:
            phone.detach()
        if leg_id in call.legs:
            call.legs.remove(leg_id)
        self._by_leg.pop(leg_id, None)
        self._local_media.pop(leg_id, None)
        task = asyncio.get_running_loop().create_task(self.media.close_leg(leg_id))
        self._keep(task)

    def _send_bye(
        self, dialog: Dialog, destination: Address, transport: str, call: Call, side: str
    ) -> None:
        bye = build_in_dialog_request(
            dialog, "BYE", via=self._via(transport), contact=self._contact(transport)
        )
        key = self.layer.request(bye, destination, transport, time.monotonic())
        self._client_txn[key] = (call, "bye")

    async def close(self) -> None:
        for call in list(self.calls.values()):
            self._hang_up_caller(call, "shutdown")
        self._flush()
        if self._timer is not None:
            self._timer.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)


def _remote(choice: sdp.AudioChoice) -> RemoteMedia:
    return RemoteMedia(
        host=choice.host,
        port=choice.port,
        codec=Codec(choice.codec),
        dtmf_payload_type=choice.dtmf_payload_type,
        send=choice.send_allowed,
        receive=choice.receive_allowed,
    )

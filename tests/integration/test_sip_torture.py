"""RFC 4475 (SIP torture test messages) and other hostile input against ``hotline demo``.

Every message of RFC 4475 §3 lies byte-exact in ``torture/`` (``SECTION_NAME.sip``, the
name of the RFC's archive file).  Each is sent to a real ``hotline demo`` process over UDP
(the well-formed ones also over TCP), and then a plain OPTIONS on the same socket: the
server must give the torture message the answer RFC 4475 allows (or none, where the RFC
says to drop it), answer the OPTIONS 200 and still be running.  At the end the servers
stop on SIGTERM with status 0 and no Python traceback in their log.

Nothing sleeps: the server handles one socket's datagrams in order, so the OPTIONS'
answer arriving proves the torture message was handled; an answer that should have come
and did not is awaited :data:`LATE_ANSWER_S` longer, no more.

Two servers.  RFC 4475 reuses a Via branch and sent-by in messages meant to be
independent (escnull/regescrt, cparam01/cparam02, unkscm/novelsc), and RFC 3261 §17.2.3
rightly takes the second for a retransmission of the first for Timer J (32 s over UDP).
So the UDP runs go to server ``a``; the TCP runs, and the UDP runs of the second message
of each such pair, go to server ``b``.  Over TCP a non-INVITE transaction ends with its
answer (Timer J is zero) and we ACK every rejected INVITE, so nothing lingers there; the
TCP tests are defined first so that they run first.

How the files were made.  RFC 4475 ships its messages as a base64 tarball (Appendix A)
that could not be fetched here; the files were rebuilt from the RFC's text with its
conventions applied (§2.1 ``<allOneLine>``, §2.2 ``<hex>``, §2.3 ``<repeat>``), CRLF line
ends, and checked against transcriptions of the archive in other SIP stacks' test suites
(reSIProcate, NkSIP) and against every Content-Length the RFC gives (all match).  Where the
archive differs from what the RFC's text shows we follow the archive: ``baddn`` ends after
``l: 0`` CRLF with no empty line closing its header (so our 400 is for that, not for its
display names) and ``dblreq`` has one more empty line between its two requests; ``trws``
keeps the RFC's ``host1.examle.com``.  :data:`DIGESTS` pins every file, so a checkout
that rewrites line ends (``core.autocrlf``) fails loudly instead of testing something else.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import queue
import random
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.telephony.sip import RemoteSipError, SipRequest, SipResponse, parse
from tests.integration.test_demo_server import (
    READY_TIMEOUT_S,
    Instance,
    free_port,
    start_demo,
)
from tests.integration.test_sip_transport import TcpPeer, open_udp_peer

pytestmark = pytest.mark.slow

TORTURE = Path(__file__).parent / "torture"
SIPP_SCENARIO = Path(__file__).parent / "sipp" / "options_uac.xml"
#: How long the server may take for an answer at all (a loaded CI box, not the norm).
ANSWER_TIMEOUT_S = 10.0
#: How much longer a torture message's answer is awaited once the OPTIONS sent after it
#: was answered: both were handled by the same task in order, so it is due already.
LATE_ANSWER_S = 2.0
#: The largest UDP payload over IPv4: 65,535 less the IP (20) and UDP (8) headers.
MAX_DATAGRAM = 65_507
_STATUS = re.compile(rb"SIP/2\.0 ([0-9]{3}) ")


# -- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One RFC 4475 message and what the RFC lets a UAS answer to it."""

    name: str
    #: acceptable final statuses; empty: the message must get no answer at all
    answers: frozenset[int]
    #: what RFC 4475 (and RFC 3261) say, for the failure message
    rfc: str
    #: a message RFC 4475 calls well formed, sent over TCP too (it has a Content-Length)
    tcp: bool = False
    #: the product does not do this yet: strict xfail with this reason (both transports)
    bug: str | None = None
    #: sent over UDP to server b (its transaction key repeats an earlier message's)
    second: bool = False
    #: bytes no answer may contain: they belong to a request the server must discard
    stray: bytes = b""

    @property
    def data(self) -> bytes:
        return (TORTURE / f"{self.name}.sip").read_bytes()


def _c(
    name: str,
    answers: set[int],
    rfc: str,
    *,
    tcp: bool = False,
    bug: str | None = None,
    second: bool = False,
    stray: bytes = b"",
) -> Case:
    return Case(name, frozenset(answers), rfc, tcp=tcp, bug=bug, second=second, stray=stray)


REGISTRAR = {401, 403, 404}  # a challenge, or an AOR this registrar does not serve
NO_ANSWER: set[int] = set()

# Bugs found by these tests (see each reason); the tests state the correct answer.
_NO_FINAL_TO = (
    "B2BUA crashes parsing the To header (b2bua.handler_failed, a traceback) and never "
    "answers: the INVITE sits in Proceeding after 100 Trying"
)
_NO_ANSWER_TO = (
    "B2BUA crashes parsing the To header (b2bua.handler_failed, a traceback) and never "
    "answers: the server transaction waits forever in Trying"
)

CASES: tuple[Case, ...] = (
    # 3.1.1 Valid messages
    _c("3.1.1.1_wsinv", {404, 481}, "well formed; its To has a tag, so a UAS answers 481 "
       "(RFC 3261 §12.2.2), or 404 for an unknown Request-URI", tcp=True),
    _c("3.1.1.2_intmeth", {501}, "well formed, unknown method: endpoints answer 501 "
       "(RFC 3261 §21.5.2; 405 is for methods understood but not allowed)", tcp=True),
    _c("3.1.1.3_esc01", {404}, "well formed; an INVITE to an unknown number gets 404",
       tcp=True),
    _c("3.1.1.4_escnull", REGISTRAR, "well formed REGISTER", tcp=True),
    _c("3.1.1.5_esc02", {501}, "well formed; RE%47IST%45R is an unknown method, not "
       "REGISTER: 501 (RFC 3261 §21.5.2)", tcp=True),
    _c("3.1.1.6_lwsdisp", {200}, "well formed OPTIONS", tcp=True),
    _c("3.1.1.7_longreq", {404}, "well formed INVITE to an unknown number", tcp=True),
    _c("3.1.1.8_dblreq", REGISTRAR, "the REGISTER is answered, the INVITE after it in the "
       "same datagram is discarded (RFC 3261 §18.3)",
       stray=b"dblreq.0ha0isnda977644900765@192.0.2.15"),
    _c("3.1.1.9_semiuri", {200, 404}, "well formed OPTIONS", tcp=True),
    _c("3.1.1.10_transports", {200}, "well formed OPTIONS", tcp=True),
    _c("3.1.1.11_mpart01", {405, 501}, "well formed MESSAGE, a method we do not support",
       tcp=True),
    _c("3.1.1.12_unreason", NO_ANSWER, "a stray response: dropped (RFC 3261 §17.1.3)",
       tcp=True),
    _c("3.1.1.13_noreason", NO_ANSWER, "a stray response: dropped", tcp=True),
    # 3.1.2 Invalid messages
    _c("3.1.2.1_badinv01", {400}, "extraneous ';' and ',' in Via and Contact: 400"),
    _c("3.1.2.2_clerr", {400}, "Content-Length larger than the datagram: 400"),
    _c("3.1.2.3_ncl", {400}, "negative Content-Length: 400"),
    _c("3.1.2.4_scalar02", {400}, "CSeq beyond 2**32: 400"),
    _c("3.1.2.5_scalarlg", NO_ANSWER, "a response with overlarge values: dropped"),
    _c("3.1.2.6_quotbal", {400}, "unterminated quoted string in To: 400"),
    _c("3.1.2.7_ltgtruri", {400}, "Request-URI in <>: 400"),
    _c("3.1.2.8_lwsruri", {400}, "LWS in the Request-URI: 400"),
    _c("3.1.2.9_lwsstart", {400}, "several SP between Request-Line elements: 400"),
    _c("3.1.2.10_trws", {400}, "SP after the SIP-Version: 400"),
    _c("3.1.2.11_escruri", {400, 404}, "escaped headers in the Request-URI: 400, or "
       "ignore them (then 404, unknown number)"),
    _c("3.1.2.12_baddate", {400, 404}, "non-GMT Date: 400, or ignore it if unused (404)"),
    _c("3.1.2.13_regbadct", {400} | REGISTRAR, "Contact with '?' outside <>: 400, or "
       "infer the brackets"),
    _c("3.1.2.14_badaspec", {400, 200}, "spaces inside <addr-spec>: 400, or be liberal"),
    _c("3.1.2.15_baddn", {400, 200}, "unquoted display names with ',': 400 (and the "
       "archive's message has no empty line ending its header)"),
    _c("3.1.2.16_badvers", {505}, "SIP/7.0: 505 Version Not Supported"),
    _c("3.1.2.17_mismatch01", {400}, "CSeq method differs from the method: 400"),
    _c("3.1.2.18_mismatch02", {400, 501}, "unknown method, CSeq mismatch: 501 or 400"),
    _c("3.1.2.19_bigcode", NO_ANSWER, "status code above 699: dropped"),
    # 3.2 Transaction layer semantics
    _c("3.2.1_badbranch", {400, 200}, "branch is the bare magic cookie: 400, or fall back "
       "to RFC 2543 matching", tcp=True),
    # 3.3 Application layer semantics
    _c("3.3.1_insuf", {400}, "no Call-ID, From, To: 400"),
    _c("3.3.2_unkscm", {416}, "unknown Request-URI scheme: 416 (RFC 3261 §8.2.2.1)",
       tcp=True),
    _c("3.3.3_novelsc", {416}, "soap.beep Request-URI, a scheme we do not support: 416",
       tcp=True, second=True),
    _c("3.3.4_unksm2", {400, 401}, "To isbn:, From http:, Contact name: — a registrar "
       "rejects it 400 (the AOR must be a SIP URI), after challenging (§10.3) if it wants",
       tcp=True),
    _c("3.3.5_bext01", {420, 404}, "Require of an unknown option: 420 Bad Extension "
       "(RFC 3261 §8.2.2.3, MUST)", tcp=True),
    _c("3.3.6_invut", {404, 415}, "unknown Content-Type: 415, unless the Request-URI "
       "is rejected first (404, RFC 3261 §8.2.2.1 before §8.2.3)", tcp=True),
    _c("3.3.7_regaut01", {401, 403}, "well formed; an Authorization scheme the registrar "
       "does not know is no credential: challenge (401) or refuse (403)", tcp=True),
    _c("3.3.8_multi01", {400}, "two Call-ID, To, From, CSeq: 400"),
    _c("3.3.9_mcl01", {400}, "two different Content-Length: 400"),
    _c("3.3.10_bcast", NO_ANSWER, "a stray response (broadcast Via): dropped", tcp=True),
    _c("3.3.11_zeromf", {200, 483}, "Max-Forwards 0 at an endpoint: processed normally",
       tcp=True),
    _c("3.3.12_cparam01", REGISTRAR, "well formed REGISTER", tcp=True),
    _c("3.3.13_cparam02", REGISTRAR, "well formed REGISTER", tcp=True, second=True),
    _c("3.3.14_regescrt", REGISTRAR, "well formed REGISTER (escaped header in Contact)",
       tcp=True, second=True),
    _c("3.3.15_sdp01", {404, 406, 415}, "Accept without application/sdp: 406, unless "
       "the Request-URI is rejected first (404)", tcp=True),
    # 3.4 Backward compatibility
    _c("3.4.1_inv2543", {404}, "RFC 2543 INVITE (no branch, tags, Max-Forwards or "
       "Content-Length): processed, 404 for the unknown number"),
)  # fmt: skip

#: SHA-256 of each file: the bytes tested are the bytes reviewed.
DIGESTS = {
    "3.1.1.1_wsinv": "d6f6cdee99cd0a1f8e3d9a0fdd67c877700e19ab86d8186dada06f61260e3e61",
    "3.1.1.2_intmeth": "b957a8292c1c0a9851fe94705b90f94320738f43aacde64998e401f742ef688d",
    "3.1.1.3_esc01": "be3a316d4ce5f69cad474646191e390dd4b50fc8371e44b5197fe1237781973e",
    "3.1.1.4_escnull": "263fe2ecd12a5ccbb6c67b3174e9211d11da9b600e7d69666a86d2ee42873e90",
    "3.1.1.5_esc02": "9a9c59449f00327b02071feafc8e5c2a261c98c818044167894cc17809a12199",
    "3.1.1.6_lwsdisp": "d1b36b6316c12824f6f04bf6b1fd1f021cade9b74871693b9c3474cd9fa7f4e6",
    "3.1.1.7_longreq": "185739292bc676760e5b1cca77c87705aa570240171c506ad76f8c35af0ecdaa",
    "3.1.1.8_dblreq": "a6be48426565c2a705389c4ce2ea17e57b891cb13f80490a2cb9392c797b46ef",
    "3.1.1.9_semiuri": "87bbaed6b4b354dbd3c5c7a20e66686303c63e43a0aa19b89de1ac75231611a2",
    "3.1.1.10_transports": "33b4553a3b9418121b099ff07882535151edd6a1e81898c63a916aad2cbf90bc",
    "3.1.1.11_mpart01": "92147c8e24997bac59629e1b163767697d0d6d499af87f89e325d69968bec3ba",
    "3.1.1.12_unreason": "4f939d6ebf4817eea70f011d3209e83732872ffc20ffd304b244084dc392f4d7",
    "3.1.1.13_noreason": "07e11e470a69fffa3674de805e5165d1351a9439a91045ee70c9570ea24ab4fe",
    "3.1.2.1_badinv01": "9ee2b88f2e0b5a9eeb9bf729b6177f0a0c7d0b5e6c84be593e0480d7962f3ab8",
    "3.1.2.2_clerr": "d9da629086a38df433438fb0fb19a8730f34516f049a5520dd0cac3285485290",
    "3.1.2.3_ncl": "7ea6538edc1f054fdb6cd1c821040460cffca3cb682fa2e8e2a502d92170b4c2",
    "3.1.2.4_scalar02": "53158177326568e9964bce5dcfac27a2bf8a90953bbc03f6c5e2775864a97e4b",
    "3.1.2.5_scalarlg": "0957eca31737e3592eb1418bb41e9f5219278a78ff420111620d7fb60175b551",
    "3.1.2.6_quotbal": "e61978a2ea359fc666f0336fe4dbc623447532280e3273ea98119b3d3f788c84",
    "3.1.2.7_ltgtruri": "bcacb2dc17610e8cc8f9b8b0e3d6ee65ab473f93787a03bbd33579e1cea473df",
    "3.1.2.8_lwsruri": "3e22ceeca585ad23cc180208e2dad94e0a5aa4bb877a61cac443aa927f758b9e",
    "3.1.2.9_lwsstart": "f884e5626c6c5b1210cfc4a3540b8a28bd52939cff092f3f0c5c971e032adb0e",
    "3.1.2.10_trws": "64ae20694026e28c10746b57386b7fd1276de02b6f8d42d418070e87d6f4499f",
    "3.1.2.11_escruri": "c3cf30af13a9d107829cc105effd79355f1139c6ecc683a048b4c27951f8f416",
    "3.1.2.12_baddate": "1208a6e3e0c8a8c33a06a1f3733d158413cb72e58c379d094c4ecea11e9d4c28",
    "3.1.2.13_regbadct": "575d27530275814c1c98be164808fac89a0e2b4fc899dadcd97e6ba499437bda",
    "3.1.2.14_badaspec": "f8f6e2f4247287b0be6adb5ac222a6db4759395e44d27d2ddb9b39393e94867e",
    "3.1.2.15_baddn": "9d9428e8017092f194ec11077ba6865c251308cdfd7fd9db6a993b28e5748951",
    "3.1.2.16_badvers": "037d702d19e934bfeebbd2609050d7d54928d590cf90c78f3914522771dd8e03",
    "3.1.2.17_mismatch01": "a2c285636e451e75420da0cc62ee55ca3e398827008418befbfb078726bf0793",
    "3.1.2.18_mismatch02": "01b287f9a9c492f7f57405c36c8a2af0e2393896ed2d25fb92b502f2a6722bc4",
    "3.1.2.19_bigcode": "f79450070975da54c3525c9a5cbe75bae3c9d8cb92eba609772c26f66f225c2e",
    "3.2.1_badbranch": "cb049c727f16b5ec49e822f9e8b7d0ee20ca2d20ffb50baecd0b411a5e64fa7d",
    "3.3.1_insuf": "1e3efd9f3b238c6351ba12bc7eb46d843f2761b5d4a6b82b63bffdf07f2c5aee",
    "3.3.2_unkscm": "81be1a6a566c7ab52fe1c58c4a75440dfd697ad04c5e09fa71340de7da7b8bbb",
    "3.3.3_novelsc": "9a50a7343fcf685e77c4d0f477138a28f32a41c75aa566d200f3df210b01e648",
    "3.3.4_unksm2": "f6914409ced613ef5eb56e264d2f096dac26ab9e397d6a638934d2027f1f6acb",
    "3.3.5_bext01": "57181987c02c4f5752b7aa8c2847311f6184216ce7621e40303015949e70761c",
    "3.3.6_invut": "9b39e824947df46f90f824cd308fb3c118f548d94637f581101e355b381a0d92",
    "3.3.7_regaut01": "885ba0488872cfc04a3c7622854b8381955a5ee890745d6010834e3731a73faa",
    "3.3.8_multi01": "d156ab12105b4bfd8a6498de6f7195087058162b8cda1606169855b722411791",
    "3.3.9_mcl01": "887191619bf003b7e87399200b5cf4c3b5397344dbf70288ad5e23bd157b7fe4",
    "3.3.10_bcast": "073637c63597199179cf5fc91b980b2d530c066a0048ea3b908772def57b4c36",
    "3.3.11_zeromf": "50954ef47acca4f9f5263ded06246d06dee4e2ee508a8d284191795d7fddf365",
    "3.3.12_cparam01": "dfa6b5cdb289adc694b9b7e103ebfa7a2167335c46e5dc9de67055021910ae1c",
    "3.3.13_cparam02": "e93574215bd1d804bb46cc15ca6176b567def7ea1b15f72ab2c2dcf598af465a",
    "3.3.14_regescrt": "dab4087c133348b06fd7b3c4c7ef15094f8754e265e4e8c2137bb3ecda2ef477",
    "3.3.15_sdp01": "497c5f1ced6c7b579b48075e2dca919ce9b819a735964128a6e744a3a0b9e57f",
    "3.4.1_inv2543": "76fac8afe22dee49ea696b511621946694897ac7030fc5d07f57c8b487ce0521",
}


def _params(cases: tuple[Case, ...]) -> list[object]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in cases
    ]


# -- the servers ---------------------------------------------------------------------------


@dataclass
class Pbx:
    instance: Instance
    port: int

    def alive(self) -> bool:
        return self.instance.proc.poll() is None

    def log_so_far(self) -> str:
        """What the server printed until now (for failure messages)."""
        while True:
            try:
                line = self.instance.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:  # end of output: leave it for Instance.stop()
                self.instance.lines.put(None)
                break
            self.instance.output.append(line)
        return "".join(self.instance.output[-15:])


def _start(data: Path, prompts: Path) -> Pbx:
    port = free_port()
    instance = start_demo(data, "127.0.0.1:0", f"127.0.0.1:{port}", prompts=prompts)
    instance.wait_ready(READY_TIMEOUT_S)
    return Pbx(instance, port)


@pytest.fixture(scope="module")
def pbx_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    pbx = _start(tmp_path_factory.mktemp("torture-a"), tmp_path_factory.getbasetemp() / "prompts")
    yield pbx
    if pbx.alive():  # the last test stops it and reads its log
        pbx.instance.stop()


@pytest.fixture(scope="module")
def pbx_b(tmp_path_factory: pytest.TempPathFactory, pbx_a: Pbx) -> Iterator[Pbx]:
    # After a: the prompts are made once, by a.
    pbx = _start(tmp_path_factory.mktemp("torture-b"), tmp_path_factory.getbasetemp() / "prompts")
    yield pbx
    if pbx.alive():
        pbx.instance.stop()


# -- talking to them -----------------------------------------------------------------------


def options_probe(transport: str) -> tuple[bytes, bytes]:
    """A plain OPTIONS and its Call-ID."""
    call_id = f"probe-{uuid.uuid4().hex}@127.0.0.1"
    data = (
        "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:9;branch=z9hG4bK-{call_id};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:torture@127.0.0.1>;tag=probe\r\n"
        "To: <sip:probe@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    )
    return data.encode(), call_id.encode()


def status_of(raw: bytes) -> int:
    match = _STATUS.match(raw)
    assert match is not None, f"not a SIP/2.0 response: {raw[:200]!r}"
    return int(match[1])


def ack_for(request_data: bytes, final: bytes) -> bytes | None:
    """The ACK to a non-2xx final answer to an INVITE (RFC 3261 §17.1.1.3), if it needs one.

    A request the server could not parse was answered statelessly: nothing to ACK.
    """
    try:
        request = parse(request_data)
        response = parse(final)
    except RemoteSipError:
        return None
    if not isinstance(request, SipRequest) or request.method != "INVITE":
        return None
    assert isinstance(response, SipResponse)
    cseq = (request.headers.get("CSeq") or "").split()[0]
    lines = [f"ACK {request.uri} SIP/2.0"]
    lines += [f"Via: {value}" for value in request.headers.field_values("Via")]
    lines += [
        "Max-Forwards: 70",
        f"From: {request.headers.get('From')}",
        f"To: {response.headers.get('To')}",
        f"Call-ID: {request.headers.get('Call-ID')}",
        f"CSeq: {cseq} ACK",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Exchange:
    """What came back for one message sent, then an OPTIONS."""

    answers: list[bytes]
    probe: int | None

    def finals(self) -> list[int]:
        return [s for s in map(status_of, self.answers) if s >= 200]

    def summary(self) -> list[str]:
        return [a.split(b"\r\n", 1)[0].decode(errors="replace") for a in self.answers]


async def exchange_udp(pbx: Pbx, data: bytes, *, answered: bool) -> Exchange:
    """Send ``data`` then an OPTIONS from a fresh socket; collect what comes back."""
    peer = await open_udp_peer(pbx.port)
    try:
        peer.send(data)
        probe, probe_id = options_probe("UDP")
        peer.send(probe)
        exchange = Exchange([], None)
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                while exchange.probe is None:
                    raw, _ = await peer.received.get()
                    if probe_id in raw:
                        exchange.probe = status_of(raw)
                    else:
                        exchange.answers.append(raw)
            if answered and not exchange.finals():
                async with asyncio.timeout(LATE_ANSWER_S):
                    while not exchange.finals():
                        exchange.answers.append((await peer.received.get())[0])
        except TimeoutError:
            pass
        finals = [a for a in exchange.answers if status_of(a) >= 300]
        if finals and (ack := ack_for(data, finals[0])) is not None:
            peer.send(ack)  # stops the retransmissions of the final answer (Timer G)
        return exchange
    finally:
        assert peer.transport is not None
        peer.transport.close()
        await peer.closed


async def exchange_tcp(pbx: Pbx, data: bytes, *, answered: bool) -> Exchange:
    """Send ``data`` then an OPTIONS on a fresh connection; collect what comes back."""
    peer = await TcpPeer.connect(pbx.port)
    try:
        peer.send(data)
        probe, probe_id = options_probe("TCP")
        peer.send(probe)
        exchange = Exchange([], None)
        try:
            while exchange.probe is None:
                raw = await peer.raw_answer()
                if probe_id in raw:
                    exchange.probe = status_of(raw)
                else:
                    exchange.answers.append(raw)
            if answered and not exchange.finals():
                async with asyncio.timeout(LATE_ANSWER_S):
                    while not exchange.finals():
                        exchange.answers.append(await peer.raw_answer())
        except (TimeoutError, AssertionError):
            pass  # no answer, or the connection closed: the assertions tell
        finals = [a for a in exchange.answers if status_of(a) >= 300]
        if finals and (ack := ack_for(data, finals[0])) is not None:
            peer.send(ack)  # ends the INVITE transaction at once (Timer I is 0 over TCP)
            await peer.writer.drain()
        return exchange
    finally:
        await peer.close()


def check(
    pbx: Pbx, case_name: str, exchange: Exchange, answers: frozenset[int], stray: bytes = b""
) -> None:
    """The torture message got an acceptable answer (or none), the OPTIONS got 200."""
    context = (
        f"{case_name}: got {exchange.summary()}, OPTIONS after it got {exchange.probe}\n"
        f"server log:\n{pbx.log_so_far()}"
    )
    assert pbx.alive(), f"server died\n{context}"
    assert exchange.probe == 200, f"the server stopped serving\n{context}"
    if not answers:
        assert exchange.answers == [], f"expected no answer\n{context}"
        return
    assert not stray or all(stray not in a for a in exchange.answers), context
    finals = exchange.finals()
    provisional = [s for s in map(status_of, exchange.answers) if s < 200]
    assert finals, f"expected one of {sorted(answers)}, got no final answer\n{context}"
    # UDP retransmits a final answer until ACKed: every copy must say the same.
    assert len(set(finals)) == 1, context
    assert finals[0] in answers, f"expected one of {sorted(answers)}\n{context}"
    assert set(provisional) <= {100}, context


# -- the RFC 4475 messages -----------------------------------------------------------------


def test_given_torture_directory_when_read_then_every_rfc_4475_message_is_there_byte_exact() -> (
    None
):
    files = {path.stem: path.read_bytes() for path in TORTURE.glob("*.sip")}
    assert sorted(files) == sorted(case.name for case in CASES)
    assert len(files) == 49  # RFC 4475 §3: 13 + 19 valid/invalid, 1 + 15 semantic, 1 old
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    assert digests == DIGESTS


TCP_CASES = tuple(case for case in CASES if case.tcp)


@pytest.mark.parametrize("case", _params(TCP_CASES))
async def test_given_demo_when_rfc_4475_message_comes_over_tcp_then_rfc_answer_and_it_keeps_serving(
    case: Case, pbx_b: Pbx
) -> None:
    exchange = await exchange_tcp(pbx_b, case.data, answered=bool(case.answers))
    check(pbx_b, f"{case.name} over TCP ({case.rfc})", exchange, case.answers)


@pytest.mark.parametrize("case", _params(CASES))
async def test_given_demo_when_rfc_4475_message_comes_over_udp_then_rfc_answer_and_it_keeps_serving(
    case: Case, pbx_a: Pbx, pbx_b: Pbx
) -> None:
    pbx = pbx_b if case.second else pbx_a
    exchange = await exchange_udp(pbx, case.data, answered=bool(case.answers))
    check(pbx, f"{case.name} over UDP ({case.rfc})", exchange, case.answers, case.stray)


# -- other hostile input -------------------------------------------------------------------


def _invite(user: str, *, transport: str = "UDP") -> bytes:
    """A well-formed INVITE with SDP to a number the demo does not have."""
    body = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    call_id = f"{user}-{uuid.uuid4().hex}@127.0.0.1"
    return (
        f"INVITE sip:{user}@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:9;branch=z9hG4bK-{call_id};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:torture@127.0.0.1>;tag=hostile\r\n"
        f"To: <sip:{user}@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:torture@127.0.0.1:9>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n" + body
    ).encode()


def _options(extra_headers: bytes = b"", *, content_length: bytes = b"0") -> bytes:
    call_id = f"hostile-{uuid.uuid4().hex}@127.0.0.1"
    return (
        b"OPTIONS sip:hostile@127.0.0.1 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-" + call_id.encode() + b";rport\r\n"
        b"Max-Forwards: 70\r\n"
        b"From: <sip:torture@127.0.0.1>;tag=hostile\r\n"
        b"To: <sip:hostile@127.0.0.1>\r\n"
        b"Call-ID: " + call_id.encode() + b"\r\n"
        b"CSeq: 1 OPTIONS\r\n" + extra_headers + b"Content-Length: " + content_length + b"\r\n"
        b"\r\n"
    )


def _padded_to(size: int) -> bytes:
    """A well-formed OPTIONS of exactly ``size`` bytes (one long header field)."""
    short = _options(b"X-Padding: \r\n")
    return _options(b"X-Padding: " + b"p" * (size - len(short)) + b"\r\n")


_INVITE = _invite("torture-truncated")
HOSTILE_UDP = {
    # cut inside "CSeq: 1 INVITE": no empty line ends the header
    "truncated_mid_header": (_INVITE[: _INVITE.index(b"CSeq:") + 7], {400}),
    # the last 20 bytes of the SDP are missing: Content-Length says more
    "truncated_mid_body": (_INVITE[:-20], {400}),
    "datagram_of_64_kib": (_padded_to(MAX_DATAGRAM), {200, 513}),
    "random_bytes": (random.Random(4475).randbytes(2048), set()),
    "content_length_2_to_the_32": (_options(content_length=b"4294967296"), {400}),
    "content_length_of_40_digits": (_options(content_length=b"9" * 40), {400}),
    "a_thousand_header_fields": (
        _options(b"".join(b"X-Torture-%d: %d\r\n" % (n, n) for n in range(1000))),
        {200, 513},
    ),
    "nul_byte_in_a_header_value": (_options(b"Subject: nul\x00byte\r\n"), {200, 400}),
    "nul_byte_in_a_header_name": (_options(b"X-N\x00l: 1\r\n"), {400}),
    "nul_byte_in_the_request_line": (
        _options().replace(b"OPTIONS sip:", b"OPTIONS\x00sip:", 1),
        {400},
    ),
}


@pytest.mark.parametrize(("data", "answers"), HOSTILE_UDP.values(), ids=HOSTILE_UDP.keys())
async def test_given_demo_when_hostile_datagram_comes_then_4xx_or_no_answer_and_it_keeps_serving(
    data: bytes, answers: set[int], pbx_a: Pbx
) -> None:
    assert len(data) <= MAX_DATAGRAM
    exchange = await exchange_udp(pbx_a, data, answered=bool(answers))
    check(pbx_a, repr(data[:60]), exchange, frozenset(answers))


async def test_given_truncated_invite_over_tcp_when_peer_hangs_up_then_others_served(
    pbx_b: Pbx,
) -> None:
    invite = _invite("torture-truncated", transport="TCP")
    peer = await TcpPeer.connect(pbx_b.port)
    peer.send(invite[: invite.index(b"\r\n\r\n") + 4 + 10])  # header whole, body cut
    await peer.writer.drain()
    await peer.close()
    exchange = await exchange_tcp(pbx_b, _invite("torture-after", transport="TCP"), answered=True)
    check(pbx_b, "INVITE after a truncated one", exchange, frozenset({404}))


@pytest.mark.parametrize(
    "data",
    [
        _padded_to(64 * 1024 + 100).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP", 1),
        _options(content_length=b"1073741824").replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP", 1),
    ],
    ids=["header_over_64_kib", "content_length_of_1_gib"],
)
async def test_given_demo_when_oversized_message_comes_over_tcp_then_closed_and_others_served(
    data: bytes, pbx_b: Pbx
) -> None:
    # RFC 3261 §18.3: the stream cannot be resynchronised; the limits keep memory bounded.
    peer = await TcpPeer.connect(pbx_b.port)
    try:
        peer.send(data)
        try:
            while True:  # a 513 first is fine; then the connection must close
                answer = await peer.raw_answer()
                assert status_of(answer) == 513, answer[:200]
        except AssertionError as closed:
            assert "closed the connection" in str(closed), closed
    finally:
        with contextlib.suppress(ConnectionError):  # it may reset what we still wrote
            await peer.close()
    exchange = await exchange_tcp(pbx_b, _options().replace(b"/UDP", b"/TCP"), answered=True)
    check(pbx_b, "OPTIONS after an oversized message", exchange, frozenset({200}))


# -- load: the real SIPp -------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
async def test_given_demo_when_sipp_sends_200_options_at_100_per_second_then_every_call_succeeds(
    transport: str, pbx_a: Pbx, tmp_path: Path
) -> None:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.fail("sipp not found on PATH: install Debian package sip-tester")
    process = await asyncio.create_subprocess_exec(
        sipp, f"127.0.0.1:{pbx_a.port}", "-sf", str(SIPP_SCENARIO), "-t", transport,
        "-i", "127.0.0.1", "-p", "0", "-m", "200", "-r", "100", "-timeout", "60s",
        "-nostdin",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        async with asyncio.timeout(90):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (
        f"sipp exited {process.returncode}\n{stderr.decode(errors='replace')[-2000:]}"
        f"\n{stdout.decode(errors='replace')[-2000:]}"
    )
    assert pbx_a.alive()


# -- last: how the servers stopped, what they logged ---------------------------------------


def test_given_all_of_the_above_when_servers_get_sigterm_then_both_exit_0(
    pbx_a: Pbx, pbx_b: Pbx
) -> None:
    statuses = {name: pbx.instance.stop() for name, pbx in (("a", pbx_a), ("b", pbx_b))}
    assert statuses == {"a": 0, "b": 0}, {
        name: "".join(pbx.instance.output[-20:]) for name, pbx in (("a", pbx_a), ("b", pbx_b))
    }


def test_given_all_of_the_above_when_servers_stopped_then_no_traceback_in_their_logs(
    pbx_a: Pbx, pbx_b: Pbx
) -> None:
    tracebacks: list[str] = []
    for name, pbx in (("a", pbx_a), ("b", pbx_b)):
        if pbx.alive():  # run on its own: the test above did not stop it
            pbx.instance.stop()
        for line in pbx.instance.output:
            if "Traceback" not in line:
                continue
            try:
                record = json.loads(line)
                tracebacks.append(f"server {name}: {record.get('event')}: {record['exception']}")
            except (ValueError, KeyError):
                tracebacks.append(f"server {name}: {line}")
    assert not tracebacks, "\n\n".join(tracebacks)

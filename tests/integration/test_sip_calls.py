"""Real calls through the real product: SIPp callers and SIPp operator phones against a
``hotline demo`` process.

What each test asserts is what a peer observed (SIP responses, RTP packets received by
the caller, the recorded WAV's channels and content) and what the interaction's event
log says — never internal calls.  One server serves the module; the tests set up their
own hotline, queues, operators and flow through the REST API (the demo's own hotlines
depend on the time of day, these never do).

Nothing sleeps to synchronise: the SIPp scenarios pause where a human caller would
(listening before pressing a key, talking), and the test waits, with a deadline, for
the observable it expects (a SIPp exit, RTP on a socket, a line in the event log).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import socket
import subprocess
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.integration import sipmedia
from tests.integration.test_demo_server import (
    PASSWORD,
    READY_TIMEOUT_S,
    Instance,
    free_port,
    start_demo,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="needs SIPp (apt: sip-tester)"),
]

SIPP_DIR = Path(__file__).parent / "sipp"
SIPP = shutil.which("sipp") or "sipp"
SIP_PASSWORD = "phone-secret-42"
WAIT_S = 30.0


# -- the server --------------------------------------------------------------------------------


@dataclass
class Pbx:
    instance: Instance
    data: Path
    http: httpx.Client
    sip_port: int
    hotline_id: int = 0
    closed_hotline_id: int = 0
    queues: dict[str, int] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.tokens['admin']}"}
        response = self.http.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def login(self, login: str, password: str = PASSWORD) -> str:
        response = self.http.post("/api/v1/auth/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        self.tokens[login] = token
        return token

    def set_state(self, operator: str, state: str) -> None:
        self.api("POST", "/agent/state", self.tokens[operator], json={"state": state})

    def events(self, interaction_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("GET", f"/interactions/{interaction_id}")["events"]
        return result

    def wait_for_interaction(
        self,
        caller: str,
        done: Callable[[list[dict[str, Any]]], bool],
        hotline_id: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The latest interaction of ``caller`` once its log satisfies ``done``."""
        deadline = time.monotonic() + WAIT_S
        last: list[dict[str, Any]] = []
        hotline = hotline_id or self.hotline_id
        while time.monotonic() < deadline:
            page = self.api("GET", f"/interactions?hotline_id={hotline}&limit=50")
            mine = [i for i in page["items"] if i["caller"] == caller]
            if mine:
                last = self.events(mine[0]["id"])
                if done(last):
                    return mine[0]["id"], last
            time.sleep(0.1)  # polling the API for the log line we wait for, with a deadline
        pytest.fail(f"no finished interaction for {caller}: {last}")


def _start(data: Path, prompts: Path, env: dict[str, str] | None = None) -> Instance:
    return start_demo(
        data, "127.0.0.1:0", f"127.0.0.1:{free_port()}", prompts=prompts, env_extra=env
    )


def _flow(qa: int, qb: int, qc: int) -> dict[str, Any]:
    """Greeting; menu 1 → A, 2 → C (callbacks offered), 3 → B; a survey after the call."""
    queue = {"type": "queue", "callback_offer": True, "next_after_callback": "cb_ok"}
    return {
        "start": "greet",
        "nodes": {
            "greet": {"type": "play", "prompt": "greeting", "next": "menu"},
            "menu": {
                "type": "menu",
                "prompt": "menu",
                "options": {"1": "qa", "2": "qc", "3": "qb"},
                "timeout": 10,
                "retries": 1,
                "on_failure": "end",
            },
            "qa": {**queue, "queue": qa, "next_after_call": "survey"},
            "qb": {**queue, "queue": qb},
            "qc": {**queue, "queue": qc},
            "survey": {"type": "survey", "prompt": "survey", "timeout": 5, "next": "end"},
            "cb_ok": {"type": "play", "prompt": "callback_accepted", "next": "end"},
            "end": {"type": "hangup"},
        },
    }


#: After hours: a beep, then the caller's message is recorded (up to 20 s).
VOICEMAIL_FLOW = {
    "start": "hours",
    "nodes": {
        "hours": {"type": "hours", "open": "end", "closed": "vm"},
        "vm": {"type": "voicemail", "prompt": "beep", "max_seconds": 20, "next": "end"},
        "end": {"type": "hangup"},
    },
}


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    with serving(tmp_path_factory) as server:
        yield server


@contextlib.contextmanager
def serving(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[Pbx]:
    """A demo server with the test hotlines, queues, operators and flows (``env``: extra
    ``HOTLINE_*`` settings, e.g. ``test_sip_calls_rtpengine.py``'s media backend)."""
    root = tmp_path_factory.mktemp("pbx")
    instance = _start(root / "data", tmp_path_factory.getbasetemp() / "prompts", env)
    try:
        instance.wait_ready(READY_TIMEOUT_S)
        with httpx.Client(base_url=instance.http, timeout=10) as http:
            pbx = Pbx(instance, root / "data", http, int(instance.sip.rsplit(":", 1)[1]))
            pbx.login("admin")
            tenant = pbx.api("GET", "/tenants")["items"][0]["id"]
            always = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
            hotline = pbx.api(
                "POST",
                "/hotlines",
                json={
                    "tenant_id": tenant,
                    "name": "Test line",
                    "timezone": "Europe/Moscow",
                    "language": "en",
                    "numbers": ["500"],
                    "business_hours": {"weekly": always},
                    "greeting_template": "Hello, my name is {operator}, {company}",
                },
            )
            pbx.hotline_id = hotline["id"]
            for name, requirement in (
                ("A", "english >= 8"),
                ("B", "accounting >= 9"),
                ("C", "tech_support >= 10"),
            ):
                queue = pbx.api(
                    "POST",
                    "/queues",
                    json={
                        "hotline_id": pbx.hotline_id,
                        "name": f"Queue {name}",
                        "skill_requirement": requirement,
                        "wrap_up_seconds": 1,
                    },
                )
                pbx.queues[name] = queue["id"]
            for login, skills in (
                ("op_english", {"english": 9}),
                ("op_ring", {"accounting": 9}),
            ):
                user = pbx.api(
                    "POST",
                    "/users",
                    json={
                        "tenant_id": tenant,
                        "login": login,
                        "display_name": login.replace("op_", "").title(),
                        "role": "operator",
                        "password": PASSWORD,
                        "hotline_ids": [pbx.hotline_id],
                        "skills": skills,
                    },
                )
                pbx.operators[login] = user["id"]
                pbx.api("PUT", f"/users/{user['id']}/sip-password", json={"password": SIP_PASSWORD})
                pbx.login(login)
            pbx.api(
                "POST",
                f"/hotlines/{pbx.hotline_id}/flows",
                json={"document": _flow(*pbx.queues.values()), "publish": True},
            )
            closed = pbx.api(
                "POST",
                "/hotlines",
                json={
                    "tenant_id": tenant,
                    "name": "Closed line",
                    "timezone": "Europe/Moscow",
                    "language": "en",
                    "numbers": ["501"],
                    "business_hours": {"weekly": {}},
                },
            )
            pbx.closed_hotline_id = closed["id"]
            # a number with neither a flow nor a queue: nobody can take its calls
            pbx.api(
                "POST",
                "/hotlines",
                json={
                    "tenant_id": tenant,
                    "name": "Empty line",
                    "timezone": "Europe/Moscow",
                    "numbers": ["502"],
                },
            )
            pbx.api("POST", "/queues", json={"hotline_id": closed["id"], "name": "Unused"})
            pbx.api(
                "POST",
                f"/hotlines/{closed['id']}/flows",
                json={"document": VOICEMAIL_FLOW, "publish": True},
            )
            yield pbx
    finally:
        status = instance.stop()
        log = "".join(instance.output)
        assert "Traceback" not in log, log[-5000:]
        assert "hotline.close_timeout" not in log, log[-5000:]
        assert status == 0, log[-5000:]


# -- SIPp peers --------------------------------------------------------------------------------


def _free_media_port() -> int:
    """An even port whose +2 neighbour is free too (SIPp binds both for -mp)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1
        try:
            for p in (port, port + 2):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free media port pair")


def _sipp(
    workdir: Path, scenario: Path, *args: str, timeout: float = WAIT_S
) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - SIPp with our own arguments
        [SIPP, *args, "-sf", str(scenario), "-m", "1", "-i", "127.0.0.1", "-nostdin",
         "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_err"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str], what: str, timeout: float = WAIT_S + 10) -> None:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{what}: SIPp did not finish:\n{out[-3000:]}")
    assert proc.returncode == 0, f"{what}: SIPp exit {proc.returncode}\n{out[-3000:]}"


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def _template(workdir: Path, name: str, **values: str) -> Path:
    text = (SIPP_DIR / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"{name}: unfilled {left}"
    target = workdir / name
    target.write_text(text)
    return target


@dataclass
class Phone:
    """An operator's SIP phone: a SIPp UAS on its own port, registered for ``login``."""

    proc: subprocess.Popen[str]
    port: int


def register(
    pbx: Pbx, workdir: Path, login: str, contact_port: int, password: str
) -> subprocess.Popen[str]:
    scenario = workdir / "register.xml"
    shutil.copy(SIPP_DIR / "register.xml", scenario)
    return _sipp(
        workdir, scenario, f"127.0.0.1:{pbx.sip_port}", "-p", str(free_port()),
        "-au", login, "-ap", password, "-key", "user", login,
        "-key", "contact_port", str(contact_port), timeout=10,
    )  # fmt: skip


def start_phone(pbx: Pbx, workdir: Path, login: str, scenario: str, pcap: Path | None) -> Phone:
    workdir.mkdir(parents=True, exist_ok=True)
    if pcap is not None:
        shutil.copy(pcap, workdir / "operator.pcap")
    target = workdir / scenario
    shutil.copy(SIPP_DIR / scenario, target)
    port = free_port()
    media = _free_media_port()
    proc = _sipp(workdir, target, "-p", str(port), "-mi", "127.0.0.1", "-mp", str(media))
    _finish(register(pbx, workdir, login, port, SIP_PASSWORD), f"REGISTER {login}")
    return Phone(proc, port)


class RtpSink:
    """The caller's ear: a UDP socket that keeps every RTP packet with its arrival time."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.packets: list[tuple[float, sipmedia.RtpPacket]] = []

    def collect(self, until: Callable[[], bool], timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.05)
        while not until() and time.monotonic() < deadline:
            try:
                data = self.sock.recv(2048)
            except TimeoutError:
                continue
            self.packets.append((time.monotonic(), sipmedia.RtpPacket.decode(data)))

    def close(self) -> None:
        self.sock.close()


def call(
    pbx: Pbx,
    workdir: Path,
    number: str,
    caller: str,
    pcap: Path,
    *,
    before_ms: int,
    talk_ms: int | None,
) -> tuple[subprocess.Popen[str], RtpSink]:
    """Start a SIPp caller; ``talk_ms`` None waits for the hotline's BYE instead."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(pcap, workdir / "caller.pcap")
    if talk_ms is None:
        ending = (
            '<recv request="BYE" />\n<send><![CDATA[\n\n      SIP/2.0 200 OK\n      [last_Via:]\n'
            "      [last_From:]\n      [last_To:]\n      [last_Call-ID:]\n      [last_CSeq:]\n"
            "      Content-Length: 0\n\n    ]]></send>"
        )
    else:
        ending = (
            f'<pause milliseconds="{talk_ms}" />\n<send retrans="500"><![CDATA[\n\n'
            "      BYE [next_url] SIP/2.0\n"
            "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "      [routes]\n      Max-Forwards: 70\n"
            f'      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>'
            ";tag=[pid]caller[call_number]\n"
            "      [last_To:]\n      Call-ID: [call_id]\n      CSeq: 2 BYE\n"
            '      Content-Length: 0\n\n    ]]></send>\n<recv response="200" />'
        )
    sink = RtpSink()
    scenario = _template(
        workdir,
        "caller.xml",
        SINK_PORT=str(sink.port),
        BEFORE_MS=str(before_ms),
        PCAP="caller.pcap",
        CALLER=caller,
        ENDING=ending,
    )
    proc = _sipp(
        workdir, scenario, f"127.0.0.1:{pbx.sip_port}", "-s", number, "-p", str(free_port()),
        "-mi", "127.0.0.1", "-mp", str(_free_media_port()),
    )  # fmt: skip
    return proc, sink


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def ulaw_decode(data: bytes) -> np.ndarray:
    """ITU-T G.711 µ-law to linear, written out here so the test does not trust the
    product's own tables."""
    u = ~np.frombuffer(data, dtype=np.uint8)
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F).astype(np.int32) << 3) + 0x84) << exponent
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.argmax(spectrum) * 8000 / len(samples))


# -- the tests ---------------------------------------------------------------------------------


def test_given_a_ready_operator_when_a_caller_presses_1_then_answered_bridged_and_recorded(
    pbx: Pbx, tmp_path: Path
) -> None:
    sipmedia.tone_pcap(tmp_path / "op.pcap", 1000, 4.0)
    phone = start_phone(
        pbx, tmp_path / "phone", "op_english", "operator_uas.xml", tmp_path / "op.pcap"
    )
    pbx.set_state("op_english", "ready")
    try:
        sipmedia.dtmf_pcap(tmp_path / "one.pcap", "1")
        caller, sink = call(
            pbx, tmp_path / "caller", "500", "79990000001", tmp_path / "one.pcap",
            before_ms=1500, talk_ms=6000,
        )  # fmt: skip
        sink.collect(until=lambda: caller.poll() is not None)
        sink.close()
        _finish(caller, "caller")
        _finish(phone.proc, "operator phone")
    finally:
        pbx.set_state("op_english", "offline")
        _kill(phone.proc)

    # What the caller heard: our prompts, then the operator's 1 kHz tone through the bridge.
    packets = [p for _, p in sink.packets]
    assert len(packets) > 100, len(packets)
    assert {p.payload_type for p in packets} <= {0, 8}
    by_ssrc: dict[int, list[sipmedia.RtpPacket]] = {}
    for p in packets:
        by_ssrc.setdefault(p.ssrc, []).append(p)
    for stream in by_ssrc.values():
        seqs = [p.sequence for p in stream]
        assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs)), seqs[:50]
    times = [t for t, _ in sink.packets]
    gaps = np.diff(times)
    assert 0.015 < float(np.median(gaps)) < 0.025, float(np.median(gaps))

    iid, events = pbx.wait_for_interaction(
        "79990000001",
        lambda ev: (
            "wrap_up_started" in types(ev) and any(e["data"].get("recording") == "call" for e in ev)
        ),
    )
    kinds = types(events)
    assert kinds[0] == "arrived"
    assert events[0]["data"]["source"] == "500"
    assert kinds.index("queued") < kinds.index("offered") < kinds.index("answered")
    queued = next(e for e in events if e["type"] == "queued")
    assert queued["data"]["queue_id"] == pbx.queues["A"]
    answered = next(e for e in events if e["type"] == "answered")
    assert answered["data"]["operator_id"] == pbx.operators["op_english"]
    assert any(e["data"].get("digit") == "1" for e in events if e["type"] == "ivr"), events

    # The recording: stereo, left = what the caller sent, right = the operator's tone.
    recordings = sorted((pbx.data / "recordings").rglob(f"{iid}-call.wav"))
    assert len(recordings) == 1
    with wave.open(str(recordings[0])) as wav:
        assert wav.getnchannels() == 2
        assert wav.getframerate() == 8000
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    assert len(frames) > 8000 * 2  # at least two seconds of talk
    assert abs(dominant_hz(frames[:, 1]) - 1000) < 20


def test_given_no_operator_when_the_caller_accepts_a_callback_then_it_is_promised_and_the_call_ends(
    pbx: Pbx, tmp_path: Path
) -> None:
    # "2" for the queue nobody can serve (EWT unknown → callback offered), "1" to accept.
    sipmedia.dtmf_pcap(tmp_path / "digits.pcap", "21", gap_ms=4000)
    caller, sink = call(
        pbx, tmp_path / "caller", "500", "79990000002", tmp_path / "digits.pcap",
        before_ms=500, talk_ms=None,
    )  # fmt: skip
    sink.collect(until=lambda: caller.poll() is not None)
    sink.close()
    _finish(caller, "caller (the hotline hangs up after the thank-you)")
    _, events = pbx.wait_for_interaction(
        "79990000002", lambda ev: "callback_requested" in types(ev)
    )
    kinds = types(events)
    assert kinds.index("queued") < kinds.index("callback_requested")
    assert next(e for e in events if e["type"] == "queued")["data"]["queue_id"] == pbx.queues["C"]
    assert "abandoned" not in kinds
    assert len(sink.packets) > 50  # the announcement and the thank-you were heard


def test_given_no_operator_when_the_caller_hangs_up_in_queue_then_it_is_abandoned(
    pbx: Pbx, tmp_path: Path
) -> None:
    sipmedia.dtmf_pcap(tmp_path / "three.pcap", "3")
    caller, sink = call(
        pbx, tmp_path / "caller", "500", "79990000003", tmp_path / "three.pcap",
        before_ms=500, talk_ms=3000,
    )  # fmt: skip
    sink.collect(until=lambda: caller.poll() is not None)
    sink.close()
    _finish(caller, "caller")
    _, events = pbx.wait_for_interaction("79990000003", lambda ev: "abandoned" in types(ev))
    abandoned = next(e for e in events if e["type"] == "abandoned")
    assert abandoned["data"]["queue_id"] == pbx.queues["B"]


def test_given_a_ringing_operator_phone_when_the_caller_hangs_up_then_the_phone_gets_cancel(
    pbx: Pbx, tmp_path: Path
) -> None:
    phone = start_phone(pbx, tmp_path / "phone", "op_ring", "operator_ring.xml", None)
    pbx.set_state("op_ring", "ready")
    try:
        sipmedia.dtmf_pcap(tmp_path / "three.pcap", "3")
        caller, sink = call(
            pbx, tmp_path / "caller", "500", "79990000004", tmp_path / "three.pcap",
            before_ms=500, talk_ms=3000,
        )  # fmt: skip
        sink.collect(until=lambda: caller.poll() is not None)
        sink.close()
        _finish(caller, "caller")
        _finish(phone.proc, "ringing phone (CANCEL, 487, ACK)")
    finally:
        pbx.set_state("op_ring", "offline")
        _kill(phone.proc)
    _, events = pbx.wait_for_interaction("79990000004", lambda ev: "abandoned" in types(ev))
    kinds = types(events)
    assert kinds.index("offered") < kinds.index("abandoned")
    assert "answered" not in kinds


def test_given_wrong_sip_password_when_a_phone_registers_then_403(pbx: Pbx, tmp_path: Path) -> None:
    scenario = tmp_path / "register.xml"
    scenario.write_text(
        (SIPP_DIR / "register.xml")
        .read_text()
        .replace('<recv response="200" />', '<recv response="403" />')
    )
    proc = _sipp(
        tmp_path, scenario, f"127.0.0.1:{pbx.sip_port}", "-p", str(free_port()),
        "-au", "op_english", "-ap", "not-the-password", "-key", "user", "op_english",
        "-key", "contact_port", "5999", timeout=10,
    )  # fmt: skip
    _finish(proc, "REGISTER with a wrong password")


@pytest.mark.parametrize(
    ("number", "codecs", "status"),
    [("999", "0 101", "404"), ("500", "18 9", "488"), ("502", "0 101", "480")],
    ids=["unknown-number-404", "no-common-codec-488", "nobody-to-answer-480"],
)
def test_given_a_call_the_hotline_cannot_take_then_the_right_status(
    pbx: Pbx, tmp_path: Path, number: str, codecs: str, status: str
) -> None:
    scenario = _template(tmp_path, "invite_rejected.xml", STATUS=status, CODECS=codecs, USER="7999")
    proc = _sipp(
        tmp_path, scenario, f"127.0.0.1:{pbx.sip_port}", "-s", number, "-p", str(free_port()),
        "-mi", "127.0.0.1", "-mp", str(_free_media_port()), timeout=10,
    )  # fmt: skip
    _finish(proc, f"INVITE expecting {status}")


def test_given_a_closed_hotline_when_the_caller_speaks_then_the_voicemail_is_recorded(
    pbx: Pbx, tmp_path: Path
) -> None:
    sipmedia.tone_pcap(tmp_path / "message.pcap", 440, 3.0)
    caller, sink = call(
        pbx, tmp_path / "caller", "501", "79990000005", tmp_path / "message.pcap",
        before_ms=1500, talk_ms=4000,
    )  # fmt: skip
    sink.collect(until=lambda: caller.poll() is not None)
    sink.close()
    _finish(caller, "caller leaving a message")
    iid, events = pbx.wait_for_interaction(
        "79990000005",
        lambda ev: any(e["data"].get("recording") == "voicemail" for e in ev),
        pbx.closed_hotline_id,
    )
    assert any(e["data"].get("branch") == "closed" for e in events), events
    assert "queued" not in types(events)
    recordings = sorted((pbx.data / "recordings").rglob(f"{iid}-voicemail.wav"))
    assert len(recordings) == 1
    with wave.open(str(recordings[0])) as wav:
        assert wav.getnchannels() == 1
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert len(samples) >= 8000 * 2.5  # the three seconds of message, at least most of it
    assert abs(dominant_hz(samples) - 440) < 10
    assert len(sink.packets) >= 20  # the beep was heard


def test_given_a_talking_operator_when_hold_resume_and_hangup_via_api_then_logged_and_survey(
    pbx: Pbx, tmp_path: Path
) -> None:
    sipmedia.tone_pcap(tmp_path / "op.pcap", 1000, 3.0)
    phone = start_phone(
        pbx, tmp_path / "phone", "op_english", "operator_uas.xml", tmp_path / "op.pcap"
    )
    pbx.set_state("op_english", "ready")
    token = pbx.tokens["op_english"]
    sipmedia.dtmf_pcap(tmp_path / "one.pcap", "1")
    caller, sink = call(
        pbx, tmp_path / "caller", "500", "79990000006", tmp_path / "one.pcap",
        before_ms=500, talk_ms=None,
    )  # fmt: skip
    try:
        iid, _ = pbx.wait_for_interaction("79990000006", lambda ev: "answered" in types(ev))
        # Another operator may not touch this call; the one talking may.
        other = pbx.http.post(
            f"/api/v1/calls/{iid}/hold",
            headers={"Authorization": f"Bearer {pbx.tokens['op_ring']}"},
        )
        assert other.status_code == 403, other.text
        for action in ("hold", "resume", "hangup"):
            done = pbx.api("POST", f"/calls/{iid}/{action}", token)
            assert done == {"interaction_id": iid, "done": True}
        # Hung up already: the caller is in the survey, no longer this operator's call.
        again = pbx.http.post(
            f"/api/v1/calls/{iid}/hangup", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code in (403, 404), again.text
        sink.collect(until=lambda: caller.poll() is not None)
        sink.close()
        _finish(caller, "caller (the survey ends, the hotline hangs up)")
        _finish(phone.proc, "operator phone (BYE from the hotline)")
    finally:
        pbx.set_state("op_english", "offline")
        _kill(phone.proc)
        _kill(caller)
        sink.close()
    _, events = pbx.wait_for_interaction(
        "79990000006", lambda ev: any(e["data"].get("node") == "survey" for e in ev)
    )
    kinds = types(events)
    assert kinds.index("answered") < kinds.index("held") < kinds.index("resumed")
    assert kinds.index("resumed") < kinds.index("wrap_up_started")


BARESIP_CONFIG = """\
poll_method\tepoll
sip_listen\t127.0.0.1:{port}
sip_transports\tudp
audio_player\taufile,{dir}/heard.wav
audio_source\taufile,{dir}/speak.wav
audio_alert\taufile,{dir}/alert.wav
module_path\t/usr/lib/baresip/modules
module\tg711.so
module\taufile.so
module\tmenu.so
module\taccount.so
"""


@pytest.mark.skipif(shutil.which("baresip") is None, reason="needs baresip (apt: baresip)")
def test_given_baresip_as_the_operator_phone_when_a_call_comes_then_it_answers_and_talks(
    pbx: Pbx, tmp_path: Path
) -> None:
    """A real softphone: registers with digest auth, auto-answers, sends its microphone."""
    home = tmp_path / "baresip"
    home.mkdir()
    (home / "config").write_text(BARESIP_CONFIG.format(port=free_port(), dir=home))
    (home / "accounts").write_text(
        f"<sip:op_english@127.0.0.1:{pbx.sip_port}>;auth_pass={SIP_PASSWORD};"
        "answermode=auto;regint=300\n"
    )
    # baresip 1.0 hangs up when its source file ends: give it more than the call needs
    subprocess.run(  # noqa: S603 - sox with fixed arguments
        [shutil.which("sox") or "sox", "-n", "-r", "8000", "-c", "1", "-b", "16",
         str(home / "speak.wav"), "synth", "30", "sine", "700", "vol", "0.5"],
        check=True,
    )  # fmt: skip
    phone = subprocess.Popen(  # noqa: S603 - baresip with our own config
        [shutil.which("baresip") or "baresip", "-f", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    try:
        assert phone.stdout is not None
        deadline = time.monotonic() + WAIT_S
        seen = []
        for line in phone.stdout:  # until the registrar's 200 OK is reported
            seen.append(line)
            if "200 OK" in line or time.monotonic() > deadline:
                break
        assert any("200 OK" in line for line in seen), "".join(seen)
        pbx.set_state("op_english", "ready")
        sipmedia.dtmf_pcap(tmp_path / "one.pcap", "1")
        caller, sink = call(
            pbx, tmp_path / "caller", "500", "79990000007", tmp_path / "one.pcap",
            before_ms=500, talk_ms=5000,
        )  # fmt: skip
        sink.collect(until=lambda: caller.poll() is not None)
        sink.close()
        _finish(caller, "caller")
    finally:
        pbx.set_state("op_english", "offline")
        phone.terminate()
        phone.communicate(timeout=10)
    iid, events = pbx.wait_for_interaction(
        "79990000007",
        lambda ev: any(e["data"].get("recording") == "call" for e in ev),
    )
    answered = next(e for e in events if e["type"] == "answered")
    assert answered["data"]["operator_id"] == pbx.operators["op_english"]
    recording = next((pbx.data / "recordings").rglob(f"{iid}-call.wav"))
    with wave.open(str(recording)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    assert abs(dominant_hz(frames[:, 1]) - 700) < 15  # baresip's microphone, right channel
    # and the caller heard it through the bridge: the last two seconds are baresip's tone
    tail = b"".join(p.payload for _, p in sink.packets[-100:] if p.payload_type == 0)
    assert len(tail) > 8000
    assert abs(dominant_hz(ulaw_decode(tail)) - 700) < 15

"""The browser softphone's server side against a real ``hotline demo``, real SIPp callers
and a real WebRTC peer: aiortc in the test process plays the browser (DTLS-SRTP, ICE),
sending a 1 kHz tone as the operator's voice while the caller's pcap is a 440 Hz tone.
Each direction is checked by its frequency, so a leg crossed with another (or silence)
fails.  The same path in Chromium is ``tests/e2e/test_softphone.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fractions
import io
import subprocess
import time
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from hotline.telephony.webrtc.softphones import use_ice_hosts
from tests.integration import sipmedia
from tests.integration.test_demo_server import PASSWORD
from tests.integration.test_sip_calls import (
    Pbx,
    RtpSink,
    _finish,
    _kill,
    call,
    dominant_hz,
    serving,
    types,
    ulaw_decode,
)
from tests.integration.world import auth

pytestmark = pytest.mark.slow

NUMBER = "510"
WEB_LINE: dict[str, int] = {}  # the fixture's hotline
WAIT_S = 20.0


class Tone(MediaStreamTrack):
    """The operator's microphone: a 1 kHz tone, 20 ms frames at 8 kHz, paced."""

    kind = "audio"

    def __init__(self, hz: float = 1000.0) -> None:
        super().__init__()
        self._hz = hz
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._n / 8000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # a paced source, as a microphone is
        t = (self._n + np.arange(160)) / 8000
        samples = (8000 * np.sin(2 * np.pi * self._hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, self._n
        frame.time_base = fractions.Fraction(1, 8000)
        self._n += 160
        return frame


class FakeBrowser:
    """What the desktop page does, in Python: offer, POST it, keep what it hears."""

    def __init__(self, hz: float = 1000.0) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.heard: list[np.ndarray] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.addTrack(Tone(hz))
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self._listen(track)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                self.heard.append(out.to_ndarray().reshape(-1))

    async def connect(self, pbx: Pbx, token: str, *, auto_answer: bool = False) -> dict[str, Any]:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"type": "offer", "sdp": self.pc.localDescription.sdp, "auto_answer": auto_answer}
        response = await asyncio.to_thread(
            pbx.http.post,
            "/api/v1/softphone",
            json=offer,
            headers=auth(token),
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return answer

    async def hears(self, what: str, frames: int = 100) -> np.ndarray:
        """The next ``frames`` 20 ms frames the browser hears, less the first 25 (jitter)."""
        start = len(self.heard)
        await until(lambda: len(self.heard) - start >= frames, what)
        return np.concatenate(self.heard[start + 25 :])

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()


async def until(condition: Any, what: str, seconds: float = WAIT_S) -> None:
    """Poll a condition (of state the event loop itself updates), with a deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # yields to aiortc's tasks; the condition is the sync


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    with softphone_server(tmp_path_factory) as server:
        yield server


@contextlib.contextmanager
def softphone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """The SIP tests' server plus a hotline whose calls go straight to one queue, served
    by ``op_web`` (browser phone) and ``op_other`` (to check who may answer)."""
    use_ice_hosts(["127.0.0.1"])  # this process's aioice plays the browser on loopback
    with serving(tmp_path_factory) as pbx:
        tenant = pbx.api("GET", "/tenants")["items"][0]["id"]
        always = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        hotline = pbx.api(
            "POST",
            "/hotlines",
            json={
                "tenant_id": tenant, "name": "Web line", "timezone": "Europe/Moscow",
                "language": "en", "numbers": [NUMBER], "business_hours": {"weekly": always},
            },
        )  # fmt: skip
        queue = pbx.api(
            "POST", "/queues", json={"hotline_id": hotline["id"], "name": "Web queue",
                                     "wrap_up_seconds": 1},
        )  # fmt: skip
        pbx.queues["web"] = queue["id"]
        WEB_LINE["id"] = hotline["id"]
        for login in ("op_web", "op_other"):
            user = pbx.api(
                "POST",
                "/users",
                json={
                    "tenant_id": tenant, "login": login, "display_name": login, "role": "operator",
                    "password": PASSWORD, "hotline_ids": [hotline["id"]],
                },
            )  # fmt: skip
            pbx.operators[login] = user["id"]
            pbx.login(login)
        pbx.login("supervisor")
        yield pbx


def drain(sink: RtpSink) -> None:
    sink.sock.setblocking(False)
    try:
        while True:
            sink.sock.recv(2048)
    except BlockingIOError:
        pass
    finally:
        sink.sock.setblocking(True)


async def caller_hears(sink: RtpSink) -> np.ndarray:
    """What the caller's socket gets once its backlog is drained: 100 packets, less the
    first 25 (jitter), decoded."""
    drain(sink)
    await asyncio.to_thread(sink.collect, lambda: len(sink.packets) >= 100, WAIT_S)
    return ulaw_decode(b"".join(p.payload for _, p in sink.packets[25:]))


Log = list[dict[str, Any]]


def logged(kind: str) -> Callable[[Log], bool]:
    """A log that has an event of ``kind``."""
    return lambda events: kind in types(events)


async def log_until(pbx: Pbx, caller: str, done: Callable[[Log], bool]) -> tuple[int, Log]:
    """The caller's latest interaction on the web line once its log satisfies ``done``."""
    return await asyncio.to_thread(pbx.wait_for_interaction, caller, done, WEB_LINE["id"])


def status(pbx: Pbx, login: str) -> dict[str, Any]:
    result: dict[str, Any] = pbx.api("GET", "/softphone", pbx.tokens[login])
    return result


@contextlib.asynccontextmanager
async def connected_browser(
    pbx: Pbx, login: str = "op_web", *, hz: float = 1000.0, auto_answer: bool = False
) -> AsyncIterator[FakeBrowser]:
    """A browser phone of ``login`` (saying ``hz``), connected (ICE + DTLS); closed after."""
    browser = FakeBrowser(hz)
    try:
        await browser.connect(pbx, pbx.tokens[login], auto_answer=auto_answer)
        await until(lambda: browser.pc.connectionState == "connected", "ICE + DTLS")
        yield browser
    finally:
        await browser.close()


@dataclasses.dataclass(frozen=True)
class OnCall:
    """``op_web``'s browser phone and the SIPp caller ringing the web line, with its ear."""

    browser: FakeBrowser
    caller: subprocess.Popen[str]
    sink: RtpSink


@contextlib.asynccontextmanager
async def on_call(
    pbx: Pbx,
    tmp_path: Path,
    caller_number: str,
    *,
    talk_ms: int | None = None,
    auto_answer: bool = False,
    seconds: float = 20.0,
) -> AsyncIterator[OnCall]:
    """``op_web`` ready on a connected browser phone, and ``caller_number`` dialling the web
    line with a 440 Hz voice of ``seconds`` (``talk_ms`` None: it waits for the hotline's
    BYE).  After: ``op_web`` offline, the caller killed, its socket and the browser closed."""
    async with connected_browser(pbx, auto_answer=auto_answer) as browser:
        caller = sink = None
        try:
            pbx.set_state("op_web", "ready")
            sipmedia.tone_pcap(tmp_path / "voice.pcap", 440, seconds)
            caller, sink = call(
                pbx, tmp_path / "caller", NUMBER, caller_number, tmp_path / "voice.pcap",
                before_ms=0, talk_ms=talk_ms,
            )  # fmt: skip
            yield OnCall(browser, caller, sink)
        finally:
            pbx.set_state("op_web", "offline")
            if caller is not None:
                _kill(caller)
            if sink is not None:
                sink.close()


async def test_given_a_softphone_when_a_call_is_answered_then_each_side_hears_the_other(
    pbx: Pbx, tmp_path: Path
) -> None:
    pbx.set_state("op_web", "offline")
    async with on_call(pbx, tmp_path, "79990001001") as talk:
        iid, _ = await log_until(pbx, "79990001001", logged("offered"))
        assert status(pbx, "op_web")["in_call"] is False  # ringing: not yet bridged
        # another operator may not answer it; the right one may
        other = pbx.http.post(
            f"/api/v1/calls/{iid}/answer",
            headers=auth(pbx.tokens["op_other"]),
        )
        assert other.status_code == 403, other.text
        assert pbx.api("POST", f"/calls/{iid}/answer", pbx.tokens["op_web"])["done"] is True

        # operator -> caller: the caller's socket gets the operator's 1 kHz
        assert abs(dominant_hz(await caller_hears(talk.sink)) - 1000) < 20
        # caller -> operator: the browser hears the caller's 440 Hz
        assert abs(dominant_hz(await talk.browser.hears("audio in the browser")) - 440) < 10
        live = status(pbx, "op_web")
        assert live["in_call"] is True and live["packets_from_leg"] >= 100, live

        # the operator hangs up: the caller gets BYE, the phone stays connected, idle
        assert pbx.api("POST", f"/calls/{iid}/hangup", pbx.tokens["op_web"])["done"] is True
        await asyncio.to_thread(_finish, talk.caller, "caller (the operator hung up)")
        assert status(pbx, "op_web")["in_call"] is False
        _, events = await log_until(pbx, "79990001001", logged("wrap_up_started"))
        answered = next(e for e in events if e["type"] == "answered")
        assert answered["data"]["operator_id"] == pbx.operators["op_web"]


async def test_given_a_ringing_softphone_when_declined_then_the_caller_keeps_waiting(
    pbx: Pbx, tmp_path: Path
) -> None:
    async with on_call(pbx, tmp_path, "79990001002", talk_ms=6000, seconds=4.0) as talk:
        iid, _ = await log_until(pbx, "79990001002", logged("offered"))
        assert pbx.api("POST", f"/calls/{iid}/decline", pbx.tokens["op_web"])["done"] is True
        # the call is no longer offered to them; they go not ready (as on a missed offer),
        # so routing does not ring them again at once
        again = pbx.http.post(
            f"/api/v1/calls/{iid}/answer",
            headers=auth(pbx.tokens["op_web"]),
        )
        assert again.status_code == 403, again.text
        assert pbx.api("GET", "/agent/state", pbx.tokens["op_web"])["state"] == "not_ready"
        await asyncio.to_thread(_finish, talk.caller, "caller who gives up after 6 s")
        _, events = await log_until(pbx, "79990001002", logged("abandoned"))
        assert "answered" not in types(events)


async def test_given_a_softphone_in_a_call_when_switched_off_then_the_call_ends_as_a_hang_up(
    pbx: Pbx, tmp_path: Path
) -> None:
    async with on_call(pbx, tmp_path, "79990001003") as talk:
        iid, _ = await log_until(pbx, "79990001003", logged("offered"))
        pbx.api("POST", f"/calls/{iid}/answer", pbx.tokens["op_web"])
        # the page is closed (or the phone switched off) mid-call: nothing is left hanging
        pbx.api("DELETE", "/softphone", pbx.tokens["op_web"])
        await asyncio.to_thread(_finish, talk.caller, "caller (the browser phone went away)")
        _, events = await log_until(pbx, "79990001003", logged("wrap_up_started"))
        assert types(events).index("answered") < types(events).index("wrap_up_started")
        gone = pbx.http.get("/api/v1/softphone", headers=auth(pbx.tokens["op_web"]))
        assert gone.status_code == 404


@pytest.mark.parametrize(
    ("sdp", "why"),
    [
        ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "no audio"),
        ("m=audio garbage\r\n" * 3, "no DTLS fingerprint"),
        ("m=audio garbage\r\na=fingerprint:sha-256 00\r\n", "unusable offer"),
    ],
)
def test_given_a_bad_offer_when_posted_then_422_says_why_and_the_server_carries_on(
    pbx: Pbx, sdp: str, why: str
) -> None:
    response = pbx.http.post(
        "/api/v1/softphone",
        json={"type": "offer", "sdp": sdp},
        headers=auth(pbx.tokens["op_other"]),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error_id"] == "invalid_sdp"
    assert why in response.json()["message"]
    assert pbx.http.get("/healthz").status_code == 200


def test_given_a_client_or_an_answer_when_not_offered_then_refused(pbx: Pbx) -> None:
    if "client" not in pbx.tokens:
        pbx.login("client")
    sdp = "v=0\r\nm=audio 9 x\r\n"
    for login, path, body, expected in (
        # a client has no softphone
        ("client", "/api/v1/softphone", {"type": "offer", "sdp": sdp}, 403),
        # a supervisor cannot answer calls with it: answering is for the operator offered
        ("supervisor", "/api/v1/calls/999999/answer", None, 404),
        # an answer is never accepted from the browser, only offers
        ("op_other", "/api/v1/softphone", {"type": "answer", "sdp": sdp}, 422),
        # no such live call
        ("op_other", "/api/v1/calls/999999/answer", None, 404),
    ):
        refused = pbx.http.post(path, json=body, headers=auth(pbx.tokens[login]))
        assert refused.status_code == expected, (login, path, refused.text)
    # a supervisor may have one (to listen), but only their own: status of none is 404
    none = pbx.http.get("/api/v1/softphone", headers=auth(pbx.tokens["supervisor"]))
    assert none.status_code == 404, none.text


def level_at(samples: np.ndarray, hz: float) -> float:
    """Relative spectral magnitude near ``hz`` (the whole spectrum sums to 1)."""
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    return float(spectrum[np.abs(freqs - hz) < 15].sum() / spectrum.sum())


async def test_given_a_talking_call_when_a_supervisor_listens_then_they_hear_both_and_nobody_hears_them(  # noqa: E501
    pbx: Pbx, tmp_path: Path
) -> None:
    async with (
        # what the supervisor says (2 kHz) must reach nobody
        connected_browser(pbx, "supervisor", hz=2000.0) as supervisor,
        on_call(pbx, tmp_path, "79990001004") as talk,
    ):
        iid, _ = await log_until(pbx, "79990001004", logged("offered"))
        # not before the call is talked; never by the operator or a client
        early = pbx.http.post(
            f"/api/v1/calls/{iid}/monitor",
            headers=auth(pbx.tokens["supervisor"]),
        )
        assert early.status_code == 409, early.text
        pbx.api("POST", f"/calls/{iid}/answer", pbx.tokens["op_web"])
        for who, expected in (("op_other", 403), ("client", 403)):
            if who not in pbx.tokens:
                pbx.login(who)
            refused = pbx.http.post(
                f"/api/v1/calls/{iid}/monitor",
                headers=auth(pbx.tokens[who]),
            )
            assert refused.status_code == expected, (who, refused.text)
        assert pbx.api("POST", f"/calls/{iid}/monitor", pbx.tokens["supervisor"])["done"]
        mix = await supervisor.hears("the monitor's audio", frames=150)
        assert level_at(mix, 440) > 0.05, level_at(mix, 440)  # the caller
        assert level_at(mix, 1000) > 0.05, level_at(mix, 1000)  # the operator
        # ... and the supervisor's 2 kHz reached neither party
        to_caller = await caller_hears(talk.sink)
        assert level_at(to_caller, 1000) > 0.3 and level_at(to_caller, 2000) < 0.01
        to_operator = await talk.browser.hears("the operator's audio")
        assert level_at(to_operator, 2000) < 0.01, level_at(to_operator, 2000)

        assert pbx.api("DELETE", f"/calls/{iid}/monitor", pbx.tokens["supervisor"])["done"]
        listening = status(pbx, "supervisor")
        assert listening["in_call"] is False
        pbx.api("POST", f"/calls/{iid}/hangup", pbx.tokens["op_web"])
        await asyncio.to_thread(_finish, talk.caller, "caller (the operator hung up)")


def test_given_an_uploaded_greeting_when_a_call_arrives_then_the_caller_hears_the_upload(
    pbx: Pbx, tmp_path: Path
) -> None:
    """Not the softphone, but the same server: a prompt uploaded through the API is what
    the next call plays (the per-call prompt library), without a restart."""
    t = np.arange(8000 * 2) / 8000
    tone = (8000 * np.sin(2 * np.pi * 1700 * t)).astype(np.int16)  # no voice is a pure 1.7 kHz
    wav = io.BytesIO()
    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(tone.tobytes())
    pbx.api(
        "PUT",
        f"/hotlines/{pbx.hotline_id}/prompts/en/greeting",
        files={"file": ("greeting.wav", wav.getvalue(), "audio/wav")},
    )
    try:
        sipmedia.tone_pcap(tmp_path / "quiet.pcap", 300, 1.5)
        caller, sink = call(
            pbx, tmp_path / "caller", "500", "79990001005", tmp_path / "quiet.pcap",
            before_ms=0, talk_ms=1500,
        )  # fmt: skip
        try:
            sink.collect(until=lambda: caller.poll() is not None)
            _finish(caller, "caller")
        finally:
            _kill(caller)
            sink.close()
        heard = ulaw_decode(b"".join(p.payload for _, p in sink.packets[5:60]))
        assert level_at(heard, 1700) > 0.5, level_at(heard, 1700)
    finally:
        pbx.api("DELETE", f"/hotlines/{pbx.hotline_id}/prompts/en/greeting")


async def test_given_auto_answer_when_a_call_is_offered_then_it_is_bridged_without_a_click(
    pbx: Pbx, tmp_path: Path
) -> None:
    async with on_call(pbx, tmp_path, "79990001006", auto_answer=True) as talk:
        assert status(pbx, "op_web")["auto_answer"] is True
        iid, events = await log_until(pbx, "79990001006", logged("answered"))
        assert types(events).index("offered") < types(events).index("answered")
        assert abs(dominant_hz(await talk.browser.hears("audio in the browser")) - 440) < 10
        pbx.api("POST", f"/calls/{iid}/hangup", pbx.tokens["op_web"])
        await asyncio.to_thread(_finish, talk.caller, "caller (the operator hung up)")

"""The browser softphone in a real Chromium, with a real call from SIPp.

Chromium's fake capture device is the operator's microphone (it beeps), SIPp's pcap the
caller's voice (a 440 Hz tone).  The operator turns the browser phone on, goes ready,
answers in the page; then audio must flow both ways through the whole path: the browser
counts packets and audio energy received (the caller's tone), the caller's RTP socket
receives the operator's beeps, and the stereo recording has both parties.  Waiting is
Playwright's ``expect``/``wait_for_function`` and the socket's receive loop, never a sleep.
"""

from __future__ import annotations

import io
import shutil
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, NUMBER, Server, log_in, shot
from tests.integration import sipmedia
from tests.integration.test_sip_calls import _finish, _kill, call, dominant_hz, ulaw_decode
from tests.integration.test_softphone import drain

pytestmark = pytest.mark.slow

CALLER = "+79035550101"
GREETING = "Здравствуйте, меня зовут Анна, компания Матрёшка"
LIVE_S = 15_000  # ms
#: the flags of shared/notes/telephony-findings.md "Browser softphone"
MEDIA_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Browser]:
    """Chromium with a fake microphone (the shared ``browser`` fixture has none)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                *MEDIA_FLAGS,
            ],
        )
        yield chromium
        chromium.close()


def browser_stats(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = page.evaluate("() => window.hotlineSoftphone.stats()")
    return stats


def rms(payload: bytes) -> float:
    return float(np.sqrt(np.mean(ulaw_decode(payload).astype(float) ** 2)))


def test_given_the_browser_phone_when_a_sipp_call_is_answered_in_the_page_then_audio_flows_both_ways(  # noqa: E501
    server: Server, media_browser: Browser, tmp_path: Path
) -> None:
    if shutil.which("sipp") is None:
        pytest.skip("needs SIPp (apt: sip-tester)")
    token = server.login("e2e_anna")
    auth = {"Authorization": f"Bearer {token}"}
    desk = log_in(media_browser, server, "e2e_anna")
    caller = sink = None
    try:
        # 1. The browser phone connects (WebRTC to the server: ICE, DTLS, SRTP).
        desk.get_by_role("button", name="Включить браузерный телефон").click()
        expect(desk.locator("#softphone-state")).to_have_attribute(
            "data-state", "connected", timeout=LIVE_S
        )
        status = server.http.get("/api/v1/softphone", headers=auth).json()
        assert status["state"] == "connected" and status["in_call"] is False, status

        # 2. Анна goes ready; the caller rings: the offer rings in the page.
        desk.get_by_role("button", name="Готов", exact=True).click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_S)
        sipmedia.tone_pcap(tmp_path / "voice.pcap", 440, 20.0)
        caller, sink = call(
            server, tmp_path / "caller", NUMBER, CALLER, tmp_path / "voice.pcap",
            before_ms=0, talk_ms=None,
        )  # fmt: skip
        expect(desk.locator("#softphone-ringing")).to_be_visible(timeout=LIVE_S)
        expect(desk.locator("#greeting")).to_have_text(GREETING)
        expect(desk.locator("#offer-hint")).to_be_hidden()  # "pick up your phone": not here
        shot(desk, "softphone-ringing")

        # 3. Answer in the page: talking, and the server's gateway is in the call.
        desk.get_by_role("button", name="Ответить").click()
        expect(desk.locator("#call-phase")).to_have_text("Разговор", timeout=LIVE_S)
        expect(desk.locator("#softphone-ringing")).to_be_hidden()
        drain(sink)

        # 4a. Caller -> browser: the browser receives packets with sound in them.
        desk.wait_for_function(
            """async () => {
                 const s = await window.hotlineSoftphone.stats();
                 return s.packetsReceived > 150 && s.audioEnergy > 0.01;
               }""",
            timeout=LIVE_S,
            polling=250,
        )
        # 4b. Browser -> caller: SIPp's RTP socket gets the operator's beeps, 20 ms apart.
        sink.collect(until=lambda: len(sink.packets) >= 150, timeout=LIVE_S / 1000)
        heard = [p for _, p in sink.packets]
        assert len(heard) >= 150, len(heard)
        assert {p.payload_type for p in heard} <= {0, 8}
        loud = [p for p in heard if rms(p.payload) > 300]
        assert len(loud) >= 5, [round(rms(p.payload)) for p in heard]
        times = np.diff([t for t, _ in sink.packets])
        assert 0.015 < float(np.median(times)) < 0.025, float(np.median(times))
        status = server.http.get("/api/v1/softphone", headers=auth).json()
        assert status["in_call"] is True
        assert status["packets_to_leg"] > 150 and status["packets_from_leg"] > 150, status
        assert status["frames_to_browser"] > 50, status
        stats = browser_stats(desk)
        assert stats["codec"] == "audio/PCMU", stats  # the page asked for G.711 first
        assert stats["packetsSent"] > 150, stats
        shot(desk, "softphone-talking")

        # 4c. The supervisor listens from the wallboard (silent monitor), in a browser too.
        board = log_in(media_browser, server, "supervisor")
        board.get_by_role("button", name="Включить браузерный телефон").click()
        expect(board.locator("#softphone-state")).to_have_attribute(
            "data-state", "connected", timeout=LIVE_S
        )
        iid = status_call(server)
        board.locator("#monitor-call").select_option(str(iid), timeout=LIVE_S)
        board.get_by_role("button", name="Слушать", exact=True).click()
        expect(board.locator("#monitor-status")).to_contain_text(f"#{iid}", timeout=LIVE_S)
        board.wait_for_function(
            """async () => {
                 const s = await window.hotlineSoftphone.stats();
                 return s.packetsReceived > 100 && s.audioEnergy > 0.01;
               }""",
            timeout=LIVE_S,
            polling=250,
        )
        shot(board, "wallboard-monitor")
        board.get_by_role("button", name="Перестать слушать").click()
        expect(board.locator("#monitor-status")).to_have_text("")
        board.context.close()

        # 5. Анна hangs up in the page; the caller gets the hotline's BYE.
        desk.get_by_role("button", name="Завершить").click()
        _finish(caller, "caller (the operator hung up)")
        expect(desk.locator("#wrapup")).to_be_visible(timeout=LIVE_S)
        status = server.http.get("/api/v1/softphone", headers=auth).json()
        assert status["in_call"] is False, status
    finally:
        if caller is not None:
            _kill(caller)
        if sink is not None:
            sink.close()

    # 6. The recording: left the caller's 440 Hz tone, right the browser's beeps.
    left, right = _recording(server, CALLER)
    assert len(left) > 8000 * 2  # at least two seconds of talk
    assert abs(dominant_hz(left) - 440) < 10
    assert float(np.sqrt(np.mean(right.astype(float) ** 2))) > 50

    # 7. Switching the phone off ends the session (and the next offer rings no browser).
    desk.get_by_role("button", name="Выключить браузерный телефон").click()
    expect(desk.locator("#softphone-state")).to_have_attribute("data-state", "off")
    assert server.http.get("/api/v1/softphone", headers=auth).status_code == 404
    server.api("POST", "/agent/state", who="e2e_anna", json={"state": "offline"})
    desk.context.close()


def status_call(server: Server) -> int:
    """The interaction id of the caller's live call (from the interactions API)."""
    page = server.api("GET", f"/interactions?hotline_id={server.ids['hotline']}&limit=5")
    return int(next(i for i in page["items"] if i["caller"] == CALLER)["id"])


def _recording(server: Server, caller: str) -> tuple[np.ndarray, np.ndarray]:
    page = server.api("GET", f"/interactions?hotline_id={server.ids['hotline']}&limit=5")
    interaction = next(i for i in page["items"] if i["caller"] == caller)
    rec: dict[str, Any] | None = None
    deadline = time.monotonic() + LIVE_S / 1000
    while rec is None and time.monotonic() < deadline:
        listing = server.api("GET", "/recordings")
        rec = next((r for r in listing["items"] if r["interaction_id"] == interaction["id"]), None)
        if rec is None:
            time.sleep(0.1)  # polling the API for the WAV written after the call, with a deadline
    assert rec is not None, f"no recording of interaction {interaction['id']}"
    headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
    audio = server.http.get(f"/api/v1/recordings/{rec['id']}/audio", headers=headers)
    assert audio.status_code == 200, audio.text
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    return frames[:, 0], frames[:, 1]

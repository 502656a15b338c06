"""The operator desktop and the supervisor wallboard in a real browser, with real calls.

A SIPp caller rings the test hotline; a SIPp phone registered for Анна rings for a few
seconds, then answers (so the offer can be seen) — the same SIPp templates as the SIP
integration tests.  What is asserted is what a person sees on the pages; the stored
wrap-up is checked through the REST API.  Waiting is Playwright's ``expect`` (polls the
page with a deadline), never a sleep.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from hotline.web.live_events import parse_frame
from tests.e2e.conftest import NUMBER, SIP_PASSWORD, WRAP_UP_S, Server, log_in, shot
from tests.integration import sipmedia
from tests.integration.test_demo_server import PASSWORD, free_port
from tests.integration.test_sip_calls import (
    SIPP_DIR,
    _finish,
    _free_media_port,
    _kill,
    _sipp,
    call,
    register,
)

pytestmark = pytest.mark.slow

CALLER = "+79161234567"
GREETING = "Здравствуйте, меня зовут Анна, компания Матрёшка"
#: how long Анна's phone rings before it answers: long enough to look at the offer
RING_MS = 4000
LIVE_S = 15_000  # ms: deadline for a page to show a change


def start_phone(server: Server, workdir: Path) -> subprocess.Popen[str]:
    """Анна's phone: ``operator_uas.xml`` with a pause between 180 Ringing and 200 OK."""
    workdir.mkdir(parents=True, exist_ok=True)
    sipmedia.tone_pcap(workdir / "operator.pcap", 1000, 2.0)
    text = (SIPP_DIR / "operator_uas.xml").read_text()
    answer = '  <send retrans="500">'
    assert text.count(answer) == 1, "operator_uas.xml changed: update this test"
    text = text.replace(answer, f'  <pause milliseconds="{RING_MS}" />\n\n{answer}')
    scenario = workdir / "operator_late.xml"
    scenario.write_text(text)
    port = free_port()
    media = str(_free_media_port())
    proc = _sipp(workdir, scenario, "-p", str(port), "-mi", "127.0.0.1", "-mp", media)
    _finish(register(server, workdir, "e2e_anna", port, SIP_PASSWORD), "REGISTER e2e_anna")
    return proc


def queue_cell(page: Page, server: Server, key: str) -> str:
    return f'#queues tr[data-queue="{server.ids["queue"]}"] td[data-k="{key}"]'


def anna_state(page: Page, server: Server) -> str:
    return f'#operators tr[data-operator="{server.ids["anna"]}"] td[data-k="state"]'


def test_given_an_operator_and_a_supervisor_when_a_call_is_offered_answered_and_wrapped_up_then_both_pages_follow(  # noqa: E501
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    login_page = browser.new_page(locale="ru-RU")
    login_page.goto(f"{server.url}/login")
    shot(login_page, "login")
    login_page.close()

    desk = log_in(browser, server, "e2e_anna")
    assert desk.url.endswith("/desktop")
    board = log_in(browser, server, "supervisor")
    assert board.url.endswith(f"/t/{server.ids['tenant']}/wallboard")
    expect(board.locator(anna_state(board, server))).to_have_attribute(
        "data-state", "offline", timeout=LIVE_S
    )

    # 1. Nobody is ready: the caller waits, gives up, and the wallboard counts it.
    sipmedia.tone_pcap(tmp_path / "voice.pcap", 440, 1.0)
    first, sink = call(
        server, tmp_path / "first", NUMBER, CALLER, tmp_path / "voice.pcap",
        before_ms=0, talk_ms=1500,
    )  # fmt: skip
    try:
        _finish(first, "caller who gives up")
    finally:
        _kill(first)
        sink.close()
    expect(board.locator(queue_cell(board, server, "abandoned"))).to_have_text("1", timeout=LIVE_S)
    expect(board.locator(queue_cell(board, server, "offered"))).to_have_text("1")

    # 2. Анна goes ready; the wallboard sees it.
    phone = start_phone(server, tmp_path / "phone")
    caller, sink = None, None
    try:
        desk.get_by_role("button", name="Готов", exact=True).click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_S)
        expect(board.locator(anna_state(board, server))).to_have_attribute(
            "data-state", "ready", timeout=LIVE_S
        )

        # 3. The caller rings again: the offer, with the greeting line and the history.
        caller, sink = call(
            server, tmp_path / "second", NUMBER, CALLER, tmp_path / "voice.pcap",
            before_ms=0, talk_ms=None,
        )  # fmt: skip
        expect(desk.locator("#offer")).to_be_visible(timeout=LIVE_S)
        expect(desk.locator("#greeting")).to_have_text(GREETING)
        expect(desk.locator("#offer-caller")).to_have_text(CALLER)
        expect(desk.locator("#offer-hotline")).to_have_text("Линия E2E")
        expect(desk.locator("#offer-queue")).to_have_text("Очередь E2E")
        expect(desk.locator("#offer-contact")).to_have_text("Пётр Сидоров", timeout=LIVE_S)
        expect(desk.locator("#history tbody tr")).to_have_count(1)  # the abandoned call
        expect(board.locator(anna_state(board, server))).to_have_attribute(
            "data-state", "reserved", timeout=LIVE_S
        )
        shot(desk, "desktop-offer")

        # 4. The phone answers: talking on both pages.
        expect(desk.locator("#call-phase")).to_have_text("Разговор", timeout=LIVE_S)
        expect(board.locator(anna_state(board, server))).to_have_attribute(
            "data-state", "busy", timeout=LIVE_S
        )
        expect(board.locator(queue_cell(board, server, "answered"))).to_have_text(
            "1", timeout=LIVE_S
        )
        expect(board.locator(queue_cell(board, server, "offered"))).to_have_text("2")
        shot(board, "wallboard-talking")

        # 5. Анна hangs up from the desktop; wrap-up counts down from the queue's 20 s...
        desk.get_by_role("button", name="Завершить").click()
        _finish(caller, "caller (the operator hung up)")
        expect(desk.locator("#wrapup")).to_be_visible(timeout=LIVE_S)
        left = desk.locator("#wrapup-left")
        expect(left).to_have_text(re.compile(r"^0:[0-2]\d$"), timeout=LIVE_S)
        first_seen = _as_seconds(left.inner_text())
        expect(left).not_to_have_text(left.inner_text(), timeout=LIVE_S)
        assert _as_seconds(left.inner_text()) < first_seen <= WRAP_UP_S
        expect(board.locator(anna_state(board, server))).to_have_attribute(
            "data-state", "wrap_up", timeout=LIVE_S
        )

        # ... and once only, 30 s more
        desk.get_by_role("button", name="Продлить на 30 с").click()
        expect(left).to_have_text(re.compile(r"^0:[3-5]\d$"), timeout=LIVE_S)
        assert _as_seconds(left.inner_text()) > WRAP_UP_S
        expect(desk.get_by_role("button", name="Продлить на 30 с")).to_be_disabled()

        # 6. Topic and outcome, with the keyboard as much as a person would.
        desk.get_by_label("Тема обращения").select_option(label="Доставка")
        desk.get_by_label("Результат", exact=True).select_option(label="Решено")
        desk.get_by_label("Заметки").fill("Курьер опаздывает")
        desk.get_by_label("Заметки").press("Tab")
        desk.keyboard.press("Enter")  # focus is on «Сохранить»
        expect(desk.locator("#wrapup-status")).to_have_text("Сохранено", timeout=LIVE_S)
        shot(desk, "desktop-wrapup")
        page = server.api("GET", f"/interactions?hotline_id={server.ids['hotline']}&limit=5")
        latest = page["items"][0]
        assert latest["caller"] == CALLER
        assert (latest["topic_id"], latest["outcome_id"]) == (
            server.ids["topic"],
            server.ids["outcome"],
        )
        assert latest["notes"] == "Курьер опаздывает"

        # 7. Wrap-up ends by itself: Анна is ready again and has one handled call today.
        expect(desk.locator("#kpi-handled")).to_have_text("1", timeout=(WRAP_UP_S + 45) * 1000)
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_S)
        expect(board.locator(anna_state(board, server))).to_have_attribute(
            "data-state", "ready", timeout=LIVE_S
        )

        # 8. The supervisor puts Анна on a break from the wallboard; her desktop follows.
        board.locator(f"#set-{server.ids['anna']}").select_option("not_ready")
        board.locator(f"#apply-{server.ids['anna']}").click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "not_ready", timeout=LIVE_S)
        expect(desk.locator("#state")).to_have_text("Не готов (Перерыв)")
        shot(board, "wallboard-after")
        _finish(phone, "Анна's phone (BYE from the hotline)")
    finally:
        _kill(phone)
        if caller is not None:
            _kill(caller)
        if sink is not None:
            sink.close()
        for p in (desk, board):
            p.context.close()


def test_given_a_client_when_opening_another_tenants_pages_then_403(
    server: Server, browser: Browser
) -> None:
    page = log_in(browser, server, "client")
    try:
        own = server.ids["tenant"]
        assert page.url.endswith(f"/t/{own}/reports")
        expect(page.locator("#queues tbody tr")).not_to_have_count(0)
        shot(page, "client-reports")
        other = server.ids["other_tenant"]
        for path in (f"/t/{other}/reports", f"/t/{other}/wallboard", f"/t/{own}/wallboard"):
            response = page.goto(f"{server.url}{path}")
            assert response is not None
            assert response.status == 403, path
            expect(page.get_by_role("heading", name="Доступ запрещён")).to_be_visible()
        shot(page, "client-forbidden")
        # the wallboard socket refuses a client too (the handshake fails)
        opened = page.evaluate(
            """(path) => new Promise((resolve) => {
                const ws = new WebSocket(`ws://${location.host}${path}`);
                ws.onopen = () => resolve(true);
                ws.onclose = () => resolve(false);
            })""",
            f"/ws/wallboard/{own}",
        )
        assert opened is False
    finally:
        page.context.close()


def _as_seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_given_a_page_socket_when_opened_from_another_origin_then_refused(server: Server) -> None:
    """The cookie alone is not enough: a foreign ``Origin`` is refused at the handshake,
    and the right one gets a schema-valid wallboard snapshot first thing."""
    r = server.http.post(
        "/api/v1/auth/login",
        json={"login": "supervisor", "password": PASSWORD, "kind": "session"},
    )
    assert r.status_code == 200, r.text
    headers = {"Cookie": f"hotline_session={r.json()['token']}"}
    url = server.url.replace("http://", "ws://") + f"/ws/wallboard/{server.ids['tenant']}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers={**headers, "Origin": "http://evil.example"})
    assert refused.value.response.status_code == 403
    with connect(url, additional_headers={**headers, "Origin": server.url}) as ws:
        frame = parse_frame(ws.recv(timeout=LIVE_S / 1000))
    assert frame.type == "wallboard.snapshot"
    assert frame.data.tenant_id == server.ids["tenant"]
    assert server.ids["queue"] in {q.id for q in frame.data.queues}

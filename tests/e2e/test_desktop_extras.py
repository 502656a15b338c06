"""The desktop's script panel, knowledge-base search, contact and callback forms in a real
browser.  No call is needed: the panels work on the hotline picked (an offer only switches
them to the offered hotline).  Waiting is Playwright's ``expect``, never a sleep; what was
saved is checked through the REST API.

Then, with a real call: the offer e-mailed to the caller's contact and received by an
aiosmtpd server, and "ready" refused until the call's topic and outcome are saved (the
hotline requires them).  This module's server is the demo with its SMTP settings pointing
at that aiosmtpd server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import NUMBER, WRAP_UP_S, Server, _setup, log_in, shot
from tests.e2e.test_pages import start_phone
from tests.integration import sipmedia
from tests.integration.test_demo_server import READY_TIMEOUT_S, free_port, start_demo
from tests.integration.test_sip_calls import _finish, _kill, call

pytestmark = pytest.mark.slow

LIVE_MS = 15_000
CALLER = "+79161234567"  # the contact «Пётр Сидоров» of tests/e2e/conftest.py


class Mailbox:
    """An aiosmtpd handler keeping the messages it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-extras") / "data"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path, mailbox: tuple[Mailbox, int]
) -> Iterator[Server]:
    """tests/e2e/conftest.py's server, its offers sent to :func:`mailbox`."""
    if shutil.which("sipp") is None:
        pytest.skip("needs SIPp (apt: sip-tester)")
    prompts = tmp_path_factory.getbasetemp() / "prompts"
    smtp = {
        "HOTLINE_SMTP_HOST": "127.0.0.1",
        "HOTLINE_SMTP_PORT": str(mailbox[1]),
        "HOTLINE_SMTP_SENDER": "offers@matryoshka.example",
        "HOTLINE_SMTP_TIMEOUT_SECONDS": "5",
    }
    instance = start_demo(
        data_dir, "127.0.0.1:0", f"127.0.0.1:{free_port()}", prompts=prompts, env_extra=smtp
    )
    try:
        instance.wait_ready(READY_TIMEOUT_S)
        with httpx.Client(base_url=instance.http, timeout=10) as http:
            server = Server(instance, http, int(instance.sip.rsplit(":", 1)[1]))
            _setup(server)
            yield server
    finally:
        status = instance.stop()
        log = "".join(instance.output)
        assert "Traceback" not in log, log[-5000:]
        assert status == 0, log[-5000:]


def _seed(server: Server) -> None:
    hotline = server.ids["hotline"]
    server.api(
        "POST",
        "/scripts",
        json={
            "hotline_id": hotline,
            "name": "Приветствие E2E",
            "start_step": "hello",
            "steps": {
                "hello": {
                    "text": "Вы уже делали у нас заказ?",
                    "answers": [
                        {"label": "Да", "next": "number"},
                        {"label": "Нет", "next": "offer"},
                    ],
                },
                "number": {"text": "Назовите номер заказа", "answers": []},
                "offer": {"text": "Предложите скидку 10 % на первый заказ", "answers": []},
            },
        },
    )
    for title, body in (
        ("Условия доставки", "Доставка курьером за 1–2 дня; стоимость доставки 300 ₽."),
        ("Оплата", "Оплата при получении; перед доставкой курьер позвонит."),
        ("Refund policy", "A refund is issued within 14 days."),
    ):
        server.api(
            "POST",
            "/kb-articles",
            json={"hotline_id": hotline, "title": title, "body": body, "language": "ru"},
        )


def test_given_the_desktop_when_following_the_script_and_searching_the_kb_then_shown(
    server: Server, browser: Browser
) -> None:
    _seed(server)
    page = log_in(browser, server, "e2e_anna")
    expect(page.locator("#script-text")).to_have_text("Вы уже делали у нас заказ?")
    page.get_by_role("button", name="Нет", exact=True).click()
    expect(page.locator("#script-text")).to_have_text("Предложите скидку 10 % на первый заказ")
    expect(page.locator("#script-path")).to_have_text("Нет")
    expect(page.locator("#script-end")).to_be_visible()
    page.get_by_role("button", name="Назад").click()
    page.get_by_role("button", name="Да", exact=True).click()
    expect(page.locator("#script-text")).to_have_text("Назовите номер заказа")
    expect(page.locator("#script-path")).to_have_text("Да")

    # "доставкой" and "доставки" are both found by "доставка"; the English article is not
    page.get_by_label("Поиск по статьям").fill("доставка")
    page.get_by_role("button", name="Найти").click()
    results = page.locator("#kb-results li strong")
    expect(results).to_have_text(["Условия доставки", "Оплата"], timeout=LIVE_MS)
    page.get_by_label("Поиск по статьям").fill("refunds")
    page.get_by_role("button", name="Найти").click()
    expect(results).to_have_text(["Refund policy"], timeout=LIVE_MS)
    shot(page, "desktop-script-kb")

    # a new contact, then a callback for tomorrow 11:00 hotline time
    page.get_by_label("Имя").fill("Ирина Котова")
    page.get_by_label("Телефоны (через запятую)").fill("+79035550101")
    page.get_by_role("button", name="Сохранить контакт").click()
    expect(page.locator("#contact-status")).to_have_text("Контакт сохранён", timeout=LIVE_MS)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).date() + dt.timedelta(days=1)
    page.get_by_label("Номер", exact=True).fill("+79035550101")
    page.locator("#callback-when").fill(f"{tomorrow.isoformat()}T11:00")
    page.get_by_role("button", name="Запланировать").click()
    expect(page.locator("#callback-status")).to_have_text(
        "Обратный звонок запланирован", timeout=LIVE_MS
    )
    shot(page, "desktop-contact-callback")

    server.login("e2e_anna")
    contacts = server.api("GET", "/contacts", who="e2e_anna")["items"]
    saved = [c for c in contacts if c["name"] == "Ирина Котова"]
    assert [c["phones"] for c in saved] == [["+79035550101"]]
    callbacks = server.api("GET", f"/callbacks?hotline_id={server.ids['hotline']}", who="e2e_anna")[
        "items"
    ]
    assert [(c["number"], c["status"], c["contact_id"]) for c in callbacks] == [
        ("+79035550101", "pending", saved[0]["id"])
    ]
    # Moscow is UTC+3: 11:00 there is 08:00 UTC
    assert callbacks[0]["not_before"].startswith(f"{tomorrow.isoformat()}T08:00:00")


def _offer_template(server: Server, hotline_id: int) -> None:
    """A template for the test hotline, created as a supervisor would (the API)."""
    server.api(
        "POST",
        "/offer-templates",
        json={
            "hotline_id": hotline_id,
            "name": "Скидка новым клиентам",
            "language": "ru",
            "subject": "{company}: скидка 10 % для {name}",
            "body": "Здравствуйте, {name}!\nВаш промокод: NEW10.\n{operator}, {company}",
        },
    )


def test_given_a_call_when_sending_an_offer_and_going_ready_then_mailed_and_ready_waits_for_the_wrap_up(  # noqa: E501
    server: Server,
    browser: Browser,
    data_dir: Path,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    inbox, _ = mailbox
    hotline = server.ids["hotline"]
    server.api("PATCH", f"/hotlines/{hotline}", json={"topic_required": True})
    _offer_template(server, hotline)
    (petr,) = [c for c in server.api("GET", "/contacts")["items"] if c["name"] == "Пётр Сидоров"]
    server.api("PATCH", f"/contacts/{petr['id']}", json={"emails": ["petr@example.com"]})

    desk = log_in(browser, server, "e2e_anna")
    phone = start_phone(server, tmp_path / "phone")
    caller, sink = None, None
    try:
        desk.get_by_role("button", name="Готов", exact=True).click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_MS)
        sipmedia.tone_pcap(tmp_path / "voice.pcap", 440, 1.0)
        caller, sink = call(
            server, tmp_path / "caller", NUMBER, CALLER, tmp_path / "voice.pcap",
            before_ms=0, talk_ms=None,
        )  # fmt: skip
        expect(desk.locator("#call-phase")).to_have_text("Разговор", timeout=LIVE_MS)
        expect(desk.locator("#offer-mail-to")).to_have_text("petr@example.com", timeout=LIVE_MS)

        # 1. The offer, during the call, to the recognised contact
        expect(desk.locator("#offer-mail-template option")).to_have_text(
            ["Скидка новым клиентам (ru)"]
        )
        desk.get_by_role("button", name="Отправить письмо").click()
        expect(desk.locator("#offer-mail-status")).to_have_text(
            "Письмо отправлено: petr@example.com", timeout=LIVE_MS
        )
        shot(desk, "desktop-offer-sent")
        ((to, raw),) = inbox.received
        assert to == ["petr@example.com"]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == "Матрёшка: скидка 10 % для Пётр Сидоров"
        text = message.get_body(("plain",))
        assert text is not None
        assert text.get_content().splitlines() == [
            "Здравствуйте, Пётр Сидоров!",
            "Ваш промокод: NEW10.",
            "Анна, Матрёшка",
        ]

        # 2. Hung up: "ready" is refused while the topic and outcome are not saved
        desk.get_by_role("button", name="Завершить").click()
        _finish(caller, "caller (the operator hung up)")
        expect(desk.locator("#wrapup")).to_be_visible(timeout=LIVE_MS)
        # the queue's wrap-up time runs out: the engine holds Анна in wrap-up (the hotline
        # requires topic and outcome), and the page says why nothing happens at 0:00
        expect(desk.locator("#wrapup-held")).to_be_visible(timeout=(WRAP_UP_S + 15) * 1000)
        expect(desk.locator("#state")).to_have_attribute("data-state", "wrap_up")
        latest = server.api("GET", f"/interactions?hotline_id={hotline}&limit=1")["items"][0]
        assert latest["caller"] == CALLER
        desk.get_by_role("button", name="Готов", exact=True).click()
        refusal = desk.locator("#ready-error")
        expect(refusal).to_be_visible(timeout=LIVE_MS)
        expect(refusal).to_have_text(
            f"Сначала сохраните тему и результат обращения №{latest['id']} ({CALLER})"
        )
        expect(desk.locator("#state")).to_have_attribute("data-state", "wrap_up")
        shot(desk, "desktop-ready-refused")

        # 3. Topic and outcome saved: the figures follow, and ready goes through
        desk.get_by_label("Тема обращения").select_option(label="Доставка")
        desk.get_by_label("Результат", exact=True).select_option(label="Решено")
        desk.get_by_role("button", name="Сохранить", exact=True).click()
        expect(desk.locator("#wrapup-status")).to_have_text("Сохранено", timeout=LIVE_MS)
        expect(refusal).to_be_hidden()
        # saved after the timer: the hold ends at once (WrapUpCompleted), ready by itself
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_MS)
        expect(desk.locator("#wrapup-held")).to_be_hidden()
        expect(desk.locator("#kpi-sl")).to_have_text("100 %")  # answered after ~4 s <= 20 s
        desk.get_by_role("button", name="Готов", exact=True).click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=LIVE_MS)
        expect(refusal).to_be_hidden()
        shot(desk, "desktop-ready-after-wrapup")
        desk.get_by_role("button", name="Не в сети").click()
        expect(desk.locator("#state")).to_have_attribute("data-state", "offline", timeout=LIVE_MS)
        _finish(phone, "Анна's phone (BYE from the hotline)")
        with sqlite3.connect(data_dir / "hotline.db", timeout=10) as db:
            sent = db.execute(
                "SELECT entity_id, details FROM audit_log WHERE action = 'offer_sent'"
            ).fetchall()
        assert [(iid, json.loads(d)["to"]) for iid, d in sent] == [
            (str(latest["id"]), "petr@example.com")
        ]
    finally:
        _kill(phone)
        if caller is not None:
            _kill(caller)
        if sink is not None:
            sink.close()
        desk.context.close()

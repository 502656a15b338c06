"""The desktop's script panel, knowledge-base search, contact and callback forms in a real
browser.  No call is needed: the panels work on the hotline picked (an offer only switches
them to the offered hotline).  Waiting is Playwright's ``expect``, never a sleep; what was
saved is checked through the REST API."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Server, log_in, shot

pytestmark = pytest.mark.slow

LIVE_MS = 15_000


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
    page.get_by_label("Номер").fill("+79035550101")
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

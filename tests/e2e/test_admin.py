"""Admin pages, the flow editor and the recordings list in a real browser.

An admin changes a hotline's greeting line through the form (keyboard only) and the
REST API reads the new value back; a flow with a dangling node shows the problem next to
that node; a supervisor's ``<audio>`` element loads a recording's metadata through the
role- and tenant-checked audio endpoint; the admin creates a client company and switches to
it from the navigation; a supervisor writes a branching script (a branch
to a missing step is refused first), a knowledge-base article, and uploads a prompt that
plays in the page and survives a bad upload after it.  Waiting is Playwright's ``expect``
(polls with a deadline), never a sleep.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import math
import struct
import wave
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hotline.store import models as m
from hotline.store.db import Database, sqlite_url
from tests.e2e.conftest import Server, log_in, shot

pytestmark = pytest.mark.slow

DEADLINE_MS = 15_000
GREETING = "Добрый день! Меня зовут {operator}, {company} слушает"
#: the test recording: 1.5 s of a 440 Hz tone, 8 kHz 16-bit mono
RATE, SECONDS = 8000, 1.5


def _data_dir(server: Server) -> Path:
    args = list(server.instance.proc.args)  # type: ignore[arg-type]
    return Path(str(args[args.index("--data") + 1]))


def _write_wav(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / RATE)))
        for i in range(int(RATE * SECONDS))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return path.stat().st_size


async def _insert_recording(data_dir: Path, row: dict[str, object]) -> int:
    db = Database(sqlite_url(data_dir))
    try:
        async with db.system_session() as s:
            rec = m.Recording(**row)
            s.add(rec)
            await s.commit()
            return rec.id
    finally:
        await db.dispose()


def _run(coro: object) -> int:
    # Playwright's sync API owns this thread's event loop: run ours in another thread
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


def test_given_an_admin_when_editing_the_greeting_line_by_keyboard_then_the_api_sees_it(
    browser: Browser, server: Server
) -> None:
    tenant, hotline = server.ids["tenant"], server.ids["hotline"]
    page = log_in(browser, server, "admin")
    page.get_by_role("link", name="Настройки").click()
    expect(page).to_have_url(f"{server.url}/t/{tenant}/admin/hotlines")
    page.get_by_role("link", name="Изменить: Линия E2E").click()
    field = page.get_by_label("Строка приветствия")
    expect(field).to_have_value("Здравствуйте, меня зовут {operator}, компания {company}")
    shot(page, "admin-hotline-form")
    # a wrong placeholder first: the error appears under the field, the input is kept
    field.fill("Привет, я {nobody}")
    field.press("Enter")
    error = page.locator("#err-greeting_template")
    expect(error).to_contain_text("{nobody}: unknown placeholder")
    expect(page.get_by_label("Строка приветствия")).to_have_attribute("aria-invalid", "true")
    shot(page, "admin-hotline-error")
    field = page.get_by_label("Строка приветствия")
    field.fill(GREETING)
    field.press("Enter")
    expect(page).to_have_url(f"{server.url}/t/{tenant}/admin/hotlines?saved={hotline}")
    row = page.locator(f'#items tr[data-id="{hotline}"] td[data-k="greeting_template"]')
    expect(row).to_have_text(GREETING)
    shot(page, "admin-hotlines")
    assert server.api("GET", f"/hotlines/{hotline}")["greeting_template"] == GREETING
    # the operator form: hotlines to tick, a level per skill of the tenant
    page.get_by_role("link", name="Пользователи").click()
    page.get_by_role("link", name="Добавить").click()
    expect(page.get_by_label("Линия E2E")).not_to_be_checked()
    expect(page.get_by_label("russian")).to_have_attribute("type", "number")
    shot(page, "admin-user-form")
    page.context.close()


def test_given_a_flow_with_a_dangling_node_when_saved_then_the_problem_is_shown_at_the_node(
    browser: Browser, server: Server
) -> None:
    tenant, hotline, queue = server.ids["tenant"], server.ids["hotline"], server.ids["queue"]
    page = log_in(browser, server, "admin")
    page.goto(f"{server.url}/t/{tenant}/admin/hotlines")
    page.locator(f'#items tr[data-id="{hotline}"]').get_by_role("link", name="Сценарий IVR").click()
    broken = {
        "start": "greet",
        "nodes": {
            "greet": {"type": "play", "prompt": "greeting", "next": "nowhere"},
            "q": {"type": "queue", "queue": queue},
        },
    }
    page.get_by_label("Документ сценария (JSON)").fill(json.dumps(broken, indent=2))
    page.get_by_role("button", name="Проверить и сохранить").click()
    greet = page.locator('#flow-nodes li[data-node="greet"]')
    expect(greet.locator(".node-problem")).to_contain_text("nowhere", timeout=DEADLINE_MS)
    expect(greet.locator(".node-problem").first).to_have_attribute("data-path", "nodes.greet.next")
    expect(greet).to_have_class("node bad")
    expect(page.locator("#flow-versions li")).to_have_count(0)
    shot(page, "admin-flow-problem")
    fixed = {**broken, "nodes": {**broken["nodes"], "greet": {**broken["nodes"]["greet"]}}}
    fixed["nodes"]["greet"]["next"] = "q"
    page.get_by_label("Документ сценария (JSON)").fill(json.dumps(fixed, indent=2))
    page.get_by_role("button", name="Сохранить и опубликовать").click()
    expect(page.locator('#flow-versions li[data-version="1"]')).to_contain_text(
        "действует", timeout=DEADLINE_MS
    )
    versions = server.api("GET", f"/hotlines/{hotline}/flows")
    assert [(v["version"], v["published_at"] is not None) for v in versions] == [(1, True)]
    assert versions[0]["document"] == fixed
    page.context.close()


def test_given_a_recording_when_a_supervisor_plays_it_then_audio_metadata_loads(
    browser: Browser, server: Server
) -> None:
    tenant, hotline = server.ids["tenant"], server.ids["hotline"]
    data_dir = _data_dir(server)
    path = data_dir / "recordings" / str(tenant) / "e2e" / "call.wav"
    size = _write_wav(path)
    rec_id = _run(
        _insert_recording(
            data_dir,
            {
                "tenant_id": tenant,
                "hotline_id": hotline,
                "path": str(path),
                "started_at": dt.datetime.now(dt.UTC),
                "duration_seconds": SECONDS,
                "channels": 1,
                "size_bytes": size,
            },
        )
    )
    page = log_in(browser, server, "supervisor")
    page.get_by_role("link", name="Записи").click()
    row = page.locator(f'#recordings tr[data-recording="{rec_id}"]')
    expect(row).to_be_visible()
    audio = row.locator("audio")
    audio.evaluate("a => { a.preload = 'metadata'; a.load(); }")
    page.wait_for_function(
        "a => a.readyState >= 1 && isFinite(a.duration)",
        arg=audio.element_handle(),
        timeout=DEADLINE_MS,
    )
    duration = audio.evaluate("a => a.duration")
    assert abs(duration - SECONDS) < 0.05, duration
    shot(page, "recordings")
    # another tenant's recordings page does not open for this supervisor
    other = server.ids["other_tenant"]
    response = page.request.get(f"{server.url}/t/{other}/recordings")
    assert response.status == 403
    page.context.close()


def test_given_a_client_when_opening_the_portal_then_own_hotlines_and_no_other_tenant(
    browser: Browser, server: Server
) -> None:
    tenant, other = server.ids["tenant"], server.ids["other_tenant"]
    page = log_in(browser, server, "client")
    page.get_by_role("link", name="Мои линии").click()
    expect(page).to_have_url(f"{server.url}/t/{tenant}/portal")
    card = page.locator(f'section[data-hotline="{server.ids["hotline"]}"]')
    expect(card.get_by_role("heading", name="Линия E2E")).to_be_visible()
    expect(card.locator(f'tr[data-queue="{server.ids["queue"]}"]')).to_contain_text("Очередь E2E")
    expect(page.get_by_role("link", name="Настройки")).to_have_count(0)  # no admin for clients
    shot(page, "client-portal")
    for path in (f"/t/{other}/portal", f"/t/{other}/recordings", f"/t/{tenant}/admin/hotlines"):
        assert page.request.get(f"{server.url}{path}").status == 403, path
    page.context.close()


def test_given_the_admin_when_creating_a_company_then_the_switcher_leads_to_its_hotlines(
    browser: Browser, server: Server
) -> None:
    page = log_in(browser, server, "admin")
    page.get_by_role("link", name="Настройки").click()
    page.get_by_role("link", name="Компании", exact=True).click()
    expect(page).to_have_url(f"{server.url}/admin/tenants")
    page.get_by_role("link", name="Добавить").click()
    page.get_by_label("Название компании").fill("ООО Ромашка")
    page.get_by_label("Идентификатор").fill("romashka")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_be_visible()
    created = [t for t in server.api("GET", "/tenants")["items"] if t["slug"] == "romashka"]
    assert [t["name"] for t in created] == ["ООО Ромашка"]
    tenant = created[0]["id"]
    row = page.locator(f'#items tr[data-id="{tenant}"]')
    expect(row.locator('td[data-k="hotlines"]')).to_have_text("0")
    shot(page, "admin-tenants")
    page.get_by_label("Компания", exact=True).select_option(label="ООО Ромашка")
    page.get_by_role("button", name="Перейти").click()
    expect(page).to_have_url(f"{server.url}/t/{tenant}/admin/hotlines")
    expect(page.get_by_role("heading", name="Линии")).to_be_visible()
    expect(page.get_by_text("Пока ничего нет")).to_be_visible()
    expect(page.get_by_label("Компания", exact=True)).to_have_value(str(tenant))
    shot(page, "admin-tenant-switched")
    page.context.close()


def test_given_a_supervisor_when_editing_a_script_an_article_and_a_prompt_then_all_are_kept(
    browser: Browser, server: Server
) -> None:
    tenant, hotline = server.ids["tenant"], server.ids["hotline"]
    server.login("supervisor")
    page = log_in(browser, server, "supervisor")
    page.goto(f"{server.url}/t/{tenant}/admin/hotlines")
    row = page.locator(f'#items tr[data-id="{hotline}"]')
    # -- a script: a branch to a step not written yet is refused and named at its field
    row.get_by_role("link", name="Скрипты").click()
    expect(page).to_have_url(f"{server.url}/t/{tenant}/admin/scripts?hotline_id={hotline}")
    page.get_by_role("link", name="Добавить").click()
    expect(page.get_by_label("Линия")).to_have_value(str(hotline))
    page.get_by_label("Название").fill("Заказ E2E")
    page.locator("#f-step-0-text").fill("Клиент хочет оформить заказ?")
    page.locator("#f-step-0-answer-0-label").fill("Да")
    page.locator("#f-step-0-answer-0-next").fill("order")
    page.locator("#f-step-0-answer-1-label").fill("Нет")
    page.get_by_role("button", name="Сохранить").click()
    error = page.locator("#err-step-0-answer-0-next")
    expect(error).to_contain_text("Шага «order» нет")
    expect(page.locator("#f-step-0-answer-0-next")).to_have_attribute("aria-invalid", "true")
    shot(page, "admin-script-error")
    scripts = server.api("GET", "/scripts", "supervisor", params={"hotline_id": hotline})
    assert scripts["items"] == []  # nothing saved
    page.locator("#f-step-1-id").fill("order")  # the blank step the page offers
    page.locator("#f-step-1-text").fill("Запишите адрес доставки")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_be_visible()
    page.get_by_role("link", name="Изменить: Заказ E2E").click()
    page.locator("#f-step-0-answer-1-label").fill("Нет, спасибо")
    shot(page, "admin-script-form")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_be_visible()
    (script,) = server.api("GET", "/scripts", "supervisor", params={"hotline_id": hotline})["items"]
    assert (script["name"], script["start_step"]) == ("Заказ E2E", "start")
    assert script["steps"] == {
        "start": {
            "text": "Клиент хочет оформить заказ?",
            "answers": [{"label": "Да", "next": "order"}, {"label": "Нет, спасибо", "next": None}],
        },
        "order": {"text": "Запишите адрес доставки", "answers": []},
    }
    # -- a knowledge-base article, created and then edited
    page.get_by_role("link", name="База знаний").click()
    page.get_by_role("link", name="Добавить").click()
    page.get_by_label("Линия").select_option(str(hotline))
    page.get_by_label("Заголовок").fill("Сроки доставки")
    page.get_by_label("Текст статьи").fill("По Москве — 1 день.\nПо России — до 7 дней.")
    page.get_by_label("Теги").fill("доставка, сроки")
    shot(page, "admin-kb-form")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#saved")).to_be_visible()
    page.get_by_role("link", name="Изменить: Сроки доставки").click()
    page.get_by_label("Заголовок").fill("Сроки и стоимость доставки")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#items")).to_contain_text("Сроки и стоимость доставки")
    shot(page, "admin-kb")
    (article,) = server.api("GET", "/kb-articles", "supervisor", params={"hotline_id": hotline})[
        "items"
    ]
    assert (article["title"], article["tags"]) == (
        "Сроки и стоимость доставки",
        ["доставка", "сроки"],
    )
    assert article["body"] == "По Москве — 1 день.\nПо России — до 7 дней."
    # -- a prompt: uploaded, played in the page; a bad file after it is refused, it stays
    page.goto(f"{server.url}/t/{tenant}/admin/hotlines")
    row.get_by_role("link", name="Голосовые сообщения").click()
    wav = _data_dir(server) / "upload" / "greeting.wav"
    _write_wav(wav)
    content = wav.read_bytes()
    page.get_by_label("Сообщение").select_option("greeting")
    page.get_by_label("Файл WAV").set_input_files(str(wav))
    page.get_by_role("button", name="Загрузить").click()
    expect(page.locator("#saved")).to_be_visible()
    greeting = page.locator('#prompts tr[data-prompt="greeting"]')
    expect(greeting).to_have_attribute("data-uploaded", "1")
    audio = greeting.locator("audio")
    audio.evaluate("a => { a.preload = 'metadata'; a.load(); }")
    page.wait_for_function(
        "a => a.readyState >= 1 && isFinite(a.duration)",
        arg=audio.element_handle(),
        timeout=DEADLINE_MS,
    )
    assert abs(audio.evaluate("a => a.duration") - SECONDS) < 0.05
    shot(page, "admin-prompts")
    stored = _data_dir(server) / "prompts" / "hotlines" / str(hotline) / "ru" / "greeting.wav"
    assert stored.read_bytes() == content
    page.get_by_label("Сообщение").select_option("greeting")
    page.get_by_label("Файл WAV").set_input_files(
        files=[{"name": "greeting.wav", "mimeType": "audio/wav", "buffer": b"not a wave file"}]
    )
    page.get_by_role("button", name="Загрузить").click()
    expect(page.locator("#err-file")).to_contain_text("Это не WAV-файл")
    expect(page.locator("#form-errors")).to_contain_text("прежняя запись осталась")
    shot(page, "admin-prompt-error")
    assert stored.read_bytes() == content
    played = server.http.get(
        f"/api/v1/hotlines/{hotline}/prompts/ru/greeting/audio",
        headers={"Authorization": f"Bearer {server.tokens['supervisor']}"},
    )
    assert played.status_code == 200 and played.content == content
    page.context.close()

"""End-to-end fixtures: a real ``hotline demo`` process and Debian's Chromium via Playwright.

Chromium is never downloaded (no ``playwright install``): the distribution's binary is
launched headless.  Screenshots go to ``test-artifacts/`` (git-ignored; CI keeps them).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.integration.test_demo_server import (
    PASSWORD,
    READY_TIMEOUT_S,
    Instance,
    free_port,
    start_demo,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
SIP_PASSWORD = "phone-secret-42"
#: the test hotline's number, and a wrap-up long enough to watch it count down
NUMBER = "600"
WRAP_UP_S = 20

pytestmark = pytest.mark.slow


@dataclass
class Server:
    instance: Instance
    http: httpx.Client
    sip_port: int
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.instance.http

    def login(self, login: str) -> str:
        r = self.http.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[login] = r.json()["token"]
        return self.tokens[login]

    def api(self, method: str, path: str, who: str = "admin", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        r = self.http.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


def _setup(server: Server) -> None:
    """A hotline open round the clock (the demo's follow Moscow office hours) served by
    the demo's Анна, with topics, outcomes, a known contact, and a second tenant."""
    server.login("admin")
    tenant = server.api("GET", "/tenants")["items"][0]["id"]
    always = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hotline = server.api(
        "POST",
        "/hotlines",
        json={
            "tenant_id": tenant,
            "name": "Линия E2E",
            "timezone": "Europe/Moscow",
            "language": "ru",
            "numbers": [NUMBER],
            "business_hours": {"weekly": always},
            "greeting_template": "Здравствуйте, меня зовут {operator}, компания {company}",
        },
    )
    queue = server.api(
        "POST",
        "/queues",
        json={"hotline_id": hotline["id"], "name": "Очередь E2E", "wrap_up_seconds": WRAP_UP_S},
    )
    for kind, name in (("topic", "Доставка"), ("outcome", "Решено")):
        row = server.api(
            "POST", "/topics", json={"hotline_id": hotline["id"], "kind": kind, "name": name}
        )
        server.ids[kind] = row["id"]
    # a new operator (the routing engine learns new operators on reload, not changed ones)
    anna = server.api(
        "POST",
        "/users",
        json={
            "tenant_id": tenant,
            "login": "e2e_anna",
            "display_name": "Анна",
            "role": "operator",
            "password": PASSWORD,
            "hotline_ids": [hotline["id"]],
            "skills": {"russian": 10},
        },
    )
    server.api("PUT", f"/users/{anna['id']}/sip-password", json={"password": SIP_PASSWORD})
    server.api(
        "POST",
        "/contacts",
        json={"tenant_id": tenant, "name": "Пётр Сидоров", "phones": ["+79161234567"]},
    )
    other = server.api("POST", "/tenants", json={"name": "Другая компания", "slug": "other-co"})
    server.ids |= {
        "tenant": tenant,
        "other_tenant": other["id"],
        "hotline": hotline["id"],
        "queue": queue["id"],
        "anna": anna["id"],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("sipp") is None:
        pytest.skip("needs SIPp (apt: sip-tester)")
    root = tmp_path_factory.mktemp("e2e")
    prompts = tmp_path_factory.getbasetemp() / "prompts"
    instance = start_demo(root / "data", "127.0.0.1:0", f"127.0.0.1:{free_port()}", prompts=prompts)
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


def log_in(browser: Browser, server: Server, login: str) -> Page:
    """A fresh browser context (its own cookies) logged in through the login form."""
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{server.url}/")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

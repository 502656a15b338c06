"""Report and WFM pages in a real browser: the vendored Chart.js draws (pixels on the
canvas, no internet), the CSV download link works with the page cookie, the staffing form
answers, and a two-week history gives a coverage chart.  Screenshots go to
``test-artifacts/``.  Waiting is Playwright's ``expect`` (polls with a deadline).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, Server, log_in, shot

pytestmark = pytest.mark.slow

DEADLINE_MS = 20_000
MOSCOW = dt.timezone(dt.timedelta(hours=3))
HEADER = (
    "id,channel,hotline,queue,agent,source,topic,arrived_at,answered_at,ended_at,"
    "hold_seconds,wrapup_seconds,csat"
)
#: pixels of a canvas that are not transparent
PAINTED_JS = """id => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
  return n;
}"""


def _history(days: int) -> tuple[str, int]:
    """``days`` whole days before today (Moscow): 3 calls an hour 10:00–15:59, each answered
    after 12 s, 150 s of talk, 15 s wrap-up; every fifth one abandoned after 8 s."""
    today = dt.datetime.now(MOSCOW).date()
    rows = []
    for d in range(days, 0, -1):
        day = today - dt.timedelta(days=d)
        for hour in range(10, 16):
            for k in range(3):
                at = dt.datetime.combine(day, dt.time(hour, k * 15), MOSCOW)
                n = len(rows)
                if n % 5 == 4:
                    rows.append(
                        f"e{n},call,Линия E2E,Очередь E2E,,ads,,{at.isoformat()},,"
                        f"{(at + dt.timedelta(seconds=8)).isoformat()},,,"
                    )
                    continue
                answered = at + dt.timedelta(seconds=12)
                rows.append(
                    f"e{n},call,Линия E2E,Очередь E2E,e2e_anna,ads,,{at.isoformat()},"
                    f"{answered.isoformat()},{(answered + dt.timedelta(seconds=150)).isoformat()},"
                    "0,15,5"
                )
    return "\n".join([HEADER, *rows]) + "\n", len(rows)


@pytest.fixture(scope="module")
def imported(server: Server) -> int:
    body, count = _history(14)
    r = server.http.post(
        "/api/v1/imports/history",
        params={"tenant_id": server.ids["tenant"]},
        content=body.encode(),
        headers={
            "Authorization": f"Bearer {server.tokens['admin']}",
            "Content-Type": "text/csv",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == count
    return count


def _painted(page: Page, canvas_id: str) -> int:
    expect(page.locator(f"#{canvas_id}")).to_have_attribute("data-drawn", "1", timeout=DEADLINE_MS)
    painted = page.evaluate(PAINTED_JS, canvas_id)
    assert isinstance(painted, int)
    return painted


def test_given_history_when_reports_open_then_charts_drawn_and_csv_downloads(
    browser: Browser, server: Server, imported: int, tmp_path: Path
) -> None:
    page = log_in(browser, server, "admin")
    tenant = server.ids["tenant"]
    today = dt.datetime.now(MOSCOW).date()
    first = today - dt.timedelta(days=14)
    page.goto(f"{server.url}/t/{tenant}/reports")
    page.get_by_label("С даты").fill(first.isoformat())
    page.locator("#f-queue").select_option(str(server.ids["queue"]))
    page.locator("#f-interval").select_option("day")
    page.get_by_role("button", name="Показать").click()
    expect(page.locator('#kpi-table tr[data-kpi="offered"] td').first).to_have_text(
        str(imported), timeout=DEADLINE_MS
    )
    assert _painted(page, "chart-intervals") > 1000
    assert _painted(page, "chart-abandon") > 1000
    shot(page, "reports-page")
    with page.expect_download(timeout=DEADLINE_MS) as download:
        page.locator("#dl-csv").click()
    saved = tmp_path / "kpis.csv"
    download.value.save_as(saved)
    header, *rows = saved.read_text(encoding="utf-8").splitlines()
    offered = header.split(",").index("offered")
    assert sum(int(r.split(",")[offered]) for r in rows) == imported
    page.context.close()


def test_given_the_staffing_form_when_filled_then_it_answers_and_plans_a_week(
    browser: Browser, server: Server, imported: int
) -> None:
    page = log_in(browser, server, "admin")
    tenant = server.ids["tenant"]
    page.goto(f"{server.url}/t/{tenant}/wfm")
    form = page.locator("#staffing-form")
    form.get_by_label("Обращений за интервал").fill("100")
    form.get_by_label("Интервал, с").fill("1800")
    form.get_by_label("AHT, с").fill("180")
    form.get_by_label("Цель SL, %").fill("80")
    form.get_by_label("Ответ в пределах T, с").fill("20")
    form.get_by_role("button", name="Рассчитать").click()
    # A = 100 × 180 / 1800 = 10 Erlangs.  Erlang C by hand (P_wait from Σ A^k/k!, then
    # SL = 1 − P_wait·e^(−(N−A)·T/AHT)): 13 agents give 79.56 %, 14 give 88.84 %
    expect(page.locator('#staffing-result [data-k="traffic_erlangs"]')).to_have_text(
        "10.00", timeout=DEADLINE_MS
    )
    expect(page.locator('#staffing-result [data-k="agents"]')).to_have_text("14")
    sl = page.locator('#staffing-result [data-k="service_level"]').inner_text()
    assert math.isclose(float(sl.split()[0]), 88.8, abs_tol=0.05), sl
    shot(page, "wfm-staffing")
    plan = page.locator("#plan-form")
    plan.get_by_label("Очередь").select_option(str(server.ids["queue"]))
    plan.get_by_label("Недель истории").fill("2")
    plan.get_by_label("Лимит времени расписания, с").fill("2")
    plan.get_by_role("button", name="Построить").click()
    expect(page.locator("#plan-result")).to_be_visible(timeout=DEADLINE_MS)
    assert _painted(page, "chart-coverage") > 1000
    page.locator("#plan").screenshot(path=str(ARTIFACTS / "wfm-coverage.png"))
    page.context.close()

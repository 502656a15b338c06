"""The report and WFM pages in process (SQLite and PostgreSQL): numbers shown against
values computed here from the imported rows, tenancy (403), bad form input (a message and
422, never a 500), the staffing calculator against an Erlang C written out in the test,
and the week plan from the queue's history with its coverage chart.

History is imported through ``POST /api/v1/imports/history`` (events and rollups alike);
the world (``tests/integration/world.py``): tenants alpha and bravo, queue "Main" in
Europe/Moscow, T = 20 s, S = 5 s.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from typing import Any

import httpx
import pytest

from hotline.core.model import Role
from tests.integration.world import World, auth

HEADER = (
    "id,channel,hotline,queue,agent,source,topic,arrived_at,answered_at,ended_at,"
    "hold_seconds,wrapup_seconds,csat"
)
D = "2026-11-20T"  # a Friday
ROWS = [
    f"r1,call,alpha line,Main,alpha-operator,ads,Order,{D}09:00:00+03:00,{D}09:00:15+03:00,"
    f"{D}09:05:15+03:00,20,30,5",
    f"r2,call,alpha line,Main,,site,,{D}09:10:00+03:00,,{D}09:10:03+03:00,,,",
    f"r3,chat,alpha line,Main,operator,ads,Billing,{D}06:20:00Z,{D}06:20:25Z,{D}06:22:25Z,0,10,3",
]
#: the page's "now": Monday 2026-11-23, 15:00 in Moscow
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
RANGE = {"from": "2026-11-20", "to": "2026-11-20", "by": "queue", "interval": "60"}


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={token}"}


@pytest.fixture
def fixed_clock(app_ctx: Any) -> dt.datetime:
    app_ctx.clock = lambda: NOW
    return NOW


async def _import(client: httpx.AsyncClient, token: str, rows: list[str]) -> None:
    body = "\n".join([HEADER, *rows]) + "\n"
    r = await client.post(
        "/api/v1/imports/history",
        content=body.encode(),
        headers={**auth(token), "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text


def _by_hand(rows: list[str]) -> dict[str, float]:
    """offered, SL of offered (T = 20 s), ASA and AHT straight from the CSV cells."""
    waits, handles, offered = [], [], 0
    for line in rows:
        c = line.split(",")
        arrived, answered, ended = (dt.datetime.fromisoformat(x) if x else None for x in c[7:10])
        offered += 1
        if answered is not None and ended is not None:
            waits.append((answered - arrived).total_seconds())
            handles.append((ended - answered).total_seconds() + float(c[11] or 0))
    within = sum(1 for w in waits if w <= 20)
    return {
        "offered": offered,
        "sl_offered": within / offered,
        "asa": sum(waits) / len(waits),
        "aht": sum(handles) / len(handles),
    }


def _cell(page: str, kpi: str) -> str:
    found = re.search(
        rf'<tr data-kpi="{kpi}">.*?<td class="num" data-col="0">(.*?)</td>', page, re.S
    )
    assert found, f"no row for {kpi}"
    return html.unescape(found.group(1)).strip()


def _chart(page: str, chart_id: str) -> dict[str, Any]:
    found = re.search(
        rf'<script type="application/json" data-chart-for="{chart_id}">(.*?)</script>', page, re.S
    )
    assert found, f"no chart {chart_id}"
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


async def test_given_imported_history_when_the_report_page_opens_then_its_numbers_are_right(
    client: httpx.AsyncClient, world: World, fixed_clock: dt.datetime
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    await _import(client, sup, ROWS)
    page = await client.get(f"/t/{world.a.tenant_id}/reports", params=RANGE, headers=cookie(sup))
    assert page.status_code == 200, page.text
    want = _by_hand(ROWS)  # 3 offered; waits 15 and 25: 1 within 20 s; AHT (330 + 130) / 2
    assert _cell(page.text, "offered") == str(want["offered"])
    assert _cell(page.text, "sl_offered") == f"{want['sl_offered'] * 100:.1f} %"  # 33.3 %
    assert _cell(page.text, "asa") == f"{want['asa']:.1f}"  # 20.0
    assert _cell(page.text, "aht") == f"{want['aht']:.1f}"  # 230.0
    assert _cell(page.text, "csat_avg") == "4.0"  # (5 + 3) / 2
    # one hour bucket, 09:00 Moscow, holding all three, SL 1/3
    intervals = _chart(page.text, "chart-intervals")
    assert intervals["labels"] == ["2026-11-20 09:00"]
    assert intervals["datasets"][0]["data"] == [3]
    assert intervals["datasets"][1]["data"] == [pytest.approx(100 / 3, abs=0.01)]
    # abandonment: r2 waited 3 s: the bucket [0, 5)
    waits = _chart(page.text, "chart-abandon")
    assert waits["datasets"][0]["data"][0] == 1 and sum(waits["datasets"][0]["data"]) == 1
    # weekday × hour: Friday (row 5) at 09 holds 3 calls
    heat = re.search(r'<table class="grid heat" id="heatmap">(.*?)</table>', page.text, re.S)
    assert heat
    friday = re.findall(r"<tr><th scope=\"row\">[^<]*</th>(.*?)</tr>", heat.group(1), re.S)[4]
    cells = re.findall(r"<td[^>]*>(\d*)</td>", friday)
    assert cells[9] == "3" and sum(int(c or 0) for c in cells) == 3
    # billing: 2 answered interactions, (300 + 30 + 120 + 10) / 60 = 7.67 handled minutes
    billing = re.search(r'<table class="grid" id="billing">(.*?)</table>', page.text, re.S)
    assert billing and "2026-11" in billing.group(1) and "7.67" in billing.group(1)
    # downloads: the API with the same range; the CSV holds the same offered count
    link = re.search(r'id="dl-csv" href="([^"]+)"', page.text)
    assert link
    csv_text = await client.get(html.unescape(link.group(1)), headers=cookie(sup))
    assert csv_text.status_code == 200
    assert csv_text.headers["content-type"].startswith("text/csv")
    header, row = csv_text.text.splitlines()[:2]
    assert row.split(",")[header.split(",").index("offered")] == "3"


async def test_given_roles_and_tenants_when_opening_report_and_wfm_pages_then_checked(
    client: httpx.AsyncClient, world: World, fixed_clock: dt.datetime
) -> None:
    a, b = world.a.tenant_id, world.b.tenant_id
    client_token = world.a.tokens[Role.CLIENT]
    assert (await client.get(f"/t/{a}/reports", headers=cookie(client_token))).status_code == 200
    assert (await client.get(f"/t/{b}/reports", headers=cookie(client_token))).status_code == 403
    operator = world.a.tokens[Role.OPERATOR]
    assert (await client.get(f"/t/{a}/reports", headers=cookie(operator))).status_code == 403
    # WFM: supervisors and admins only
    assert (await client.get(f"/t/{a}/wfm", headers=cookie(client_token))).status_code == 403
    sup = world.a.tokens[Role.SUPERVISOR]
    assert (await client.get(f"/t/{a}/wfm", headers=cookie(sup))).status_code == 200
    assert (await client.get(f"/t/{b}/wfm", headers=cookie(sup))).status_code == 403
    assert (await client.get(f"/t/{b}/wfm", headers=cookie(world.admin_token))).status_code == 200
    assert (await client.get(f"/t/{a}/wfm")).status_code == 303  # to the login form


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"from": "2026-13-01"}, "from", "2026-13-01"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "from", "2026-11-20 > 2026-11-01"),
        ({"from": "2025-01-01", "to": "2026-01-01"}, "to", "366 > 92"),
        ({"by": "weather"}, "by", "weather"),
        ({"interval": "7"}, "interval", "'7'"),
        ({"queue": "999999"}, "queue", "999999"),
    ],
)
async def test_given_bad_report_form_when_sent_then_a_message_not_a_500(
    client: httpx.AsyncClient,
    world: World,
    fixed_clock: dt.datetime,
    params: dict[str, str],
    field: str,
    words: str,
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    page = await client.get(f"/t/{world.a.tenant_id}/reports", params=params, headers=cookie(sup))
    assert page.status_code == 422
    found = re.search(rf'<li data-field="{field}">(.*?)</li>', page.text, re.S)
    assert found, page.text
    assert words in html.unescape(found.group(1))


def _erlang_c_agents(calls: float, interval: float, aht: float, target: float, t: float) -> int:
    """The fewest agents with P(wait ≤ t) ≥ target, Erlang C from its textbook sums
    (Σ A^k/k! in log space via lgamma), independent of hotline.core.wfm."""
    a = calls * aht / interval
    n = math.floor(a) + 1
    while True:
        terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
        top = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
        biggest = max([*terms, top])
        c = math.exp(top - biggest) / (
            sum(math.exp(x - biggest) for x in terms) + math.exp(top - biggest)
        )
        if 1 - c * math.exp(-(n - a) * t / aht) >= target:
            return n
        n += 1


async def test_given_the_staffing_form_when_sent_then_agents_match_erlang_c(
    client: httpx.AsyncClient, world: World, fixed_clock: dt.datetime
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    params = {
        "s_calls": "360",
        "s_interval": "1800",
        "s_aht": "240",
        "s_target_sl": "80",
        "s_answer_within": "20",
        "s_shrinkage": "30",
    }
    page = await client.get(f"/t/{world.a.tenant_id}/wfm", params=params, headers=cookie(sup))
    assert page.status_code == 200, page.text
    agents = _erlang_c_agents(360, 1800, 240, 0.8, 20)
    assert re.search(rf'<dd data-k="agents">{agents}</dd>', page.text)
    assert re.search(rf'<dd data-k="scheduled_agents">{math.ceil(agents / 0.7)}</dd>', page.text)
    assert '<dd data-k="traffic_erlangs">48.00</dd>' in page.text  # 360 × 240 / 1800
    # what-if: the defaults add 20 % volume to 55 agents; the after column has more traffic
    row = re.search(r'<tr data-k="traffic_erlangs">.*?</tr>', page.text, re.S)
    assert row and re.findall(r"<td class=\"num\">([\d.]+)</td>", row.group(0)) == [
        "48.00",
        "57.60",
    ]
    # cost: 50 operators × 60000 + 5 supervisors × 90000 + 55 seats × 8000, + 15 %
    inhouse = (50 * 60000 + 5 * 90000 + 55 * 8000) * 1.15
    assert f'<dd data-k="inhouse_monthly">{inhouse:.0f}</dd>' in page.text
    assert f'<dd data-k="outsourced_monthly">{25 * 4 * 60000:.0f}</dd>' in page.text


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"s_calls": "lots"}, "'lots'"),
        ({"s_target_sl": "100", "s_answer_within": "0"}, "target"),
        ({"w_agents": "2.5"}, "whole number"),
        ({"c_aht": "-1"}, "'-1'"),
    ],
)
async def test_given_bad_wfm_input_when_sent_then_a_message_not_a_500(
    client: httpx.AsyncClient,
    world: World,
    fixed_clock: dt.datetime,
    params: dict[str, str],
    words: str,
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    page = await client.get(f"/t/{world.a.tenant_id}/wfm", params=params, headers=cookie(sup))
    assert page.status_code == 422
    errors = re.search(
        r'<div class="card form-errors" role="alert"[^>]*>(.*?)</div>', page.text, re.S
    )
    assert errors and words in html.unescape(errors.group(1)), page.text


def _history(days: int, first: dt.date) -> list[str]:
    """Calls only 09:00–17:59 Moscow: weekdays 4 an hour, weekends 2; 10 s wait, 180 s talk,
    20 s wrap-up."""
    rows = []
    for d in range(days):
        day = first + dt.timedelta(days=d)
        per_hour = 4 if day.weekday() < 5 else 2
        for hour in range(9, 18):
            for k in range(per_hour):
                at = dt.datetime.combine(
                    day, dt.time(hour, k * 10), dt.timezone(dt.timedelta(hours=3))
                )
                answered, ended = at + dt.timedelta(seconds=10), at + dt.timedelta(seconds=190)
                rows.append(
                    f"h{d}-{hour}-{k},call,alpha line,Main,alpha-operator,ads,Order,"
                    f"{at.isoformat()},{answered.isoformat()},{ended.isoformat()},0,20,"
                )
    return rows


async def test_given_three_weeks_of_history_when_planning_then_forecast_and_coverage(
    client: httpx.AsyncClient, world: World, fixed_clock: dt.datetime
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    tenant = world.a.tenant_id
    plan = {
        "plan": "1",
        "p_queue": str(world.a.ids["queues"]),
        "p_interval": "60",
        "p_weeks": "3",
        "p_time_limit": "2",
    }
    # too short first: a clear message, no chart
    await _import(client, sup, ROWS)
    short = await client.get(f"/t/{tenant}/wfm", params=plan, headers=cookie(sup))
    assert short.status_code == 200
    assert 'id="plan-short"' in short.text and "needs at least" in html.unescape(short.text)
    assert 'data-chart-for="chart-coverage"' not in short.text
    # three whole weeks before "today" (Monday 2026-11-23): 2026-11-02 … 2026-11-22
    await _import(client, sup, _history(21, dt.date(2026, 11, 2)))
    page = await client.get(f"/t/{tenant}/wfm", params=plan, headers=cookie(sup))
    assert page.status_code == 200, page.text
    assert 'id="plan-short"' not in page.text
    assert '<dd data-k="history_days">21</dd>' in page.text
    spec = _chart(page.text, "chart-coverage")
    required, scheduled = spec["datasets"][0]["data"], spec["datasets"][1]["data"]
    assert len(required) == len(scheduled) == 7 * 24  # next week, hourly
    assert spec["labels"][0] == "Пн 00:00"  # Monday 30 November, the supervisor's Russian
    # nobody ever called outside 09–18 Moscow: nobody is required there; inside, someone is
    for i, need in enumerate(required):
        assert (need > 0) == (9 <= i % 24 < 18), (spec["labels"][i], need)
    assert sum(max(r - s, 0) for r, s in zip(required, scheduled, strict=True)) == 0
    wape = re.search(r'<dd data-k="wape">([\d.]+) %</dd>', page.text)
    assert wape and float(wape.group(1)) < 30  # a steady pattern is learnt back


async def test_given_more_interactions_than_a_page_folds_when_opened_then_kpis_and_a_notice(
    client: httpx.AsyncClient,
    world: World,
    fixed_clock: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hotline.web.pages import report_data

    monkeypatch.setattr(report_data, "MAX_FOLD", 2)
    sup = world.a.tokens[Role.SUPERVISOR]
    await _import(client, sup, ROWS)
    page = await client.get(f"/t/{world.a.tenant_id}/reports", params=RANGE, headers=cookie(sup))
    assert page.status_code == 200
    assert _cell(page.text, "offered") == "3"  # the rollup sections are whole
    notice = re.search(
        r'<p class="card form-errors" role="status" id="rep-too-many">(.*?)</p>', page.text, re.S
    )
    assert notice and "(3 > 2)" in html.unescape(notice.group(1))
    assert 'id="heatmap"' not in page.text and 'id="operators"' not in page.text


def test_given_the_templates_when_scanning_their_text_keys_then_each_has_ru_and_en() -> None:
    from pathlib import Path

    from hotline.web.pages.i18n import TEXTS

    root = Path(__file__).parents[2] / "src/hotline/web/templates"
    names = ["report_page.html", "wfm_page.html", "_chart.html", "_report_nav.html"]
    keys = {
        k for n in names for k in re.findall(r't\(["\']([\w.]+)["\']\)', (root / n).read_text())
    }
    from hotline.web.pages.wfm import FIELDS

    keys |= {f.label for fields in FIELDS.values() for f in fields}
    assert len(keys) > 60
    missing = sorted(k for k in keys if k not in TEXTS)
    assert not missing
    assert all(TEXTS[k][0] and TEXTS[k][1] for k in keys)


@pytest.mark.parametrize(
    ("by", "headers"),
    [
        ("total", ["Σ"]),
        ("hotline", ["alpha line"]),
        ("operator", ["—", "operator"]),  # r2 was answered by nobody
        ("topic", ["—", "Billing", "Order"]),
        ("channel", ["call", "chat"]),
        ("source", ["ads", "site"]),
    ],
)
async def test_given_each_grouping_when_chosen_then_one_column_per_group(
    client: httpx.AsyncClient,
    world: World,
    fixed_clock: dt.datetime,
    by: str,
    headers: list[str],
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    await _import(client, sup, ROWS)
    params = {**RANGE, "by": by, "interval": "15"}
    page = await client.get(f"/t/{world.a.tenant_id}/reports", params=params, headers=cookie(sup))
    assert page.status_code == 200, page.text
    table = re.search(
        r'<table class="grid" id="kpi-table">.*?<thead>(.*?)</thead>', page.text, re.S
    )
    assert table
    shown = [
        html.unescape(h)
        for h in re.findall(r'<th scope="col" class="num">(.*?)</th>', table.group(1))
    ]
    assert sorted(shown) == sorted(headers)
    offered = re.search(r'<tr data-kpi="offered">(.*?)</tr>', page.text, re.S)
    assert offered
    assert (
        sum(int(v) for v in re.findall(r'<td class="num"[^>]*>(\d+)</td>', offered.group(1))) == 3
    )

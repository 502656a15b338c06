"""History import and KPI reports over the API and the CLI: numbers, formats, tenancy.

The world (``tests/integration/world.py``): tenants ``alpha`` and ``bravo``, each with the
hotline "<slug> line" (Europe/Moscow, UTC+3) and its queue "Main" (T = 20 s, S = 5 s), the
topic "Order", and users ``<slug>-supervisor``, ``<slug>-operator``, ``<slug>-client``.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from hotline.cli import app
from hotline.core.kpi import KPI_KEYS
from hotline.core.model import Role
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.migrate import upgrade
from tests.integration.world import World, auth

HEADER = (
    "id,channel,hotline,queue,agent,source,topic,arrived_at,answered_at,ended_at,"
    "hold_seconds,wrapup_seconds,csat"
)
D = "2026-11-20T"
# r1: wait 15 (≤ T), talk 300 incl. hold 20, wrap-up 30, csat 5
# r2: abandoned after 3 s (< S = 5: short, and ≤ T: within the threshold)
# r3: wait 25 (> T), talk 120, wrap-up 10, csat 3, a topic the hotline does not have yet;
#     times in UTC (06:20Z is 09:20 in Moscow)
ROWS = [
    f"r1,call,alpha line,Main,alpha-operator,ads,Order,{D}09:00:00+03:00,{D}09:00:15+03:00,"
    f"{D}09:05:15+03:00,20,30,5",
    f"r2,call,alpha line,Main,,site,,{D}09:10:00+03:00,,{D}09:10:03+03:00,,,",
    f"r3,chat,alpha line,Main,operator,ads,Billing,{D}06:20:00Z,{D}06:20:25Z,{D}06:22:25Z,0,10,3",
]
GOOD = "\n".join([HEADER, *ROWS]) + "\n"
#: KPIs of GOOD by hand
WANT = {
    "offered": 3,
    "answered": 2,
    "abandoned": 1,
    "short_abandoned": 1,
    "answered_within": 1,
    "callback_requested": 0,
    "overflowed": 0,
    "sl_offered": 1 / 3,
    "sl_answered": 1 / 2,
    "sl_excl_short": 1 / 2,  # 1 / (3 − 1)
    "sl_excl_abandon_within": 1 / 2,  # r2 abandoned within T: 1 / (3 − 1)
    "asa": 20.0,  # (15 + 25) / 2
    "avg_abandon_wait": 3.0,
    "max_wait": 25.0,
    "aht": 230.0,  # (300 + 30 + 120 + 10) / 2
    "avg_talk": 210.0,
    "avg_hold": 10.0,
    "avg_wrapup": 20.0,
    "abandon_rate": 1 / 3,
    "abandon_rate_excl_short": 0.0,  # (1 − 1) / (3 − 1)
    "csat_avg": 4.0,
    "csat_share_satisfied": 0.5,
}


async def _import(
    client: httpx.AsyncClient, token: str, body: str, **params: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/imports/history",
        content=body.encode(),
        headers={**auth(token), "Content-Type": "text/csv"},
        params=params,
    )


async def _report(client: httpx.AsyncClient, token: str, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/reports/kpis", headers=auth(token), params=params)


async def _counts(db: Database) -> tuple[int, int, int, int]:
    async with db.system_session() as s:
        return (
            await s.scalar(sa.select(sa.func.count()).select_from(m.Interaction)) or 0,
            await s.scalar(sa.select(sa.func.count()).select_from(m.InteractionEventRow)) or 0,
            await s.scalar(sa.select(sa.func.count()).select_from(m.KpiRollup)) or 0,
            await s.scalar(sa.select(sa.func.count()).select_from(m.Topic)) or 0,
        )


def assert_kpis(group: dict[str, Any], want: dict[str, Any]) -> None:
    for key in KPI_KEYS:
        assert group[key] == pytest.approx(want[key], rel=1e-12), key


async def test_given_history_when_imported_then_report_gives_hand_computed_kpis(
    client: httpx.AsyncClient, world: World
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    # "operator" in r3 is the operator's display name (world.py): resolved as well
    response = await _import(client, sup, GOOD)
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 3
    assert response.json()["topics_created"] == 1  # Billing
    groups = (await _report(client, sup, by="queue")).json()["groups"]
    assert [g["key"] for g in groups] == [{"queue_id": world.a.ids["queues"], "queue": "Main"}]
    assert_kpis(groups[0], WANT)
    assert (groups[0]["answer_within"], groups[0]["short_abandon"]) == (20.0, 5.0)
    # all three arrived between 09:00 and 09:30 Moscow time: one hour bucket
    hourly = (await _report(client, sup, by="hotline,interval", interval="60")).json()["groups"]
    assert [g["key"]["interval_start"] for g in hourly] == ["2026-11-20T09:00:00+03:00"]
    assert_kpis(hourly[0], WANT)
    # 15-minute buckets in UTC: r1 (06:00Z) and r2 (06:10Z) in 06:00, r3 (06:20Z) in 06:15
    utc = (await _report(client, sup, by="interval", interval="15", tz="UTC")).json()["groups"]
    assert [(g["key"]["interval_start"], g["offered"]) for g in utc] == [
        ("2026-11-20T06:00:00+00:00", 2),
        ("2026-11-20T06:15:00+00:00", 1),
    ]
    topics = (await _report(client, sup, by="topic")).json()["groups"]
    assert {g["key"]["topic"]: g["offered"] for g in topics} == {None: 1, "Billing": 1, "Order": 1}
    operators = (await _report(client, sup, by="operator")).json()["groups"]
    assert {g["key"]["operator"]: g["answered"] for g in operators} == {None: 0, "operator": 2}
    ranged = await _report(
        client,
        sup,
        by="queue",
        **{"from": "2026-11-20T09:15:00+03:00", "to": "2026-11-21T00:00:00Z"},
    )
    assert [g["offered"] for g in ranged.json()["groups"]] == [1]  # r3 only


async def test_given_report_when_asked_as_csv_and_xlsx_then_typed_tables(
    client: httpx.AsyncClient, world: World
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    assert (await _import(client, sup, GOOD)).status_code == 201
    response = await _report(client, sup, by="queue,interval", interval="day", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["interval_start"] == "2026-11-20T00:00:00+03:00"
    assert rows[0]["utc_offset"] == "+03:00"
    assert float(rows[0]["sl_offered"]) == pytest.approx(1 / 3)
    assert rows[0]["offered"] == "3"
    response = await _report(client, sup, by="queue,interval", interval="day", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["offered"].value == 3 and isinstance(cells["offered"].value, int)
    assert cells["interval_start"].value == dt.datetime(2026, 11, 20, 0, 0)
    assert cells["interval_start"].is_date
    assert cells["sl_offered"].value == pytest.approx(1 / 3)
    assert cells["sl_offered"].number_format == "0.0%"
    assert cells["aht"].value == pytest.approx(230.0)
    assert cells["csat_avg"].value == pytest.approx(4.0)
    assert cells["queue"].value == "Main"


async def test_given_bad_rows_when_importing_then_every_problem_is_reported_and_nothing_written(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    before = await _counts(database)
    good_row = ROWS[0]
    # names that do not resolve in the tenant: line 3 queue, line 4 agent, line 5 hotline
    unresolved = "\n".join(
        [
            HEADER,
            good_row,
            good_row.replace("r1,", "u1,").replace(",Main,", ",Nope,"),
            good_row.replace("r1,", "u2,").replace("alpha-operator", "ghost"),
            good_row.replace("r1,", "u3,").replace("alpha line", "bravo line"),
        ]
    )
    response = await _import(client, sup, unresolved)
    assert response.status_code == 422
    details = [(d["line"], d["column"]) for d in response.json()["details"]]
    assert details == [(3, "queue"), (4, "agent"), (5, "hotline")]
    assert await _counts(database) == before
    # cells the parser rejects: reported the same way, nothing written
    malformed = "\n".join(
        [HEADER, good_row, good_row.replace("r1,", "m1,").replace("09:00:00+03:00", "09:00:00")]
    )
    response = await _import(client, sup, malformed)
    assert response.status_code == 422
    assert [(d["line"], d["column"]) for d in response.json()["details"]] == [(3, "arrived_at")]
    assert await _counts(database) == before
    # a second import of the same ids is refused as a whole (no duplicates, no partial)
    assert (await _import(client, sup, GOOD)).status_code == 201
    after_first = await _counts(database)
    again = GOOD + ROWS[0].replace("r1,", "r9,") + "\n"
    response = await _import(client, sup, again)
    assert response.status_code == 422
    assert [(d["line"], d["column"]) for d in response.json()["details"]] == [
        (2, "id"),
        (3, "id"),
        (4, "id"),
    ]
    assert await _counts(database) == after_first


async def test_given_two_tenants_when_reporting_then_each_sees_only_its_own(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await _import(client, world.a.tokens[Role.SUPERVISOR], GOOD)).status_code == 201
    for role in (Role.SUPERVISOR, Role.CLIENT):
        token = world.b.tokens[role]
        response = await _report(client, token, by="queue")
        assert response.status_code == 200
        assert response.json()["groups"] == []
        for params in ({"tenant_id": world.a.tenant_id}, {"hotline_id": world.a.ids["hotlines"]}):
            response = await _report(client, token, by="queue", **params)
            # another tenant named outright: refused, or at best empty
            assert response.status_code == 403 or response.json()["groups"] == []
    # the client of tenant A reads A's report; operators read no reports
    own = await _report(client, world.a.tokens[Role.CLIENT], by="queue")
    assert [g["offered"] for g in own.json()["groups"]] == [3]
    assert (await _report(client, world.a.tokens[Role.OPERATOR])).status_code == 403
    admin = await _report(client, world.admin_token, by="queue", tenant_id=world.b.tenant_id)
    assert admin.json()["groups"] == []
    # writes: a client may not import; B's supervisor cannot import into A's hotline
    assert (await _import(client, world.a.tokens[Role.CLIENT], GOOD)).status_code == 403
    response = await _import(client, world.b.tokens[Role.SUPERVISOR], GOOD.replace("r1", "b1"))
    assert response.status_code == 422
    assert {d["column"] for d in response.json()["details"]} == {"hotline"}


async def test_given_multipart_upload_when_importing_then_same_as_body(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/v1/imports/history",
        files={"file": ("history.csv", GOOD.encode(), "text/csv")},
        headers=auth(world.a.tokens[Role.SUPERVISOR]),
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 3


def test_given_history_file_when_imported_by_cli_then_all_or_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        db = Database(url)
        await upgrade(db.engine)
        from tests.integration.world import seed_world

        await seed_world(db, "not-a-real-hash")
        await db.dispose()

    asyncio.run(seed())
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    runner = CliRunner()
    args = ["import", "history", str(good), "--tenant", "alpha", "--database-url", url]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert '"imported": 3' in result.stdout
    result = runner.invoke(app, args)  # the same ids again
    assert result.exit_code == 1
    assert f"{good}:line 2, column id: 'r1' was already imported" in result.stderr
    assert "nothing imported (3 problem(s))" in result.stderr
    result = runner.invoke(app, [*args[:3], "--tenant", "nope", "--database-url", url])
    assert result.exit_code == 1 and "no such tenant" in result.stderr


async def test_given_report_when_asked_as_pdf_then_a_real_pdf_with_visible_text(
    client: httpx.AsyncClient, world: World, tmp_path: Path
) -> None:
    sup = world.a.tokens[Role.SUPERVISOR]
    assert (await _import(client, sup, GOOD)).status_code == 201
    response = await _report(client, sup, by="queue,interval", interval="15", format="pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pdf = tmp_path / "kpis.pdf"
    pdf.write_bytes(response.content)
    # pdftoppm (poppler) renders the first page; a broken PDF makes it fail
    process = await asyncio.create_subprocess_exec(
        "pdftoppm",
        "-png",
        "-r",
        "50",
        "-singlefile",
        str(pdf),
        str(tmp_path / "page"),
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    with Image.open(tmp_path / "page.png") as page:
        gray = page.convert("L")
        width, height = gray.size
        dark = sum(gray.histogram()[:128])  # pixels darker than mid-grey
    assert width > height  # landscape A4
    # a table of three rows and a title: some ink, but far from a black page
    assert 0.002 < dark / (width * height) < 0.3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "operator,topic"}, "by"),  # two dimensions: rollups keep them apart
        ({"by": "colour"}, "by"),
        ({"by": "interval", "interval": "7"}, "interval"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "America"}, "tz"),  # a directory of the zone database, not a zone
        ({"from": "2026-11-20T09:00:00"}, "from"),  # no offset
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
    ],
)
async def test_given_bad_report_parameters_when_asked_then_422_names_the_parameter(
    client: httpx.AsyncClient, world: World, params: dict[str, str], field: str
) -> None:
    response = await _report(client, world.a.tokens[Role.SUPERVISOR], **params)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(f"{field}:")

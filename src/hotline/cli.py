"""The ``hotline`` command (Typer + Rich).

Glue only: each command turns options into :class:`~hotline.settings.Settings`, calls one
function that does the work (:func:`hotline.app.run`, :func:`hotline.demo.seed_demo`,
:func:`hotline.users.create_user`, :mod:`hotline.store.migrate`,
:func:`hotline.sim.driver.run_scenario`) and prints the answer.

Contracts (DESIGN.md §4):

* a command that computes something takes ``--json`` and then prints exactly one JSON
  document on stdout and nothing else there; people-facing messages go to stderr;
* a user's mistake (bad option, unknown tenant, taken login…) prints one ``error:`` line on
  stderr and exits with status 2, like a usage error — never a traceback;
* ``--data``/``--http``/``--sip``/``--database-url`` override the ``HOTLINE_*`` environment
  only when given, so the environment stays the one source of defaults.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import sqlalchemy as sa
import typer
from alembic.util.exc import CommandError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from hotline import __version__
from hotline.cli_import import import_app
from hotline.cli_report import report_app
from hotline.core.model import Role
from hotline.demo import USERS as DEMO_USERS
from hotline.demo import DemoError, seed_demo
from hotline.security import random_password
from hotline.settings import Settings
from hotline.sim.scenario import Scenario, ScenarioError, load_scenario
from hotline.store import migrate as migrations
from hotline.store import models as m
from hotline.store.db import Database
from hotline.telephony.outbound import parse_outbound_uri
from hotline.telephony.registrar import SIP_REALM
from hotline.telephony.sip.digest import ha1 as sip_ha1
from hotline.users import UserError, create_user, validate_password

T = TypeVar("T")

app = typer.Typer(
    name="hotline",
    help="Hotline: an open-source contact center (hotlines, IVR, routing, KPIs, WFM).",
    no_args_is_help=True,
    add_completion=False,
    # Locals may hold passwords; a crash report must never print them.
    pretty_exceptions_show_locals=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
trunk_app = typer.Typer(help="Manage SIP trunks (who may deliver calls).", no_args_is_help=True)
app.add_typer(trunk_app, name="trunk")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")

# The options shared by the commands that open the database or serve.  They default to
# None so that Settings (the HOTLINE_* environment) supplies the real defaults.
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory: SQLite file and media (env HOTLINE_DATA_DIR)."),
]
HttpOpt = Annotated[
    str | None, typer.Option("--http", help="Web UI and API, HOST:PORT (env HOTLINE_HTTP).")
]
SipOpt = Annotated[
    str | None, typer.Option("--sip", help="SIP over UDP and TCP, HOST:PORT (env HOTLINE_SIP).")
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+asyncpg://… (env HOTLINE_DATABASE_URL); "
        "default: SQLite under the data directory.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

_OPTION_OF_FIELD = {
    "data_dir": "--data",
    "http": "--http",
    "sip": "--sip",
    "database_url": "--database-url",
}


def _stderr() -> Console:
    # Built per call so that test runners that swap sys.stderr see the output.
    return Console(stderr=True)


def _fail(message: str) -> NoReturn:
    """Report a user's mistake on stderr and exit with status 2 (as click does for usage)."""
    _stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=2)


def _print_json(document: dict[str, Any]) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False))


def _settings(
    *,
    data: Path | None = None,
    http: str | None = None,
    sip: str | None = None,
    database_url: str | None = None,
    create_data_dir: bool = True,
) -> Settings:
    """Settings from the environment, overridden by the options actually given.

    The data directory is created when the server needs it for media
    (``create_data_dir``) or when the database is the SQLite file inside it.
    """
    given = {"data_dir": data, "http": http, "sip": sip, "database_url": database_url}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_OPTION_OF_FIELD.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'settings'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        _fail(problems)
    if create_data_dir or settings.database_url is None:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"--data {settings.data_dir}: cannot create the directory ({exc.strerror})")
    return settings


def _safe_url(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # an unparsable URL is reported as such by the caller
        return "<invalid URL>"


def _with_db(settings: Settings, work: Callable[[Database], Coroutine[Any, Any, T]]) -> T:
    """Run ``work(db)`` in a fresh event loop; database trouble becomes an ``error:`` line."""
    url = settings.effective_database_url

    async def main() -> T:
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DBAPIError as exc:
        _fail(f"database {_safe_url(url)}: {exc.orig}")
    except (ArgumentError, ImportError) as exc:  # a malformed URL, an unknown driver
        _fail(f"--database-url {_safe_url(url)}: {exc}")


async def _require_schema(db: Database) -> None:
    """Fail with a hint instead of "no such table" when the database is not migrated."""
    current = await migrations.current_revision(db.engine)
    head = migrations.head_revision()
    if current != head:
        _fail(
            f"the database is at revision {current or 'base'}, this version needs {head}: "
            "run `hotline migrate` first"
        )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hotline {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Hotline: an open-source contact center."""


# --- serve and demo -----------------------------------------------------------------------


def _run_server(
    settings: Settings, before_serve: Callable[[Database], Awaitable[None]] | None = None
) -> None:
    # Imported here so that `hotline migrate` or `hotline user add` do not load the web
    # stack, and a broken adapter cannot stop an operator from fixing the database.
    from hotline.app import run

    try:
        run(settings, before_serve=before_serve)
    except (DemoError, UserError) as exc:
        _fail(str(exc))
    except OSError as exc:  # typically: the address is already in use
        _fail(f"cannot serve on http={settings.http} sip={settings.sip}: {exc}")


@app.command()
def serve(
    data: DataOpt = None,
    http: HttpOpt = None,
    sip: SipOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Migrate the database to the latest revision, then serve web, API and SIP until
    SIGINT/SIGTERM."""
    _run_server(_settings(data=data, http=http, sip=sip, database_url=database_url))


@app.command()
def demo(
    data: DataOpt = None,
    http: HttpOpt = None,
    sip: SipOpt = None,
    database_url: DatabaseUrlOpt = None,
    demo_password: Annotated[
        str | None,
        typer.Option(
            "--demo-password",
            help="One password for every demo user (also resets it on an existing demo); "
            "default: a random one each, shown once.",
        ),
    ] = None,
) -> None:
    """Seed the «Матрёшка» demo (first run only) and serve it like `hotline serve`.

    Logins and passwords are printed once, to stderr (never into the log), and only when
    they were set by this run.
    """
    if demo_password is not None:
        try:
            validate_password(demo_password)
        except UserError as exc:
            _fail(f"--demo-password: {exc}")
    settings = _settings(data=data, http=http, sip=sip, database_url=database_url)

    async def seed(db: Database) -> None:
        passwords = await seed_demo(db, password=demo_password, now=datetime.now(UTC))
        _print_demo_passwords(passwords)

    _run_server(settings, seed)


def _print_demo_passwords(passwords: dict[str, str]) -> None:
    console = _stderr()
    if not passwords:
        console.print(
            "Demo already seeded; passwords unchanged (pass --demo-password to reset them)."
        )
        return
    table = Table(title="Demo users (passwords are shown only now)")
    for column in ("login", "role", "name", "password"):
        table.add_column(column)
    for user in DEMO_USERS:
        if user.login in passwords:
            table.add_row(user.login, user.role.value, user.display_name, passwords[user.login])
    console.print(table)


# --- migrate ------------------------------------------------------------------------------


@app.command()
def migrate(
    data: DataOpt = None,
    database_url: DatabaseUrlOpt = None,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Upgrade to this revision (default: head).")
    ] = None,
    downgrade: Annotated[
        str | None,
        typer.Option("--downgrade", help="Downgrade to this revision instead ('base': empty)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Upgrade (or downgrade) the database schema and print the resulting revision."""
    if revision is not None and downgrade is not None:
        _fail("give either --revision (upgrade) or --downgrade, not both")
    settings = _settings(data=data, database_url=database_url, create_data_dir=False)

    async def work(db: Database) -> str | None:
        if downgrade is not None:
            await migrations.downgrade(db.engine, downgrade)
        else:
            await migrations.upgrade(db.engine, revision or "head")
        return await migrations.current_revision(db.engine)

    try:
        current = _with_db(settings, work)
    except CommandError as exc:  # Alembic: unknown revision, wrong direction…
        _fail(str(exc))
    if json_out:
        _print_json({"revision": current})
    else:
        head = migrations.head_revision()
        note = " (head)" if current == head else f" (head is {head})"
        typer.echo(f"database at revision {current or 'base'}{note}")


# --- user ---------------------------------------------------------------------------------


@trunk_app.command("add")
def trunk_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A name for the carrier link.")],
    address: Annotated[
        str | None,
        typer.Option(
            "--address", help="Trusted source: an IP address or CIDR, e.g. 203.0.113.0/24."
        ),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Digest user for INVITEs (with --password).")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Digest password (stored as HA1 only).")
    ] = None,
    outbound: Annotated[
        str | None,
        typer.Option(
            "--outbound",
            help="Send calls out here (transfers to outside numbers): "
            "sip:IP[:PORT][;transport=udp|tcp]; the carrier trusts our address.",
        ),
    ] = None,
    data: DataOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Accept calls from a carrier: by source address, by digest credentials, or both;
    and/or send calls out through it (--outbound).
    A running server picks the trunk up at its next restart."""
    if address is None and username is None and outbound is None:
        _fail("give --address, or --username and --password (or both), and/or --outbound")
    if outbound is not None:
        try:
            parse_outbound_uri(outbound)
        except ValueError as exc:
            _fail(f"--outbound: {exc}")
    if (username is None) != (password is None):
        _fail("--username and --password go together")
    if address is not None:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            _fail(f"--address {address!r} is neither an IP address nor a CIDR block")
    settings = _settings(data=data, database_url=database_url, create_data_dir=False)

    async def work(db: Database) -> int:
        await _require_schema(db)
        async with db.system_session() as session:
            taken = await session.scalar(
                sa.select(m.SipTrunk.id).where(
                    (m.SipTrunk.name == name)
                    | ((m.SipTrunk.username == username) & sa.literal(username is not None))
                )
            )
            if taken is not None:
                _fail(f"a trunk named {name!r} or with user {username!r} exists already")
            trunk = m.SipTrunk(
                name=name,
                address=address,
                username=username,
                sip_ha1=None
                if username is None or password is None
                else sip_ha1(username, SIP_REALM, password),
                outbound_uri=outbound,
                active=True,
                created_at=datetime.now(UTC),
            )
            session.add(trunk)
            await session.commit()
            return trunk.id

    trunk_id = _with_db(settings, work)
    document = {
        "id": trunk_id,
        "name": name,
        "address": address,
        "username": username,
        "outbound": outbound,
    }
    if json_out:
        _print_json(document)
        return
    typer.echo(f"created trunk {name} (id {trunk_id})")


@user_app.command("add")
def user_add(
    login: Annotated[str, typer.Argument(metavar="LOGIN", help="What the user types to log in.")],
    role: Annotated[Role, typer.Option("--role", case_sensitive=False, help="What they may do.")],
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant slug (every role but admin).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the login).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Default: a random one, printed once."),
    ] = None,
    hotline: Annotated[
        list[int] | None,
        typer.Option("--hotline", help="Hotline id to assign (operators, site supervisors)."),
    ] = None,
    data: DataOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a user.  The database must be migrated (`hotline migrate`)."""
    generated = password is None
    secret = random_password() if password is None else password
    settings = _settings(data=data, database_url=database_url, create_data_dir=False)

    async def work(db: Database) -> int:
        await _require_schema(db)
        user = await create_user(
            db,
            login=login,
            role=role,
            tenant_slug=tenant,
            display_name=name,
            password=secret,
            hotline_ids=hotline or (),
            now=datetime.now(UTC),
        )
        return user.id

    try:
        user_id = _with_db(settings, work)
    except UserError as exc:
        _fail(exc.message)
    document: dict[str, Any] = {
        "id": user_id,
        "login": login,
        "role": role.value,
        "tenant": tenant,
    }
    if generated:
        document["password"] = secret
    if json_out:
        _print_json(document)
        return
    where = f"tenant {tenant}" if tenant else "all tenants"
    typer.echo(f"created user {login} (id {user_id}, {role.value}, {where})")
    if generated:
        typer.echo(f"password: {secret}  (shown only now)")


# --- simulate -----------------------------------------------------------------------------


@app.command()
def simulate(
    scenario_file: Annotated[
        Path,
        typer.Option(
            "--scenario",
            metavar="FILE.yaml",
            help="Scenario to run (format: hotline.sim.scenario; see examples/scenarios/).",
        ),
    ],
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: the scenario's).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a scenario through the real routing core in virtual time and print its KPIs.

    A bad scenario is refused with one error line per mistake, naming its file and line.
    """
    # Imported here: the driver pulls in the whole routing core and KPI code.
    from hotline.sim import driver

    try:
        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = scenario.model_copy(update={"seed": seed})
        if json_out:
            result = driver.run_scenario(scenario)
        else:
            result = _simulate_with_progress(driver.run_scenario, scenario, scenario_file.name)
    except ScenarioError as exc:
        console = _stderr()
        for problem in exc.problems:
            console.print(
                f"[bold red]error:[/] {escape(problem.format(exc.source))}", soft_wrap=True
            )
        raise typer.Exit(code=2) from None
    if json_out:
        _print_json(result)
    else:
        _print_simulation(result, scenario)


def _simulate_with_progress(
    run: Callable[..., dict[str, Any]], scenario: Scenario, name: str
) -> dict[str, Any]:
    """``run(scenario, progress=…)`` under a Rich progress bar on stderr."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        task = bar.add_task(f"simulating {escape(name)}", total=1.0)

        def progress(fraction: float) -> None:
            bar.update(task, completed=fraction)

        return run(scenario, progress=progress)


def _print_simulation(result: dict[str, Any], scenario: Scenario) -> None:
    """The KPIs of ``hotline simulate`` as tables: one row per queue, then the operators."""

    def count(value: object) -> str:
        return "—" if value is None else f"{value}"

    def percent(value: object) -> str:
        return "—" if not isinstance(value, int | float) else f"{100 * value:.1f} %"

    def seconds(value: object) -> str:
        return "—" if not isinstance(value, int | float) else f"{value:.1f} s"

    hours = scenario.duration / 3600
    table = Table(
        title=f"{hours:g} h simulated (seed {scenario.seed}); "
        f"SL = answered within {scenario.answer_within:g} s / offered"
    )
    for column in ("queue", "offered", "answered", "abandoned", "SL", "ASA", "AHT", "abandon %"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    queues: dict[str, dict[str, Any]] = result.get("queues") or {}
    for name, kpis in queues.items():
        table.add_row(
            escape(name),
            count(kpis.get("offered")),
            count(kpis.get("answered")),
            count(kpis.get("abandoned")),
            percent(kpis.get("sl_offered")),
            seconds(kpis.get("asa")),
            seconds(kpis.get("aht")),
            percent(kpis.get("abandon_rate")),
        )
    console = Console()
    console.print(table)
    operators: dict[str, Any] = result.get("operators") or {}
    console.print(f"operator occupancy: {percent(operators.get('occupancy'))}")
    wall = result.get("wall_seconds")
    took = f" in {wall:.2f} s" if isinstance(wall, int | float) else ""
    console.print(f"{count(result.get('events'))} events{took}")


# --- wfm ----------------------------------------------------------------------------------

wfm_app = typer.Typer(
    help="Workforce management: forecast, staffing (Erlang C/A), shifts, what-if, cost.",
    no_args_is_help=True,
)
app.add_typer(wfm_app, name="wfm")
# forecast, shifts, whatif, cost: they register on wfm_app (needs wfm_app, _fail above);
# report mail registers on report_app (needs _fail, _settings, _with_db above)
import hotline.cli_report_mail  # noqa: E402
import hotline.cli_wfm_plan  # noqa: E402, F401

#: the columns of ``--cases``, in the order of :func:`hotline.core.wfm.staffing`
_WFM_REQUIRED = ("calls", "interval", "aht", "target_sl", "answer_within")
_WFM_OPTIONAL = ("patience", "max_occupancy", "shrinkage", "max_asa")
_WFM_FIELDS = (
    "traffic_erlangs",
    "agents",
    "scheduled_agents",
    "service_level",
    "asa",
    "p_wait",
    "occupancy",
)


def _wfm_option(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


def _wfm_read_cases(path: Path) -> tuple[list[tuple[int, dict[str, float]]], list[str]]:
    """The rows of a ``--cases`` CSV as ``(line, staffing keyword arguments)``, and the
    problems found, each ``line N: column: what is wrong``."""
    import csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail(f"--cases {path}: cannot read the file ({exc.strerror})")
    except UnicodeDecodeError:
        _fail(f"--cases {path}: not a UTF-8 text file")
    reader = csv.reader(text.splitlines())
    header = [name.strip() for name in next(reader, [])]
    expected = ",".join(_WFM_REQUIRED) + " (then any of " + ",".join(_WFM_OPTIONAL) + ")"
    if not any(header):
        return [], [f"line 1: the header is missing: expected {expected}"]
    problems = [
        f"line 1: {name or '(empty)'}: unknown column; expected {expected}"
        for name in header
        if name not in _WFM_REQUIRED + _WFM_OPTIONAL
    ]
    repeated = [name for name in dict.fromkeys(header) if header.count(name) > 1]
    problems += [f"line 1: {name}: repeated column" for name in repeated]
    problems += [f"line 1: {name}: missing column" for name in _WFM_REQUIRED if name not in header]
    if problems:
        return [], problems
    cases: list[tuple[int, dict[str, float]]] = []
    for row in reader:
        line = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            problems.append(f"line {line}: has {len(row)} cells, the header has {len(header)}")
            continue
        request: dict[str, float] = {}
        for name, cell in zip(header, row, strict=True):
            cell = cell.strip()
            if not cell:
                if name in _WFM_REQUIRED:
                    problems.append(f"line {line}: {name}: missing value")
                continue
            try:
                request[name] = float(cell)
            except ValueError:
                problems.append(f"line {line}: {name}: not a number ({cell!r})")
        cases.append((line, request))
    return cases, problems


def _wfm_print_table(rows: list[tuple[int, dict[str, Any]]]) -> None:
    """One row per case (``#`` is the CSV line, or blank for a single case)."""

    def percent(value: object) -> str:
        return "—" if not isinstance(value, int | float) else f"{100 * value:.1f}"

    abandon = any("p_abandon" in document for _, document in rows)
    table = Table(title="Staffing (Erlang A with patience, else Erlang C)")
    columns = ["#", "Erlangs", "agents", "sched.", "SL %", "ASA s", "wait %", "occ. %"]
    for column in columns + (["aband. %"] if abandon else []):
        table.add_column(column, justify="right")
    for line, document in rows:
        cells = [
            str(line) if line else "",
            f"{document['traffic_erlangs']:.2f}",
            str(document["agents"]),
            str(document["scheduled_agents"]),
            percent(document["service_level"]),
            f"{document['asa']:.1f}",
            percent(document["p_wait"]),
            percent(document["occupancy"]),
        ]
        table.add_row(*cells, *([percent(document.get("p_abandon"))] if abandon else []))
    Console().print(table)


@wfm_app.command("staffing")
def wfm_staffing(
    calls: Annotated[
        float | None, typer.Option("--calls", help="Calls offered in the interval.")
    ] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", help="Interval length in seconds, e.g. 1800.")
    ] = None,
    aht: Annotated[
        float | None,
        typer.Option("--aht", help="Average handle time in seconds (talk + hold + wrap-up)."),
    ] = None,
    target_sl: Annotated[
        float | None,
        typer.Option("--target-sl", help="Share of calls to answer within the threshold, 0–1."),
    ] = None,
    answer_within: Annotated[
        float | None,
        typer.Option("--answer-within", help="Service-level threshold T in seconds."),
    ] = None,
    patience: Annotated[
        float | None,
        typer.Option(
            "--patience",
            help="Mean patience in seconds: Erlang A (callers give up) instead of Erlang C.",
        ),
    ] = None,
    max_occupancy: Annotated[
        float | None, typer.Option("--max-occupancy", help="Occupancy cap, e.g. 0.85.")
    ] = None,
    shrinkage: Annotated[
        float | None,
        typer.Option(
            "--shrinkage",
            help="Share of paid time off the phones: scheduled = ⌈agents / (1 − shrinkage)⌉.",
        ),
    ] = None,
    max_asa: Annotated[
        float | None, typer.Option("--max-asa", help="Average speed of answer target, s.")
    ] = None,
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases",
            metavar="FILE.csv",
            help="One case per row; header calls,interval,aht,target_sl,answer_within "
            "plus any of patience,max_occupancy,shrinkage,max_asa; an empty cell is an "
            "option not given.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The fewest agents meeting a service-level target (KPI.md: answered within T over
    all offered), with the service level, ASA, waiting probability and occupancy they give.

    With --cases, prints one answer per row, in row order (a JSON list with --json).
    """
    # Imported here, like the simulator: only this command needs the WFM math.
    from hotline.core.wfm import StaffingError, staffing

    given: dict[str, float | None] = {
        "calls": calls,
        "interval": interval,
        "aht": aht,
        "target_sl": target_sl,
        "answer_within": answer_within,
        "patience": patience,
        "max_occupancy": max_occupancy,
        "shrinkage": shrinkage,
        "max_asa": max_asa,
    }
    if cases is not None:
        if any(value is not None for value in given.values()):
            _fail("give either --cases FILE.csv or the options of one case, not both")
        requests, problems = _wfm_read_cases(cases)
    else:
        for name in _WFM_REQUIRED:
            if given[name] is None:
                _fail(f"{_wfm_option(name)}: required (or give --cases FILE.csv)")
        requests = [(0, {k: v for k, v in given.items() if v is not None})]
        problems = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, request in requests:
        if len(request) < len(_WFM_REQUIRED) or not all(k in request for k in _WFM_REQUIRED):
            continue  # a cell already reported missing or unreadable
        try:
            result = staffing(
                request["calls"],
                request["interval"],
                request["aht"],
                request["target_sl"],
                request["answer_within"],
                patience=request.get("patience"),
                max_occupancy=request.get("max_occupancy"),
                shrinkage=request.get("shrinkage"),
                max_asa=request.get("max_asa"),
            )
        except StaffingError as exc:
            if cases is None:
                _fail(f"{_wfm_option(exc.parameter)}: {exc.problem}")
            problems.append(f"line {line}: {exc.parameter}: {exc.problem}")
            continue
        document: dict[str, Any] = {key: getattr(result, key) for key in _WFM_FIELDS}
        if result.p_abandon is not None:
            document["p_abandon"] = result.p_abandon
        rows.append((line, document))
    if problems:
        console = _stderr()
        for problem in sorted(problems, key=lambda p: int(p.split()[1].rstrip(":"))):
            console.print(f"[bold red]error:[/] {escape(f'{cases}: {problem}')}", soft_wrap=True)
        raise typer.Exit(code=2)
    if json_out:
        if cases is None:
            _print_json(rows[0][1])
        else:
            typer.echo(json.dumps([document for _, document in rows], ensure_ascii=False))
    else:
        _wfm_print_table(rows)

"""``hotline wfm whatif | cost``: the what-if and cost commands of the ``wfm`` group.

Registered by :mod:`hotline.cli_wfm_plan` (which :mod:`hotline.cli` imports); same
contracts: one JSON document with ``--json``, exit 2 with one ``error:`` line per problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hotline.cli import JsonOpt, _fail, _stderr, wfm_app
from hotline.cli_wfm_plan import _emit

# --- what-if --------------------------------------------------------------------------------


def _by_name(option: str, values: list[str] | None, parse: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values or []:
        name, _, amount = value.rpartition("=")
        try:
            out[name.strip() or "*"] = parse(amount)
        except ValueError as exc:
            _fail(f"{option}: {exc}")
    return out


@wfm_app.command("whatif")
def wfm_whatif(
    calls: Annotated[float | None, typer.Option("--calls", help="Calls per interval.")] = None,
    interval: Annotated[float, typer.Option("--interval", help="Interval, s.")] = 1800.0,
    aht: Annotated[float | None, typer.Option("--aht", help="Handle time, s.")] = None,
    agents: Annotated[int | None, typer.Option("--agents", help="Agents on the phones.")] = None,
    answer_within: Annotated[float, typer.Option("--answer-within", help="T, s.")] = 20.0,
    target_sl: Annotated[float, typer.Option("--target-sl", help="SL target, 0–1.")] = 0.8,
    patience: Annotated[
        float | None, typer.Option("--patience", help="Mean patience, s (Erlang A).")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            metavar="FILE.yaml",
            help="Multi-skill: a hotline simulate scenario, run before and after the change.",
        ),
    ] = None,
    volume: Annotated[
        list[str] | None,
        typer.Option("--volume", metavar="[QUEUE=]±N%", help="Change of calls (repeatable)."),
    ] = None,
    aht_change: Annotated[
        list[str] | None,
        typer.Option("--aht-change", metavar="[QUEUE=]±N%", help="Change of handle time."),
    ] = None,
    set_aht: Annotated[float | None, typer.Option("--set-aht", help="New AHT, s.")] = None,
    set_agents: Annotated[int | None, typer.Option("--set-agents", help="New staff.")] = None,
    add_agents: Annotated[int, typer.Option("--add-agents", help="Agents added (±).")] = 0,
    staff: Annotated[
        list[str] | None,
        typer.Option("--staff", metavar="GROUP=N", help="Scenario: operator group size."),
    ] = None,
    set_answer_within: Annotated[
        float | None, typer.Option("--set-answer-within", help="New T, s.")
    ] = None,
    set_target_sl: Annotated[
        float | None, typer.Option("--set-target-sl", help="New SL target.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Service level, ASA, abandonment and occupancy before and after a change: from
    Erlang C/A for one queue (--calls --aht --agents), from the simulator for a
    multi-skill scenario (--scenario)."""
    from hotline.core.wfm.erlang import StaffingError
    from hotline.core.wfm.whatif import Change, QueueCase, queue_whatif
    from hotline.wfm_plan_io import parse_percent

    volumes = _by_name("--volume", volume, parse_percent)
    ahts = _by_name("--aht-change", aht_change, parse_percent)
    if scenario is not None:
        single = {
            "--set-aht": set_aht,
            "--set-agents": set_agents,
            "--add-agents": add_agents or None,
            "--set-target-sl": set_target_sl,
        }
        given = [name for name, v in single.items() if v is not None]
        if given:
            _fail(
                f"{', '.join(given)}: only for one queue; with --scenario use --staff, --aht-change"
            )
        _whatif_scenario(scenario, volumes, ahts, staff, set_answer_within, json_out)
        return
    if staff:
        _fail("--staff: only with --scenario")
    if any(k != "*" for k in [*volumes, *ahts]):
        _fail("--volume/--aht-change QUEUE=…: only with --scenario")
    if calls is None or aht is None or agents is None:
        missing = [
            n for n, v in (("--calls", calls), ("--aht", aht), ("--agents", agents)) if v is None
        ]
        _fail(f"{', '.join(missing)}: required (or give --scenario FILE.yaml)")
    try:
        base = QueueCase(calls, interval, aht, agents, answer_within, target_sl, patience)
        change = Change(
            volume_pct=volumes.get("*", 0.0),
            aht=set_aht,
            aht_pct=ahts.get("*", 0.0),
            agents=set_agents,
            agents_delta=add_agents,
            answer_within=set_answer_within,
            target_sl=set_target_sl,
        )
        document: dict[str, Any] = {"model": "erlang_a" if patience else "erlang_c"}
        document.update(queue_whatif(base, change))
    except StaffingError as exc:
        _fail(f"--{exc.parameter.replace('_', '-')}: {exc.problem}")

    def line(label: str, r: dict[str, Any]) -> str:
        asa = "∞" if r["asa"] is None else f"{r['asa']:.1f} s"
        return f"{label}: {r['agents']} agents, SL {100 * r['service_level']:.1f} %, ASA {asa}"

    _emit(
        document, json_out, [line("before", document["before"]), line("after", document["after"])]
    )


def _whatif_scenario(
    path: Path,
    volumes: dict[str, float],
    ahts: dict[str, float],
    staff: list[str] | None,
    answer_within: float | None,
    json_out: bool,
) -> None:
    import yaml
    from pydantic import ValidationError

    from hotline.core.wfm.whatif import ScenarioChange, change_scenario, compare_kpis
    from hotline.sim import driver
    from hotline.sim.scenario import Scenario, ScenarioError, load_scenario

    def count(text: str) -> int:
        if not text.strip().isdigit():
            raise ValueError(f"{text!r} is not a whole number ≥ 0")
        return int(text)

    groups = _by_name("--staff", staff, count)
    try:
        base = load_scenario(path)
    except ScenarioError as exc:
        console = _stderr()
        for problem in exc.problems:
            console.print(
                f"[bold red]error:[/] {escape(problem.format(exc.source))}", soft_wrap=True
            )
        raise typer.Exit(code=2) from None
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        changed = change_scenario(document, ScenarioChange(volumes, ahts, groups, answer_within))
        after = Scenario.model_validate(changed)
    except (ValueError, ValidationError) as exc:
        _fail(f"{path}: the changed scenario is not valid: {exc}")
    before_kpis = driver.run_scenario(base)
    after_kpis = driver.run_scenario(after)
    result = {"model": "simulation", "seed": base.seed, **compare_kpis(before_kpis, after_kpis)}
    summary = [
        f"{name}: SL {v['sl_offered']['before']} → {v['sl_offered']['after']}, "
        f"abandon {v['abandon_rate']['before']} → {v['abandon_rate']['after']}"
        for name, v in result["queues"].items()
    ]
    _emit(result, json_out, summary)


# --- cost -----------------------------------------------------------------------------------


@wfm_app.command("cost")
def wfm_cost(
    operators: Annotated[int, typer.Option("--operators", help="Operators (FTE) in-house.")],
    salary: Annotated[float, typer.Option("--salary", help="Per operator per month.")],
    supervisor_salary: Annotated[
        float, typer.Option("--supervisor-salary", help="Per supervisor per month.")
    ],
    interactions: Annotated[
        float, typer.Option("--interactions", help="Interactions handled per month.")
    ],
    aht: Annotated[float, typer.Option("--aht", help="Average handle time, s.")],
    supervisors: Annotated[
        int | None, typer.Option("--supervisors", help="Default ⌈operators / 10⌉.")
    ] = None,
    seat_cost: Annotated[float, typer.Option("--seat-cost", help="Per seat per month.")] = 0.0,
    overhead: Annotated[float, typer.Option("--overhead", help="Share on top, e.g. 0.15.")] = 0.0,
    price_per_minute: Annotated[
        float | None, typer.Option("--price-per-minute", help="Outsourced, per handled min.")
    ] = None,
    price_per_interaction: Annotated[
        float | None, typer.Option("--price-per-interaction", help="Outsourced, per contact.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Monthly cost in-house (operators × salary + supervisors + seats, plus overhead) vs
    outsourced (per handled minute or per interaction), and the break-even volume."""
    from hotline.core.wfm.cost import CostError, InHouse, Outsourced, compare_costs

    try:
        result = compare_costs(
            InHouse(operators, salary, supervisor_salary, seat_cost, overhead, supervisors),
            Outsourced(price_per_minute, price_per_interaction),
            interactions,
            aht,
        )
    except CostError as exc:
        name, _, problem = str(exc).partition(": ")
        _fail(f"--{name.replace('_', '-')}: {problem}" if problem else str(exc))
    summary = [
        f"in-house {result['inhouse_monthly']:.2f} / month, outsourced "
        f"{result['outsourced_monthly']:.2f} / month: {result['cheaper']} is cheaper; "
        f"break-even at {result['break_even_interactions']} interactions / month"
    ]
    _emit(result, json_out, summary)

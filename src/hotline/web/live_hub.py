"""Fans the live routing center out to the pages' WebSockets.

Theory of operation
-------------------
Rule 1. The hub subscribes to :class:`~hotline.live.center.LiveCenter` (commands and log
        lines) and runs on the same event loop, so its handlers never block and never
        touch the database: they update small in-memory tables and queue frames.
Rule 2. Desktop frames (offer, call phase, state) go only to the subscribers of the
        operator they are about; a frame is serialised once whatever the number of tabs.
Rule 3. Wallboard figures come from a running fold per tenant (``live/today.py``): built
        once from the day's log when the tenant's first page asks for them, then advanced
        by each log line as the center publishes it, so no event reads the log back.  Any
        event of a tenant marks it dirty; one refresh task waits ``settle`` seconds
        (coalescing a burst) and sends one snapshot per distinct hotline visibility.  The
        same pass refreshes the KPIs of operators whose interaction completed.  While the
        fold is being built its lines are kept aside and applied after the log's own
        (those the log already had are told apart by their place in the interaction's
        log); a configuration change of the queues' time zones or thresholds builds it
        again.  ``settle`` stays well inside the one-second promise of issue 5
        (``bench/ws_fanout.py`` measures it).
Rule 4. A subscriber that does not read (a frozen tab) loses its oldest frames, never
        the server's memory: each has a bounded queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from hotline.core import commands as cmd
from hotline.core import events as ev
from hotline.core.model import EventType
from hotline.live.center import LiveCenter
from hotline.live.directory import Directory
from hotline.live.today import DAY_WINDOW, QueueParams, TodayFold, load_lines
from hotline.store.db import Database
from hotline.web.live_events import (
    CallData,
    CallPhase,
    DesktopCall,
    DesktopKpis,
    DesktopOffer,
    DesktopOfferCancelled,
    DesktopScreenPop,
    DesktopState,
    OperatorRow,
    ScreenPopData,
    StateData,
    WaitingCall,
    WallboardData,
    WallboardSnapshot,
)
from hotline.web.live_tables import (
    CallRow,
    OperatorSeen,
    Subscriber,
    as_int,
    log_failure,
    offer_data,
    queue_row,
    visible,
)
from hotline.web.pages import data

__all__ = ["LiveHub", "Subscriber"]

#: calls remembered at most (far above any floor's calls in progress)
MAX_CALLS = 20_000
#: waiting callers listed per queue on the wallboard
WAITING_LISTED = 50
#: interactions whose lines are followed are looked at for forgetting this often (lines)
SWEEP_EVERY = 10_000


class _Today:
    """One tenant's running fold (Rule 3) and what it was built with."""

    __slots__ = ("directory", "fold", "metas", "pending")

    def __init__(self) -> None:
        self.fold: TodayFold | None = None
        #: lines seen while the fold is built: (place in the interaction's log, line)
        self.pending: list[tuple[int, cmd.Log]] | None = []
        self.metas: list[data.QueueMeta] = []
        self.directory: Directory | None = None


def _params(metas: list[data.QueueMeta]) -> dict[int, QueueParams]:
    return {q.id: QueueParams(q.timezone, q.sl_seconds, q.short_abandon) for q in metas}


class LiveHub:
    def __init__(
        self,
        center: LiveCenter,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        settle: float = 0.15,
    ) -> None:
        self.center = center
        self.db = db
        self.clock = clock
        self.settle = settle
        self._started = clock()
        self._calls: dict[int, CallRow] = {}
        self._operators: dict[int, OperatorSeen] = {}
        self._desktops: dict[int, set[Subscriber]] = {}
        self._wallboards: dict[int, set[Subscriber]] = {}
        self._dirty: set[int] = set()
        self._kpi_dirty: set[int] = set()
        self._refresh: asyncio.Task[None] | None = None
        self._today: dict[int, _Today] = {}
        self._today_locks: dict[int, asyncio.Lock] = {}
        #: per interaction whose lines were seen: [tenant, lines so far, latest at]
        self._lines: dict[int, list[Any]] = {}
        self._since_sweep = 0
        center.subscribe(self._on_command)
        center.subscribe_log(self._on_log)

    # -- subscriptions ---------------------------------------------------------------------

    def open_desktop(self, operator_id: int) -> Subscriber:
        sub = Subscriber()
        self._desktops.setdefault(operator_id, set()).add(sub)
        return sub

    def open_wallboard(self, tenant_id: int, hotline_ids: frozenset[int] | None) -> Subscriber:
        sub = Subscriber(hotline_ids)
        self._wallboards.setdefault(tenant_id, set()).add(sub)
        return sub

    def close(self, sub: Subscriber) -> None:
        for table in (self._desktops, self._wallboards):
            for key, subs in list(table.items()):
                subs.discard(sub)
                if not subs:
                    del table[key]

    # -- what a page gets on connecting ----------------------------------------------------

    def _op(self, operator_id: int) -> OperatorSeen:
        op = self._operators.get(operator_id)
        if op is None:
            state, reason = "offline", None
            if self.center.engine.has_operator(operator_id):
                raw, reason = self.center.engine.operator_state(operator_id)
                state = str(raw)
            op = self._operators[operator_id] = OperatorSeen(state, reason, self._started)
        return op

    def desktop_state(self, operator_id: int) -> str:
        op = self._op(operator_id)
        data_ = StateData(state=op.state, reason=op.reason, since=op.since)
        return DesktopState(at=self.clock(), data=data_).model_dump_json()

    async def desktop_hello(self, operator_id: int) -> list[str]:
        """Frames that bring a freshly opened desktop up to date."""
        op = self._op(operator_id)
        frames = [self.desktop_state(operator_id)]
        frames += [f for f in (op.offer, op.call) if f is not None]
        frames.append(await self._kpi_frame(operator_id))
        return frames

    def handled_by(self, operator_id: int, interaction_id: int) -> bool:
        return interaction_id in self._op(operator_id).handled

    async def wallboard(self, tenant_id: int) -> WallboardData:
        """The tenant's wallboard now (Rule 3), every hotline included."""
        today = await self._today_of(tenant_id)
        now = self.clock()
        assert today.fold is not None  # noqa: S101 - built by _today_of
        fold = today.fold
        open_visits = fold.open_by_queue()
        waiting = self.center.engine.waiting_lists()
        rows = []
        for q in today.metas:
            figures = fold.queue_figures(q.id, now, open_visits.get(q.id, ()))
            if figures is None:
                continue
            acc, waits = figures
            rows.append(queue_row(q, acc, waits, now, self._waiting_calls(waiting.get(q.id))))
        return WallboardData(
            tenant_id=tenant_id, queues=rows, operators=self._operator_rows(tenant_id)
        )

    def _waiting_calls(self, found: list[tuple[int, float, bool]] | None) -> list[WaitingCall]:
        calls = []
        for position, (iid, since, ringing) in enumerate((found or [])[:WAITING_LISTED], 1):
            call = self._calls.get(iid)
            calls.append(
                WaitingCall(
                    interaction_id=iid,
                    caller=call.caller if call else None,
                    waiting_since=since,
                    position=position,
                    ringing=ringing,
                )
            )
        return calls

    async def _today_of(self, tenant_id: int) -> _Today:
        """The tenant's running fold, built from the log the first time (Rule 3) and again
        when its queues' time zones or thresholds changed."""
        today = self._today.get(tenant_id)
        if (
            today is not None
            and today.fold is not None
            and not today.fold.stale
            and today.directory is self.center.directory
        ):
            return today
        lock = self._today_locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            today = self._today.get(tenant_id)
            if today is not None and today.fold is not None:
                directory = self.center.directory
                if today.directory is not directory:
                    metas = await data.load_queues(self.db, tenant_id)
                    if _params(metas) == today.fold.params and not today.fold.stale:
                        today.metas, today.directory = metas, directory
                        return today
                elif not today.fold.stale:
                    return today
            return await self._build_today(tenant_id)

    async def _build_today(self, tenant_id: int) -> _Today:
        today = _Today()  # from now on its lines are kept aside (Rule 3)
        self._today[tenant_id] = today
        today.directory = self.center.directory
        await self.center.writer.flush()
        metas = await data.load_queues(self.db, tenant_id)
        lines = await load_lines(self.db, tenant_id, self.clock() - DAY_WINDOW)
        fold = TodayFold(_params(metas))
        logged: dict[int, int] = {}
        for seq, line in lines:
            fold.add(line)
            logged[line.interaction_id] = seq
            self._follow(line.interaction_id, tenant_id, seq, line.at)
        for place, line in today.pending or ():
            if place > logged.get(line.interaction_id, 0):  # not in the log when read
                fold.add(line)
        today.fold, today.pending, today.metas = fold, None, metas
        return today

    def _follow(self, iid: int, tenant_id: int, seq: int, at: float) -> None:
        seen = self._lines.get(iid)
        if seen is None:
            self._lines[iid] = [tenant_id, seq, at]
        elif seq > seen[1]:
            seen[1], seen[2] = seq, max(seen[2], at)

    def _operator_rows(self, tenant_id: int) -> list[OperatorRow]:
        directory = self.center.directory
        rows = []
        for oid, info in directory.operator_info.items():
            if info.tenant_id != tenant_id:
                continue
            op = self._op(oid)
            config = directory.operators.get(oid)
            rows.append(
                OperatorRow(
                    id=oid,
                    name=info.display_name,
                    state=op.state,
                    reason=op.reason,
                    since=op.since,
                    hotline_ids=sorted(config.hotline_ids) if config else [],
                    interaction_id=op.interaction_id,
                )
            )
        rows.sort(key=lambda r: r.name)
        return rows

    @staticmethod
    def visible(board: WallboardData, hotline_ids: frozenset[int] | None) -> WallboardData:
        """The board cut down to a site supervisor's hotlines (access rule 2)."""
        return visible(board, hotline_ids)

    async def _kpi_frame(self, operator_id: int) -> str:
        info = self.center.directory.operator_info.get(operator_id)
        now = self.clock()
        if info is None or info.tenant_id is None:
            kpis = data.operator_kpis(operator_id, (), now)
        else:
            today = await self._today_of(info.tenant_id)
            assert today.fold is not None  # noqa: S101 - built by _today_of
            since = self._operator_day_start(operator_id, now)
            kpis = data.operator_kpis(
                operator_id, today.fold.operator_visits(operator_id, since), since
            )
        return DesktopKpis(at=now, data=kpis).model_dump_json()

    def _operator_day_start(self, operator_id: int, now: float) -> float:
        directory = self.center.directory
        config = directory.operators.get(operator_id)
        zones = [
            directory.hotlines[h].hours.timezone
            for h in sorted(config.hotline_ids if config else ())
            if h in directory.hotlines
        ]
        return data.day_start(zones[0] if zones else "UTC", now)

    # -- the center's feed (Rule 1) ----------------------------------------------------------

    def _on_command(self, command: cmd.Command) -> None:
        now = self.clock()
        if isinstance(command, cmd.Offer):
            self._offer(command, now)
        elif isinstance(command, cmd.CancelOffer):
            op = self._op(command.operator_id)
            op.offer = None
            frame = DesktopOfferCancelled(
                at=now, data={"interaction_id": command.interaction_id}
            ).model_dump_json()
            self._to_desktop(command.operator_id, frame)
        elif isinstance(command, cmd.OperatorStateChanged):
            op = self._op(command.operator_id)
            op.state, op.reason, op.since = str(command.state), command.reason, now
            self._to_desktop(command.operator_id, self.desktop_state(command.operator_id))
            self._mark(self._tenant_of_operator(command.operator_id))
        else:
            call = self._calls.get(command.interaction_id)
            self._mark(call.tenant_id if call else None)

    def _offer(self, offer: cmd.Offer, now: float) -> None:
        call = self._calls.get(offer.interaction_id) or CallRow(None, None, None)
        data_, tenant = offer_data(self.center.directory, offer, call)
        frame = DesktopOffer(at=now, data=data_).model_dump_json()
        op = self._op(offer.operator_id)
        op.offer = frame
        self._to_desktop(offer.operator_id, frame)
        self._mark(tenant)
        if call.caller and tenant is not None and offer.operator_id in self._desktops:
            task = asyncio.get_running_loop().create_task(
                self._screen_pop(offer.operator_id, tenant, offer.interaction_id, call.caller)
            )
            task.add_done_callback(log_failure)

    async def _screen_pop(self, operator_id: int, tenant: int, iid: int, caller: str) -> None:
        contact, history = await data.load_contact_and_history(self.db, tenant, caller, iid)
        frame = DesktopScreenPop(
            at=self.clock(),
            data=ScreenPopData(interaction_id=iid, caller=caller, contact=contact, history=history),
        ).model_dump_json()
        self._to_desktop(operator_id, frame)

    def _on_log(self, line: cmd.Log) -> None:
        self._fold(line)
        iid, kind, d = line.interaction_id, line.type, line.data
        call = self._calls.get(iid)
        if kind is EventType.ARRIVED:
            hid = as_int(d.get("hotline_id"))
            hotline = self.center.directory.hotlines.get(hid) if hid is not None else None
            caller = d.get("caller")
            call = self._calls[iid] = CallRow(
                hotline.tenant_id if hotline else None,
                hid,
                caller if isinstance(caller, str) else None,
            )
            if len(self._calls) > MAX_CALLS:  # ended without a line the hub understands
                del self._calls[next(iter(self._calls))]
        elif call is None:
            return
        if kind is EventType.QUEUED:
            call.queue_id, call.queued_at = as_int(d.get("queue_id")), line.at
        elif kind is EventType.ANSWERED:
            call.operator_id = as_int(d.get("operator_id"))
            self._phase(call, iid, "talking", line.at)
        elif kind is EventType.HELD:
            self._phase(call, iid, "held", line.at)
        elif kind is EventType.RESUMED:
            self._phase(call, iid, "talking", line.at)
        elif kind is EventType.WRAP_UP_STARTED:
            self._phase(call, iid, "wrap_up", line.at)
        elif kind is EventType.COMPLETED:
            self._phase(call, iid, "ended", line.at)
            if call.operator_id is not None:
                self._kpi_dirty.add(call.operator_id)
            del self._calls[iid]
        elif kind is EventType.ABANDONED and call.operator_id is None:
            del self._calls[iid]
        self._mark(call.tenant_id)

    def _fold(self, line: cmd.Log) -> None:
        """Rule 3: the line goes to its tenant's running fold (or aside while it is built)."""
        iid = line.interaction_id
        seen = self._lines.get(iid)
        if seen is None:
            if line.type is not EventType.ARRIVED:
                return  # an interaction that began before this process: not followed
            hid = as_int(line.data.get("hotline_id"))
            hotline = self.center.directory.hotlines.get(hid) if hid is not None else None
            if hotline is None:
                return
            seen = self._lines[iid] = [hotline.tenant_id, 0, line.at]
            self._since_sweep += 1
            if self._since_sweep >= SWEEP_EVERY:
                self._sweep(line.at)
        seen[1] += 1
        seen[2] = line.at
        today = self._today.get(seen[0])
        if today is None:
            return
        if today.pending is not None:
            today.pending.append((seen[1], line))
        elif today.fold is not None:
            today.fold.add(line)

    def _sweep(self, now: float) -> None:
        """Forget interactions without a line for a day (their figures are in the sums)."""
        self._since_sweep = 0
        horizon = now - DAY_WINDOW
        for iid in [i for i, seen in self._lines.items() if seen[2] < horizon]:
            del self._lines[iid]

    def _phase(self, call: CallRow, iid: int, phase: CallPhase, at: float) -> None:
        call.phase = phase
        oid = call.operator_id
        if oid is None:
            return
        op = self._op(oid)
        ends = None
        if phase == "wrap_up":
            queue = self.center.directory.queues.get(call.queue_id or 0)
            ends = at + (queue.wrap_up_seconds if queue else 0.0)
        if phase == "talking":
            op.offer = None
            if iid not in op.handled:
                op.handled = [*op.handled[-49:], iid]
        self._set_call(
            oid,
            CallData(
                interaction_id=iid, phase=phase, hotline_id=call.hotline_id, wrap_up_ends_at=ends
            ),
        )

    def _set_call(self, operator_id: int, call: CallData) -> None:
        op = self._op(operator_id)
        frame = DesktopCall(at=self.clock(), data=call).model_dump_json()
        ended = call.phase == "ended"
        op.call, op.call_data = (None, None) if ended else (frame, call)
        op.interaction_id = None if ended else call.interaction_id
        self._to_desktop(operator_id, frame)

    def extend_wrap_up(self, operator_id: int, seconds: float) -> float | None:
        """Give the operator ``seconds`` more wrap-up, once per interaction; the new end
        (UNIX seconds), or None when they are not in wrap-up or already had their extension."""
        op = self._op(operator_id)
        call = op.call_data
        if (
            call is None
            or call.phase != "wrap_up"
            or call.wrap_up_ends_at is None
            or op.extended == call.interaction_id
        ):
            return None
        self.center.handle(ev.WrapUpExtended(operator_id, seconds))
        op.extended = call.interaction_id
        ends = max(call.wrap_up_ends_at, self.clock()) + seconds  # as the engine counts it
        self._set_call(operator_id, call.model_copy(update={"wrap_up_ends_at": ends}))
        return ends

    def _to_desktop(self, operator_id: int, frame: str) -> None:
        for sub in self._desktops.get(operator_id, ()):
            sub.push(frame)

    def _tenant_of_operator(self, operator_id: int) -> int | None:
        info = self.center.directory.operator_info.get(operator_id)
        return info.tenant_id if info else None

    # -- wallboard refresh (Rule 3) ----------------------------------------------------------

    def _mark(self, tenant_id: int | None) -> None:
        if tenant_id is None:
            return
        self._dirty.add(tenant_id)
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self._run_refresh())
            self._refresh.add_done_callback(log_failure)

    async def _run_refresh(self) -> None:
        while self._dirty or self._kpi_dirty:
            await asyncio.sleep(self.settle)
            tenants, self._dirty = self._dirty, set()
            operators, self._kpi_dirty = self._kpi_dirty, set()
            for tenant in tenants:
                if tenant in self._wallboards:
                    self._broadcast(tenant, await self.wallboard(tenant))
            for oid in operators:
                if oid in self._desktops:
                    self._to_desktop(oid, await self._kpi_frame(oid))

    def _broadcast(self, tenant: int, board: WallboardData) -> None:
        now = self.clock()
        frames: dict[frozenset[int] | None, str] = {}
        for sub in self._wallboards.get(tenant, ()):
            frame = frames.get(sub.hotline_ids)
            if frame is None:
                visible = self.visible(board, sub.hotline_ids)
                frame = WallboardSnapshot(at=now, data=visible).model_dump_json()
                frames[sub.hotline_ids] = frame
            sub.push(frame)

    def subscribers(self) -> Iterable[Subscriber]:
        for table in (self._desktops, self._wallboards):
            for subs in table.values():
                yield from subs

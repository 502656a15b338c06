"""Queue visits: an interaction's event log folded into the records every KPI is counted on.

A :class:`QueueVisit` is one entry of one interaction into one queue.  It is what
``shared/KPI.md`` calls an "interaction that entered the queue", so ``offered`` is simply
the number of visits.  Visits come from two places: :class:`VisitFold` /
:func:`fold_visits` build them from the routing engine's ``Log`` lines, and an importer may
build them directly from a CSV row (the record is plain frozen data, checked on creation).

Theory of operation (the fold)
------------------------------
Lines are read in log order; their ``at`` never goes backwards.  At any moment an
interaction has at most one *waiting* visit (in a queue, not yet answered) and at most one
*talking* visit (answered, talk not ended); earlier visits may still be in *wrap-up*
(the operator who transferred it is finishing their notes while the caller waits in the
next queue).

Rule 1. ``QUEUED`` opens a new visit in ``data["queue_id"]`` at ``at`` (the queue entry time
        that puts the visit in its reporting interval), keeping ``data["ewt"]``.  If another
        visit is still waiting, it ends there as ``TRANSFERRED`` (moved unanswered); if one
        is still talking, its talk ends there (an implied transfer).
Rule 2. ``ANSWERED`` ends the wait of the waiting visit: outcome ``ANSWERED``, answering
        operator ``data["operator_id"]``.  ``OFFERED`` and ``OFFER_TIMEOUT`` change nothing:
        a missed offer leaves the interaction waiting and its wait keeps running.
Rule 3. ``ABANDONED``, ``CALLBACK_REQUESTED`` and ``OVERFLOWED`` end the waiting visit with
        that outcome at ``at``; ``TRANSFERRED`` ends it as ``TRANSFERRED``.
Rule 4. ``HELD``/``RESUMED`` add to the hold time of the talking visit.  ``TRANSFERRED`` and
        ``WRAP_UP_STARTED`` end its talk (holds still open are closed there);
        ``COMPLETED`` ends the wrap-up of the visit whose operator is
        ``data["operator_id"]`` (the latest one when the operator is not named), or ends talk
        and wrap-up together (wrap-up 0) when it comes while talking.
Rule 5. A line that finds no visit to act on is not a queue event and is ignored: an
        ``ANSWERED`` of an outbound or direct call, an ``ABANDONED`` in the IVR, lines after a
        callback was accepted (the call-back is a separate contact attempt).
Rule 6. ``ARRIVED`` carries ``hotline_id``, ``channel``, ``source`` and ``topic`` for all
        visits of the interaction (an ``IVR`` line may set ``topic``; a ``QUEUED`` line may
        override ``hotline_id`` for its visit).  A ``csat`` score (1–5) on any line is the
        interaction's survey answer (the last one wins); it belongs to the last answered
        visit, else to the last visit, so every score is counted once.

How each outcome counts (``shared/KPI.md``)
-------------------------------------------
Every visit counts in ``offered``.  ``ANSWERED`` visits count in ``answered`` (and in
``answered_within``, ``asa`` and, once talk and wrap-up have ended, the handle-time means),
whether or not the operator then transferred them: the transfer opens a new visit in the
target queue, offered there too.  ``ABANDONED`` visits count in ``abandoned`` (and the short
and within-threshold splits).  ``CALLBACK`` and ``OVERFLOWED`` count in
``callback_requested`` and ``overflowed``, never in ``abandoned``; like every unanswered
visit they count against ``sl_offered``.  ``TRANSFERRED`` (left unanswered, not produced
by the routing engine today) and ``WAITING`` (still in the queue when the log ends) count
in ``offered`` only; filter on :attr:`QueueVisit.settled` to leave open visits out.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, assert_never

from hotline.core.commands import Log
from hotline.core.model import EventType

#: Survey scale of ``shared/KPI.md`` (``csat_avg`` is over scores 1–5).
CSAT_MIN = 1
CSAT_MAX = 5


class KpiError(ValueError):
    """The caller passed a bad record or threshold; the message names the field to fix."""


class KpiLogError(KpiError):
    """A ``Log`` line breaks the event-log conventions of this module (the producer's bug).

    The message names the interaction, the line's position in its log and the field.
    """


class VisitOutcome(enum.StrEnum):
    """How a visit's wait ended (the module docstring says how each counts)."""

    WAITING = "waiting"  # still in the queue when the log ends
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"  # the caller accepted a callback and left the live queue
    OVERFLOWED = "overflowed"  # the queue gave up (max wait): to a queue, voicemail, ...
    TRANSFERRED = "transferred"  # moved to another queue unanswered


#: Outcomes whose visit has an end time (``ended_at``) before any answer.
_UNANSWERED_ENDS = frozenset(
    {
        VisitOutcome.ABANDONED,
        VisitOutcome.CALLBACK,
        VisitOutcome.OVERFLOWED,
        VisitOutcome.TRANSFERRED,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class QueueVisit:
    """One entry of one interaction into one queue: the unit every KPI counts.

    Times are seconds on the log's clock.  ``arrived_at`` is the *queue entry* time (the
    ``QUEUED`` line), which puts the visit in its reporting interval.  ``answered_at`` is
    set for ``ANSWERED`` visits only.  ``ended_at`` is when the wait ended for unanswered
    outcomes (abandon, callback accepted, overflow, transfer) and when talk ended for
    answered ones (``None`` while still talking or waiting).  ``hold`` is the held time
    within talk; ``wrap_up`` is ``None`` until the operator's wrap-up has ended.
    ``transferred_to`` is the queue an answered visit was transferred to.  ``ewt`` is the
    estimated wait announced at queue entry; ``csat`` the interaction's survey score (1–5).

    Raises :class:`KpiError` when the fields contradict each other or the outcome.
    """

    interaction_id: int
    queue_id: int
    arrived_at: float
    outcome: VisitOutcome
    answered_at: float | None = None
    ended_at: float | None = None
    operator_id: int | None = None
    hotline_id: int | None = None
    channel: str | None = None
    source: str | None = None
    topic: str | None = None
    hold: float = 0.0
    wrap_up: float | None = None
    csat: float | None = None
    ewt: float | None = None
    transferred_to: int | None = None

    def __init__(
        self,
        *,
        interaction_id: int,
        queue_id: int,
        arrived_at: float,
        outcome: VisitOutcome,
        answered_at: float | None = None,
        ended_at: float | None = None,
        operator_id: int | None = None,
        hotline_id: int | None = None,
        channel: str | None = None,
        source: str | None = None,
        topic: str | None = None,
        hold: float = 0.0,
        wrap_up: float | None = None,
        csat: float | None = None,
        ewt: float | None = None,
        transferred_to: int | None = None,
    ) -> None:
        # Written out: the generated ``__init__`` of a frozen dataclass goes through
        # ``object.__setattr__`` per field, which made a visit cost more than folding it.
        _fill_visit(
            self,
            interaction_id,
            queue_id,
            arrived_at,
            outcome,
            answered_at,
            ended_at,
            operator_id,
            hotline_id,
            channel,
            source,
            topic,
            hold,
            wrap_up,
            csat,
            ewt,
            transferred_to,
        )

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise KpiError(
                f"QueueVisit(interaction {self.interaction_id}, queue {self.queue_id}): {problem}"
            )

    def _problem(self) -> str | None:
        if not math.isfinite(self.arrived_at):
            return f"arrived_at must be a finite number, got {self.arrived_at!r}"
        answered = self.outcome is _ANSWERED_OUTCOME
        if answered != (self.answered_at is not None):
            return f"answered_at must be set exactly when the outcome is answered ({self.outcome})"
        if self.answered_at is not None and not self.arrived_at <= self.answered_at:
            return f"answered_at {self.answered_at} is before arrived_at {self.arrived_at}"
        start = self.answered_at if self.answered_at is not None else self.arrived_at
        if self.ended_at is not None and not start <= self.ended_at:
            return f"ended_at {self.ended_at} is before {start} (queue entry or answer)"
        if self.outcome in _UNANSWERED_ENDS and self.ended_at is None:
            return f"ended_at is required for outcome {self.outcome}"
        if self.outcome is _WAITING and self.ended_at is not None:
            return "a waiting visit has no ended_at"
        if not answered and (self.hold != 0.0 or self.wrap_up is not None):
            return f"hold and wrap_up belong to answered visits, not to {self.outcome}"
        talk = self.talk
        if not 0.0 <= self.hold <= (math.inf if talk is None else talk):
            return f"hold {self.hold} must be between 0 and the talk time {talk}"
        if self.wrap_up is not None and not 0.0 <= self.wrap_up < math.inf:
            return f"wrap_up must be a finite number >= 0, got {self.wrap_up!r}"
        if self.wrap_up is not None and talk is None:
            return "wrap_up is known but talk has not ended (ended_at is missing)"
        if self.csat is not None and not CSAT_MIN <= self.csat <= CSAT_MAX:
            return f"csat must be between {CSAT_MIN} and {CSAT_MAX}, got {self.csat!r}"
        return None

    @property
    def wait(self) -> float | None:
        """Queue entry → answer, or → end for unanswered outcomes; ``None`` while waiting."""
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return None if end is None else end - self.arrived_at

    @property
    def talk(self) -> float | None:
        """Answer → end of talk, holds included; ``None`` unless answered and ended."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at

    @property
    def settled(self) -> bool:
        """The wait is over (answered, abandoned, ...): the visit's queue KPIs are final."""
        return self.outcome is not VisitOutcome.WAITING


# The slots' own setters, in field order: what ``object.__setattr__`` ends up calling.
(
    _set_interaction_id,
    _set_queue_id,
    _set_arrived_at,
    _set_outcome,
    _set_answered_at,
    _set_ended_at,
    _set_operator_id,
    _set_hotline_id,
    _set_channel,
    _set_source,
    _set_topic,
    _set_hold,
    _set_wrap_up,
    _set_csat,
    _set_ewt,
    _set_transferred_to,
) = (QueueVisit.__dict__[f.name].__set__ for f in fields(QueueVisit))
_new_visit = object.__new__


def _fill_visit(
    visit: QueueVisit,
    interaction_id: int,
    queue_id: int,
    arrived_at: float,
    outcome: VisitOutcome,
    answered_at: float | None,
    ended_at: float | None,
    operator_id: int | None,
    hotline_id: int | None,
    channel: str | None,
    source: str | None,
    topic: str | None,
    hold: float,
    wrap_up: float | None,
    csat: float | None,
    ewt: float | None,
    transferred_to: int | None,
    check: bool = True,
) -> QueueVisit:
    """Set every field of a new ``visit`` and, with ``check``, validate it.

    ``QueueVisit.__init__`` without the keyword parsing: :meth:`VisitFold.visits` makes one
    visit per queue entry this way, and skips the check for folds of trusted lines only.
    """
    _set_interaction_id(visit, interaction_id)
    _set_queue_id(visit, queue_id)
    _set_arrived_at(visit, arrived_at)
    _set_outcome(visit, outcome)
    _set_answered_at(visit, answered_at)
    _set_ended_at(visit, ended_at)
    _set_operator_id(visit, operator_id)
    _set_hotline_id(visit, hotline_id)
    _set_channel(visit, channel)
    _set_source(visit, source)
    _set_topic(visit, topic)
    _set_hold(visit, hold)
    _set_wrap_up(visit, wrap_up)
    _set_csat(visit, csat)
    _set_ewt(visit, ewt)
    _set_transferred_to(visit, transferred_to)
    if check:
        visit.__post_init__()
    return visit


@dataclass(slots=True)
class _Draft:
    """A visit under construction (mutable; :meth:`VisitFold.visits` freezes it)."""

    queue_id: int
    arrived_at: float
    hotline_id: int | None
    ewt: float | None
    outcome: VisitOutcome = VisitOutcome.WAITING
    answered_at: float | None = None
    operator_id: int | None = None
    ended_at: float | None = None
    hold: float = 0.0
    held_since: float | None = None
    wrap_up: float | None = None
    transferred_to: int | None = None

    @property
    def talking(self) -> bool:
        return self.outcome is _ANSWERED_OUTCOME and self.ended_at is None

    @property
    def wrapping_up(self) -> bool:
        return self.outcome is _ANSWERED_OUTCOME and self.wrap_up is None

    def end_talk(self, at: float) -> float:
        if self.held_since is not None:
            self.hold += at - self.held_since
            self.held_since = None
        if self.answered_at is not None:
            # Holds back to back over the whole talk can sum an ulp above it.
            self.hold = min(self.hold, at - self.answered_at)
        self.ended_at = at
        return at


#: line types whose handling looks at the open (waiting or talking) visit
_NEEDS_OPEN = frozenset(
    {
        EventType.QUEUED,
        EventType.ANSWERED,
        EventType.ABANDONED,
        EventType.CALLBACK_REQUESTED,
        EventType.OVERFLOWED,
        EventType.TRANSFERRED,
        EventType.HELD,
        EventType.RESUMED,
    }
)

# Enum members as module constants: ``EventType.X`` is a class attribute lookup through the
# enum metaclass, several times slower than a global, and add_trusted runs once a line.
_ARRIVED = EventType.ARRIVED
_QUEUED = EventType.QUEUED
_OFFERED = EventType.OFFERED
_OFFER_TIMEOUT = EventType.OFFER_TIMEOUT
_ANSWERED = EventType.ANSWERED
_WRAP_UP_STARTED = EventType.WRAP_UP_STARTED
_COMPLETED = EventType.COMPLETED
_WAITING = VisitOutcome.WAITING
_ANSWERED_OUTCOME = VisitOutcome.ANSWERED
#: the only key the routing engine puts on ``ARRIVED`` (labels come from the IVR and CRM)
_ENGINE_ARRIVED_KEYS = frozenset({"queue_id"})


class VisitFold:
    """Folds one interaction's ``Log`` lines, in log order, into its queue visits.

    Feed lines with :meth:`add`; :meth:`visits` gives the visits so far at any time (open
    ones as ``WAITING`` or without a talk end).  See the module docstring for the rules.
    """

    def __init__(self, interaction_id: int) -> None:
        self.interaction_id = interaction_id
        self._drafts: list[_Draft] = []
        self._lines = 0
        self._last_at = -math.inf
        self._hotline_id: int | None = None
        self._channel: str | None = None
        self._source: str | None = None
        self._topic: str | None = None
        self._csat: float | None = None
        self._trusted = True  # every line so far came through add_trusted's own path

    def add(self, line: Log) -> None:
        """Apply one line.  Raises :class:`KpiLogError` for a malformed line."""
        self._trusted = False
        where = _Where(self.interaction_id, self._lines, line)
        self._lines += 1
        if line.interaction_id != self.interaction_id:
            raise where.error(f"belongs to interaction {line.interaction_id}")
        if not math.isfinite(line.at) or line.at < self._last_at:
            raise where.error(
                f"at must be finite and not before the previous line's {self._last_at}"
            )
        self._last_at = at = line.at
        data = line.data
        if data and "csat" in data:
            csat = where.number(data, "csat")
            if csat is not None:
                if not CSAT_MIN <= csat <= CSAT_MAX:
                    raise where.error(f"data['csat'] must be between {CSAT_MIN} and {CSAT_MAX}")
                self._csat = csat
        kind = line.type
        # the open visits, looked up only for the lines that need them (the hot path of
        # folding a simulated day is OFFERED/ANSWERED/WRAP_UP_STARTED/COMPLETED lines)
        waiting = talking = None
        if kind in _NEEDS_OPEN:
            for d in reversed(self._drafts):
                if waiting is None and d.outcome is VisitOutcome.WAITING:
                    waiting = d
                if talking is None and d.talking:
                    talking = d
        match kind:
            case EventType.ARRIVED:
                self._hotline_id = where.integer(data, "hotline_id")
                self._channel = where.text(data, "channel")
                self._source = where.text(data, "source")
                self._topic = where.text(data, "topic")
            case EventType.IVR:
                self._topic = where.text(data, "topic") or self._topic
            case EventType.QUEUED:
                queue_id = where.required_integer(data, "queue_id")
                if waiting is not None:
                    waiting.outcome, waiting.ended_at = VisitOutcome.TRANSFERRED, at
                if talking is not None:
                    talking.end_talk(at)
                    talking.transferred_to = queue_id
                hotline_id = where.integer(data, "hotline_id")
                self._drafts.append(
                    _Draft(
                        queue_id=queue_id,
                        arrived_at=at,
                        hotline_id=hotline_id,
                        ewt=where.number(data, "ewt"),
                    )
                )
            case EventType.ANSWERED:
                if waiting is not None:
                    waiting.outcome, waiting.answered_at = VisitOutcome.ANSWERED, at
                    waiting.operator_id = where.integer(data, "operator_id")
            case EventType.ABANDONED | EventType.CALLBACK_REQUESTED | EventType.OVERFLOWED:
                if waiting is not None:
                    waiting.outcome, waiting.ended_at = _ENDING[line.type], at
            case EventType.TRANSFERRED:
                to_queue = where.integer(data, "to_queue")
                if waiting is not None:
                    waiting.outcome, waiting.ended_at = VisitOutcome.TRANSFERRED, at
                elif talking is not None:
                    talking.end_talk(at)
                    talking.transferred_to = to_queue
            case EventType.HELD:
                if talking is not None and talking.held_since is None:
                    talking.held_since = at
            case EventType.RESUMED:
                if talking is not None and talking.held_since is not None:
                    talking.hold += at - talking.held_since
                    talking.held_since = None
            case EventType.WRAP_UP_STARTED:
                draft = self._handled_by(where.integer(data, "operator_id"), talking_only=True)
                if draft is not None:
                    draft.end_talk(at)
            case EventType.COMPLETED:
                draft = self._handled_by(where.integer(data, "operator_id"), talking_only=False)
                if draft is not None:
                    talk_end = draft.ended_at if draft.ended_at is not None else draft.end_talk(at)
                    draft.wrap_up = at - talk_end
            case EventType.OFFERED | EventType.OFFER_TIMEOUT:
                pass  # Rule 2: the wait goes on
            case _:
                assert_never(line.type)

    def add_trusted(self, line: Log) -> None:
        """:meth:`add` without its checks, for lines the routing engine wrote in this process.

        The simulator's hot path: the engine writes int ids, finite times in order and
        no ``csat``, so checking each line again would only cost time.  Lines of the
        types engine logs are made of are applied here by the same rules as :meth:`add`
        (the same visits come out); any other line, and any line carrying ``csat`` or
        ``ARRIVED`` labels, goes through :meth:`add`, checks included.  Lines from outside
        the process (a database, an import) must go through :meth:`add`.
        """
        kind = line.type
        data = line.data
        if "csat" in data:
            self.add(line)
            return
        # Most interactions have one visit: the open one is then the last draft, checked
        # first; the scans of add() find the same draft, or none.
        drafts = self._drafts
        if kind is _OFFERED or kind is _OFFER_TIMEOUT:
            pass  # Rule 2: the wait goes on
        elif kind is _ARRIVED and data.keys() <= _ENGINE_ARRIVED_KEYS:
            self._hotline_id = self._channel = self._source = self._topic = None
        elif kind is _QUEUED:
            if drafts:
                self._close_open(line.at, data["queue_id"])
            ewt = data.get("ewt")
            drafts.append(
                _Draft(
                    data["queue_id"],  # type: ignore[arg-type]
                    line.at,
                    data.get("hotline_id"),  # type: ignore[arg-type]
                    None if ewt is None else float(ewt),  # type: ignore[arg-type]
                )
            )
        elif kind is _ANSWERED:
            last = drafts[-1] if drafts else None
            waiting = last if last is not None and last.outcome is _WAITING else self._waiting()
            if waiting is not None:
                waiting.outcome, waiting.answered_at = _ANSWERED_OUTCOME, line.at
                waiting.operator_id = data.get("operator_id")  # type: ignore[assignment]
        elif kind is _WRAP_UP_STARTED:
            operator_id: Any = data.get("operator_id")
            last = drafts[-1] if drafts else None
            if (
                last is not None
                and last.outcome is _ANSWERED_OUTCOME
                and last.ended_at is None
                and (operator_id is None or last.operator_id == operator_id)
            ):
                last.end_talk(line.at)
            else:
                draft = self._handled_by(operator_id, talking_only=True)
                if draft is not None:
                    draft.end_talk(line.at)
        elif kind is _COMPLETED:
            operator_id = data.get("operator_id")
            last = drafts[-1] if drafts else None
            if (
                last is not None
                and last.outcome is _ANSWERED_OUTCOME
                and last.wrap_up is None
                and (operator_id is None or last.operator_id == operator_id)
            ):
                draft = last
            else:
                draft = self._handled_by(operator_id, talking_only=False)
            if draft is not None:
                at = line.at
                talk_end = draft.ended_at if draft.ended_at is not None else draft.end_talk(at)
                draft.wrap_up = at - talk_end
        elif kind in _ENDING:
            last = drafts[-1] if drafts else None
            waiting = last if last is not None and last.outcome is _WAITING else self._waiting()
            if waiting is not None:
                waiting.outcome, waiting.ended_at = _ENDING[kind], line.at
        else:
            self.add(line)
            return
        self._lines += 1
        self._last_at = line.at

    def _waiting(self) -> _Draft | None:
        """The open waiting visit (Rule 1: at most one)."""
        for d in reversed(self._drafts):
            if d.outcome is _WAITING:
                return d
        return None

    def _close_open(self, at: float, queue_id: object) -> None:
        """Rule 1 for a trusted ``QUEUED`` line: the open visits end where the new one starts."""
        waiting = talking = None
        for d in reversed(self._drafts):
            if waiting is None and d.outcome is _WAITING:
                waiting = d
            if talking is None and d.talking:
                talking = d
        if waiting is not None:
            waiting.outcome, waiting.ended_at = VisitOutcome.TRANSFERRED, at
        if talking is not None:
            talking.end_talk(at)
            talking.transferred_to = queue_id  # type: ignore[assignment]

    def visits(self) -> tuple[QueueVisit, ...]:
        """The interaction's visits so far, in queue-entry order."""
        scored = None if self._csat is None else self._csat_owner()
        # Visits folded from engine lines only are not checked again: the engine wrote
        # them, and the fold's rules keep its drafts consistent (tests check both).
        check = not self._trusted
        iid, channel, source, topic = self.interaction_id, self._channel, self._source, self._topic
        return tuple(
            [
                _fill_visit(
                    _new_visit(QueueVisit),
                    iid,
                    d.queue_id,
                    d.arrived_at,
                    d.outcome,
                    d.answered_at,
                    d.ended_at,
                    d.operator_id,
                    d.hotline_id if d.hotline_id is not None else self._hotline_id,
                    channel,
                    source,
                    topic,
                    d.hold,
                    d.wrap_up,
                    self._csat if i == scored else None,
                    d.ewt,
                    d.transferred_to,
                    check,
                )
                for i, d in enumerate(self._drafts)
            ]
        )

    def _handled_by(self, operator_id: int | None, *, talking_only: bool) -> _Draft | None:
        """The latest visit the operator is talking on (or wrapping up, unless talking_only)."""
        for d in reversed(self._drafts):
            if (d.talking if talking_only else d.wrapping_up) and (
                operator_id is None or d.operator_id == operator_id
            ):
                return d
        return None

    def _csat_owner(self) -> int | None:
        if self._csat is None or not self._drafts:
            return None
        answered = [i for i, d in enumerate(self._drafts) if d.outcome is VisitOutcome.ANSWERED]
        return answered[-1] if answered else len(self._drafts) - 1


def fold_visits(lines: Iterable[Log]) -> list[QueueVisit]:
    """Queue visits of every interaction in ``lines``.

    Lines of different interactions may be interleaved; each interaction's lines must be in
    its log order.  Visits are grouped by interaction, in order of first appearance.
    Raises :class:`KpiLogError` for a malformed line.
    """
    folds: dict[int, VisitFold] = {}
    for line in lines:
        fold = folds.get(line.interaction_id)
        if fold is None:
            fold = folds[line.interaction_id] = VisitFold(line.interaction_id)
        fold.add(line)
    return [visit for fold in folds.values() for visit in fold.visits()]


_ENDING: Mapping[EventType, VisitOutcome] = {
    EventType.ABANDONED: VisitOutcome.ABANDONED,
    EventType.CALLBACK_REQUESTED: VisitOutcome.CALLBACK,
    EventType.OVERFLOWED: VisitOutcome.OVERFLOWED,
}


@dataclass(frozen=True, slots=True)
class _Where:
    """A line's position, for error messages and typed reads of its ``data``."""

    interaction_id: int
    index: int
    line: Log

    def error(self, problem: str) -> KpiLogError:
        return KpiLogError(
            f"interaction {self.interaction_id}, line {self.index} "
            f"({self.line.type} at {self.line.at}): {problem}"
        )

    def integer(self, data: Mapping[str, object], key: str) -> int | None:
        return None if data.get(key) is None else self.required_integer(data, key)

    def required_integer(self, data: Mapping[str, object], key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"data[{key!r}] must be an int id, got {value!r}")
        return value

    def number(self, data: Mapping[str, object], key: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise self.error(f"data[{key!r}] must be a finite number, got {value!r}")
        return float(value)

    def text(self, data: Mapping[str, object], key: str) -> str | None:
        """A label; ints (ids) are kept as their decimal string so labels group alike."""
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return str(value)  # plain str even for a StrEnum such as Channel
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.error(f"data[{key!r}] must be a string or an int id, got {value!r}")

"""The flow interpreter: one `FlowRun` per call, pure and clock-free.

Call control creates a run when a call arrives, calls `FlowRun.start`, then reports what
happens (a prompt finished, a digit, a wait estimate, the deadline passed...) and performs
the `FlowAction` list each method returns. ``now`` is Unix seconds on every call; the run
never reads a clock and answers `FlowRun.next_deadline` for the driver's one timer.

Theory of operation
-------------------
Rule 1 — the state is data. Everything a run remembers is the frozen `RunState` (current
node, `Phase`, deadline, menu tries, tags...), replaced on each transition, so a run can
be saved and rebuilt with `FlowRun.restore`. Nothing is a suspended coroutine.

Rule 2 — entering a node. Each node entered yields one `LogIvr`. ``play``, ``menu``,
``survey``, ``voicemail`` and ``callback_offer`` start a `Play` and wait; ``hours`` and
``set`` pass straight on; ``queue`` waits for an operator; ``transfer`` and ``hangup``
finish the run. Phases per node (``prompt_finished`` is `on_prompt_finished`)::

    play            PROMPT --prompt_finished--> next
    menu            PROMPT --prompt_finished--> COLLECT --digit--> option
                      wrong digit or timeout: invalid_prompt + prompt again (PROMPT),
                      after `retries` replays: on_failure, or Hangup(menu_failed)
    survey          PROMPT --> COLLECT --1..5 (SurveyAnswered) or timeout--> next
    callback_offer  PROMPT --> COLLECT --accept_digit (RequestCallback)--> next_accepted
                                       --other digit or timeout--> next_declined
    voicemail       PROMPT --> RECORD --#, max_seconds or recording_finished--> next, or
                      with ask_callback: CONFIRM --> CONFIRM_COLLECT --1--> next
    queue           QUEUED (music) <--> ANNOUNCE --answered--> CONNECTED
                      --operator_hung_up--> next_after_call, or Hangup(operator_hung_up)
                      --1 after a callback offer (RequestCallback)--> next_after_callback

Rule 3 — barge-in. While a prompt with ``barge_in`` plays, a digit the node acts on stops it
(`StopPlayback`) and counts as if pressed after it. A digit that skips a ``play`` prompt is
kept (type-ahead) and given to the next ``menu``, ``survey`` or ``callback_offer`` reached
without waiting, so a caller who knows the menu can press 1 during the greeting; other
``play`` nodes with barge-in on the way are skipped, and any other waiting node drops it.

Rule 4 — the loop guard. Validation refuses loops of play/set/hours nodes, but a menu whose
``on_failure`` leads back to it loops without input too. When `MAX_SILENT_ENTRIES` nodes
were entered since the caller last pressed a digit (or an operator answered), the run ends
with ``Hangup(flow_loop)``.

Rule 5 — out-of-turn reports are ignored. A report that does not fit the phase (a wait
estimate outside a queue, a digit during a voicemail prompt) returns no actions, and so
does every report after the run finished; a run never raises on a well-formed report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import assert_never

from hotline.core.flows.actions import (
    CallbackRequested,
    Duration,
    Enqueue,
    FlowAction,
    Hangup,
    HangupReason,
    LogIvr,
    Number,
    Play,
    Prompt,
    PromptItem,
    RequestCallback,
    RequestWaitEstimate,
    SetTag,
    StartMusic,
    StartVoicemail,
    StopPlayback,
    StopVoicemail,
    SurveyAnswered,
    Transfer,
)
from hotline.core.flows.flow import (
    CallbackOfferNode,
    Flow,
    FlowNode,
    HangupNode,
    HoursNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SetNode,
    SurveyNode,
    TransferNode,
    VoicemailNode,
    node_type,
)
from hotline.core.flows.state import (
    CALLBACK_DIGIT,
    CONFIRM_TIMEOUT_SECONDS,
    DIGITS,
    MAX_SILENT_ENTRIES,
    FlowRunError,
    Phase,
    RunState,
)
from hotline.core.hours import BusinessHours, is_open

__all__ = ["FlowRun"]

SURVEY_SCORES = frozenset("12345")
END_RECORDING_DIGIT = "#"


@dataclass(frozen=True, slots=True)
class _Goto:
    """Enter ``target`` next; ``digit`` led there; ``typeahead`` is kept (Rule 3)."""

    target: str
    digit: str | None = None
    typeahead: str | None = None


class FlowRun:
    """The IVR of one call (module docstring: Rules 1-5).

    ``hours`` are the hotline's business hours, for ``hours`` nodes; ``language`` is the
    language of the prompts until a ``set`` node changes it; ``caller`` is the number a
    voicemail callback goes to.
    """

    def __init__(self, flow: Flow, *, hours: BusinessHours, language: str, caller: str) -> None:
        self._flow = flow
        self._hours = hours
        self._state = RunState(flow.start, Phase.NEW, language, caller)

    @classmethod
    def restore(cls, flow: Flow, state: RunState, *, hours: BusinessHours) -> FlowRun:
        """A run that goes on from ``state`` (taken from `state` of an earlier run)."""
        run = cls(flow, hours=hours, language=state.language, caller=state.caller)
        run._state = state
        return run

    # --- what the run looks like -------------------------------------------------------------

    @property
    def state(self) -> RunState:
        """The live state (Rule 1): store it, and `restore` a run from it."""
        return self._state

    @property
    def finished(self) -> bool:
        """Whether the run is over (hung up, transferred, or the caller left)."""
        return self._state.phase is Phase.DONE

    @property
    def node(self) -> str:
        """The id of the current node (the start node before `start`)."""
        return self._state.node

    @property
    def phase(self) -> Phase:
        """Where the run is within its node (`Phase.DONE` once finished)."""
        return self._state.phase

    @property
    def tags(self) -> dict[str, str]:
        """Tags set so far (a copy): ``topic``, ``source``, ``language``."""
        return dict(self._state.tags)

    @property
    def language(self) -> str:
        """The language prompts are played in now."""
        return self._state.language

    def next_deadline(self) -> float | None:
        """When `on_timer` must be called next, or ``None`` when waiting for a report."""
        return self._state.deadline

    # --- reports -----------------------------------------------------------------------------

    def start(self, now: float) -> list[FlowAction]:
        """Enter the start node."""
        if self._state.phase is not Phase.NEW:
            raise FlowRunError(f"start() called twice (run is at node {self.node!r})")
        out: list[FlowAction] = []
        self._run(_Goto(self._flow.start), now, out)
        return out

    def on_prompt_finished(self, now: float) -> list[FlowAction]:
        """The last `Play` finished by itself."""
        out: list[FlowAction] = []
        node, phase = self._current(), self._state.phase
        if phase is Phase.PROMPT:
            match node:
                case PlayNode():
                    self._run(_Goto(node.next), now, out)
                case MenuNode() | SurveyNode() | CallbackOfferNode():
                    self._state = replace(
                        self._state, phase=Phase.COLLECT, deadline=now + node.timeout
                    )
                case VoicemailNode():
                    out.append(StartVoicemail(node.max_seconds))
                    self._state = replace(
                        self._state, phase=Phase.RECORD, deadline=now + node.max_seconds
                    )
        elif phase is Phase.CONFIRM:
            self._state = replace(
                self._state, phase=Phase.CONFIRM_COLLECT, deadline=now + CONFIRM_TIMEOUT_SECONDS
            )
        elif phase is Phase.ANNOUNCE and isinstance(node, QueueNode):
            out.append(StartMusic(node.music))
            self._state = replace(self._state, phase=Phase.QUEUED)
        return out

    def on_digit(self, digit: str, now: float) -> list[FlowAction]:
        """The caller pressed ``digit`` (one of `DIGITS`)."""
        if not isinstance(digit, str) or digit not in DIGITS:
            raise FlowRunError(f"digit must be one of 0-9 * #, got {digit!r}")
        out: list[FlowAction] = []
        phase = self._state.phase
        if phase in (Phase.NEW, Phase.DONE):
            return out
        self._state = replace(self._state, silent_entries=0)
        self._run(self._digit(self._current(), phase, digit, out), now, out)
        return out

    def on_wait_estimate(
        self, ewt_seconds: float | None, position: int | None, offer_callback: bool, now: float
    ) -> list[FlowAction]:
        """Routing's estimate for the waiting caller (``AnnounceWait``, or the answer to
        `RequestWaitEstimate`). An unknown EWT may come as ``None`` or negative; a position
        below 1 or ``None`` is not announced."""
        node, phase = self._current(), self._state.phase
        if phase not in (Phase.QUEUED, Phase.ANNOUNCE) or not isinstance(node, QueueNode):
            return []
        items: list[PromptItem] = []
        if ewt_seconds is not None and math.isfinite(ewt_seconds) and ewt_seconds >= 0:
            # Rounded up: an announcement never promises a shorter wait than estimated.
            items += [Prompt("ewt_intro"), Duration(math.ceil(ewt_seconds))]
        if position is not None and position >= 1:
            items += [Prompt("position_intro"), Number(position)]
        offer = offer_callback and node.callback_offer
        if offer:
            items.append(Prompt("callback_offer"))
        self._state = replace(self._state, callback_open=offer)
        if not items:
            return []
        self._state = replace(self._state, phase=Phase.ANNOUNCE)
        return [Play(tuple(items), offer, self._state.language)]

    def on_recording_finished(self, now: float) -> list[FlowAction]:
        """Call control ended the voicemail recording (its own limit, or a media event)."""
        node = self._current()
        out: list[FlowAction] = []
        if self._state.phase is Phase.RECORD and isinstance(node, VoicemailNode):
            self._run(self._after_recording(node, out), now, out)
        return out

    def on_answered(self, now: float) -> list[FlowAction]:
        """An operator answered the queued call: music and announcements stop; the run
        waits for `on_operator_hung_up`."""
        if self._state.phase not in (Phase.QUEUED, Phase.ANNOUNCE):
            return []
        self._state = replace(
            self._state, phase=Phase.CONNECTED, deadline=None, callback_open=False, silent_entries=0
        )
        return [StopPlayback()]

    def on_operator_hung_up(self, now: float) -> list[FlowAction]:
        """The operator hung up and the caller is still on: ``next_after_call`` (a
        survey, typically), or hang up."""
        node = self._current()
        out: list[FlowAction] = []
        if self._state.phase is not Phase.CONNECTED or not isinstance(node, QueueNode):
            return out
        if node.next_after_call is None:
            self._hang_up(HangupReason.OPERATOR_HUNG_UP, out)
        else:
            self._run(_Goto(node.next_after_call), now, out)
        return out

    def on_caller_hung_up(self, now: float) -> list[FlowAction]:
        """The caller left: the run finishes. A recording in progress is stopped (and kept),
        and a `LogIvr` says at which node the caller left."""
        phase = self._state.phase
        out: list[FlowAction] = []
        if phase is Phase.DONE:
            return out
        if phase is not Phase.NEW:
            if phase is Phase.RECORD:
                out.append(StopVoicemail())
            data = {"node": self.node, "type": node_type(self._current())}
            out.append(LogIvr(self.node, {**data, "event": "caller_hung_up"}))
        self._state = replace(self._state, phase=Phase.DONE, deadline=None)
        return out

    def on_timer(self, now: float) -> list[FlowAction]:
        """The deadline of `next_deadline` passed (early calls do nothing)."""
        deadline = self._state.deadline
        out: list[FlowAction] = []
        if deadline is None or now < deadline:
            return out
        self._state = replace(self._state, deadline=None)
        node, phase = self._current(), self._state.phase
        step: _Goto | None = None
        match node:
            case MenuNode() if phase is Phase.COLLECT:
                step = self._menu_retry(node, out)
            case SurveyNode() if phase is Phase.COLLECT:
                step = _Goto(node.next)
            case CallbackOfferNode() if phase is Phase.COLLECT:
                step = _Goto(node.next_declined)
            case VoicemailNode() if phase is Phase.RECORD:
                out.append(StopVoicemail())
                step = self._after_recording(node, out)
            case VoicemailNode() if phase is Phase.CONFIRM_COLLECT:
                step = _Goto(node.next)
            case QueueNode() if phase in (Phase.QUEUED, Phase.ANNOUNCE):
                if node.announce_every is not None:
                    out.append(RequestWaitEstimate())
                    self._state = replace(self._state, deadline=now + node.announce_every)
        self._run(step, now, out)
        return out

    # --- transitions ---------------------------------------------------------------------

    def _current(self) -> FlowNode:
        node = self._flow.nodes.get(self._state.node)
        if node is None:
            raise FlowRunError(f"node {self._state.node!r} is not in the flow: was it validated?")
        return node

    def _hang_up(self, reason: HangupReason, out: list[FlowAction]) -> None:
        out.append(Hangup(reason))
        self._state = replace(self._state, phase=Phase.DONE, deadline=None)

    def _play(self, node: FlowNode, prompts: tuple[str, ...], barge_in: bool) -> Play:
        self._state = replace(self._state, node=node.id, phase=Phase.PROMPT, deadline=None)
        return Play(tuple(Prompt(name) for name in prompts), barge_in, self._state.language)

    def _run(self, step: _Goto | None, now: float, out: list[FlowAction]) -> None:
        """Enter nodes until one waits (Rule 2), minding the loop guard (Rule 4)."""
        while step is not None and self._state.phase is not Phase.DONE:
            if self._state.silent_entries >= MAX_SILENT_ENTRIES:
                self._hang_up(HangupReason.FLOW_LOOP, out)
                return
            node = self._flow.nodes.get(step.target)
            if node is None:
                raise FlowRunError(f"node {step.target!r} is not in the flow: was it validated?")
            self._state = replace(
                self._state,
                node=node.id,
                phase=Phase.PROMPT,
                deadline=None,
                tries=0,
                callback_open=False,
                silent_entries=self._state.silent_entries + 1,
            )
            step = self._enter(node, step, now, out)

    def _enter(
        self, node: FlowNode, step: _Goto, now: float, out: list[FlowAction]
    ) -> _Goto | None:
        data: dict[str, object] = {"node": node.id, "type": node_type(node)}
        if step.digit is not None:
            data["digit"] = step.digit
        log = LogIvr(node.id, data)
        typeahead = step.typeahead
        match node:
            case PlayNode():
                out.append(log)
                if typeahead is not None and node.barge_in:
                    return _Goto(node.next, typeahead=typeahead)
                out.append(self._play(node, (node.prompt,), node.barge_in))
            case MenuNode():
                out.append(log)
                if typeahead is not None:
                    return self._menu_choice(node, typeahead, out)
                out.append(self._play(node, (node.prompt,), node.barge_in))
            case SurveyNode():
                out.append(log)
                if typeahead in SURVEY_SCORES:
                    return self._survey_answer(node, typeahead, out)
                out.append(self._play(node, (node.prompt,), node.barge_in))
            case CallbackOfferNode():
                out.append(log)
                if typeahead is not None:
                    return self._offer_answer(node, typeahead, out)
                out.append(self._play(node, (node.prompt,), node.barge_in))
            case VoicemailNode():
                out.append(log)
                out.append(self._play(node, (node.prompt,), False))
            case HoursNode():
                branch, target = self._branch(node, now)
                out.append(LogIvr(node.id, {**data, "branch": branch}))
                return _Goto(target, typeahead=typeahead)
            case SetNode():
                out.append(log)
                tags = dict(self._state.tags)
                for key, value in (
                    ("topic", node.topic),
                    ("source", node.source),
                    ("language", node.language),
                ):
                    if value is not None:
                        out.append(SetTag(key, value))
                        tags[key] = value
                language = node.language or self._state.language
                self._state = replace(self._state, tags=tuple(tags.items()), language=language)
                return _Goto(node.next, typeahead=typeahead)
            case QueueNode():
                out += [log, Enqueue(node.queue), StartMusic(node.music)]
                every = node.announce_every
                self._state = replace(
                    self._state, phase=Phase.QUEUED, deadline=None if every is None else now + every
                )
            case TransferNode():
                out += [log, Transfer(node.kind, node.value)]
                self._state = replace(self._state, phase=Phase.DONE)
            case HangupNode():
                out.append(log)
                self._hang_up(HangupReason.FLOW, out)
            case _:
                assert_never(node)
        return None

    def _branch(self, node: HoursNode, now: float) -> tuple[str, str]:
        """``(branch, target)``: open; else holiday when today (local) is one; else closed.

        A holiday's overnight tail from the day before still counts as open (hours Rule 3).
        """
        at = datetime.fromtimestamp(now, UTC)
        if is_open(self._hours, at):
            return "open", node.open
        if at.astimezone(self._hours.zone).date() in self._hours.holidays:
            return "holiday", node.holiday or node.closed
        return "closed", node.closed

    def _digit(
        self, node: FlowNode, phase: Phase, digit: str, out: list[FlowAction]
    ) -> _Goto | None:
        """Act on a digit in ``phase`` of ``node`` (Rules 2 and 3)."""
        prompt = phase is Phase.PROMPT
        match node:
            case PlayNode() if prompt and node.barge_in:
                out.append(StopPlayback())
                return _Goto(node.next, typeahead=digit)
            case MenuNode() if phase is Phase.COLLECT or (prompt and node.barge_in):
                if prompt:
                    out.append(StopPlayback())
                return self._menu_choice(node, digit, out)
            case SurveyNode() if digit in SURVEY_SCORES and (
                phase is Phase.COLLECT or (prompt and node.barge_in)
            ):
                if prompt:
                    out.append(StopPlayback())
                return self._survey_answer(node, digit, out)
            case CallbackOfferNode() if phase is Phase.COLLECT or (prompt and node.barge_in):
                if prompt:
                    out.append(StopPlayback())
                return self._offer_answer(node, digit, out)
            case VoicemailNode() if phase is Phase.RECORD and digit == END_RECORDING_DIGIT:
                out.append(StopVoicemail())
                return self._after_recording(node, out)
            case VoicemailNode() if phase in (Phase.CONFIRM, Phase.CONFIRM_COLLECT):
                if phase is Phase.CONFIRM:
                    out.append(StopPlayback())
                if digit == CALLBACK_DIGIT:
                    out.append(CallbackRequested(self._state.caller))
                return _Goto(node.next, digit=digit)
            case QueueNode() if self._state.callback_open and digit == CALLBACK_DIGIT:
                if node.next_after_callback is None:  # refused by validation; be safe
                    return None
                out += [StopPlayback(), RequestCallback(node.queue)]
                return _Goto(node.next_after_callback, digit=digit)
        return None

    def _menu_choice(self, node: MenuNode, digit: str, out: list[FlowAction]) -> _Goto | None:
        target = node.options.get(digit)
        return _Goto(target, digit=digit) if target is not None else self._menu_retry(node, out)

    def _menu_retry(self, node: MenuNode, out: list[FlowAction]) -> _Goto | None:
        """A wrong digit or silence: replay, or give up after ``retries`` replays."""
        tries = self._state.tries + 1
        if tries > node.retries:
            if node.on_failure is not None:
                return _Goto(node.on_failure)
            self._hang_up(HangupReason.MENU_FAILED, out)
            return None
        prompts = (
            (node.prompt,) if node.invalid_prompt is None else (node.invalid_prompt, node.prompt)
        )
        out.append(self._play(node, prompts, node.barge_in))
        self._state = replace(self._state, tries=tries)
        return None

    def _survey_answer(self, node: SurveyNode, digit: str, out: list[FlowAction]) -> _Goto:
        out.append(SurveyAnswered(int(digit)))
        return _Goto(node.next, digit=digit)

    def _offer_answer(self, node: CallbackOfferNode, digit: str, out: list[FlowAction]) -> _Goto:
        if digit == node.accept_digit:
            out.append(RequestCallback(node.queue))
            return _Goto(node.next_accepted, digit=digit)
        return _Goto(node.next_declined, digit=digit)

    def _after_recording(self, node: VoicemailNode, out: list[FlowAction]) -> _Goto | None:
        if not node.ask_callback:
            return _Goto(node.next)
        out.append(self._play(node, ("callback_confirm",), True))
        self._state = replace(self._state, phase=Phase.CONFIRM)
        return None

"""Graph checks of a flow document (pass 2 of `validate_flow`), on the raw document.

They run even when the shape checks of pass 1 found faults elsewhere, so one round of
editing fixes everything: the start node exists; every ``next``/option/branch target
exists; every node is reachable from the start; every prompt and queue exists, including
the standard prompts the interpreter plays itself (``ewt_intro``, ``position_intro``,
``callback_offer``, ``callback_confirm``); a ``callback_offer`` node knows its queue; and no
cycle is made only of ``play``/``set``/``hours`` nodes, which would loop without ever
waiting for the caller. Values are read leniently (a key of the wrong type is skipped),
and a value that pass 1 already faulted is not reported again; a node whose shape is
broken still counts its links for reachability, so one fault does not orphan the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hotline.core.flows.errors import FlowProblem
from hotline.core.flows.flow import STANDARD_PROMPTS
from hotline.core.flows.schema import NODE_MODELS

__all__ = ["GraphChecker"]

# Keys holding a node id, per node type (menu options are handled on their own).
_REFERENCES: dict[str, tuple[str, ...]] = {
    "play": ("next",),
    "menu": ("on_failure",),
    "hours": ("open", "closed", "holiday"),
    "set": ("next",),
    "queue": ("next_after_call", "next_after_callback"),
    "voicemail": ("next",),
    "survey": ("next",),
    "transfer": (),
    "callback_offer": ("next_accepted", "next_declined"),
    "hangup": (),
}
_ANY_REFERENCE = tuple(sorted({key for keys in _REFERENCES.values() for key in keys}))
_PROMPTS: dict[str, tuple[str, ...]] = {
    "play": ("prompt",),
    "menu": ("prompt", "invalid_prompt"),
    "voicemail": ("prompt",),
    "survey": ("prompt",),
    "callback_offer": ("prompt",),
}
_SILENT_TYPES = frozenset({"play", "set", "hours"})  # never wait for the caller

_T = TypeVar("_T")


class GraphChecker:
    """Graph checks on the raw document, lenient about values pass 1 already faulted."""

    def __init__(
        self,
        document: Mapping[Any, Any],
        faulted: set[str],
        prompt_exists: Callable[[str], bool],
        queue_exists: Callable[[int], bool],
    ) -> None:
        nodes = document.get("nodes")
        self.nodes_ok = isinstance(nodes, Mapping)
        self.nodes: Mapping[Any, Any] = nodes if isinstance(nodes, Mapping) else {}
        self.start = document.get("start")
        self.faulted = faulted
        self.prompt_exists = _once(prompt_exists)
        self.queue_exists = _once(queue_exists)
        self.problems: list[FlowProblem] = []

    def run(self) -> list[FlowProblem]:
        start_faulted = "start" in self.faulted
        if (
            self.nodes_ok
            and isinstance(self.start, str)
            and not start_faulted
            and (self.start not in self.nodes)
        ):
            self._problem("start", None, f"start node {self.start!r} is not a node")
        edges: dict[str, list[str]] = {}
        for node_id, raw in self.nodes.items():
            if isinstance(node_id, str) and isinstance(raw, Mapping):
                edges[node_id] = self._check_node(node_id, raw)
        if isinstance(self.start, str) and self.start in edges:
            reached = _reachable(edges, [self.start])
            for node_id in edges:
                if node_id not in reached:
                    self._problem(
                        f"nodes.{node_id}",
                        node_id,
                        f"is unreachable from start {self.start!r}: link it or remove it",
                    )
        self._check_silent_cycles(edges)
        return self.problems

    def _problem(self, path: str, node: str | None, message: str) -> None:
        self.problems.append(FlowProblem(path, node, message))

    def _check_node(self, node_id: str, raw: Mapping[Any, Any]) -> list[str]:
        """Report this node's faults; return the ids it leads to (existing ones only)."""
        raw_kind = raw.get("type")
        kind = raw_kind if isinstance(raw_kind, str) and raw_kind in NODE_MODELS else None
        known = kind is not None
        keys = _REFERENCES[kind] if kind is not None else _ANY_REFERENCE
        targets = [(f"nodes.{node_id}.{key}", raw.get(key)) for key in keys]
        options = raw.get("options") if kind == "menu" else None
        if isinstance(options, Mapping):
            targets += [(f"nodes.{node_id}.options.{d}", t) for d, t in options.items()]
        leads_to: list[str] = []
        for path, target in targets:
            if not isinstance(target, str):
                continue
            if target in self.nodes:
                leads_to.append(target)
            elif known and path not in self.faulted:
                self._problem(path, node_id, f"{node_id} points to {target!r}, which is not a node")
        if kind is not None:
            self._check_resources(node_id, kind, raw)
        return leads_to

    def _check_resources(self, node_id: str, kind: str, raw: Mapping[Any, Any]) -> None:
        """Prompts and queues the node uses exist; a callback offer knows its queue."""
        at = f"nodes.{node_id}"
        prompts = [(f"{at}.{key}", raw.get(key)) for key in _PROMPTS.get(kind, ())]
        if kind == "queue":
            prompts.append((f"{at}.music", raw.get("music", "moh")))
            prompts += [(at, "ewt_intro"), (at, "position_intro")]
            if raw.get("callback_offer") is True:
                prompts.append((f"{at}.callback_offer", "callback_offer"))
            self._check_queue(f"{at}.queue", node_id, raw.get("queue"))
        if kind == "voicemail" and raw.get("ask_callback") is True:
            prompts.append((f"{at}.ask_callback", "callback_confirm"))
        if kind == "callback_offer":
            if raw.get("queue") is None:
                declined = self.nodes.get(raw.get("next_declined"))
                if not (isinstance(declined, Mapping) and declined.get("type") == "queue"):
                    self._problem(
                        f"{at}.queue",
                        node_id,
                        "is required unless next_declined is a queue node (the callback "
                        "must wait in some queue)",
                    )
            else:
                self._check_queue(f"{at}.queue", node_id, raw.get("queue"))
        target = raw.get("target")
        if kind == "transfer" and isinstance(target, Mapping) and target.get("kind") == "queue":
            value = target.get("value")
            if f"{at}.target" not in self.faulted and isinstance(value, str | int):
                self._check_queue(f"{at}.target.value", node_id, int(value))
        for path, name in prompts:
            if isinstance(name, str) and path not in self.faulted and not self.prompt_exists(name):
                standard = "the standard " if path == at or name in STANDARD_PROMPTS else ""
                self._problem(
                    path,
                    node_id,
                    f"uses {standard}prompt {name!r}, which this hotline does not have "
                    "(upload or generate it, or fix the name)",
                )

    def _check_queue(self, path: str, node_id: str, queue: object) -> None:
        if isinstance(queue, bool) or not isinstance(queue, int) or path in self.faulted:
            return
        if not self.queue_exists(queue):
            self._problem(path, node_id, f"queue {queue} does not exist")

    def _check_silent_cycles(self, edges: Mapping[str, list[str]]) -> None:
        """Report each loop of play/set/hours nodes (a strongly connected component)."""
        silent = {
            node_id: [t for t in targets if self._type(t) in _SILENT_TYPES]
            for node_id, targets in edges.items()
            if self._type(node_id) in _SILENT_TYPES
        }
        # O(n * edges) reachability: flows have at most MAX_NODES nodes, usually dozens.
        reach = {node_id: _reachable(silent, targets) for node_id, targets in silent.items()}
        seen: set[str] = set()
        for node_id in silent:
            if node_id in seen or node_id not in reach[node_id]:
                continue
            seen.update(other for other in reach[node_id] if node_id in reach[other])
            cycle = " -> ".join(_cycle_through(silent, node_id))
            self._problem(
                f"nodes.{node_id}",
                node_id,
                f"loops forever without waiting for the caller ({cycle}: only play, set and "
                "hours nodes); route the loop through a menu or another node that waits",
            )

    def _type(self, node_id: str) -> object:
        raw = self.nodes.get(node_id)
        return raw.get("type") if isinstance(raw, Mapping) else None


def _once(question: Callable[[_T], bool]) -> Callable[[_T], bool]:
    """``question`` asked at most once per argument."""
    answers: dict[_T, bool] = {}

    def ask(argument: _T) -> bool:
        if argument not in answers:
            answers[argument] = bool(question(argument))
        return answers[argument]

    return ask


def _cycle_through(edges: Mapping[str, list[str]], first: str) -> list[str]:
    """A shortest cycle ``[first, ..., first]`` along ``edges`` (one must exist)."""
    came_from: dict[str, str] = {}
    todo = deque([first])
    while todo:
        node = todo.popleft()
        for target in edges.get(node, ()):
            if target == first:
                path = [node]
                while path[-1] != first:
                    path.append(came_from[path[-1]])
                return [first, *reversed(path[:-1]), first]
            if target not in came_from:
                came_from[target] = node
                todo.append(target)
    raise AssertionError(f"no cycle through {first!r}")


def _reachable(edges: Mapping[str, list[str]], first: list[str]) -> set[str]:
    """Nodes reached from ``first`` (included) along ``edges``."""
    reached = set(first)
    todo = deque(first)
    while todo:
        for target in edges.get(todo.popleft(), ()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    return reached

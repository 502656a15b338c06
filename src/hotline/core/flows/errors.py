"""What is wrong with a flow document: `FlowProblem` and `FlowError`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FlowError", "FlowProblem"]


@dataclass(frozen=True, slots=True)
class FlowProblem:
    """One fault of a flow document.

    ``path`` is dotted from the document root (``nodes.menu.options.2``, ``start``, empty
    for the document itself); ``node`` is the node id it concerns, if any.
    """

    path: str
    node: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FlowError(ValueError):
    """A flow document is not valid; ``problems`` lists every fault found, in order."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[FlowError], tuple[list[FlowProblem]]]:
        return type(self), (self.problems,)  # picklable despite the custom __init__

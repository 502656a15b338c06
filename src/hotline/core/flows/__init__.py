"""IVR flows as data: the document schema, its validation, and the per-call interpreter.

* ``schema.py`` — the Pydantic models of a flow document and `flow_json_schema`.
* ``validate.py`` — `validate_flow`: every problem at once (`FlowError`), else a `Flow`;
  the shape is checked by the models, the graph by ``graph.py``.
* ``errors.py`` — `FlowProblem` and `FlowError`.
* ``flow.py`` — `Flow`, the validated frozen form.
* ``interpreter.py`` — `FlowRun`, one per call: reports in, `FlowAction` lists out.
* ``state.py`` — `RunState`, the live state of a run as plain data, and its `Phase`.
* ``actions.py`` — the closed catalogue of `FlowAction`.
* ``demo.py`` — the virtual secretary and shop flows.
"""

from hotline.core.flows.actions import FlowAction, HangupReason, TransferKind
from hotline.core.flows.errors import FlowError, FlowProblem
from hotline.core.flows.flow import STANDARD_PROMPTS, Flow, FlowNode
from hotline.core.flows.interpreter import FlowRun
from hotline.core.flows.schema import flow_json_schema
from hotline.core.flows.state import FlowRunError, Phase, RunState
from hotline.core.flows.validate import validate_flow

__all__ = [
    "STANDARD_PROMPTS",
    "Flow",
    "FlowAction",
    "FlowError",
    "FlowNode",
    "FlowProblem",
    "FlowRun",
    "FlowRunError",
    "HangupReason",
    "Phase",
    "RunState",
    "TransferKind",
    "flow_json_schema",
    "validate_flow",
]

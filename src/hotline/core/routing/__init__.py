"""The ACD: operator states, eligibility by skills, queue order, strategies, overflow, EWT.

Pure and clock-injected: :class:`~hotline.core.routing.engine.RoutingEngine` takes
events with ``now`` and returns commands; the same engine routes real calls and runs in
the simulator.
"""

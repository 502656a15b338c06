"""The simulator: the real routing core driven in virtual time by a synthetic workload.

* :mod:`hotline.sim.scenario`: the scenario YAML (queues, arrivals, handle times, patience,
  skills, operators), validated with the line of every error (:class:`ScenarioError`);
* :mod:`hotline.sim.workload`: arrival times (Poisson, hourly and weekly profiles);
* :mod:`hotline.sim.driver`: jumps from deadline to deadline through the routing engine and
  returns the KPI document printed by ``hotline simulate``.

Examples live in ``examples/scenarios/``.
"""

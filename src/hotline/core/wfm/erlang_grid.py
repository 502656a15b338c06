"""Erlang C staffing of a whole grid of requests at once (numpy), same answers as the scalar.

:func:`hotline.core.wfm.erlang.staffing` answers one request in a Python loop; a week of
15-minute intervals for 100 queues is 67,200 requests, and the interpreter's cost per
request dominates.  :func:`staffing_grid` takes broadcastable arrays and runs the *same*
arithmetic as the scalar Erlang C search, one numpy operation for all pending requests
per step, so each answer is the scalar's (``agents`` exact, probabilities to rounding).

Theory of operation
-------------------
Rule 1 (de-duplicate): an answer depends only on ``(A, AHT, target, T, cap, max ASA,
shrinkage)`` and a week of a queue repeats the same tuples (every quiet night is 0
calls), so distinct tuples are answered once and the answers scattered back.  Runs of
equal parameters in the order given are numbered (a queue's week is one run), requests
sorted by ``A`` alone, and neighbours with equal ``A`` and run merged: one sort of one
column, several times cheaper than ``np.unique(axis=0)`` over seven columns (which costs
more than the whole search); equal tuples that end up apart are answered twice, alike.
0 calls need 0 agents and are never searched.

Rule 2 (start like the scalar): each request starts at ``n₀ = max(⌊A⌋ + 1, ⌈A / cap⌉)``
(occupancy ``A/n`` falls with ``n``, so the cap is met from there on) with Erlang B
``B(n₀)`` from the recursion ``B(k) = A·B(k−1) / (k + A·B(k−1))`` started at ``B = 1``
``m = ⌈√((A − n₀)² + 100·A) − (A − n₀)⌉ + 1`` steps below ``n₀`` — the scalar's late
start, exact to ``e^{−49}`` (see ``erlang.py``, Rule 1), so thousands of Erlangs cost
``O(√A)`` steps, not ``O(A)``, and no logarithms are needed.  Requests need different
numbers of steps: sorted by that number, those still stepping are a prefix of the arrays
at every step (a slice, no mask), and each finishes at its own ``n₀``.

Rule 3 (search): for every pending request at its ``n``, ``C = n·B / ((n − A) + A·B)``,
``SL = (n − A)(1 − B) / ((n − A) + A·B) − C·expm1(−(n − A)·T/AHT)`` and ``ASA =
C·AHT / (n − A)`` (Rule 2 of ``erlang.py``: no cancellation); those meeting the target
(and the ASA bound) retire with their answer, the rest step ``n → n + 1`` (one Erlang B
step) until none remain.  A request still failing at the scalar's limit raises
:class:`StaffingError` as the scalar would.  The expressions are written in the scalar's
order of operations, so results agree to the last bit or two (``np.expm1`` vs
``math.expm1``).

Erlang A stays scalar (:func:`~hotline.core.wfm.erlang.staffing` with ``patience``): its
search bisects with a birth–death sum of per-request length, which does not vectorise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotline.core.wfm.erlang import MAX_TRAFFIC, StaffingError

__all__ = ["GridStaffing", "staffing_grid"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ArrayLike = float | npt.ArrayLike
#: an optional argument: ``None`` (or nan) where a request does not give it
OptionalArrayLike = ArrayLike | Sequence[float | None] | None

#: as in ``erlang.py``: a ratio within this relative distance of a whole number is it
_ROUNDING = 1e-9


@dataclass(frozen=True, slots=True)
class GridStaffing:
    """Per request (the broadcast shape of the inputs): the fewest ``agents``,
    ``scheduled_agents`` with shrinkage, and how ``agents`` perform.  0 calls: 0 agents,
    ``service_level`` 1, ``asa`` and ``p_wait`` 0, ``occupancy`` nan (the scalar's None)."""

    traffic_erlangs: FloatArray
    agents: IntArray
    scheduled_agents: IntArray
    service_level: FloatArray
    asa: FloatArray
    p_wait: FloatArray
    occupancy: FloatArray


def _where(name: str, shape: tuple[int, ...], flat: int) -> str:
    """``name`` with the index of element ``flat`` (``calls[3]``, ``aht[1, 2]``)."""
    if not shape:
        return name
    index = np.unravel_index(flat, shape)
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _request(name: str, own: tuple[int, ...], shape: tuple[int, ...], flat: int) -> str:
    """``name`` and the request ``flat`` of the broadcast ``shape``: ``calls[3]`` where the
    argument has that shape, else ``calls (request [3])``; a single value: ``calls``."""
    if not own:
        return name
    if own == shape:
        return _where(name, shape, flat)
    return f"{name} (request {_where('', shape, flat)})"


def _array(
    name: str,
    value: OptionalArrayLike,
    *,
    low: float,
    strict: bool = False,
    high: float | None = None,
    high_strict: bool = False,
    optional: bool = False,
) -> FloatArray:
    """``value`` as a float array in range, else :class:`StaffingError` naming the element.

    ``optional``: ``None`` and nan elements mean "not given" (nan in the result)."""
    if value is None:
        if optional:
            return np.array(np.nan)
        raise StaffingError(name, "must be given")
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf" and not (optional and raw.dtype == object):
        raise StaffingError(name, f"must be numbers (got dtype {raw.dtype})")
    try:
        array = np.asarray(raw, dtype=np.float64) if raw.dtype != object else _objects(raw)
    except (TypeError, ValueError) as exc:
        raise StaffingError(name, f"must be numbers ({exc})") from exc
    given = ~np.isnan(array) if optional else np.ones(array.shape, dtype=bool)
    low_ok = array > low if strict else array >= low
    if high is None:
        high_ok = np.ones(array.shape, dtype=bool)
    else:
        high_ok = array < high if high_strict else array <= high
    bad = given & ~(np.isfinite(array) & low_ok & high_ok)
    if not optional:
        bad |= np.isnan(array)
    if bad.any():
        flat = int(np.flatnonzero(bad)[0])
        got = array.reshape(-1)[flat]
        bounds = f"{'>' if strict else '≥'} {low:g}"
        if high is not None:
            bounds += f" and {'<' if high_strict else '≤'} {high:g}"
        raise StaffingError(
            _where(name, array.shape, flat), f"must be a finite number {bounds} (got {got:g})"
        )
    return array


def _objects(raw: npt.NDArray[np.object_]) -> FloatArray:
    """An object array of numbers and ``None`` (not given) as floats with nan."""
    out = np.empty(raw.shape, dtype=np.float64)
    for i, item in enumerate(raw.reshape(-1).tolist()):
        if item is None:
            out.reshape(-1)[i] = np.nan
        elif isinstance(item, bool) or not isinstance(item, int | float):
            raise TypeError(f"got {item!r}")
        else:
            out.reshape(-1)[i] = float(item)
    return out


def _ceil(x: FloatArray) -> FloatArray:
    """``⌈x⌉``, but a value within ``_ROUNDING`` of a whole number is that number."""
    nearest = np.round(x)
    near = np.abs(x - nearest) <= _ROUNDING * np.maximum(1.0, np.abs(x))
    return np.where(near, nearest, np.ceil(x))


def staffing_grid(
    calls: ArrayLike,
    interval: ArrayLike,
    aht: ArrayLike,
    target_sl: ArrayLike,
    answer_within: ArrayLike,
    *,
    max_occupancy: OptionalArrayLike = None,
    max_asa: OptionalArrayLike = None,
    shrinkage: OptionalArrayLike = None,
) -> GridStaffing:
    """Erlang C :func:`~hotline.core.wfm.erlang.staffing` of every request of a grid.

    Arguments broadcast against each other (numpy rules); the optional ones may hold nan
    (or ``None`` in a list) where a request has no cap / bound / shrinkage.  Answers are
    the scalar's for each element.  Raises :class:`StaffingError` naming the argument and
    element (``aht[3]``) for an out-of-range input or a request no staffing meets.
    """
    calls_ = _array("calls", calls, low=0.0)
    interval_ = _array("interval", interval, low=0.0, strict=True)
    aht_ = _array("aht", aht, low=0.0, strict=True)
    target_ = _array("target_sl", target_sl, low=0.0, high=1.0)
    within = _array("answer_within", answer_within, low=0.0)
    cap = _array("max_occupancy", max_occupancy, low=0.0, strict=True, high=1.0, optional=True)
    bound = _array("max_asa", max_asa, low=0.0, strict=True, optional=True)
    shrink = _array("shrinkage", shrinkage, low=0.0, high=1.0, high_strict=True, optional=True)
    try:
        shape = np.broadcast_shapes(
            calls_.shape, interval_.shape, aht_.shape, target_.shape, within.shape,
            cap.shape, bound.shape, shrink.shape,
        )  # fmt: skip
    except ValueError as exc:
        raise StaffingError("calls", f"arguments do not broadcast together ({exc})") from exc

    a = np.broadcast_to(calls_ * aht_ / interval_, shape).reshape(-1)  # the scalar's order
    busy = a != 0.0
    if (a > MAX_TRAFFIC).any():
        i = int(np.argmax(a > MAX_TRAFFIC))
        raise StaffingError(
            _request("calls", calls_.shape, shape, i),
            f"traffic of {a[i]:g} Erlangs is beyond {MAX_TRAFFIC:g}",
        )
    certain = busy & (np.broadcast_to(target_, shape).reshape(-1) == 1.0)
    if certain.any():
        i = int(np.argmax(certain))
        raise StaffingError(
            _request("target_sl", target_.shape, shape, i),
            "1 cannot be met with calls > 0: some caller always waits longer than "
            "answer_within (or gives up); use a target below 1",
        )
    # Rule 1: one search per distinct (A, AHT, target, T, cap, max ASA, shrinkage); cap 1
    # is no cap, shrinkage 0 none.  Sorted by A, the 0-call requests come first.
    params = [
        _flat(x, shape, fill)
        for x, fill in [
            (aht_, None),
            (target_, None),
            (within, None),
            (cap, 1.0),
            (bound, np.inf),
            (shrink, 0.0),
        ]
    ]
    order = np.argsort(a)
    rows, group = _distinct(a, order, params)
    inverse = np.empty(a.size, dtype=np.int64)
    inverse[order] = group
    quiet = int(np.searchsorted(rows[0], 0.0, side="right"))  # rows with 0 calls
    agents = np.zeros(rows[0].size, dtype=np.int64)
    p_wait, wait = np.zeros(rows[0].size), np.zeros(rows[0].size)
    sl, occ = np.ones(rows[0].size), np.full(rows[0].size, np.nan)
    found = _search(*(row[quiet:] for row in rows[:-1]))
    for out, value in zip((agents, p_wait, sl, wait, occ), found, strict=True):
        out[quiet:] = value
    # shrinkage 0 divides by 1: the agents again
    scheduled = _ceil(agents / (1.0 - rows[-1])).astype(np.int64)
    return GridStaffing(
        traffic_erlangs=a.reshape(shape),
        agents=agents[inverse].reshape(shape),
        scheduled_agents=scheduled[inverse].reshape(shape),
        service_level=sl[inverse].reshape(shape),
        asa=wait[inverse].reshape(shape),
        p_wait=p_wait[inverse].reshape(shape),
        occupancy=occ[inverse].reshape(shape),
    )


def _flat(x: FloatArray, shape: tuple[int, ...], fill: float | None) -> FloatArray:
    """``x`` broadcast to ``shape`` and flat, nan → ``fill``; a single value stays 0-d."""
    if fill is not None and np.isnan(x).any():
        x = np.where(np.isnan(x), fill, x)
    return np.broadcast_to(x, shape).reshape(-1) if x.ndim else x


def _distinct(
    a: FloatArray, order: IntArray, params: list[FloatArray]
) -> tuple[list[FloatArray], IntArray]:
    """Rule 1: ``(rows, group)``: row ``group[i]`` of ``[A] + params`` is request ``i``;
    requests in ``order`` (by A) merged with their neighbour where A and the parameters
    are equal.  The parameters are not sorted along: a run of requests with the same
    parameters (a queue's week) gets one number, and neighbours by A merge when A and
    that number agree."""
    size = a.size
    varying = [p for p in params if p.ndim]
    run = None
    if varying:  # number the runs of equal parameters, in the order given
        change = np.zeros(size, dtype=bool)
        for p in varying:
            change[1:] |= p[1:] != p[:-1]
        run = np.cumsum(change)[order]
    sorted_a = a[order]
    new = np.empty(size, dtype=bool)
    new[:1] = True
    np.not_equal(sorted_a[1:], sorted_a[:-1], out=new[1:])
    if run is not None:
        new[1:] |= run[1:] != run[:-1]
    first = order[new]  # one request standing for each row
    count = first.size
    rows = [sorted_a[new]] + [p[first] if p.ndim else np.full(count, p) for p in params]
    return rows, np.cumsum(new) - 1


def _search(
    a: FloatArray,
    aht: FloatArray,
    target: FloatArray,
    t: FloatArray,
    cap: FloatArray,
    max_wait: FloatArray,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Rules 2 and 3 for distinct requests with ``A > 0``: ``(agents, p_wait, SL, ASA,
    occupancy)``, each operation written as in ``erlang._staff_erlang_c``."""
    start = np.maximum(np.floor(a) + 1.0, _ceil(a / cap))
    # the scalar's limit: generous, square-root staffing lies within a few √A above A
    limit = np.floor(a / cap) + 1.0 + np.ceil(50.0 * np.sqrt(a)) + 100.0
    # Rule 2: B(start) by the late-started recursion, sorted by steps (longest first) so
    # that the requests still stepping are always a prefix
    d = a - start
    m = np.ceil(np.sqrt(d * d + 100.0 * a) - d) + 1.0
    first = np.maximum(0.0, start - m)
    steps = (start - first).astype(np.int64)
    order = np.argsort(-steps, kind="stable")
    a_sorted, k, steps_sorted = a[order], first[order], steps[order]
    b = np.ones(a.size)
    # step s advances the requests needing more than s steps: a prefix of the sorted arrays
    # (in place: the loop runs √(100·A) times for the largest A, each step a few µs)
    ab, den = np.empty(a.size), np.empty(a.size)
    add, multiply, divide = np.add, np.multiply, np.divide
    for count in _prefix_counts(steps_sorted):
        k_, b_, ab_, den_ = k[:count], b[:count], ab[:count], den[:count]
        add(k_, 1.0, out=k_)
        multiply(a_sorted[:count], b_, out=ab_)
        add(k_, ab_, out=den_)
        divide(ab_, den_, out=b_)
    b_start = np.empty(a.size)
    b_start[order] = b
    # Rule 3: step every pending request up until it meets its target
    size = a.size
    agents = np.zeros(size, dtype=np.int64)
    out_c, out_sl, out_wait, out_occ = (np.empty(size) for _ in range(4))
    idx = np.arange(size)
    n, b = start, b_start
    tau = t / aht
    while idx.size:
        a_p = a[idx]
        slack = n - a_p
        denominator = slack + a_p * b
        c = n * b / denominator
        sl = slack * (1.0 - b) / denominator - c * np.expm1(-slack * tau[idx])
        wait = c * aht[idx] / slack
        ok = (sl >= target[idx]) & (wait <= max_wait[idx])
        if ok.any():
            done = idx[ok]
            agents[done] = n[ok].astype(np.int64)
            out_c[done], out_sl[done], out_wait[done] = c[ok], sl[ok], wait[ok]
            out_occ[done] = a_p[ok] / n[ok]
            keep = ~ok
            idx, n, b, a_p = idx[keep], n[keep], b[keep], a_p[keep]
            sl, wait = sl[keep], wait[keep]
        stuck = n >= limit[idx]
        if stuck.any():
            j = int(np.argmax(stuck))
            name = "target_sl" if sl[j] < target[idx[j]] else "max_asa"
            raise StaffingError(name, f"not met with up to {int(n[j])} agents")
        n = n + 1.0
        ab = a_p * b
        b = ab / (n + ab)
    return agents, out_c, out_sl, out_wait, out_occ


def _prefix_counts(steps_sorted: IntArray) -> list[int]:
    """For steps ``s = 0, 1, …``: how many requests need more than ``s`` steps
    (``steps_sorted`` is descending)."""
    most = int(steps_sorted[0]) if steps_sorted.size else 0
    ascending = steps_sorted[::-1]
    counts: list[int] = (
        ascending.size - np.searchsorted(ascending, np.arange(most), side="right")
    ).tolist()
    return counts

"""Erlang C and Erlang A: service level, waiting, abandonment and staffing of one queue.

Pure and stdlib-only.  Times are in seconds; ``A = calls · AHT / interval`` is the offered
traffic in Erlangs; ``T`` is the service-level threshold (``answer_within``).  Definitions
follow ``KPI.md`` (Staffing): the service level is ``sl_offered``, answered within ``T``
over all offered, so an abandoned call counts against it.

Theory of operation
-------------------
Erlang C (M/M/N, nobody abandons).  Rule 1: the Erlang B recursion
``B(k) = A·B(k−1) / (k + A·B(k−1))``, ``B(0) = 1`` never overflows and loses no precision:
each step is a contraction.  It is also why we may *start late*: from the over-estimate
``B = 1`` at ``k0`` the error shrinks by at least ``k/A`` per step below ``A`` (the carried
load ``A·(1 − B(k))`` is at most ``k``), so ``√(100·A)`` steps below ``A`` damp it by
``e^{−49}``; for 3,000 Erlangs that is 550 steps instead of 3,000.  Rule 2: from ``B``,
``C = N·B / ((N − A) + A·B)`` and ``1 − C = (N − A)(1 − B) / ((N − A) + A·B)`` — sums of
positive terms, so neither cancels when ``N`` is just above ``A`` — and
``SL = (1 − C) + C·(1 − e^{−(N−A)·T/AHT})`` with ``expm1``, ``ASA = C·AHT / (N − A)``.

Erlang A (M/M/N+M: exponential patience with mean ``1/θ``; Mandelbaum & Zeltyn, "The
Palm/Erlang-A queue, with applications to call centers", 2007).  Rule 3: the number in
system is a birth–death chain (birth ``λ``, death ``min(k, N)·μ + max(k − N, 0)·θ``) whose
ratios ``π_k / π_{k−1}`` decrease in ``k``: we sum its weights outwards from the mode and
stop when a geometric bound puts the rest below ``2⁻⁶⁰`` of the total, so nothing is
computed that does not matter and nothing overflows.  Rule 4 (an arrival finding ``j ≥ 0``
callers queued ahead, all ``N`` agents busy): FCFS, so it is answered when the ``j + 1``
"moves" ahead of it are done — the number ahead drops at rate ``N·μ + i·θ`` while ``i`` are
ahead (a completion or one of them giving up), then a completion takes it.  Its time to
service ``S`` is a sum of exponentials with rates ``N·μ + i·θ``, ``i = 0..j``; it is
answered iff ``S`` comes before its own patience ``τ ~ Exp(θ)``, independent of ``S``:

* ``P(S < τ) = E[e^{−θS}] = Π (Nμ + iθ)/(Nμ + (i+1)θ) = c/(c + j + 1)`` with ``c = Nμ/θ``
  (the product telescopes);
* ``P(S ≤ T, S < τ) = ∫₀ᵀ f_S(s)·e^{−θs} ds = c/(c + j + 1) · P(S' ≤ T)``: tilting each
  exponential by ``e^{−θs}`` leaves an exponential of rate ``+θ``, so ``S'`` is the sum of
  exponentials with rates ``θ·(c + m)``, ``m = 1..j+1``;
* the Laplace transform of ``S'`` is ``Π (c + m)/(c + m + s/θ) = E[U^{s/θ}]`` for
  ``U ~ Beta(c + 1, j + 1)``, so ``e^{−θS'} ~ U`` and
  ``P(S' ≤ T) = P(U ≥ e^{−θT}) = 1 − I_x(c + 1, j + 1)`` with ``x = e^{−θT}``; for an
  integer second argument that is the upper tail ``P(X ≥ j + 1)`` of the negative binomial
  ``X`` with pmf ``Γ(c+1+b)/(Γ(c+1)·b!) · x^{c+1} (1 − x)^b``, whose terms follow from
  each other by a ratio.  We sum the tail from below (``1 − CDF``) while it is above ½ and
  from above (adding terms backwards) once it is not, so it never cancels;
* ``E[S·1{S < τ}] = −d/dθ' E[e^{−θ'S}] at θ' = θ = c/(c + j + 1) · Σ_{m=1}^{j+1} 1/(Nμ + mθ)``.

Summed over ``π`` (PASTA: arrivals see the stationary state): ``p_wait = P(k ≥ N)``,
``p_abandon = Σ π_{N+j}·(j+1)/(c+j+1)``, ``sl_offered = P(k < N) + Σ π_{N+j}·c/(c+j+1)·
P(X ≥ j+1)``, ``asa`` = mean wait of answered callers, ``occupancy = A·(1 − p_abandon)/N``.
As ``θ → 0`` these tend to Erlang C.  Probabilities above 1e-300 come out to about 1e-12
relative (tests: 1e-9 against 50-digit references).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = [
    "ErlangAResult",
    "StaffingError",
    "StaffingResult",
    "asa",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "service_level",
    "staffing",
    "traffic",
]

#: truncation of the birth–death and negative-binomial sums: the mass left out is below
#: this fraction of the mass kept (2⁻⁶⁰ ≈ 8.7e-19, under half an ulp of 1)
_NEGLIGIBLE = 2.0**-60
#: a ratio within this relative distance of a whole number counts as that number when
#: rounding up agents: 21 / (1 − 0.3) is 30, not the 30.000000000000004 of binary floats
_ROUNDING = 1e-9
#: beyond this the recursions take too long to be an answer anyone waits for
MAX_TRAFFIC = 1_000_000.0
#: below this a probability term is carried as its logarithm (exp(−644.7); 1e-308 is the
#: smallest normal double)
_SMALL = 1e-280


class StaffingError(ValueError):
    """An input that is out of range, or a request no number of agents can meet.

    ``parameter`` names the offending argument (as spelled in :func:`staffing`, which is
    also the CSV column); ``problem`` says what is wrong.  ``str()`` is ``"parameter:
    problem"``.
    """

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady state of M/M/N+M for one arrival rate, seen by an arriving caller.

    ``service_level`` is ``sl_offered`` (answered within ``T`` / offered), ``asa`` the mean
    wait of answered callers (``nan`` when nobody is answered: no agents), ``occupancy``
    the agents' busy fraction (``nan`` with no agents).
    """

    p_wait: float
    p_abandon: float
    service_level: float
    asa: float
    occupancy: float


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """The smallest staffing meeting a request, and how that staffing performs.

    ``agents`` are on the phones; ``scheduled_agents = ceil(agents / (1 − shrinkage))``.
    ``occupancy`` is ``None`` with no agents (0 calls): a ratio over 0 is null (KPI.md).
    ``p_abandon`` is ``None`` for Erlang C (no patience given).
    """

    traffic_erlangs: float
    agents: int
    scheduled_agents: int
    service_level: float
    asa: float
    p_wait: float
    occupancy: float | None
    p_abandon: float | None


#: the answer for 0 calls (frozen, so one object serves every quiet interval)
_NO_CALLS = StaffingResult(
    traffic_erlangs=0.0,
    agents=0,
    scheduled_agents=0,
    service_level=1.0,
    asa=0.0,
    p_wait=0.0,
    occupancy=None,
    p_abandon=None,
)
_NO_CALLS_ABANDONING = dataclasses.replace(_NO_CALLS, p_abandon=0.0)


# --- validation ---------------------------------------------------------------------------


def _number(name: str, value: float, *, low: float = 0.0, strict: bool = False) -> float:
    """``value`` as a finite float ≥ ``low`` (> ``low`` when ``strict``), else raise."""
    kind = value.__class__
    if (
        (kind is float or kind is int)
        and (value > low if strict else value >= low)
        and value != math.inf
    ):
        return float(value)  # the common case, kept cheap: staffing runs per interval
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise StaffingError(name, f"must be a number (got {value!r})")
    if math.isinf(value):
        raise StaffingError(name, f"must be finite (got {value!r})")
    if value < low or (strict and value == low):
        raise StaffingError(name, f"must be {'>' if strict else '≥'} {low:g} (got {value:g})")
    return float(value)  # a subclass of float or int


def _agents(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise StaffingError("n", f"must be a whole number ≥ 0 (got {n!r})")
    return n


def _ceil(x: float) -> int:
    """``ceil(x)``, but a value within ``_ROUNDING`` of a whole number is that number."""
    nearest = round(x)
    if abs(x - nearest) <= _ROUNDING * max(1.0, abs(x)):
        return int(nearest)
    return math.ceil(x)


# --- Erlang B and C -----------------------------------------------------------------------


def traffic(calls: float, interval: float, aht: float) -> float:
    """Offered traffic in Erlangs: ``calls · aht / interval`` (``aht``, ``interval`` in s)."""
    calls = _number("calls", calls)
    interval = _number("interval", interval, strict=True)
    aht = _number("aht", aht, strict=True)
    return calls * aht / interval


def _erlang_b(n: int, a: float) -> float:
    """Erlang B without validation (Rule 1: recursion, started late when that is exact)."""
    if a == 0.0:
        return 1.0 if n == 0 else 0.0
    # Steps needed below min(n, A) for the start error to fall under e^-49: m with
    # (m·(A − n) + m²/2) / A ≥ 50 (the sum of the per-step contractions 1 − k/A).
    d = a - n
    m = math.ceil(math.sqrt(d * d + 100.0 * a) - d) + 1
    k = max(0, n - m)
    b = 1.0
    while k < n:
        k += 1
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of ``n`` servers offered ``a`` Erlangs (M/M/n/n)."""
    return _erlang_b(_agents(n), _number("a", a))


def _erlang_c_from_b(n: int, a: float, b: float) -> tuple[float, float]:
    """``(C, 1 − C)`` for ``n > a`` from ``B(n, a)`` (Rule 2: no cancellation)."""
    slack = n - a
    denominator = slack + a * b
    return n * b / denominator, slack * (1.0 - b) / denominator


def erlang_c(n: int, a: float) -> float:
    """Probability that a call waits in M/M/n offered ``a`` Erlangs.

    1.0 when ``n ≤ a`` (the queue grows without bound; also ``n = a = 0``: a call finding
    no agent waits); 0.0 when ``a = 0`` and ``n ≥ 1``.
    """
    n, a = _agents(n), _number("a", a)
    if n <= a:
        return 1.0
    return _erlang_c_from_b(n, a, _erlang_b(n, a))[0]


def _erlang_c_sl(n: int, a: float, b: float, t_over_aht: float) -> tuple[float, float]:
    """``(C, SL)`` for ``n > a``: ``SL = (1 − C) + C·(1 − e^{−(n−a)·T/AHT})``."""
    c, not_c = _erlang_c_from_b(n, a, b)
    return c, not_c - c * math.expm1(-(n - a) * t_over_aht)


def service_level(n: int, a: float, aht: float, t: float) -> float:
    """Erlang C share of calls answered within ``t`` s: ``1 − C·e^{−(n−a)·t/aht}``.

    0.0 when ``n ≤ a`` and ``a > 0`` (waits grow without bound); 1.0 when ``a = 0``.
    """
    n, a = _agents(n), _number("a", a)
    aht, t = _number("aht", aht, strict=True), _number("t", t)
    if a == 0.0:
        return 1.0
    if n <= a:
        return 0.0
    return _erlang_c_sl(n, a, _erlang_b(n, a), t / aht)[1]


def asa(n: int, a: float, aht: float) -> float:
    """Erlang C average speed of answer in s: ``C·aht / (n − a)``; ``inf`` when ``n ≤ a``."""
    n, a, aht = _agents(n), _number("a", a), _number("aht", aht, strict=True)
    if n <= a:
        return math.inf
    return _erlang_c_from_b(n, a, _erlang_b(n, a))[0] * aht / (n - a)


def occupancy(n: int, a: float) -> float:
    """Erlang C agent occupancy ``a / n``: 0.0 when ``a = 0``, 1.0 when ``n ≤ a``."""
    n, a = _agents(n), _number("a", a)
    if a == 0.0:
        return 0.0
    return 1.0 if n <= a else a / n


# --- Erlang A -----------------------------------------------------------------------------


def _stationary(n: int, lam: float, mu: float, theta: float) -> tuple[int, list[float]]:
    """Rule 3: ``(lo, w)`` with ``w[i] ∝ π_{lo+i}``, 1.0 at the mode, tails truncated."""
    nmu = n * mu
    a = lam / mu
    mode = int(a) if a < n else n + int((lam - nmu) / theta)

    def up(k: int) -> float:  # π_k / π_{k−1}, decreasing in k
        return lam / (k * mu if k <= n else nmu + (k - n) * theta)

    total = 1.0
    right: list[float] = []
    w, k = 1.0, mode
    while True:
        k += 1
        w *= up(k)
        if w == 0.0:
            break
        right.append(w)
        total += w
        r = up(k + 1)  # < 1 beyond the mode: the rest is at most w·r/(1 − r)
        if w * r <= _NEGLIGIBLE * total * (1.0 - r):
            break
    left: list[float] = []
    w, k = 1.0, mode
    while k > 0:
        w /= up(k)
        k -= 1
        if w == 0.0:
            k += 1
            break
        left.append(w)
        total += w
        if k == 0:
            break
        q = 1.0 / up(k)  # ≤ 1 below the mode, decreasing further left
        if w * q <= _NEGLIGIBLE * total * (1.0 - q):
            break
    left.reverse()
    left.append(1.0)
    left.extend(right)
    return k, left


def _negative_binomial_tails(r: float, theta_t: float, first: int, last: int) -> list[float]:
    """``P(X ≥ J)`` for ``J = first..last`` (``first ≥ 1``), ``X ~ NB(r, x = e^{−θT})``.

    pmf ``p_b = Γ(r+b)/(Γ(r)·b!)·x^r·(1−x)^b``; ``p_{b+1}/p_b = (r+b)/(b+1)·(1−x)``
    decreases in ``b`` (``r > 1``).  See Rule 4 for which way each tail is summed.  The
    terms come from that ratio, never from ``lgamma`` differences, which lose digits when
    ``r`` is huge (long patience).  ``p_0 = x^r`` may underflow, so ``log p`` is carried
    while ``p`` is not representable.
    """
    count = last - first + 1
    if count <= 0:
        return []
    if theta_t == 0.0:  # T = 0: nobody who queues is answered within T
        return [0.0] * count
    tails = [0.0] * count
    one_minus_x = -math.expm1(-theta_t)
    p, log_p = math.exp(-r * theta_t), -r * theta_t  # log_p is the truth while p ≤ _SMALL

    def advance(b: int, p: float, log_p: float) -> tuple[float, float]:  # p_b → p_{b+1}
        step = (r + b) / (b + 1) * one_minus_x
        if p > _SMALL and p * step > _SMALL:
            return p * step, 0.0
        log_p = (math.log(p) if p > _SMALL else log_p) + math.log(step)
        return math.exp(log_p), log_p

    # From below: tail(J) = 1 − CDF(J − 1) while CDF ≤ ½.
    cdf = 0.0
    b = 0
    while b < last:
        cdf += p
        p, log_p = advance(b, p, log_p)
        b += 1
        if cdf > 0.5:
            break
        if b >= first:
            tails[b - first] = 1.0 - cdf
    else:
        return tails
    # From above: tail(J) = Σ_{b ≥ J} p_b, terms scaled by p_start, summed backwards.
    while b < first:
        p, log_p = advance(b, p, log_p)
        b += 1
    start = b
    log_scale = math.log(p) if p > _SMALL else log_p
    scaled: list[float] = []
    v, kept = 1.0, 0.0
    while True:
        scaled.append(v)
        kept += v
        ratio = (r + b) / (b + 1) * one_minus_x
        if b >= last and ratio < 1.0 and v * ratio <= _NEGLIGIBLE * kept * (1.0 - ratio):
            break
        v *= ratio
        b += 1
        if v == 0.0:  # underflow: the terms left are below 1e-308 of p_start
            break
    scale = math.exp(log_scale)
    acc = math.fsum(scaled[last - start + 1 :])
    for j in range(min(last, start + len(scaled) - 1), start - 1, -1):
        acc += scaled[j - start]
        tails[j - first] = acc * scale
    return tails


def erlang_a(n: int, lam: float, aht: float, patience_mean: float, t: float) -> ErlangAResult:
    """M/M/N+M (Erlang A): ``n`` agents, ``lam`` calls per second, mean handle ``aht`` s,
    exponential patience with mean ``patience_mean`` s, threshold ``t`` s.

    ``patience_mean = inf`` is Erlang C (then ``n ≤ A`` is unstable: ``p_wait`` 1,
    ``service_level`` 0, ``asa`` inf).  With ``lam = 0`` nobody waits (``service_level``
    1, ``asa`` 0).  See the module docstring (Rules 3 and 4) for the method.
    """
    n = _agents(n)
    lam = _number("lam", lam)
    aht = _number("aht", aht, strict=True)
    if isinstance(patience_mean, int | float) and patience_mean == math.inf:
        patience = math.inf
    else:
        patience = _number("patience_mean", patience_mean, strict=True)
    t = _number("t", t)
    a = lam * aht
    if lam == 0.0:
        return ErlangAResult(0.0, 0.0, 1.0, 0.0, 0.0 if n else math.nan)
    if n == 0:
        return ErlangAResult(1.0, 1.0, 0.0, math.nan, math.nan)
    if math.isinf(patience):
        if n <= a:
            return ErlangAResult(1.0, 0.0, 0.0, math.inf, 1.0)
        c, sl = _erlang_c_sl(n, a, _erlang_b(n, a), t / aht)
        return ErlangAResult(c, 0.0, sl, c * aht / (n - a), a / n)
    return _erlang_a(n, lam, 1.0 / aht, 1.0 / patience, t)


def _erlang_a(n: int, lam: float, mu: float, theta: float, t: float) -> ErlangAResult:
    """Rules 3 and 4 for ``n ≥ 1``, ``lam > 0`` and ``θ > 0``, without validation."""
    lo, w = _stationary(n, lam, mu, theta)
    nmu = n * mu
    c = nmu / theta
    total = math.fsum(w)
    first_queued = max(n - lo, 0)  # index in w of state n (or of the first queued state)
    answered_now = math.fsum(w[:first_queued])
    j_lo = lo + first_queued - n  # callers queued ahead at the first window state ≥ n
    j_hi = lo + len(w) - 1 - n
    tails = _negative_binomial_tails(c + 1.0, theta * t, j_lo + 1, j_hi + 1)
    # Σ_{m=1}^{j+1} 1/(Nμ + mθ): the mean time to service of a caller who is answered
    hazard_sum = math.fsum(1.0 / (nmu + m * theta) for m in range(1, j_lo + 1))
    waiting = answered_late = answered_within = abandoning = wait_time = 0.0
    for i in range(first_queued, len(w)):
        j = i - first_queued + j_lo
        weight = w[i]
        hazard_sum += 1.0 / (nmu + (j + 1) * theta)
        answered = weight * c / (c + j + 1)
        waiting += weight
        abandoning += weight * (j + 1) / (c + j + 1)
        answered_late += answered
        answered_within += answered * tails[j - j_lo]
        wait_time += answered * hazard_sum
    p_answered = (answered_now + answered_late) / total
    return ErlangAResult(
        p_wait=waiting / total,
        p_abandon=abandoning / total,
        service_level=(answered_now + answered_within) / total,
        asa=wait_time / (answered_now + answered_late),
        occupancy=lam / mu * p_answered / n,
    )


# --- staffing -----------------------------------------------------------------------------


def staffing(
    calls: float,
    interval: float,
    aht: float,
    target_sl: float,
    answer_within: float,
    *,
    patience: float | None = None,
    max_occupancy: float | None = None,
    max_asa: float | None = None,
    shrinkage: float | None = None,
) -> StaffingResult:
    """The fewest agents for ``calls`` per ``interval`` s with mean handle ``aht`` s such
    that at least ``target_sl`` of calls are answered within ``answer_within`` s — and,
    when given, occupancy ≤ ``max_occupancy`` and ASA ≤ ``max_asa`` s.

    Without ``patience`` the model is Erlang C and the answer the smallest ``N > A``; with
    ``patience`` (mean seconds a caller waits before hanging up) it is Erlang A and the
    smallest ``N`` (possibly ≤ ``A``) whose ``sl_offered`` meets the target.  Every
    condition improves with ``N``, so the smallest ``N`` meeting them all is found by
    stepping up from ``⌊A⌋ + 1`` (Erlang C, O(1) a step) or by bisection below the Erlang C
    answer (Erlang A).  ``scheduled_agents`` adds ``shrinkage`` (share of paid time off the
    phones).  0 calls need 0 agents.  Ratios within 1e-9 of a whole number count as that
    number when rounding up (``ceil(A / max_occupancy)``, ``ceil(N / (1 − shrinkage))``),
    so decimal inputs are not pushed up by binary noise.

    Raises :class:`StaffingError` naming the parameter for an out-of-range input or an
    impossible request (``target_sl`` 1 with calls: some caller always waits longer).
    """
    a = traffic(calls, interval, aht)
    target_sl = _number("target_sl", target_sl)
    if target_sl > 1.0:
        raise StaffingError("target_sl", f"must be a share between 0 and 1 (got {target_sl:g})")
    t = _number("answer_within", answer_within)
    if patience is not None:
        patience = _number("patience", patience, strict=True)
    if max_occupancy is not None:
        max_occupancy = _number("max_occupancy", max_occupancy, strict=True)
        if max_occupancy > 1.0:
            raise StaffingError("max_occupancy", f"must be at most 1 (got {max_occupancy:g})")
    if max_asa is not None:
        max_asa = _number("max_asa", max_asa, strict=True)
    if shrinkage is not None:
        shrinkage = _number("shrinkage", shrinkage)
        if shrinkage >= 1.0:
            raise StaffingError("shrinkage", f"must be below 1 (got {shrinkage:g})")
    if a == 0.0:
        return _NO_CALLS if patience is None else _NO_CALLS_ABANDONING
    if a > MAX_TRAFFIC:
        raise StaffingError("calls", f"traffic of {a:g} Erlangs is beyond {MAX_TRAFFIC:g}")
    if target_sl == 1.0:
        raise StaffingError(
            "target_sl",
            "1 cannot be met with calls > 0: some caller always waits longer than "
            "answer_within (or gives up); use a target below 1",
        )
    # Generous: the answers of square-root staffing lie within a few √A above A.
    limit = math.floor(a / (max_occupancy or 1.0)) + 1 + math.ceil(50.0 * math.sqrt(a)) + 100
    if patience is None:
        agents, p_wait, sl, wait, occ, p_abandon = _staff_erlang_c(
            a, aht, target_sl, t, max_occupancy, max_asa, limit
        )
    else:
        agents, p_wait, sl, wait, occ, p_abandon = _staff_erlang_a(
            a, calls / interval, aht, patience, target_sl, t, max_occupancy, max_asa, limit
        )
    return StaffingResult(
        traffic_erlangs=a,
        agents=agents,
        scheduled_agents=agents if not shrinkage else _ceil(agents / (1.0 - shrinkage)),
        service_level=sl,
        asa=wait,
        p_wait=p_wait,
        occupancy=occ,
        p_abandon=p_abandon,
    )


def _unreachable(
    limit: int, sl: float, target_sl: float, occ: float, max_occupancy: float | None
) -> StaffingError:
    name = "target_sl" if sl < target_sl else "max_asa"
    if max_occupancy is not None and occ > max_occupancy * (1.0 + _ROUNDING):
        name = "max_occupancy"
    return StaffingError(name, f"not met with up to {limit} agents")


def _staff_erlang_c(
    a: float,
    aht: float,
    target_sl: float,
    t: float,
    max_occupancy: float | None,
    max_asa: float | None,
    limit: int,
) -> tuple[int, float, float, float, float, float | None]:
    n = math.floor(a) + 1
    if max_occupancy is not None:  # occupancy a/n falls with n: jump to where it fits
        n = max(n, _ceil(a / max_occupancy))
    b = _erlang_b(n, a)
    t_over_aht = t / aht
    max_wait = math.inf if max_asa is None else max_asa
    expm1 = math.expm1
    while True:  # Rule 2, inlined: this loop is the hot path of a week of intervals
        slack = n - a
        denominator = slack + a * b
        c = n * b / denominator
        sl = slack * (1.0 - b) / denominator - c * expm1(-slack * t_over_aht)
        wait = c * aht / slack
        if sl >= target_sl and wait <= max_wait:
            return n, c, sl, wait, a / n, None
        if n >= limit:
            raise _unreachable(limit, sl, target_sl, a / n, None)
        n += 1
        ab = a * b
        b = ab / (n + ab)


def _staff_erlang_a(
    a: float,
    lam: float,
    aht: float,
    patience: float,
    target_sl: float,
    t: float,
    max_occupancy: float | None,
    max_asa: float | None,
    limit: int,
) -> tuple[int, float, float, float, float, float | None]:
    mu, theta = 1.0 / aht, 1.0 / patience
    occ_cap = math.inf if max_occupancy is None else max_occupancy * (1.0 + _ROUNDING)
    max_wait = math.inf if max_asa is None else max_asa
    known: dict[int, ErlangAResult] = {}

    def meets(n: int) -> bool:
        result = known.get(n)
        if result is None:
            result = known[n] = _erlang_a(n, lam, mu, theta, t)
        return (
            result.service_level >= target_sl
            and result.occupancy <= occ_cap
            and result.asa <= max_wait
        )

    # SL ≤ P(answered) ≤ N/A, so every N < target·A fails; the Erlang C answer is a good
    # guess (abandonment mostly lowers it).  Bisect between a failing and a passing N.
    fails = max(0, math.ceil(target_sl * a) - 1)
    holds = max(fails + 1, _staff_erlang_c(a, aht, target_sl, t, None, None, limit)[0])
    step = 1
    while not meets(holds):  # gallop up to a passing N
        if holds >= limit:
            r = known[holds]
            raise _unreachable(limit, r.service_level, target_sl, r.occupancy, max_occupancy)
        fails, holds, step = holds, min(holds + step, limit), step * 2
    while holds - fails > 1:
        middle = (holds + fails) // 2
        if meets(middle):
            holds = middle
        else:
            fails = middle
    r = known[holds]
    return holds, r.p_wait, r.service_level, r.asa, r.occupancy, r.p_abandon

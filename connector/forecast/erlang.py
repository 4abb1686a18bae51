"""Erlang C: how many agents a queue of calls needs to answer a share of them within a target time.

The model (A. K. Erlang, 1917; the M/M/N queue): calls arrive at random (Poisson) at a steady rate, their
handle times vary at random (exponential) around a mean, N agents answer them in turn and callers wait in
line until an agent is free — nobody hangs up. With λ calls per second and a mean handle time of h
seconds the offered traffic is A = λ·h erlangs (the agents kept busy on average), and for N > A agents:

    P(wait)       = Erlang C(N, A) = B·N / (N − A·(1 − B)),  B = Erlang B(N, A)
    service level = 1 − P(wait) · e^(−(N − A)·t / h)     (answered within t seconds)
    ASA           = P(wait) · h / (N − A)                (average speed of answer, seconds)
    occupancy     = A / N

Erlang B comes from its recurrence B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)), which stays exact where
the textbook form A^N/N! overflows (a few hundred agents). With N ≤ A the queue grows without end: every
call waits and the service level is 0.

Written here rather than taken from a package: the two on PyPI that compute it either need OR-Tools and
pandas for a ten-line formula (pyworkforce) or send the inputs to a web service (erlangccmath).

    >>> staffing = agents_needed(calls=100, period_seconds=1800, handle_seconds=180, answer_seconds=20)
    >>> staffing.agents, round(staffing.service_level, 4)
    (14, 0.8883)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_SERVICE_LEVEL = 0.80
"""The share of calls to answer within the target time when none is set (80 % in 20 s is the common goal)."""
DEFAULT_MAX_OCCUPANCY = 0.85
"""The busiest agents may be on average: above it, occupancy hides in longer handle times and burnout."""
MAX_AGENTS = 100_000


def traffic(calls: float, period_seconds: float, handle_seconds: float) -> float:
    """A = calls / period × mean handle time, in erlangs (the agents the calls keep busy on average)."""
    if period_seconds <= 0:
        raise ValueError("the period must be longer than 0 seconds")
    if calls < 0 or handle_seconds < 0:
        raise ValueError("calls and handle time cannot be negative")
    return calls * handle_seconds / period_seconds


def erlang_b(agents: int, erlangs: float) -> float:
    """The share of calls that would find every agent busy, were they turned away (Erlang B)."""
    blocked = 1.0
    for k in range(1, agents + 1):
        blocked = erlangs * blocked / (k + erlangs * blocked)
    return blocked


def wait_probability(agents: int, erlangs: float) -> float:
    """Erlang C: the share of calls that wait at all, B·N / (N − A·(1 − B)); 1 when N ≤ A."""
    if agents <= erlangs:
        return 1.0
    if erlangs == 0:
        return 0.0
    blocked = erlang_b(agents, erlangs)
    return blocked * agents / (agents - erlangs * (1 - blocked))


def service_level(agents: int, erlangs: float, handle_seconds: float, answer_seconds: float) -> float:
    """The share answered within `answer_seconds`: 1 − P(wait)·e^(−(N − A)·t / h); 0 when N ≤ A."""
    if agents <= erlangs:
        return 0.0
    if handle_seconds == 0:
        return 1.0
    waiting = wait_probability(agents, erlangs)
    return 1 - waiting * math.exp(-(agents - erlangs) * answer_seconds / handle_seconds)


def average_speed_of_answer(agents: int, erlangs: float, handle_seconds: float) -> float:
    """ASA = P(wait)·h / (N − A) seconds; infinite when N ≤ A."""
    if agents <= erlangs:
        return math.inf
    return wait_probability(agents, erlangs) * handle_seconds / (agents - erlangs)


@dataclass(frozen=True)
class Staffing:
    """N agents on a traffic of A erlangs, and how the calls then fare."""

    agents: int
    erlangs: float
    wait_probability: float
    service_level: float
    average_speed_of_answer: float
    """Seconds."""
    occupancy: float
    """A / N: the share of their time the agents spend on calls (0 with no agents and no calls)."""


def staffing(agents: int, erlangs: float, handle_seconds: float, answer_seconds: float) -> Staffing:
    """How N agents fare on A erlangs."""
    return Staffing(
        agents=agents,
        erlangs=erlangs,
        wait_probability=wait_probability(agents, erlangs),
        service_level=service_level(agents, erlangs, handle_seconds, answer_seconds),
        average_speed_of_answer=average_speed_of_answer(agents, erlangs, handle_seconds),
        occupancy=erlangs / agents if agents else 0.0,
    )


def agents_needed(
    *,
    calls: float,
    period_seconds: float,
    handle_seconds: float,
    answer_seconds: float,
    target: float = DEFAULT_SERVICE_LEVEL,
    max_occupancy: float = DEFAULT_MAX_OCCUPANCY,
) -> Staffing:
    """The fewest agents that answer `target` of the calls within `answer_seconds` and stay at or under
    `max_occupancy`: N starts at the first whole number above A (fewer never keep up) and grows until
    both hold. No calls need no agents."""
    if not 0 < target < 1:
        raise ValueError("the service level target is a share between 0 and 1 (exclusive)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("the maximum occupancy is a share above 0 and at most 1")
    erlangs = traffic(calls, period_seconds, handle_seconds)
    if erlangs == 0:
        return staffing(0, 0.0, handle_seconds, answer_seconds)
    agents = max(math.floor(erlangs) + 1, math.ceil(erlangs / max_occupancy))
    while agents <= MAX_AGENTS:
        fare = staffing(agents, erlangs, handle_seconds, answer_seconds)
        if fare.service_level >= target and fare.occupancy <= max_occupancy:
            return fare
        agents += 1
    raise ValueError(f"more than {MAX_AGENTS:,} agents would be needed for {erlangs:,.1f} erlangs")

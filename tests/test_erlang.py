"""Erlang C against published worked examples, to their published precision."""

from __future__ import annotations

import math
from typing import Any

import pytest

from connector.forecast.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    service_level,
    staffing,
    traffic,
    wait_probability,
)


def test_the_call_centre_helper_example() -> None:
    """Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls in 30
    minutes, 180 s handle time, 80 % answered within 20 s, at most 85 % occupancy. Its published figures,
    as the R package ErlangC 0.1.0 documents them (rdocumentation.org/packages/ErlangC): 10 erlangs; with
    11 agents a call waits with probability 0.6821182; 14 agents are needed, and with them P(wait)
    0.1741319, service level 0.88835, ASA 7.83593701177724 s, occupancy 0.7142857."""
    erlangs = traffic(100, 1800, 180)
    assert erlangs == 10
    assert wait_probability(11, erlangs) == pytest.approx(0.6821182, abs=5e-8)
    needed = agents_needed(calls=100, period_seconds=1800, handle_seconds=180, answer_seconds=20)
    assert needed.agents == 14
    assert needed.wait_probability == pytest.approx(0.1741319, abs=5e-8)
    assert needed.service_level == pytest.approx(0.88835, abs=5e-6)
    assert needed.average_speed_of_answer == pytest.approx(7.83593701177724, rel=1e-12)
    assert needed.occupancy == pytest.approx(0.7142857, abs=5e-8)
    # 13 agents miss the 80 %: the search stops at the first N that meets it
    assert service_level(13, erlangs, 180, 20) < 0.80 <= service_level(14, erlangs, 180, 20)


def test_erlang_b_against_the_westbay_calculator_manual() -> None:
    """Erlang C is built on Erlang B's recurrence: checked against the Erlang B example of Westbay's
    calculator manual (erlang.com, "How much traffic can a trunk group handle?"): 15 lines at 1 %
    blocking carry at most 8.108 erlangs (to the published three decimals)."""
    low, high = 0.0, 15.0
    for _ in range(60):  # the most traffic whose blocking stays within 1 %
        middle = (low + high) / 2
        low, high = (middle, high) if erlang_b(15, middle) <= 0.01 else (low, middle)
    assert round(low, 3) == 8.108


def test_erlang_c_matches_its_textbook_form_where_factorials_still_fit() -> None:
    """P(wait) = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)), the form the sources print."""
    for agents, erlangs in [(1, 0.5), (3, 2.0), (12, 10.0), (55, 48.0), (120, 100.0)]:
        top = erlangs**agents / math.factorial(agents) * agents / (agents - erlangs)
        below = sum(erlangs**k / math.factorial(k) for k in range(agents)) + top
        assert wait_probability(agents, erlangs) == pytest.approx(top / below, rel=1e-12)


def test_large_queues_stay_finite() -> None:
    """Thousands of agents: the recurrence never forms A^N or N!, which overflow past ~170."""
    fare = staffing(5200, 5000.0, 300, 20)
    assert 0 < fare.wait_probability < 1 and 0 < fare.service_level < 1
    assert (
        agents_needed(calls=60_000, period_seconds=3600, handle_seconds=300, answer_seconds=20).agents > 5000
    )


def test_edges() -> None:
    """No calls need no agents; too few agents never catch up (every call waits, none within target);
    the occupancy cap can bind before the service level does; wrong shares are refused."""
    assert agents_needed(calls=0, period_seconds=3600, handle_seconds=300, answer_seconds=20).agents == 0
    assert wait_probability(10, 10.0) == 1.0 and service_level(10, 10.0, 180, 20) == 0.0
    assert average_speed_of_answer(9, 10.0, 180) == math.inf
    # 10 erlangs and a lax target (50 % within 10 minutes): 11 agents meet it (97.6 %), but 85 % occupancy
    # needs 12 and 70 % needs 15
    lax: dict[str, Any] = {
        "calls": 100, "period_seconds": 1800, "handle_seconds": 180, "answer_seconds": 600, "target": 0.5
    }  # fmt: skip
    assert service_level(11, 10.0, 180, 600) > 0.5
    assert agents_needed(**lax).agents == 12
    assert agents_needed(**lax, max_occupancy=0.70).agents == 15
    with pytest.raises(ValueError, match="service level target"):
        agents_needed(calls=1, period_seconds=60, handle_seconds=60, answer_seconds=20, target=80)
    with pytest.raises(ValueError, match="occupancy"):
        agents_needed(calls=1, period_seconds=60, handle_seconds=60, answer_seconds=20, max_occupancy=0)
    with pytest.raises(ValueError, match="period"):
        traffic(1, 0, 60)

"""Invariants that must hold for any data: rates within [0, 100], NPS within [−100, 100], business
time ≤ calendar time for every timed KPI, and counts over a cut adding up to the overall count."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connector.periods import Grain
from connector.schema import Call, SurveyResponse, Ticket
from tests.kpi_helpers import run

START = datetime(2026, 1, 1, tzinfo=UTC)
offsets = st.integers(min_value=0, max_value=60 * 86400)
durations = st.one_of(st.none(), st.integers(min_value=0, max_value=10 * 86400))


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    created = START + timedelta(seconds=draw(offsets))
    reply, resolve = draw(durations), draw(durations)
    return Ticket(
        source=draw(st.sampled_from(["hubspot", "liveagent"])),
        source_id=uuid.uuid4().hex,
        status="open",
        created_at=created,
        channel=draw(st.sampled_from(["email", "chat", "phone", "social:x"])),
        priority=draw(st.sampled_from([None, "low", "urgent"])),
        agent_id=draw(st.sampled_from([None, "hubspot:1", "hubspot:2"])),
        first_agent_reply_at=None if reply is None else created + timedelta(seconds=reply),
        resolved_at=None if resolve is None else created + timedelta(seconds=resolve),
        escalated=draw(st.booleans()),
    )


@st.composite
def calls(draw: st.DrawFn) -> Call:
    status = draw(st.sampled_from(["answered", "missed", "abandoned", "voicemail"]))
    return Call(
        source="aircall",
        source_id=uuid.uuid4().hex,
        direction=draw(st.sampled_from(["inbound", "inbound", "outbound"])),
        status=status,
        started_at=START + timedelta(seconds=draw(offsets)),
        wait_seconds=draw(st.integers(min_value=0, max_value=600)),
    )


@st.composite
def surveys(draw: st.DrawFn) -> SurveyResponse:
    kind = draw(st.sampled_from(["csat", "nps", "ces"]))
    low, high = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}[kind]
    return SurveyResponse(
        source="hubspot",
        source_id=uuid.uuid4().hex,
        kind=kind,
        score=draw(st.integers(min_value=low, max_value=high)),
        scale_min=low,
        scale_max=high,
        submitted_at=START + timedelta(seconds=draw(offsets)),
    )


# each example builds a store: no shrinking phase, which could take minutes on a failure (the failing
# example is printed as found)
@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    ticket_list=st.lists(tickets(), max_size=25),
    call_list=st.lists(calls(), max_size=15),
    survey_list=st.lists(surveys(), max_size=15),
)
def test_invariants_hold_for_any_records(
    tmp_path_factory: pytest.TempPathFactory,
    ticket_list: list[Ticket],
    call_list: list[Call],
    survey_list: list[SurveyResponse],
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}"
    results = run(
        url,
        [*ticket_list, *call_list, *survey_list],
        start=date(2026, 1, 1),
        end=date(2026, 3, 1),
        grain=Grain.MONTH,
        cuts=["agent", "channel", "priority"],
    ).results
    for r in results:
        if r.value is None:
            continue
        if r.unit == "percent":
            assert 0 <= r.value <= 100, r
        if r.kpi == "K15" and r.stat in ("value", "enps"):
            assert -100 <= r.value <= 100, r
        if r.unit == "seconds":
            assert r.value >= 0, r
    # business time never exceeds calendar time for the same figure
    calendar = {
        (r.kpi, r.stat, r.period_start, r.cut, r.cut_value): r.value
        for r in results
        if r.basis == "calendar" and r.value is not None
    }
    for r in results:
        if r.basis == "business" and r.value is not None and r.unit == "seconds" and r.stat.endswith("mean"):
            assert r.value <= calendar[(r.kpi, r.stat, r.period_start, r.cut, r.cut_value)] + 1e-6, r
    # counts over a cut add up to the overall count
    for kpi, stat in (("K11", "count"), ("K13", "count")):
        for cut in ("agent", "channel", "priority"):
            for start in {r.period_start for r in results}:
                overall = [
                    r.value
                    for r in results
                    if (r.kpi, r.stat, r.cut, r.period_start) == (kpi, stat, "overall", start)
                ]
                parts = [
                    r.value
                    for r in results
                    if (r.kpi, r.stat, r.cut, r.period_start) == (kpi, stat, cut, start)
                ]
                if parts or overall == [0]:
                    if kpi == "K13" and cut != "channel":
                        continue
                    assert sum(parts) == overall[0], (kpi, cut)  # type: ignore[arg-type]

"""Hand-computed fixtures for the workload, contact-reason, SERVQUAL and customer-base KPIs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from connector.schema import Agent, Message, SurveyResponse
from tests.kpi_helpers import JAN, at, call, customer, plus, resolved, run, survey, ticket

MONDAY = "2026-01-05T10:00:00Z"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kpis.db'}"


def test_handle_time_from_calls_recorded_work_and_estimates(url: str) -> None:
    records = [
        call(MONDAY, talk_seconds=300, hold_seconds=60, wrap_up_seconds=40),  # 400
        call(MONDAY, status="missed"),  # no work
        ticket(MONDAY, handle_seconds=1200, resolved_at=plus(MONDAY, days=3)),  # recorded: 1200
        # estimate: first reply Mon 11:00 → resolved Tue 10:00 in business time (9–17): 6 h + 1 h
        resolved(MONDAY, timedelta(hours=1), timedelta(days=1)),
    ]
    results = run(url, records, **JAN, kpis=["K06"])
    assert results.find("K06", "mean").count == 3
    assert results.value("K06", "median") == 1200
    assert results.value("K06", "mean") == pytest.approx((400 + 1200 + 7 * 3600) / 3)
    assert results.value("K06", "estimated_share") == pytest.approx(100 / 3)


def _messages(ticket_id: str, authors: list[str]) -> list[Message]:
    return [
        Message(
            source="liveagent",
            source_id=f"{ticket_id}-{i}",
            ticket_id=f"liveagent:{ticket_id}",
            author_type=author,
            created_at=at(plus(MONDAY, minutes=i)),
        )
        for i, author in enumerate(authors)
    ]


def test_first_contact_resolution_for_tickets_and_calls(url: str) -> None:
    records = [
        ticket(MONDAY, source="liveagent", source_id="one", resolved_at=plus(MONDAY, hours=1)),
        *_messages("one", ["customer", "agent"]),  # one reply: resolved at first contact
        ticket(MONDAY, source="liveagent", source_id="two", resolved_at=plus(MONDAY, hours=1)),
        *_messages("two", ["customer", "agent", "customer", "agent"]),  # two replies
        ticket(
            MONDAY,
            source="liveagent",
            source_id="reopened",
            reopen_count=1,
            resolved_at=plus(MONDAY, hours=2),
        ),
        *_messages("reopened", ["customer", "agent"]),
        ticket(MONDAY, resolved_at=plus(MONDAY, hours=1)),  # no messages from the source: not judged
        # calls: Ann calls back within 7 days (not FCR), Bob does not (FCR)
        call(MONDAY, contact_id="hubspot:ann", ended_at=plus(MONDAY, minutes=5)),
        call(plus(MONDAY, days=3), contact_id="hubspot:ann", status="missed"),
        call(MONDAY, contact_id="hubspot:bob", ended_at=plus(MONDAY, minutes=5)),
        ticket(plus(MONDAY, days=9), contact_id="hubspot:bob"),  # after the window
    ]
    results = run(url, records, **JAN, kpis=["K07"], cuts=["channel"])
    found = results.find("K07")
    assert (found.numerator, found.denominator) == (2, 5)  # tickets 1 of 3, answered calls 1 of 2
    assert results.value("K07", cut="channel", cut_value="phone") == 50.0


def test_repeat_contact_rate_same_category_within_window(url: str) -> None:
    records = [
        ticket(MONDAY, contact_id="hubspot:ann", category="billing"),
        ticket(plus(MONDAY, days=6), contact_id="hubspot:ann", category="billing"),  # repeat
        ticket(MONDAY, contact_id="hubspot:bob", category="billing"),
        ticket(plus(MONDAY, days=2), contact_id="hubspot:bob", category="delivery"),  # other category
        ticket(MONDAY, contact_id="hubspot:cas", category="billing"),
        ticket(plus(MONDAY, days=8), contact_id="hubspot:cas", category="billing"),  # too late
    ]
    results = run(url, records, **JAN, kpis=["K08"])
    found = results.find("K08")
    assert (found.numerator, found.denominator) == (1, 3)


def test_contact_reasons_share_rank_and_change(url: str) -> None:
    records = [
        ticket("2025-12-10T10:00:00Z", category="billing"),
        ticket("2025-12-11T10:00:00Z", category="billing"),
        ticket(MONDAY, category="billing", tags=["invoice"]),
        ticket(MONDAY, category="billing", tags=["invoice", "vat"]),
        ticket(MONDAY, category="billing"),
        ticket(MONDAY, category="delivery"),
    ]
    results = run(url, records, **JAN, kpis=["K09"])
    assert results.value("K09", "count") == 4
    assert results.value("K09", "share", cut="category", cut_value="billing") == 75.0
    assert results.value("K09", "rank", cut="category", cut_value="billing") == 1
    assert results.value("K09", "change", cut="category", cut_value="billing") == 50.0  # 2 in Dec → 3
    assert results.value("K09", "change", cut="category", cut_value="delivery") is None  # none in Dec
    assert results.value("K09", "count", cut="tag", cut_value="invoice") == 2


def test_resolved_per_agent_and_efficiency(url: str) -> None:
    records = [
        resolved(MONDAY, timedelta(hours=1), timedelta(hours=2), agent_id="hubspot:1"),
        ticket(MONDAY, agent_id="hubspot:1", first_agent_reply_at=plus(MONDAY, hours=1)),
        ticket("2025-12-30T10:00:00Z", agent_id="hubspot:1", resolved_at=plus(MONDAY, hours=3)),
    ]
    results = run(url, records, **JAN, kpis=["K12"], cuts=["agent"])
    assert results.value("K12", "count", cut="agent", cut_value="hubspot:1") == 2
    assert results.value("K12", "started", cut="agent", cut_value="hubspot:1") == 2
    assert results.value("K12", "efficiency", cut="agent", cut_value="hubspot:1") == 1.0


def _servqual(dimension: str, measure: str, score: float) -> SurveyResponse:
    return survey("servqual", score, "2026-01-10T10:00:00Z", dimension=dimension, measure=measure)


def test_servqual_gaps_and_weighted_overall(url: str) -> None:
    records = [
        _servqual("reliability", "expectation", 7),
        _servqual("reliability", "perception", 5),  # gap −2
        _servqual("empathy", "expectation", 5),
        _servqual("empathy", "perception", 6),  # gap +1
        _servqual("tangibles", "perception", 6),  # no expectation: no gap
    ]
    plain = run(url, records, **JAN, kpis=["K17"])
    assert plain.value("K17", "reliability") == -2
    assert plain.value("K17", "empathy") == 1
    assert plain.value("K17", "tangibles") is None
    assert plain.value("K17") == -0.5
    weighted = run(
        url.replace("kpis", "w"), records, **JAN, kpis=["K17"], servqual_weights="reliability=75,empathy=25"
    )
    assert weighted.value("K17") == pytest.approx(-1.25)


def test_engagement_score_and_referral_rate(url: str) -> None:
    records = [
        customer("2025-01-01T00:00:00Z", source_id="a", attributes={"loyalty_member": True}),
        customer("2025-01-01T00:00:00Z", source_id="b", attributes={"education_participant": True}),
        customer("2026-01-10T00:00:00Z", source_id="c", acquisition_source="referral"),
        customer("2026-01-11T00:00:00Z", source_id="d", referred_by="hubspot:a"),
        customer("2026-01-12T00:00:00Z", source_id="e", acquisition_source="ads"),
        customer("2025-01-01T00:00:00Z", source_id="gone", churned="2026-01-02T00:00:00Z"),
        ticket(MONDAY, contact_id="hubspot:a"),
        call(MONDAY, contact_id="hubspot:c"),
    ]
    results = run(
        url, records, **JAN, kpis=["K23", "K24"], engagement_weights="loyalty=2,education=1,contact=1"
    )
    # 5 customers at the end: loyalty 1/5 = 20 %, education 20 %, contacted 2/5 = 40 %
    assert results.value("K23", "loyalty_pct") == 20.0
    assert results.value("K23", "contact_pct") == 40.0
    assert results.value("K23") == pytest.approx((2 * 20 + 20 + 40) / 4)
    assert results.value("K24") == pytest.approx(200 / 3)


def test_social_media_insights(url: str) -> None:
    records = [
        ticket("2026-01-05T09:10:00Z", channel="social:facebook", tags=["negative"], category="delivery"),
        ticket("2026-01-05T09:20:00Z", channel="social:facebook", tags=["technical"], category="app"),
        ticket("2026-01-06T15:00:00Z", channel="social:twitter", source_id="tw", category="delivery"),
        survey("csat", 5, "2026-01-07T10:00:00Z", ticket_id="hubspot:tw"),  # top-2 box: positive
        ticket(MONDAY, channel="email"),  # not social
    ]
    results = run(url, records, **JAN, kpis=["K28"])
    assert results.value("K28", "count") == 3
    assert results.value("K28", "count", cut="channel", cut_value="social:facebook") == 2
    assert results.value("K28", "negative_share") == pytest.approx(100 / 3)
    assert results.value("K28", "positive_share") == pytest.approx(100 / 3)
    assert results.value("K28", "technical_share") == pytest.approx(100 / 3)
    assert results.value("K28", "peak_hour_of_week", cut="weekday_hour", cut_value="Mon 09") == 9
    assert results.value("K28", "topic:delivery") == 2


def test_leaderboard_and_capacity(url: str) -> None:
    records = [
        Agent(source="hubspot", source_id="1", email="a@x.nl", teams=["tier1"]),
        Agent(source="aircall", source_id="9", email="A@x.nl", teams=["phone"]),
        Agent(source="hubspot", source_id="2", email="b@x.nl", teams=["tier1"], active=False),
        resolved(
            MONDAY,
            timedelta(minutes=10),
            timedelta(hours=1),
            agent_id="hubspot:1",
            team="tier1",
            handle_seconds=600,
            category="billing",
            escalated=True,
        ),
        call(MONDAY, agent_id="aircall:9", team="phone", talk_seconds=300),
        survey("csat", 5, "2026-01-06T10:00:00Z", agent_id="hubspot:1"),
        survey("csat", 2, "2026-01-06T10:00:00Z", agent_id="aircall:9"),
    ]
    results = run(
        url, records, **JAN, kpis=["K29", "K30"], cuts=["team"], capacity_contacts_per_agent_hour=0.001
    )
    agent = {"cut": "agent", "cut_value": "aircall:9"}  # one person in HubSpot and Aircall
    assert results.value("K29", "resolved", **agent) == 1
    assert results.value("K29", "escalated", **agent) == 1
    assert results.value("K29", "csat", **agent) == 50.0
    assert results.value("K29", "frt_median", **agent) == 600
    assert results.value("K29", "handle_median", **agent) == 450
    assert results.value("K29", "handle_median:billing", **agent) == 600
    open_seconds = 22 * 8 * 3600  # January 2026: 22 weekdays of 8 hours
    assert results.value("K29", "utilisation", **agent) == pytest.approx(100 * 900 / open_seconds)
    # 2 contacts (ticket + inbound call) over 1 active agent × 176 open hours
    assert results.value("K30") == pytest.approx(2 / 176)
    assert results.value("K30", "above_capacity") == 1.0
    assert results.value("K30", cut="team", cut_value="phone") == pytest.approx(1 / 176)


def test_clv_historical_and_predictive_with_lifespan_from_churned_customers(url: str) -> None:
    from decimal import Decimal

    from connector.schema import Purchase

    def purchase(pid: str, contact: str, amount: int, margin: float, when: str) -> Purchase:
        return Purchase(
            source="hubspot",
            source_id=pid,
            contact_id=f"hubspot:{contact}",
            amount=Decimal(amount),
            currency="EUR",
            gross_margin=margin,
            occurred_at=at(when),
        )

    records = [
        customer("2024-01-01T00:00:00Z", source_id="a"),
        customer("2024-01-01T00:00:00Z", source_id="b"),
        # lifespan of churned customers: exactly 3 years of 365.25 days
        customer("2020-01-01T00:00:00Z", source_id="old", churned="2022-12-31T18:00:00Z"),
        purchase("p1", "a", 100, 0.5, "2025-03-01T12:00:00Z"),
        purchase("p2", "a", 200, 0.5, "2025-06-01T12:00:00Z"),
        purchase("p3", "b", 300, 0.2, "2025-09-01T12:00:00Z"),
    ]
    results = run(url, records, start=date(2025, 7, 1), end=date(2026, 1, 1), kpis=["K22"])
    # simple, over the half year: €300 × (1 purchase per buyer per half year = 2 a year) × 3 years
    assert results.value("K22") == pytest.approx(1800.0)
    # historical: each buyer's purchases to date (A €300, B €300) × the period's mean margin 0.2
    assert results.value("K22", "historical") == pytest.approx(60.0)
    # predictive, trailing 12 months: 3 purchases / 2 buyers / 12 months × €200 × 36 months
    assert results.value("K22", "predictive") == pytest.approx(900.0)


def test_archived_tickets_calls_and_contacts_are_left_out(url: str) -> None:
    """Records deleted in their source (HubSpot's archived) stay stored but count nowhere."""
    records = [
        ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=1)),
        ticket(
            MONDAY,
            first_agent_reply_at=plus(MONDAY, hours=5),
            archived=True,
            source="liveagent",
            source_id="gone",
        ),
        call(MONDAY, status="abandoned", wait_seconds=60),
        call(MONDAY, status="abandoned", wait_seconds=60, archived=True),
        call(MONDAY),
        customer("2025-01-01T00:00:00Z", "2026-01-10T00:00:00Z"),
        customer("2025-01-01T00:00:00Z", "2026-01-10T00:00:00Z", archived=True),
        customer("2025-01-01T00:00:00Z"),
    ]
    records += _messages("gone", ["customer", "agent"])
    results = run(url, records, **JAN, kpis=["K01", "K26", "K21", "K03"])
    assert results.find("K03", "mean").count == 0  # the archived ticket's reply does not count
    assert results.find("K01", "mean").count == 1
    assert results.value("K01", "mean") == 3600
    assert results.value("K26") == 50.0  # one abandoned of two inbound calls
    assert results.value("K21") == 50.0  # one of two customers churned


def test_a_call_logged_by_two_systems_counts_once(url: str) -> None:
    """Aircall logs its calls into HubSpot: the same call from both sources (same caller identity,
    starts 20 s apart) is one call, the telephony system's copy kept; a call two minutes later is
    another call; different callers are never merged."""
    people = [
        customer("2025-01-01T00:00:00Z", source="hubspot", source_id="c1", email="a@example.org"),
        customer("2025-01-01T00:00:00Z", source="aircall", source_id="c1", email="a@example.org"),
    ]
    records = [
        *people,
        call(MONDAY, source="aircall", contact_id="aircall:c1", status="abandoned", wait_seconds=40),
        call(plus(MONDAY, seconds=20), source="hubspot", contact_id="hubspot:c1", status="missed"),
        call(plus(MONDAY, seconds=300), source="hubspot", contact_id="hubspot:c1"),  # a later call
        call(plus(MONDAY, seconds=5), source="hubspot", phone_number="+31201234567"),  # someone else
    ]
    results = run(url, records, **JAN, kpis=["K26"])
    assert results.find("K26").denominator == 3  # not 4
    assert results.value("K26") == pytest.approx(100 / 3)  # the Aircall copy (abandoned) was kept
    kept = run(url, records, **JAN, kpis=["K26"], call_duplicate_seconds=0)
    assert kept.find("K26").denominator == 4

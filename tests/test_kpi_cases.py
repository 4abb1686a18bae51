"""Hand-computed fixtures for each KPI and the edge cases the catalogue names: empty periods, reopened
tickets, tickets open at the period's end or created before it, short abandons, outbound calls, DST,
holidays and one agent known under several sources."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.kpis import CATALOGUE, compute
from connector.periods import Grain, split_periods
from connector.schema import Agent, Message, ServiceCost
from connector.settings import load_settings
from connector.store import Store
from tests.kpi_helpers import JAN, at, call, customer, plus, run, survey, ticket

MONDAY = "2026-01-05T10:00:00Z"  # UTC settings: Monday 10:00


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kpis.db'}"


def test_empty_store_gives_null_values_never_zero_or_errors(database_url: str) -> None:
    results = run(database_url, [], **JAN, grain=Grain.MONTH, cuts=["overall", "agent"])
    # every KPI reports an overall figure per period; the leaderboard has a row per agent, so none here,
    # and the staffing forecast is made by the forecast, not computed
    assert {r.kpi for r in results.results} == set(CATALOGUE) - {"K29", "K32"}
    for result in results.results:
        assert result.cut == "overall"  # no records, so no cut values
        if result.unit == "count":
            assert result.value == 0
        else:
            assert result.value is None, result


def test_first_response_time_by_reply_time_with_waiting_tickets(url: str) -> None:
    records = [
        ticket(MONDAY, first_agent_reply_at=plus(MONDAY, minutes=30)),
        ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=2)),
        ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=4)),
        # created in December, answered in January: January's FRT, by reply time
        ticket("2025-12-31T16:00:00Z", first_agent_reply_at="2026-01-02T09:30:00+00:00"),
        # no reply yet: not an FRT of 0 but a waiting ticket
        ticket("2026-01-20T10:00:00Z"),
        # resolved without a reply: neither
        ticket("2026-01-21T10:00:00Z", resolved_at="2026-01-21T11:00:00+00:00"),
    ]
    results = run(url, records, **JAN, kpis=["K01"])
    frts = sorted([1800, 7200, 14400, 41.5 * 3600])
    assert results.find("K01", "mean").count == 4
    assert results.value("K01", "mean") == pytest.approx(sum(frts) / 4)
    assert results.value("K01", "median") == pytest.approx((7200 + 14400) / 2)
    assert results.value("K01", "p90") == pytest.approx(14400 + 0.7 * (41.5 * 3600 - 14400))
    # business: Wed 31 Dec 16:00 → Fri 2 Jan 09:30 is 1 h + 8 h (1 Jan is not a holiday without a country) + 0.5 h
    assert results.value("K01", "median", basis="business") == pytest.approx((7200 + 14400) / 2)
    assert results.value("K01", "waiting") == 1


def test_frt_sla_met_breached_and_not_yet_judged(url: str) -> None:
    records = [
        ticket(MONDAY, priority="urgent", first_agent_reply_at=plus(MONDAY, minutes=59)),  # met
        ticket(MONDAY, priority="urgent", first_agent_reply_at=plus(MONDAY, minutes=61)),  # breached
        ticket(MONDAY, priority="low", first_agent_reply_at=plus(MONDAY, hours=23)),  # met
        ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=9)),  # no priority → medium 8 h: breached
        ticket("2026-01-10T10:00:00Z", priority="high"),  # never answered, overdue at period end: breached
    ]
    results = run(url, records, **JAN, kpis=["K02"])
    found = results.find("K02")
    assert (found.numerator, found.denominator) == (2, 5)
    assert found.value == 40.0
    # a ticket created just before "now" is not judged yet
    pending = run(
        url.replace("kpis.db", "p.db"),
        [ticket("2026-11-23T11:30:00Z", priority="high")],
        start=date(2026, 11, 1),
        end=date(2026, 12, 1),
        kpis=["K02"],
    )
    assert pending.find("K02").denominator == 0 and pending.value("K02") is None


def test_average_response_time_pairs_each_reply_with_the_question_it_answers(url: str) -> None:
    t = ticket(MONDAY, source="liveagent", source_id="t1")
    messages = [
        ("customer", "10:00"),
        ("customer", "10:05"),  # same question continued: the wait runs from 10:00
        ("agent", "10:20"),  # response 20 min
        ("agent", "10:25"),  # a follow-up, not a response
        ("customer", "11:00"),
        ("agent", "11:10"),  # response 10 min
        ("system", "11:11"),
    ]
    records = [t] + [
        Message(
            source="liveagent",
            source_id=f"m{i}",
            ticket_id=t.id,
            author_type=author,
            created_at=at(f"2026-01-05T{time}:00Z"),
            agent_id="liveagent:a1" if author == "agent" else None,
        )
        for i, (author, time) in enumerate(messages)
    ]
    records.append(
        Message(
            source="liveagent",
            source_id="note",
            ticket_id=t.id,
            author_type="agent",
            is_public=False,
            created_at=at("2026-01-05T11:02:00Z"),
        )
    )
    results = run(url, records, **JAN, kpis=["K03"])
    found = results.find("K03", "mean")
    assert (found.value, found.count) == (900.0, 2)


def test_resolution_first_and_final_for_reopened_and_open_age(url: str) -> None:
    records = [
        ticket(MONDAY, resolved_at=plus(MONDAY, hours=2)),
        # reopened: first resolved after 1 h, finally after 5 h
        ticket(
            MONDAY, reopen_count=1, first_resolved_at=plus(MONDAY, hours=1), resolved_at=plus(MONDAY, hours=5)
        ),
        # still open at the end of January (31 Jan 00:00 → 1 Feb 00:00 = 1 day old)
        ticket("2026-01-31T00:00:00Z"),
        # resolved in February: open at January's end, not a January resolution
        ticket("2026-01-30T00:00:00Z", resolved_at="2026-02-03T00:00:00+00:00"),
    ]
    results = run(url, records, **JAN, kpis=["K04"])
    assert results.find("K04", "mean").count == 2
    assert results.value("K04", "mean") == pytest.approx((2 + 5) / 2 * 3600)
    assert results.value("K04", "first_mean") == pytest.approx((2 + 1) / 2 * 3600)
    assert results.find("K04", "open_age_mean").count == 2
    assert results.value("K04", "open_age_mean") == pytest.approx((1 + 2) / 2 * 86400)


def test_escalated_ticket_is_timed_from_its_escalation(url: str) -> None:
    escalated = ticket(
        MONDAY, escalated=True, escalation_at=plus(MONDAY, hours=1), resolved_at=plus(MONDAY, hours=4)
    )
    plain = ticket(MONDAY, resolved_at=plus(MONDAY, hours=1))
    results = run(url, [escalated, plain], **JAN, kpis=["K05"])
    assert results.find("K05", "mean").count == 1
    assert results.value("K05", "mean") == 3 * 3600


def test_cost_per_ticket_prorates_records_and_the_monthly_setting(url: str) -> None:
    resolved = [ticket(MONDAY, resolved_at=plus(MONDAY, hours=1)) for _ in range(10)]
    half_month = ServiceCost(
        period_start=date(2026, 1, 1), period_end=date(2026, 1, 16), amount=Decimal(1500), currency="EUR"
    )
    results = run(url, [*resolved, half_month], **JAN, kpis=["K10"], service_cost_monthly=3100)
    # 1-15 January from the record (1,500), 16-31 January from the setting: 3,100 × 16/31 = 1,600
    found = results.find("K10")
    assert found.numerator == pytest.approx(3100.0)
    assert found.value == pytest.approx(310.0)


def test_volume_heat_map_in_local_time_and_cuts_sum_to_overall(url: str) -> None:
    records = [
        ticket("2026-01-05T08:30:00Z", channel="email"),  # Mon 09:30 in Amsterdam
        ticket("2026-01-05T08:45:00Z", channel="chat"),
        ticket("2026-01-06T13:00:00Z", channel="social:facebook"),
    ]
    results = run(url, records, **JAN, kpis=["K11", "K13"], cuts=["channel"], timezone="Europe/Amsterdam")
    assert results.value("K11", "count") == 3
    by_channel = [r for r in results.results if r.kpi == "K11" and r.cut == "channel"]
    assert sum(r.value for r in by_channel) == 3  # type: ignore[misc]
    assert results.value("K11", "count", cut="weekday_hour", cut_value="Mon 09") == 2
    assert results.value("K11", "count", cut="weekday_hour", cut_value="Tue 14") == 1


def test_channel_preference_counts_tickets_and_inbound_calls(url: str) -> None:
    records = [
        ticket(MONDAY, channel="email"),
        ticket(MONDAY, channel="chat"),
        call(MONDAY),
        call(MONDAY),
        call(MONDAY, direction="outbound"),  # the company's choice, not the customer's
        call(MONDAY, direction="internal"),
    ]
    results = run(url, records, **JAN, kpis=["K13"])
    assert results.value("K13", "count") == 4
    assert results.value("K13", "share", cut="channel", cut_value="phone") == 50.0
    assert results.value("K13", "share", cut="channel", cut_value="email") == 25.0


def test_csat_threshold_setting_and_scales(url: str) -> None:
    records = [
        survey("csat", 9, "2026-01-10T10:00:00Z", scale_min=1, scale_max=10),  # top-2 box of 1-10: positive
        survey("csat", 8, "2026-01-10T10:00:00Z", scale_min=1, scale_max=10),  # not top-2
        survey("csat", 4, "2026-01-10T10:00:00Z"),  # default 1-5: positive
    ]
    assert run(url, records, **JAN, kpis=["K14"]).value("K14") == pytest.approx(200 / 3)
    relaxed = run(url.replace("kpis", "k2"), records, **JAN, kpis=["K14"], csat_positive_threshold=4)
    assert relaxed.value("K14") == 100.0


def test_nps_ignores_other_scales_and_reports_enps_apart(url: str) -> None:
    records = [
        survey("nps", 10, "2026-01-10T10:00:00Z"),
        survey("nps", 3, "2026-01-10T10:00:00Z"),
        survey("enps", 9, "2026-01-10T10:00:00Z"),
        survey("enps", 9, "2026-01-10T10:00:00Z"),
        survey("enps", 0, "2026-01-10T10:00:00Z"),
    ]
    results = run(url, records, **JAN, kpis=["K15"])
    assert results.value("K15") == 0.0
    assert results.value("K15", "enps") == pytest.approx(100 / 3)


def test_ces_keeps_scales_apart(url: str) -> None:
    records = [
        survey("ces", 2, "2026-01-10T10:00:00Z", scale_min=1, scale_max=7),
        survey("ces", 4, "2026-01-10T10:00:00Z", scale_min=1, scale_max=7),
        survey("ces", 9, "2026-01-10T10:00:00Z", scale_min=1, scale_max=10),
    ]
    results = run(url, records, **JAN, kpis=["K16"])
    assert results.value("K16", "mean") == 3.0
    assert results.value("K16", "mean:1-10") == 9.0


def test_feedback_response_rate(url: str) -> None:
    records = [
        survey("csat", 2, "2026-01-10T10:00:00Z", responded_at="2026-01-11T10:00:00+00:00"),
        survey("nps", 3, "2026-01-10T10:00:00Z"),
        survey("ces", 3, "2026-01-10T10:00:00Z"),
        survey("enps", 3, "2026-01-10T10:00:00Z"),  # employee survey: not customer feedback
    ]
    assert run(url, records, **JAN, kpis=["K19"]).value("K19") == pytest.approx(100 / 3)


def test_customer_in_several_sources_counts_once_for_retention(url: str) -> None:
    records = [
        customer("2025-01-01T00:00:00Z", email="ann@x.nl", source="hubspot"),
        customer(
            "2025-06-01T00:00:00Z", email="ANN@x.nl", source="liveagent", churned="2026-01-10T00:00:00Z"
        ),
        customer("2025-01-01T00:00:00Z", email="bob@x.nl"),
    ]
    results = run(url, records, **JAN, kpis=["K20", "K21"])
    # Ann is still a customer through her HubSpot record: 2 at start, 2 at end, nobody lost
    assert results.find("K20").denominator == 2
    assert results.value("K20") == 100.0
    assert results.value("K21") == 0.0


ABANDON_CALLS = [
    call(MONDAY, wait_seconds=15, answered_at=plus(MONDAY, seconds=15)),  # answered within 20 s
    call(MONDAY, wait_seconds=40, answered_at=plus(MONDAY, seconds=40)),  # answered late
    call(MONDAY, status="abandoned", missed_reason="abandoned_in_classic", wait_seconds=60),
    call(MONDAY, status="abandoned", missed_reason="short_abandoned", wait_seconds=3),  # short: left out
    call(MONDAY, status="abandoned", wait_seconds=5),  # under 10 s: short, left out
    call(MONDAY, status="voicemail", wait_seconds=30),  # not an abandon
    call("2026-01-05T21:00:00Z", status="abandoned", wait_seconds=30),  # out of hours: left out
    call(MONDAY, direction="outbound", status="missed"),  # outbound: left out
    call(MONDAY, direction="internal", status="abandoned", wait_seconds=30),  # internal: left out
]


def test_abandoned_call_rate_leaves_out_short_out_of_hours_and_non_inbound(url: str) -> None:
    results = run(url, ABANDON_CALLS, **JAN, kpis=["K26", "K31", "K25"])
    found = results.find("K26")
    assert (found.numerator, found.denominator) == (1, 4)
    assert results.value("K26", "reason:abandoned_in_classic") == 25.0
    assert results.value("K31") == 25.0  # 1 of 4 answered within 20 s
    assert results.value("K25", "mean") == 27.5  # answered inbound only
    assert results.find("K25", "abandoned_mean").count == 4  # every inbound abandon's wait, reported apart


def test_escalation_rate_counts_transfers_and_uses_creation_period(url: str) -> None:
    records = [
        ticket(MONDAY, escalated=True),
        ticket(MONDAY, transfer_count=2),  # A → B → A is a reassignment too
        ticket(MONDAY),
        ticket(MONDAY),
        ticket("2025-12-20T10:00:00Z", escalated=True),  # created before the period
    ]
    assert run(url, records, **JAN, kpis=["K27"]).value("K27") == 50.0


def test_frt_across_dst_and_a_holiday_in_business_time(url: str) -> None:
    settings: dict[str, Any] = {"timezone": "Europe/Amsterdam", "holiday_country": "NL"}
    records = [
        # Fri 27 March 16:00 → Mon 30 March 10:00 (clocks moved on Sunday): 1 h + 1 h
        ticket("2026-03-27T15:00:00Z", first_agent_reply_at="2026-03-30T08:00:00+00:00"),
        # Fri 24 April 16:00 → Tue 28 April 10:00, Monday 27 April is King's Day: 1 h + 1 h
        ticket("2026-04-24T14:00:00Z", first_agent_reply_at="2026-04-28T08:00:00+00:00"),
    ]
    results = run(
        url,
        records,
        start=date(2026, 3, 1),
        end=date(2026, 5, 1),
        grain=Grain.MONTH,
        kpis=["K01"],
        **settings,
    )
    assert results.value("K01", "mean", basis="business", period=0) == 7200
    assert results.value("K01", "mean", basis="business", period=1) == 7200
    assert results.value("K01", "mean", basis="calendar", period=0) == (2 * 86400 + 17 * 3600)


def test_one_agent_in_two_sources_is_one_cut_value(url: str) -> None:
    records = [
        Agent(source="hubspot", source_id="7", email="anna@example.com"),
        Agent(source="liveagent", source_id="a1", email="Anna@Example.com"),
        ticket(MONDAY, agent_id="hubspot:7", resolved_at=plus(MONDAY, hours=1)),
        ticket(MONDAY, agent_id="liveagent:a1", source="liveagent", resolved_at=plus(MONDAY, hours=3)),
    ]
    results = run(url, records, **JAN, kpis=["K04"], cuts=["agent"])
    agents = {r.cut_value for r in results.results if r.cut == "agent"}
    assert agents == {"hubspot:7"}
    assert results.value("K04", "mean", cut="agent", cut_value="hubspot:7") == 2 * 3600


def test_grain_month_gives_one_overall_record_per_period(url: str) -> None:
    records = [ticket("2026-01-10T10:00:00Z"), ticket("2026-03-10T10:00:00Z")]
    results = run(url, records, start=date(2026, 1, 1), end=date(2026, 4, 1), grain=Grain.MONTH, kpis=["K11"])
    assert [results.value("K11", "count", period=i) for i in range(3)] == [1, 0, 1]


def test_results_are_stored_as_snapshots_with_stable_keys(url: str) -> None:
    store = Store.open(url)
    config = load_settings(database_url=url)
    with store.transaction() as tx:
        store.upsert(tx, [ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=1))])
    periods = split_periods(date(2026, 1, 1), date(2026, 2, 1), Grain.MONTH, config.zone)
    first = compute(store, config, periods, kpi_ids=["K01"])
    second = compute(store, config, periods, kpi_ids=["K01"])
    assert [r.snapshot_key for r in first] == [r.snapshot_key for r in second]
    with store.transaction() as tx:
        store.save_kpi_results(tx, first)
    with store.transaction() as tx:
        store.save_kpi_results(tx, second)
    assert len(store.kpi_results()) == len(first)
    store.close()

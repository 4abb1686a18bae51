"""The figure gaps an independent brute-force implementation found, on SQLite and PostgreSQL: zero
counts that went missing, breakdowns given for the overall cut only, and cut values lost when a survey's
ticket was archived."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connector.schema import Message
from tests.kpi_helpers import JAN, at, call, plus, resolved, run, survey, ticket

MONDAY = "2026-01-05T10:00:00Z"


CUT_VALUES = {
    "agent": "hubspot:7",
    "team": "Tier 2",
    "channel": "email",
    "priority": "high",
    "category": "billing",
}
"""The cut values of the ticket a survey answer borrows them from (the survey-cut tests)."""
CUT_VALUES_AS_FIELDS = {("agent_id" if cut == "agent" else cut): value for cut, value in CUT_VALUES.items()}


def _answer_counts_in_its_tickets_cuts(database_url: str, records: list[Any]) -> None:
    """K14 counts the one answer overall and in each of `CUT_VALUES`, not in `(none)`."""
    results = run(database_url, records, **JAN, kpis=["K14"], cuts=["overall", *CUT_VALUES])
    assert results.value("K14") == 100.0
    for cut, value in CUT_VALUES.items():
        assert results.find("K14", cut=cut, cut_value=value).count == 1, cut


def test_k12_every_agent_with_any_activity_gets_all_three_stats(database_url: str) -> None:
    """SPEC §4: "Every group with any activity in a period gets every stat of its KPI (a zero count is a
    figure, not a missing row)"; K12: "resolved count per agent/team; efficiency = resolved per hour /
    started per hour". Efficiency is 0 when an agent started tickets but resolved none, null when it
    started none."""
    records = [
        # agent 1 began a ticket in January and resolved none
        ticket(MONDAY, agent_id="hubspot:1", team="Tier 1", first_agent_reply_at=plus(MONDAY, hours=1)),
        # agent 2 resolved in January a ticket it began in December
        ticket(
            "2025-12-29T10:00:00Z",
            agent_id="hubspot:2",
            team="Tier 2",
            first_agent_reply_at="2025-12-29T11:00:00Z",
            resolved_at=plus(MONDAY, hours=3),
        ),
    ]
    results = run(database_url, records, **JAN, kpis=["K12"], cuts=["agent", "team"])
    for cut, one, two in (("agent", "hubspot:1", "hubspot:2"), ("team", "Tier 1", "Tier 2")):
        assert results.value("K12", "count", cut=cut, cut_value=one) == 0
        assert results.value("K12", "started", cut=cut, cut_value=one) == 1
        assert results.value("K12", "efficiency", cut=cut, cut_value=one) == 0
        assert results.value("K12", "count", cut=cut, cut_value=two) == 1
        assert results.value("K12", "started", cut=cut, cut_value=two) == 0
        assert results.value("K12", "efficiency", cut=cut, cut_value=two) is None


def test_k26_missed_reason_shares_for_every_cut(database_url: str) -> None:
    """SPEC §4: "Each KPI is computed per period and per cut: overall, per agent, team, channel, source,
    priority, category"; K26: "… breakdown by missed reason". The `reason:<r>` shares come for every cut
    the KPI offers, each of its own group's eligible calls."""
    records = [
        call(MONDAY, team="Sales", wait_seconds=15, answered_at=plus(MONDAY, seconds=15)),
        call(MONDAY, team="Sales", status="abandoned", missed_reason="abandoned_in_classic", wait_seconds=60),
        call(MONDAY, team="Sales", status="abandoned", missed_reason="no_available_agent", wait_seconds=40),
        call(MONDAY, team="Support", wait_seconds=5, answered_at=plus(MONDAY, seconds=5)),
        call(MONDAY, team="Support", status="abandoned", missed_reason="no_available_agent", wait_seconds=50),
        call(
            MONDAY, source="hubspot", status="abandoned", missed_reason="no_available_agent", wait_seconds=30
        ),
    ]
    results = run(database_url, records, **JAN, kpis=["K26"], cuts=["overall", "team", "source"])
    assert results.value("K26", "reason:no_available_agent") == pytest.approx(300 / 6)
    assert results.value(
        "K26", "reason:abandoned_in_classic", cut="team", cut_value="Sales"
    ) == pytest.approx(100 / 3)
    assert results.value("K26", "reason:no_available_agent", cut="team", cut_value="Support") == 50.0
    assert results.value("K26", "reason:no_available_agent", cut="source", cut_value="hubspot") == 100.0
    found = results.find("K26", "reason:no_available_agent", cut="source", cut_value="aircall")
    assert (found.numerator, found.denominator) == (2, 5)
    with pytest.raises(AssertionError):  # no such reason in that group: no row
        results.find("K26", "reason:abandoned_in_classic", cut="team", cut_value="Support")


def test_a_survey_keeps_its_archived_tickets_cut_values(database_url: str) -> None:
    """SPEC §4: "A record that borrows cut values from another (a survey response from its ticket) takes
    them from that record as last stored, archived or not." The response counts, and in its ticket's
    channel, priority, category and team — not in `(none)`."""
    deleted = ticket(MONDAY, source_id="gone", archived=True, **CUT_VALUES_AS_FIELDS)
    records = [
        deleted,
        survey("csat", 5, plus(MONDAY, hours=2), ticket_id=deleted.id, scale_min=1, scale_max=5),
    ]
    _answer_counts_in_its_tickets_cuts(database_url, records)


def test_medians_and_p90s_interpolate_as_written_in_the_definitions(database_url: str) -> None:
    """SPEC §4: "Medians and p90s interpolate linearly between the closest ranks (numpy's default)." The
    README and the dashboard say so with the same worked example the calculator gives."""
    from connector.kpis.figures import QUANTILE_METHOD
    from connector.writer.dashboard import render_dashboard

    replies = [1, 2, 3, 10]  # hours to the first reply
    records = [ticket(MONDAY, first_agent_reply_at=plus(MONDAY, hours=h)) for h in replies]
    results = run(database_url, records, **JAN, kpis=["K01"])
    assert results.value("K01", "median") == 2.5 * 3600
    assert results.value("K01", "p90") == pytest.approx(7.9 * 3600)
    assert "A median of 1, 2, 3, 10 is 2.5; their p90 is 7.9." in QUANTILE_METHOD
    html = render_dashboard(results.results, zone=ZoneInfo("UTC"))
    assert "interpolate linearly between the closest ranks" in html
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert QUANTILE_METHOD in readme


def test_every_group_with_activity_gets_every_stat(database_url: str) -> None:
    """SPEC §4: "Every group with any activity in a period gets every stat of its KPI (a zero count is a
    figure, not a missing row)." A team whose tickets were all answered has K01 `waiting` 0; a team whose
    only ticket is still unanswered has K01's mean, median and p90 — null, over no ticket — and K04's
    resolution stats null beside its open-ticket ages."""
    records = [
        resolved(MONDAY, timedelta(hours=1), timedelta(hours=2), team="Answered"),
        ticket(MONDAY, team="Waiting"),
    ]
    results = run(database_url, records, **JAN, kpis=["K01", "K04"], cuts=["team"])
    assert results.value("K01", "waiting", cut="team", cut_value="Answered") == 0
    assert results.value("K01", "waiting", cut="team", cut_value="Waiting") == 1
    for stat in ("mean", "median", "p90"):
        found = results.find("K01", stat, cut="team", cut_value="Waiting")
        assert found.value is None and found.count == 0
        assert results.find("K01", stat, basis="business", cut="team", cut_value="Waiting").value is None
        assert results.find("K04", stat, cut="team", cut_value="Waiting").value is None
    assert results.value("K04", "open_age_mean", cut="team", cut_value="Waiting") is not None


@pytest.mark.parametrize("read_by", ["index", "scanner"])
def test_a_survey_keeps_the_cut_values_of_a_ticket_closed_long_before(
    database_url: str, monkeypatch: pytest.MonkeyPatch, read_by: str
) -> None:
    """SPEC §4: "A record that borrows cut values from another (a survey response from its ticket) takes
    them from that record as last stored." A computation reads only the facts its periods need: the
    ticket an answer within them is about is one of them, however long ago it was resolved — by the
    database's index queries and by the scanner alike."""
    from connector.kpis import workspace

    monkeypatch.setattr(workspace, "INDEXED_SHARE", 100.0 if read_by == "index" else 0.0)
    old = ticket(
        "2025-06-02T10:00:00Z",
        first_agent_reply_at="2025-06-02T10:30:00Z",
        resolved_at="2025-06-02T12:00:00Z",
        **CUT_VALUES_AS_FIELDS,
    )
    records = [
        ticket("2024-01-08T10:00:00Z", source_id="first", resolved_at="2024-01-08T12:00:00Z"),
        old,
        survey("csat", 4, MONDAY, ticket_id=old.id, scale_min=1, scale_max=5),
    ]
    _answer_counts_in_its_tickets_cuts(database_url, records)


@pytest.mark.parametrize("read_by", ["index", "scanner"])
def test_a_merged_tickets_survey_belongs_to_the_surviving_ticket(
    database_url: str, monkeypatch: pytest.MonkeyPatch, read_by: str
) -> None:
    """SPEC §4 (a record borrows cut values from another as last stored) and issue 16: "a merged ticket's
    survey belongs to the surviving ticket". The answer about a ticket merged into another takes the
    survivor's cut values, and the survivor is read for it however long ago both were resolved — by the
    database's index queries and by the scanner alike."""
    from connector.kpis import workspace

    monkeypatch.setattr(workspace, "INDEXED_SHARE", 100.0 if read_by == "index" else 0.0)
    closed = {"first_agent_reply_at": "2025-06-02T10:30:00Z", "resolved_at": "2025-06-02T12:00:00Z"}
    away = ticket("2025-06-02T10:00:00Z", source_id="away", team="Tier 1", channel="chat", **closed)
    survivor = ticket("2025-06-02T10:00:00Z", source_id="survivor", **closed, **CUT_VALUES_AS_FIELDS)
    records = [
        ticket("2024-01-08T10:00:00Z", source_id="first", resolved_at="2024-01-08T12:00:00Z"),
        away,
        survivor,
        survey("csat", 4, MONDAY, ticket_id=away.id, scale_min=1, scale_max=5),
    ]
    results = run(
        database_url,
        records,
        **JAN,
        kpis=["K14"],
        cuts=["overall", *CUT_VALUES],
        merged_tickets=[(away.id, survivor.id)],
    )
    for cut, value in CUT_VALUES.items():
        assert results.find("K14", cut=cut, cut_value=value).count == 1, cut


def test_a_merged_away_ticket_counts_no_more(database_url: str) -> None:
    """Merging two tickets leaves one: the merged-away ticket is in no volume or resolution figure, its
    messages are the survivor's."""
    first = ticket(MONDAY, source_id="a", resolved_at=plus(MONDAY, hours=2))
    second = ticket(plus(MONDAY, hours=1), source_id="b", resolved_at=plus(MONDAY, hours=3))
    # one public agent reply on each: the survivor, with both, was not resolved at the first contact
    replies = [
        Message(
            source="hubspot", source_id=f"m{n}", ticket_id=t.id, author_type="agent", created_at=at(MONDAY)
        )
        for n, t in enumerate((first, second))
    ]
    kpis = ["K04", "K07", "K11"]
    apart = run(database_url, [first, second, *replies], **JAN, kpis=kpis)
    assert (apart.value("K11", "count"), apart.find("K04", "mean").count, apart.value("K07")) == (2, 2, 100.0)
    merged = run(
        database_url, [first, second, *replies], **JAN, kpis=kpis, merged_tickets=[(second.id, first.id)]
    )
    assert merged.value("K11", "count") == 1
    assert merged.find("K04", "mean").count == 1
    assert (merged.value("K07"), merged.find("K07").denominator) == (0.0, 1)

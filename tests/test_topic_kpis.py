"""The discovered topics as KPIs: K09's count, share, rank, change and rising flag per topic, and the
topic cut of resolution time (K04) and CSAT (K14) — hand-computed fixtures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connector.periods import Grain
from connector.schema import Ticket
from tests.kpi_helpers import JAN, Span, call, plus, run, survey, ticket

DEC_DAY = "2025-12-10T10:00:00Z"
JAN_DAY = "2026-01-12T10:00:00Z"
DEC_AND_JAN: Span = {"start": date(2025, 12, 1), "end": date(2026, 2, 1)}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _tickets(label: str, count: int, created: str, **fields: object) -> list[tuple[Ticket, str]]:
    return [(ticket(created, **fields), label) for _ in range(count)]


def _month_of_topics() -> tuple[list[Ticket], dict[str, str]]:
    """December: refund 4, late delivery 10, password 2. January: refund 10 (+150 %, +6: rising),
    late delivery 12 (+20 %: too little), password 6 (+200 % but only +4 tickets: too few), new
    warranty topic 7 (nothing to compare with), and one ticket without a topic."""
    pairs = [
        *_tickets("refund / money back", 4, DEC_DAY),
        *_tickets("late delivery / parcel", 10, DEC_DAY),
        *_tickets("password / log in", 2, DEC_DAY),
        *_tickets("refund / money back", 10, JAN_DAY),
        *_tickets("late delivery / parcel", 12, JAN_DAY),
        *_tickets("password / log in", 6, JAN_DAY),
        *_tickets("warranty / broken", 7, JAN_DAY),
    ]
    records = [t for t, _ in pairs] + [ticket(JAN_DAY)]
    return records, {t.id: label for t, label in pairs}


def test_contact_reasons_per_topic_count_share_rank_change_and_rising(url: str) -> None:
    records, topics = _month_of_topics()
    results = run(url, records, **JAN, kpis=["K09"], topics=topics)
    topic = {"cut": "topic"}
    assert results.value("K09", "count") == 36
    assert results.value("K09", "count", **topic, cut_value="refund / money back") == 10
    share = results.find("K09", "share", cut="topic", cut_value="refund / money back")
    assert (share.numerator, share.denominator) == (10, 36)
    assert share.value == pytest.approx(100 * 10 / 36)
    ranks = {
        label: results.value("K09", "rank", **topic, cut_value=label)
        for label in (
            "late delivery / parcel",
            "refund / money back",
            "warranty / broken",
            "password / log in",
        )
    }
    assert ranks == {
        "late delivery / parcel": 1,
        "refund / money back": 2,
        "warranty / broken": 3,
        "password / log in": 4,
    }
    assert results.value("K09", "count", **topic, cut_value="(none)") == 1
    assert results.value("K09", "change", **topic, cut_value="refund / money back") == 150.0
    assert results.value("K09", "change", **topic, cut_value="late delivery / parcel") == pytest.approx(20.0)
    assert results.value("K09", "change", **topic, cut_value="warranty / broken") is None
    # every topic has a `rising` figure (so a flag of the period before is cleared); one is flagged
    rising = [r for r in results.results if r.stat == "rising" and r.value is not None]
    assert [(r.cut_value, r.value, r.numerator) for r in rising] == [("refund / money back", 1, 150.0)]


def test_rising_topics_rank_by_growth_and_stop_at_three(url: str) -> None:
    """Five topics each growing by at least 25 % and 5 tickets: the three fastest are flagged 1–3."""
    pairs = []
    for name, before, after in (("a", 10, 15), ("b", 10, 30), ("c", 5, 20), ("d", 20, 26), ("e", 8, 16)):
        pairs += _tickets(name, before, DEC_DAY) + _tickets(name, after, JAN_DAY)
    results = run(url, [t for t, _ in pairs], **JAN, kpis=["K09"], topics={t.id: x for t, x in pairs})
    rising = sorted((r.value, r.cut_value) for r in results.results if r.stat == "rising" and r.value)
    assert rising == [(1, "c"), (2, "b"), (3, "e")]  # +300 %, +200 %, +100 %; a +50 %, d +30 % not flagged


def test_resolution_time_and_csat_per_topic(url: str) -> None:
    slow = [ticket(JAN_DAY, resolved_at=plus(JAN_DAY, hours=h)) for h in (10, 30)]
    quick = [ticket(JAN_DAY, resolved_at=plus(JAN_DAY, hours=h)) for h in (1, 3)]
    answers = [
        survey("csat", score, plus(JAN_DAY, hours=40), ticket_id=t.id)
        for t, score in zip(slow + quick, (2, 3, 5, 4), strict=True)
    ]
    topics = {t.id: "broken / repair" for t in slow} | {t.id: "address / change" for t in quick}
    results = run(
        url, [*slow, *quick, *answers], **JAN, kpis=["K04", "K14"], cuts=("overall", "topic"), topics=topics
    )
    slow_cut = {"cut": "topic", "cut_value": "broken / repair"}
    quick_cut = {"cut": "topic", "cut_value": "address / change"}
    assert results.value("K04", "mean", **slow_cut) == 20 * 3600
    assert results.value("K04", "mean", **quick_cut) == 2 * 3600
    assert results.value("K04", "mean") == 11 * 3600
    assert results.value("K14", **slow_cut) == 0.0  # 2 and 3 of 5: neither satisfied
    assert results.value("K14", **quick_cut) == 100.0


def test_calls_per_topic_from_their_notes_else_their_ticket(url: str) -> None:
    """January: two calls whose notes are about refunds, one without notes on a late-delivery ticket (its
    ticket's topic), one with neither (no topic), one refund call in December and one archived. K09's
    `calls` per topic: refund 2, late delivery 1; December's refund call in December's figure only; a
    topic with calls and no ticket still gets its `calls` figure."""
    refund_ticket = ticket(JAN_DAY)
    parcel_ticket = ticket(JAN_DAY)
    notes = [call(JAN_DAY, notes="refund") for _ in range(2)]
    on_ticket = call(JAN_DAY, ticket_id=parcel_ticket.id)
    bare = call(JAN_DAY)
    earlier = call(DEC_DAY, notes="refund")
    gone = call(JAN_DAY, notes="refund", archived=True)
    warranty = call(JAN_DAY, notes="warranty")
    records = [refund_ticket, parcel_ticket, *notes, on_ticket, bare, earlier, gone, warranty]
    results = run(
        url,
        records,
        **DEC_AND_JAN,
        grain=Grain.MONTH,
        kpis=["K09"],
        topics={refund_ticket.id: "refund / money back", parcel_ticket.id: "late delivery / parcel"},
        call_topics={c.id: "refund / money back" for c in (*notes, earlier, gone)}
        | {warranty.id: "warranty"},
    )
    calls = {(r.period_start.month, r.cut_value): r.value for r in results.results if r.stat == "calls"}
    assert calls == {
        (12, "refund / money back"): 1,
        (1, "refund / money back"): 2,
        (1, "late delivery / parcel"): 1,
        (1, "warranty"): 1,
    }
    counted = [r.value for r in results.results if r.stat == "count" and r.cut_value == "warranty"]
    assert counted == [0]  # January: no ticket about it, only a call


def test_without_topics_no_topic_figures(url: str) -> None:
    """Before any discovery every ticket's topic is unknown: the topic cut would only repeat the overall
    figure, so none is made, and K09 has no topic rows."""
    records, _ = _month_of_topics()
    results = run(url, records, **JAN, kpis=["K04", "K09", "K14"], cuts=("overall", "topic"))
    assert [r for r in results.results if r.cut == "topic" or r.stat == "rising"] == []

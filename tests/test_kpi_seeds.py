"""The worked examples of the two seed articles, as oracles, through the public compute path,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.schema import Purchase, QualityReview, ServiceCost
from tests.kpi_helpers import JAN, Results, at, call, customer, plus, run, survey, ticket


def test_csat_30_positive_of_50_is_60_percent(database_url: str) -> None:
    """000: CSAT (%) = 30 positive / 50 responses × 100 = 60 %."""
    scores = [5] * 18 + [4] * 12 + [3] * 10 + [2] * 6 + [1] * 4
    records = [
        survey("csat", s, f"2026-01-{1 + i % 28:02d}T10:00:00Z", scale_min=1, scale_max=5)
        for i, s in enumerate(scores)
    ]
    results = run(database_url, records, **JAN, kpis=["K14"])
    found = results.find("K14")
    assert (found.value, found.numerator, found.denominator) == (60.0, 30.0, 50.0)
    assert results.value("K14", "mean") == pytest.approx(sum(scores) / 50)


def test_nps_70_percent_promoters_minus_10_percent_detractors_is_60(database_url: str) -> None:
    """000: NPS = % promoters − % detractors; 70 % − 10 % = 60."""
    scores = [10] * 40 + [9] * 30 + [8] * 12 + [7] * 8 + [6] * 5 + [0] * 5
    records = [survey("nps", s, "2026-01-15T10:00:00Z") for s in scores]
    results = run(database_url, records, **JAN, kpis=["K15"])
    assert results.value("K15") == pytest.approx(60.0)
    assert results.value("K15", "promoters") == pytest.approx(70.0)
    assert results.value("K15", "detractors") == pytest.approx(10.0)


def _half_year_retention(url: str, year: int, at_start: int, new: int, lost: int) -> Results:
    """K20 over the half year from 1 January of `year`: `at_start` customers on that day (`lost` of them
    churn in March) and `new` ones joining in February."""
    before = f"{year - 1}-06-01T00:00:00Z"
    customers = (
        [customer(before) for _ in range(at_start - lost)]
        + [customer(before, churned=f"{year}-03-15T00:00:00Z") for _ in range(lost)]
        + [customer(f"{year}-02-10T00:00:00Z") for _ in range(new)]
    )
    return run(url, customers, start=date(year, 1, 1), end=date(year, 7, 1), kpis=["K20"])


def test_retention_200_customers_20_new_is_90_percent(database_url: str) -> None:
    """000: CRR = ((E − N) / S) × 100 = ((200 − 20) / 200) × 100 = 90 %."""
    results = _half_year_retention(database_url, 2026, 200, 20, 20)
    found = results.find("K20")
    assert (found.value, found.numerator, found.denominator) == (90.0, 180.0, 200.0)


def test_retention_5000_to_5200_with_300_new_is_98_percent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """003: Mimi Consultancy, 5,000 customers on 1 January, 5,200 on 30 June, 300 new: 98 %."""
    url = f"sqlite:///{tmp_path / 'mimi.db'}"
    results = _half_year_retention(url, 2022, 5000, 300, 100)
    assert results.value("K20") == pytest.approx(98.0)


def test_churn_20_lost_of_250_is_8_percent(database_url: str) -> None:
    """000: churn = lost customers / customers at start × 100 = 20 / 250 × 100 = 8 %."""
    records = [customer("2025-01-01T00:00:00Z") for _ in range(230)] + [
        customer("2025-01-01T00:00:00Z", churned=f"2026-01-{1 + i:02d}T12:00:00Z") for i in range(20)
    ]
    results = run(database_url, records, **JAN, kpis=["K21"])
    found = results.find("K21")
    assert (found.value, found.numerator, found.denominator) == (8.0, 20.0, 250.0)


def test_clv_50_dollars_5_purchases_a_year_3_years_is_750(database_url: str) -> None:
    """000: CLV = $50 × 5 purchases a year × 3 years = $750."""
    buyers = [customer("2020-01-01T00:00:00Z", source_id=f"b{i}") for i in range(2)]
    purchases = [
        Purchase(
            source="hubspot",
            source_id=f"p{b}-{n}",
            contact_id=f"hubspot:b{b}",
            amount=Decimal(40 + 20 * (n % 2)) if n < 4 else Decimal(50),  # 40, 60, 40, 60, 50: mean 50
            currency="USD",
            occurred_at=at(f"2025-{2 * n + 1:02d}-10T12:00:00Z"),
        )
        for b in range(2)
        for n in range(5)
    ]
    results = run(
        database_url,
        [*buyers, *purchases],
        start=date(2025, 1, 1),
        end=date(2026, 1, 1),
        kpis=["K22"],
        currency="USD",
        clv_lifespan_years=3,
    )
    assert results.value("K22") == pytest.approx(750.0)


def test_average_wait_500_minutes_over_200_calls_is_2_5_minutes(database_url: str) -> None:
    """000: AWT = 500 minutes total wait / 200 answered calls = 2.5 minutes."""
    waits = [100.0] * 100 + [200.0] * 100  # 30,000 s = 500 min
    records = [
        call(
            f"2026-01-{1 + i % 28:02d}T10:00:00Z",
            wait_seconds=w,
            answered_at=plus(f"2026-01-{1 + i % 28:02d}T10:00:00Z", seconds=w),
        )
        for i, w in enumerate(waits)
    ]
    results = run(database_url, records, **JAN, kpis=["K25"])
    found = results.find("K25", "mean")
    assert (found.value, found.numerator, found.denominator) == (150.0, 30000.0, 200.0)


def test_cost_per_ticket_40000_over_4000_resolved_is_10(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """003: € 40,000 monthly cost / 4,000 tickets resolved that month = € 10."""
    records = [
        ticket("2026-01-02T09:00:00Z", resolved_at=plus("2026-01-02T09:00:00Z", minutes=10 + i % 20_000))
        for i in range(4000)
    ]
    cost = ServiceCost(
        period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), amount=Decimal(40000), currency="EUR"
    )
    results = run(f"sqlite:///{tmp_path / 'c.db'}", [*records, cost], **JAN, kpis=["K10"])
    found = results.find("K10")
    assert (found.value, found.numerator, found.denominator) == (10.0, 40000.0, 4000.0)


def test_complaint_filed_monday_resolved_wednesday_took_two_days(database_url: str) -> None:
    """000: a complaint submitted on Monday and resolved on Wednesday took two days."""
    monday = "2026-01-05T10:00:00Z"
    complaint = ticket(monday, is_complaint=True, resolved_at=plus(monday, days=2))
    results = run(database_url, [complaint], **JAN, kpis=["K05"])
    assert results.value("K05", "mean") == 2 * 86400
    # in business time (Mon–Fri 09:00–17:00): Mon 10–17, Tue 9–17, Wed 9–10 = 16 hours
    assert results.value("K05", "mean", basis="business") == 16 * 3600


def test_iqs_reviews_100_9_91_63_96_90_99_and_0_average_52_97(database_url: str) -> None:
    """000: IQS is the mean of the review scores; a failed critical criterion makes a review 0."""
    scores = [100, 9.91, 63.96, 90.99]
    reviews = [
        QualityReview(
            source="qa", source_id=f"r{i}", reviewed_at=at("2026-01-10T10:00:00Z"), criteria={"overall": s}
        )
        for i, s in enumerate(scores)
    ]
    reviews.append(
        QualityReview(
            source="qa",
            source_id="r-critical",
            reviewed_at=at("2026-01-11T10:00:00Z"),
            criteria={"tone": 95, "accuracy": 40},
            critical=["accuracy"],
        )
    )
    results = run(database_url, reviews, **JAN, kpis=["K18"])
    assert round(results.value("K18"), 2) == 52.97  # type: ignore[arg-type]

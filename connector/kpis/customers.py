"""Customer KPIs: retention, churn and customer lifetime value.

Customers are contact identities (one person in three vendors counts once), with `customer_since` from
the earliest record and `churned_at` only when every record that made them a customer has churned.
"""

from __future__ import annotations

from connector.kpis.catalogue import Context, Group, KpiDefinition, kpi
from connector.kpis.figures import rate_results
from connector.kpis.results import KpiResult
from connector.periods import Period

SECONDS_PER_YEAR = 365.25 * 86400

_COUNTS = """
    SELECT p.pidx,
        count(*) FILTER (WHERE c.customer_since < p.p_start
                         AND (c.churned_at IS NULL OR c.churned_at >= p.p_start)) AS at_start,
        count(*) FILTER (WHERE c.customer_since < p.p_end
                         AND (c.churned_at IS NULL OR c.churned_at >= p.p_end)) AS at_end,
        count(*) FILTER (WHERE c.customer_since >= p.p_start AND c.customer_since < p.p_end) AS new,
        count(*) FILTER (WHERE c.customer_since < p.p_start
                         AND c.churned_at >= p.p_start AND c.churned_at < p.p_end) AS lost
    FROM periods p LEFT JOIN customers c ON c.customer_since IS NOT NULL
    GROUP BY p.pidx ORDER BY p.pidx"""


def _years(period: Period) -> float:
    """A period's length in years: whole months count as twelfths (a calendar year is exactly 1), any
    other range as days / 365.25."""
    first, end = period.first_day, period.end_day
    if first.day == 1 and end.day == 1:
        return ((end.year - first.year) * 12 + end.month - first.month) / 12
    return (end - first).days / 365.25


def _customer_groups(ctx: Context) -> list[Group]:
    return [
        Group(pidx, "overall", None, {"S": at_start, "E": at_end, "N": new, "L": lost})
        for pidx, at_start, at_end, new, lost in ctx.workspace.rows(_COUNTS)
    ]


@kpi("K20", unit="percent", reads=("contact",), cuts=("overall",), better="higher")
def customer_retention_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """(E − N) / S × 100 with E customers at the period's end, N new customers acquired in it, S customers
    at its start ((200 − 20) / 200 → 90 %; (5,200 − 300) / 5,000 → 98 %).

    A customer counts from `customer_since` until `churned_at`.
    """
    groups = _customer_groups(ctx)
    for group in groups:
        group.values["retained"] = group["E"] - group["N"]
    return rate_results(ctx, d, groups, numerator="retained", denominator="S")


@kpi("K21", unit="percent", reads=("contact",), cuts=("overall",), better="lower")
def churn_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Customers lost in the period / customers at its start × 100 (20 lost of 250 → 8 %).

    Lost: a customer at the period's start whose `churned_at` falls in the period.
    """
    return rate_results(ctx, d, _customer_groups(ctx), numerator="L", denominator="S")


@kpi("K22", unit="currency", reads=("purchase", "contact"), cuts=("overall",), better="higher")
def customer_lifetime_value(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Simple: average purchase value × purchases per customer per year × average lifespan in years
    ($50 · 5 · 3 → $750). Historical (stat `historical`): mean over customers of Σ their purchases ×
    average gross margin. Predictive (stat `predictive`): average monthly transactions per customer ×
    average order value × average lifespan in months, over the 12 months up to the period's end (a
    steadier base than one period).

    Period: purchases made in the period, in `HELPDESK_CURRENCY`; purchase frequency is scaled from the
    period's length to a year (whole months as twelfths, other ranges as days / 365.25). Lifespan: `HELPDESK_CLV_LIFESPAN_YEARS` when set, else the mean
    `churned_at − customer_since` of customers churned before the period's end. Gross margin: the mean of
    the purchases' margins, else `HELPDESK_CLV_GROSS_MARGIN`. Historical CLV counts each buyer's
    purchases up to the period's end.
    """
    rows = ctx.workspace.rows(
        """SELECT p.pidx, epoch(p.p_end) - epoch(p.p_start) AS seconds,
               avg(x.amount), count(x.id), count(DISTINCT x.contact), avg(x.gross_margin),
               (SELECT avg(epoch(c.churned_at) - epoch(c.customer_since)) FROM customers c
                 WHERE c.churned_at < p.p_end AND c.customer_since IS NOT NULL)
           FROM periods p LEFT JOIN purchases x
             ON x.occurred_at >= p.p_start AND x.occurred_at < p.p_end AND x.currency = ?
           GROUP BY ALL ORDER BY p.pidx""",
        [ctx.settings.currency],
    )
    history = dict(
        ctx.workspace.rows(
            """SELECT p.pidx, avg(total) FROM periods p JOIN (
                   SELECT contact, occurred_at, sum(amount) OVER (PARTITION BY contact ORDER BY occurred_at
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
                   FROM purchases WHERE currency = ? AND contact IS NOT NULL) x
               ON x.occurred_at < p.p_end
               AND x.occurred_at = (SELECT max(y.occurred_at) FROM purchases y
                                    WHERE y.contact = x.contact AND y.currency = ? AND y.occurred_at < p.p_end)
               GROUP BY p.pidx""",
            [ctx.settings.currency, ctx.settings.currency],
        )
    )
    trailing = {
        pidx: (n, buyers, aov)
        for pidx, n, buyers, aov in ctx.workspace.rows(
            """SELECT p.pidx, count(x.id), count(DISTINCT x.contact), avg(x.amount) FROM periods p
               LEFT JOIN purchases x ON x.occurred_at >= p.p_end - INTERVAL 365 DAY AND x.occurred_at < p.p_end
                    AND x.currency = ?
               GROUP BY p.pidx""",
            [ctx.settings.currency],
        )
    }
    results = []
    for pidx, _seconds, avg_value, n_purchases, n_buyers, avg_margin, churned_lifespan in rows:
        group = Group(pidx, "overall", None, {})
        lifespan_years = ctx.settings.clv_lifespan_years or (
            churned_lifespan / SECONDS_PER_YEAR if churned_lifespan else None
        )
        per_customer = n_purchases / n_buyers if n_buyers else None
        per_year = per_customer / _years(ctx.periods[pidx]) if per_customer else None
        simple = avg_value * per_year * lifespan_years if avg_value and per_year and lifespan_years else None
        n_year, buyers_year, aov_year = trailing.get(pidx, (0, 0, None))
        predictive = (
            (n_year / buyers_year / 12) * aov_year * lifespan_years * 12
            if buyers_year and aov_year and lifespan_years
            else None
        )
        margin = avg_margin if avg_margin is not None else ctx.settings.clv_gross_margin
        spent = history.get(pidx)
        historical = spent * margin if spent is not None and margin is not None else None
        unit = ctx.settings.currency
        results += [
            ctx.result(d, group, "value", simple, unit=unit, count=n_purchases),
            ctx.result(d, group, "historical", historical, unit=unit, count=n_buyers),
            ctx.result(d, group, "predictive", predictive, unit=unit, count=n_purchases),
        ]
    return results


@kpi("K23", unit="score", reads=("contact", "ticket", "call"), cuts=("overall",), better="higher")
def customer_engagement_score(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Weighted composite on 0–100 of engagement inputs among the customers at the period's end:
    loyalty-programme participation % (`attributes.loyalty_member`), education participation %
    (`attributes.education_participant`) and contact frequency % (customers who contacted the desk in
    the period by ticket or inbound call); score = Σ weightᵢ · inputᵢ / Σ weightᵢ.

    Weights: `HELPDESK_ENGAGEMENT_WEIGHTS` (default equal). Each input is also reported (`loyalty_pct`,
    `education_pct`, `contact_pct`).
    """
    rows = ctx.workspace.rows(
        """WITH contacted AS (
               SELECT DISTINCT created_at_p AS pidx, contact FROM tickets WHERE created_at_p IS NOT NULL AND contact IS NOT NULL
               UNION SELECT DISTINCT started_at_p, contact FROM calls
               WHERE started_at_p IS NOT NULL AND contact IS NOT NULL AND direction = 'inbound')
           SELECT p.pidx, count(c.contact), count(*) FILTER (WHERE c.loyalty_member),
                  count(*) FILTER (WHERE c.education_participant), count(k.contact)
           FROM periods p
           LEFT JOIN customers c ON c.customer_since < p.p_end AND (c.churned_at IS NULL OR c.churned_at >= p.p_end)
           LEFT JOIN contacted k ON k.pidx = p.pidx AND k.contact = c.contact
           GROUP BY p.pidx ORDER BY p.pidx"""
    )
    weights = {name.value: weight for name, weight in ctx.settings.engagement_weights.items()}
    results = []
    for pidx, customers, loyal, educated, contacted in rows:
        group = Group(pidx, "overall", None, {})
        inputs = {"loyalty": loyal, "education": educated, "contact": contacted}
        shares = {name: 100.0 * n / customers if customers else None for name, n in inputs.items()}
        total_weight = sum(weights.get(name, 0.0) for name in inputs)
        score = (
            sum(weights.get(name, 0.0) * share for name, share in shares.items() if share is not None)
            / total_weight
            if customers and total_weight
            else None
        )
        results.append(ctx.result(d, group, "value", score, count=customers))
        for name, share in shares.items():
            results.append(
                ctx.result(
                    d,
                    group,
                    f"{name}_pct",
                    share,
                    unit="percent",
                    numerator=inputs[name],
                    denominator=customers,
                    count=customers,
                )
            )
    return results


@kpi("K24", unit="percent", reads=("contact",), cuts=("overall",), better="higher")
def referral_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """New customers acquired by referral / new customers × 100.

    Period: `customer_since`. Referred: `acquisition_source` is `referral` or `referred_by` is set.
    """
    rows = ctx.workspace.rows(
        """SELECT p.pidx, count(c.contact) FILTER (WHERE c.referred OR lower(c.acquisition_source) = 'referral'),
                  count(c.contact)
           FROM periods p LEFT JOIN customers c ON c.customer_since >= p.p_start AND c.customer_since < p.p_end
           GROUP BY p.pidx ORDER BY p.pidx"""
    )
    groups = [Group(pidx, "overall", None, {"num": num, "den": den}) for pidx, num, den in rows]
    return rate_results(ctx, d, groups)

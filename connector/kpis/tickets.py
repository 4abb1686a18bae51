"""Ticket KPIs: response, resolution, SLA, volume, channels, escalation and cost per ticket."""

from __future__ import annotations

import calendar
from datetime import timedelta

from connector.kpis.catalogue import ALL_CUTS, BASIS_SUFFIX, Basis, Context, Group, KpiDefinition, kpi
from connector.kpis.figures import (
    count_results,
    duration_aggregates,
    duration_results,
    in_period,
    rate_results,
)
from connector.kpis.results import KpiResult
from connector.settings import PRIORITIES

# One grouped pass serves every KPI that reads the same rows: each query below carries the aggregates of
# all its readers, and `Context.groups` answers the later readers from memory.


def first_response_query() -> tuple[str, dict[str, str]]:
    """Tickets by first-reply period: their first response time's aggregates (K01, K29) and count (`n`,
    K12's tickets started)."""
    return in_period("tickets", "first_reply_at"), duration_aggregates(
        "first_reply_at_{b} - created_at_{b}"
    ) | {"n": "count(*)"}


def created_query(ctx: Context) -> tuple[str, dict[str, str]]:
    """Tickets by creation period with the instant their period is judged at: their count (`n`, K11),
    escalated or transferred (`escalated`, K27, K29) and the first-response targets met and judged per
    basis (`met_<basis>`, `judged_<basis>`, K02)."""
    relation = (
        "SELECT x.created_at_p AS pidx, x.*, b.as_of_e, b.as_of_b FROM tickets x "
        "JOIN period_bounds b ON b.pidx = x.created_at_p"
    )
    return relation, {
        "n": "count(*)",
        "escalated": "count(*) FILTER (WHERE escalated OR transfer_count > 0)",
        **_sla_aggregates(ctx),
    }


def customer_contacts() -> str:
    """Contacts the customer chose the channel of: tickets by creation and inbound calls by start, with
    the cut columns (K13, K30)."""
    columns = "pidx, agent, team, channel, source, priority, category"
    tickets = in_period("tickets", "created_at")
    calls = in_period("calls", "started_at", "x.direction = 'inbound'")
    return f"SELECT {columns} FROM ({tickets}) UNION ALL SELECT {columns} FROM ({calls})"


def resolved_query() -> tuple[str, dict[str, str]]:
    """Tickets by final-resolution period: their resolution time's aggregates (K04) and count (`n`, K10,
    K12, K29)."""
    return in_period("tickets", "resolved_at"), duration_aggregates("resolved_at_{b} - created_at_{b}") | {
        "n": "count(*)"
    }


@kpi("K01", unit="seconds", reads=("ticket",), timed=True, better="lower")
def first_response_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Per ticket `first_agent_reply_at − created_at`; mean, median and p90 over the tickets whose first
    public agent reply falls in the period.

    Period: the time of the first agent reply. A ticket without a reply has no FRT (never 0): it is
    counted under the stat `waiting` — tickets created before the period's end, neither answered nor
    resolved by then.
    """
    cuts = ctx.cuts_for(d)
    answered = ctx.groups(*first_response_query(), cuts)
    waiting = ctx.groups(
        """SELECT p.pidx, x.* FROM tickets x JOIN periods p
           ON x.created_at < p.p_end AND x.waiting_until >= p.p_end""",
        {"n": "count(*)"},
        cuts,
    )
    return duration_results(ctx, d, answered) + count_results(ctx, d, waiting, stat="waiting")


def _target_seconds(ctx: Context) -> str:
    """SQL for the first-response target of a ticket's priority (no priority: the medium target)."""
    targets = ctx.settings.first_response_targets
    cases = " ".join(f"WHEN '{name}' THEN {getattr(targets, name).total_seconds()}" for name in PRIORITIES)
    return f"CASE priority {cases} ELSE {targets.medium.total_seconds()} END"


@kpi("K02", unit="percent", reads=("ticket",), timed=True, better="higher")
def frt_sla_compliance(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """% of tickets answered within the first-response target for their priority:
    met / (met + breached) × 100.

    Period: ticket creation. Met: first reply within the target. Breached: first reply after the target,
    or no reply and the target already passed at the period's end (or now, for a running period). A ticket
    unanswered and still within its target is not judged yet. Targets come from
    `HELPDESK_FIRST_RESPONSE_TARGETS__*`; a ticket without priority gets the medium target. Judged in
    calendar and in business time.
    """
    groups = ctx.groups(*created_query(ctx), ctx.cuts_for(d))
    results: list[KpiResult] = []
    for basis in Basis:
        results += rate_results(
            ctx, d, groups, numerator=f"met_{basis.value}", denominator=f"judged_{basis.value}", basis=basis
        )
    return results


def _sla_aggregates(ctx: Context) -> dict[str, str]:
    """First-response targets met, and met or breached, per basis (K02's definition)."""
    target = _target_seconds(ctx)
    aggregates = {}
    for basis, s in BASIS_SUFFIX.items():
        met = f"first_reply_at IS NOT NULL AND first_reply_at_{s} - created_at_{s} <= {target}"
        late_reply = f"first_reply_at IS NOT NULL AND first_reply_at_{s} - created_at_{s} > {target}"
        overdue = f"first_reply_at IS NULL AND as_of_{s} - created_at_{s} > {target}"
        aggregates[f"met_{basis.value}"] = f"count(*) FILTER (WHERE {met})"
        aggregates[f"judged_{basis.value}"] = f"count(*) FILTER (WHERE {met} OR {late_reply} OR {overdue})"
    return aggregates


@kpi("K03", unit="seconds", reads=("message", "ticket"), timed=True, better="lower")
def average_response_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Every public agent reply measured from the customer message it answers; Σ response times /
    number of such replies (with median and p90).

    Period: the reply's time. A reply answers the first customer message after the previous public
    agent reply; further agent messages without a customer message in between are not responses. System
    messages and internal notes are ignored.
    """
    replies = """
        WITH ordered AS (
            SELECT m.*, lag(author_type) OVER w AS previous_author FROM messages m
            WHERE is_public AND author_type IN ('customer', 'agent')
            WINDOW w AS (PARTITION BY ticket_id ORDER BY created_at, id)
        ), asked AS (
            SELECT o.*,
                max(CASE WHEN author_type = 'customer' AND previous_author IS DISTINCT FROM 'customer'
                    THEN created_at_e END) OVER w AS asked_e,
                max(CASE WHEN author_type = 'customer' AND previous_author IS DISTINCT FROM 'customer'
                    THEN created_at_b END) OVER w AS asked_b
            FROM ordered o
            WINDOW w AS (PARTITION BY ticket_id ORDER BY created_at, id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
        SELECT * FROM asked WHERE author_type = 'agent' AND previous_author = 'customer'"""
    groups = ctx.groups(
        in_period(f"({replies})", "created_at"),
        duration_aggregates("created_at_{b} - asked_{b}"),
        ctx.cuts_for(d),
    )
    return duration_results(ctx, d, groups)


@kpi("K04", unit="seconds", reads=("ticket",), cuts=ALL_CUTS, timed=True, better="lower")
def resolution_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Per ticket `resolved_at − created_at`; mean, median and p90 over the distinct tickets finally
    resolved in the period (stats `mean`, `median`, `p90`).

    Period: the final resolution (`resolved_at`, or `closed_at` when the source only records closing).
    Reopened tickets: the first resolution is reported apart as `first_mean`, `first_median`, `first_p90`,
    assigned by the first resolution's time. Tickets still open at the period's end (or now) are not in
    the resolution figures; their age is reported as `open_age_mean`, `open_age_median`, `open_age_p90`.
    """
    cuts = ctx.cuts_for(d)
    final = ctx.groups(*resolved_query(), cuts)
    first = ctx.groups(
        in_period("tickets", "first_resolved_at"),
        duration_aggregates("first_resolved_at_{b} - created_at_{b}"),
        cuts,
    )
    still_open = ctx.groups(
        """SELECT b.pidx, x.*, b.as_of_e, b.as_of_b FROM tickets x JOIN period_bounds b
           ON x.created_at < b.as_of AND x.open_until >= b.as_of""",
        duration_aggregates("as_of_{b} - created_at_{b}"),
        cuts,
    )
    return (
        duration_results(ctx, d, final)
        + duration_results(ctx, d, first, stat_prefix="first_")
        + duration_results(ctx, d, still_open, stat_prefix="open_age_")
    )


@kpi("K05", unit="seconds", reads=("ticket",), timed=True, better="lower")
def complaint_resolution_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """For complaints and escalations: resolution time from the complaint or the escalation to the
    resolution (a complaint filed Monday and resolved Wednesday took 2 days); mean, median, p90.

    Period: the resolution. A complaint is timed from its ticket's creation, an escalated ticket that is
    not a complaint from `escalation_at` (from creation if that is unknown).
    """
    start = "CASE WHEN is_complaint OR escalation_at IS NULL THEN created_at_{b} ELSE escalation_at_{b} END"
    groups = ctx.groups(
        in_period("tickets", "resolved_at", "x.is_complaint OR x.escalated"),
        duration_aggregates(f"resolved_at_{{b}} - ({start})"),
        ctx.cuts_for(d),
    )
    return duration_results(ctx, d, groups)


@kpi("K10", unit="currency", reads=("service_cost", "ticket"), cuts=("overall",), better="lower")
def cost_per_ticket(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Total service cost of the period / tickets resolved in the period (€40,000 / 4,000 = €10).

    Cost: imported `ServiceCost` records in `HELPDESK_CURRENCY`, pro-rated by the days they share with the
    period; where no record covers a day, `HELPDESK_SERVICE_COST_MONTHLY` spread over that month's days.
    Tickets: finally resolved in the period.
    """
    resolved = {g.pidx: g["n"] or 0 for g in ctx.groups(*resolved_query(), ("overall",))}
    costs = ctx.workspace.rows(
        "SELECT period_start, period_end, amount FROM costs WHERE currency = ?", [ctx.settings.currency]
    )
    results = []
    for pidx, period in enumerate(ctx.periods):
        total = 0.0
        covered = set()
        for start, end, amount in costs:
            days = (end - start).days
            overlap = [
                start + timedelta(n)
                for n in range(days)
                if period.first_day <= start + timedelta(n) < period.end_day
            ]
            total += amount * len(overlap) / days
            covered.update(overlap)
        monthly = ctx.settings.service_cost_monthly
        day = period.first_day
        while monthly is not None and day < period.end_day:
            if day not in covered:
                total += float(monthly) / _days_in_month(day.year, day.month)
            day += timedelta(days=1)
        has_cost = bool(covered) or monthly is not None
        cost = total if has_cost else None
        n = resolved.get(pidx, 0)
        value = cost / n if cost is not None and n else None
        group = Group(pidx, "overall", None, {})
        results.append(
            ctx.result(
                d, group, "value", value, unit=ctx.settings.currency, numerator=cost, denominator=n, count=n
            )
        )
    return results


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hour_of_week_label(hour_of_week: int) -> str:
    """0 → `Mon 00`, 33 → `Tue 09`."""
    return f"{WEEKDAYS[hour_of_week // 24]} {hour_of_week % 24:02d}"


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@kpi("K11", unit="count", reads=("ticket",))
def ticket_volume(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Tickets created in the period (stat `count`), with a weekday × hour heat map in local time (cut
    `weekday_hour`, e.g. `Mon 09`).

    Period: ticket creation.
    """
    volume = ctx.groups(*created_query(ctx), ctx.cuts_for(d))
    cells = ctx.workspace.rows(
        f"""SELECT pidx, created_at_how, count(*)
            FROM ({in_period("tickets", "created_at", columns="x.created_at_how")}) GROUP BY ALL ORDER BY ALL"""
    )
    results = count_results(ctx, d, volume)
    for pidx, hour_of_week, n in cells:
        group = Group(pidx, "weekday_hour", hour_of_week_label(hour_of_week), {})
        results.append(ctx.result(d, group, "count", n, unit="count", count=n))
    return results


@kpi("K13", unit="count", reads=("ticket", "call"), cuts=("overall", "channel", "source"))
def channel_preference(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Count and share of contacts per channel: tickets created plus inbound calls started in the
    period; share = channel count / all contacts × 100.

    Period: ticket creation, call start. Outbound and internal calls are the company's choice of channel,
    not the customer's, and are left out. The channel breakdown is always reported.
    """
    contacts = customer_contacts()
    cuts = tuple(dict.fromkeys(("overall", "channel", *ctx.cuts_for(d))))
    groups = ctx.groups(contacts, {"n": "count(*)"}, cuts)
    totals = {g.pidx: g["n"] or 0 for g in groups if g.cut == "overall"}
    results = count_results(ctx, d, groups)
    for group in groups:
        if group.cut == "channel":
            total = totals.get(group.pidx, 0)
            share = 100.0 * group["n"] / total if total else None
            results.append(
                ctx.result(
                    d,
                    group,
                    "share",
                    share,
                    unit="percent",
                    numerator=group["n"],
                    denominator=total,
                    count=total,
                )
            )
    return results


@kpi("K27", unit="percent", reads=("ticket",), better="lower")
def escalation_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Tickets created in the period that were escalated or transferred to another agent or department
    (any reassignment, A→B→A included) / tickets created in the period × 100.

    Period: ticket creation. A ticket counts as escalated when it is marked escalated or has a transfer
    count above zero.
    """
    groups = ctx.groups(*created_query(ctx), ctx.cuts_for(d))
    return rate_results(ctx, d, groups, numerator="escalated", denominator="n")

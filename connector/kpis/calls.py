"""Call KPIs: wait time, abandoned calls and the call service level."""

from __future__ import annotations

from connector.kpis.catalogue import Basis, Context, KpiDefinition, kpi
from connector.kpis.figures import duration_aggregates, duration_results, in_period, rate_results
from connector.kpis.results import KpiResult
from connector.kpis.workspace import sql_literal

CALL_CUTS = ("overall", "agent", "team", "source")
_CALENDAR = (Basis.CALENDAR,)


def inbound_query(ctx: Context) -> tuple[str, dict[str, str]]:
    """Inbound calls by start period, in one grouped pass for K25, K26 and K31: the wait of answered
    calls and of callers who gave up (`answered_*`, `abandoned_*`), and among the calls that count for
    abandon rate and service level (`eligible`, see `_eligible`) those abandoned and those answered within
    the service-level seconds."""
    limit = ctx.settings.call_service_level_seconds
    relation = in_period(
        "calls", "started_at", "x.direction = 'inbound'", columns=f"x.*, {_eligible(ctx)} AS eligible"
    )
    return relation, {
        **duration_aggregates(_WAIT, "answered_", bases=_CALENDAR, where="status = 'answered'"),
        **duration_aggregates(_WAIT, "abandoned_", bases=_CALENDAR, where="status = 'abandoned'"),
        "eligible": "count(*) FILTER (WHERE eligible)",
        "eligible_abandoned": "count(*) FILTER (WHERE eligible AND status = 'abandoned')",
        "eligible_in_time": f"count(*) FILTER (WHERE eligible AND status = 'answered' AND {_WAIT} <= {limit})",
    }


_WAIT = "coalesce(wait_seconds, answered_at_e - started_at_e)"
"""A call's queue wait: as the source reports it, else start → answer."""


def _eligible(ctx: Context) -> str:
    """Whether an inbound call counts for abandon rate and service level: short abandons (missed
    reason `short_abandoned`, or an abandon with less wait than `HELPDESK_SHORT_ABANDON_SECONDS`) and
    calls outside opening hours are left out of numerator and denominator alike."""
    short = ctx.settings.short_abandon_seconds
    return f"""(coalesce(x.missed_reason, '') NOT IN ('short_abandoned', 'out_of_opening_hours')
        AND NOT (x.status = 'abandoned'
                 AND coalesce(x.wait_seconds, x.ended_at_e - x.started_at_e, 0) < {short})
        AND x.started_at_open)"""


@kpi("K25", unit="seconds", reads=("call",), cuts=CALL_CUTS, better="lower")
def average_wait_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Total queue wait of answered inbound calls / answered inbound calls (500 min / 200 calls =
    2.5 min); median and p90 too.

    Period: the call's start. The wait of callers who gave up (abandoned calls) is reported apart as
    `abandoned_mean`, `abandoned_median`, `abandoned_p90`. Wait is time on the line, so it is reported in
    calendar time only.
    """
    groups = ctx.groups(*inbound_query(ctx), ctx.cuts_for(d))
    return duration_results(ctx, d, groups, prefix="answered_", bases=_CALENDAR) + duration_results(
        ctx, d, groups, prefix="abandoned_", stat_prefix="abandoned_", bases=_CALENDAR
    )


@kpi("K26", unit="percent", reads=("call",), cuts=CALL_CUTS, better="lower")
def abandoned_call_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Inbound callers who hung up before reaching an agent / inbound calls × 100.

    Period: the call's start. Left out of both counts: short abandons (missed reason `short_abandoned`,
    or an abandon after less than `HELPDESK_SHORT_ABANDON_SECONDS` of wait), calls outside opening hours
    (`out_of_opening_hours` or started while the calendar is closed) and internal or outbound calls. A
    voicemail is not an abandon. The share of each missed reason among the group's eligible calls is
    reported as stat `reason:<reason>`, in every cut (a reason absent from a group has no row).
    """
    relation, every = inbound_query(ctx)
    # the counts only: the wait quantiles of the shared query are K25's, and the costliest part of it
    aggregates = {name: every[name] for name in ("eligible", "eligible_abandoned")}
    missed = "eligible AND status IN ('abandoned', 'missed')"
    reasons = [
        reason
        for (reason,) in ctx.workspace.rows(
            f"SELECT DISTINCT missed_reason FROM ({relation}) r WHERE {missed} AND missed_reason IS NOT NULL"
            " ORDER BY 1"
        )
    ]
    by_reason = {
        f"reason_{n}": f"count(*) FILTER (WHERE {missed} AND missed_reason = {sql_literal(reason)})"
        for n, reason in enumerate(reasons)
    }
    groups = ctx.groups(relation, {**aggregates, **by_reason}, ctx.cuts_for(d))
    results = rate_results(ctx, d, groups, numerator="eligible_abandoned", denominator="eligible")
    for group in groups:  # each reason's share of the group's own eligible calls, in every cut
        total = group["eligible"] or 0
        for n, reason in enumerate(reasons):
            count = group[f"reason_{n}"] or 0
            if count:
                results.append(
                    ctx.result(
                        d,
                        group,
                        f"reason:{reason}",
                        100.0 * count / total if total else None,
                        numerator=count,
                        denominator=total,
                        count=total,
                    )
                )
    return results


@kpi("K31", unit="percent", reads=("call",), cuts=CALL_CUTS, better="higher")
def call_service_level(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Inbound calls answered within N seconds / inbound calls × 100 (N = `HELPDESK_CALL_SERVICE_LEVEL_SECONDS`,
    default 20: the classic 80/20 service level).

    Period: the call's start. The same calls count as for the abandon rate: short abandons, calls outside
    opening hours and non-inbound calls are left out.
    """
    groups = ctx.groups(*inbound_query(ctx), ctx.cuts_for(d))
    return rate_results(ctx, d, groups, numerator="eligible_in_time", denominator="eligible")

"""Workload KPIs: handle time, resolved tickets per agent, the agent leaderboard and volume against
capacity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from connector.kpis.catalogue import Basis, Context, Group, KpiDefinition, kpi
from connector.kpis.feedback import csat_query
from connector.kpis.figures import count_results, duration_aggregates, duration_results, rate_results
from connector.kpis.results import KpiResult
from connector.kpis.tickets import created_query, customer_contacts, first_response_query, resolved_query
from connector.kpis.workspace import NONE


def work_items() -> str:
    """Units of agent work with their handling seconds (`kind` call or ticket): answered calls (talk +
    hold + wrap-up, by start) and resolved tickets (recorded work time, else first reply → resolution in
    business time as an estimate: agents work while the desk is open). K06; the forecast's handle times."""
    return """
        SELECT started_at_p AS pidx, 'call' AS kind, agent, team, channel, source, priority, category,
               coalesce(talk_seconds, 0) + coalesce(hold_seconds, 0) + coalesce(wrap_up_seconds, 0) AS handle,
               false AS estimated
        FROM calls WHERE started_at_p IS NOT NULL AND status = 'answered'
        UNION ALL
        SELECT resolved_at_p, 'ticket', agent, team, channel, source, priority, category,
               coalesce(handle_seconds, greatest(resolved_at_b - first_reply_at_b, 0)),
               handle_seconds IS NULL
        FROM tickets WHERE resolved_at_p IS NOT NULL
            AND (handle_seconds IS NOT NULL OR first_reply_at IS NOT NULL)"""


def _handle_aggregates() -> dict[str, str]:
    return duration_aggregates("handle", bases=(Basis.CALENDAR,)) | {
        "estimated": "count(*) FILTER (WHERE estimated)"
    }


@kpi("K06", unit="seconds", reads=("call", "ticket"), better="lower")
def handle_time(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Time agents actually work per contact; mean, median and p90. Calls: talk + hold + wrap-up.
    Tickets: the agent work time the source records, else first agent touch → agent close in business
    time, counted as an estimate (stat `estimated_share`: % of the figures that are estimates).

    Period: the call's start, the ticket's final resolution. Unanswered calls are no work item.
    """
    groups = ctx.groups(work_items(), _handle_aggregates(), ctx.cuts_for(d))
    results = duration_results(ctx, d, groups, bases=(Basis.CALENDAR,))
    return results + rate_results(
        ctx,
        d,
        groups,
        numerator="estimated",
        denominator="calendar_n",
        stat="estimated_share",
        unit="percent",
    )


@kpi("K12", unit="count", reads=("ticket",), cuts=("overall", "agent", "team"), better="higher")
def tickets_resolved_per_agent(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Tickets resolved in the period (`count`), per agent and team; `started`: tickets whose first agent
    reply fell in the period; `efficiency` = resolved per hour / started per hour = resolved / started.

    Period: final resolution for `count`, first reply for `started`. Every agent and team with either in
    a period gets all three: a count of 0 where it resolved none, `started` 0 where it began none, and
    `efficiency` 0 when it started tickets but resolved none, null when it started none.
    """
    cuts = ctx.cuts_for(d)
    resolved = {(g.pidx, g.cut, g.cut_value): g["n"] or 0 for g in ctx.groups(*resolved_query(), cuts)}
    started = {(g.pidx, g.cut, g.cut_value): g["n"] or 0 for g in ctx.groups(*first_response_query(), cuts)}
    results = []
    for key in sorted(resolved.keys() | started.keys(), key=lambda k: (k[0], k[1], k[2] or "")):
        group = Group(*key, {"n": resolved.get(key, 0), "started": started.get(key, 0)})
        n, begun = group["n"], group["started"]
        results += [
            *count_results(ctx, d, [group]),
            *count_results(ctx, d, [group], n="started", stat="started"),
            ctx.result(
                d,
                group,
                "efficiency",
                n / begun if begun else None,
                unit="ratio",
                numerator=n,
                denominator=begun,
                count=begun,
            ),
        ]
    return results


@kpi("K29", unit="mixed", reads=("ticket", "call", "survey_response"), cuts=("agent",))
def agent_leaderboard(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Per agent: tickets resolved (`resolved`), tickets escalated (`escalated`), CSAT % positive
    (`csat`), median first response time (`frt_median`, seconds), median handle time overall
    (`handle_median`) and per category (`handle_median:<category>`), and utilisation = handling time /
    available time × 100 (`utilisation`; available: the desk's open hours in the period).

    Period: as in the underlying KPIs (resolution, creation, submission, reply, work item). Agents are
    identities across sources.
    """
    agent_only = ("agent",)
    frt = ctx.groups(*first_response_query(), agent_only)
    work = ctx.groups(work_items(), _handle_aggregates(), agent_only)
    figures: list[tuple[str, list[Group], str, Callable[[Group], tuple[float | None, int]]]] = [
        ("resolved", ctx.groups(*resolved_query(), agent_only), "count", lambda g: (g["n"], g["n"])),
        (
            "escalated",
            ctx.groups(*created_query(ctx), agent_only),
            "count",
            lambda g: (g["escalated"], g["n"]),
        ),
        (
            "csat",
            ctx.groups(*csat_query(ctx), agent_only),
            "percent",
            lambda g: (100.0 * g["num"] / g["den"] if g["den"] else None, g["den"]),
        ),
        ("frt_median", frt, "seconds", lambda g: ((g["calendar_quantiles"] or [None])[0], g["calendar_n"])),
        (
            "handle_median",
            work,
            "seconds",
            lambda g: ((g["calendar_quantiles"] or [None])[0], g["calendar_n"]),
        ),
    ]
    results: list[KpiResult] = []
    for stat, groups, unit, pick in figures:
        for group in groups:
            if group.cut == "agent":
                value, count = pick(group)
                results.append(ctx.result(d, group, stat, value, unit=unit, count=count))
    # one pass for both: handle time per agent and category (median, count, sum); an agent's handling is
    # the sum over its categories, `(none)` included
    per_category = ctx.workspace.rows(
        f"""SELECT pidx, agent, category, median(handle), count(handle), sum(handle) FROM ({work_items()})
            GROUP BY ALL ORDER BY ALL"""
    )
    handling: dict[tuple[int, str], float] = defaultdict(float)
    for pidx, agent, category, median, n, seconds in per_category:
        handling[pidx, agent] += seconds
        if category == NONE:
            continue
        results.append(
            ctx.result(
                d,
                Group(pidx, "agent", agent, {}),
                f"handle_median:{category}",
                median,
                unit="seconds",
                count=n,
            )
        )
    open_seconds = dict(ctx.workspace.rows("SELECT pidx, open_seconds FROM period_open"))
    for (pidx, agent), seconds in sorted(handling.items()):
        available = open_seconds.get(pidx) or 0
        results.append(
            ctx.result(
                d,
                Group(pidx, "agent", agent, {}),
                "utilisation",
                100.0 * seconds / available if available else None,
                unit="percent",
                numerator=seconds,
                denominator=available,
            )
        )
    return results


@kpi("K30", unit="contacts_per_agent_hour", reads=("ticket", "call", "agent"), cuts=("overall", "team"))
def volume_per_capacity(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Tickets created + inbound calls per agent-hour available, where agent-hours = active agents × the
    desk's open hours in the period; `above_capacity` is 1 when the value exceeds
    `HELPDESK_CAPACITY_CONTACTS_PER_AGENT_HOUR` (null when that is not set).

    Period: ticket creation, call start. Agents are active agent identities; per team, the agents whose
    teams include it.
    """
    contacts = ctx.groups(
        customer_contacts(),
        {"n": "count(*)"},
        ctx.cuts_for(d),
    )
    agents_total = ctx.workspace.rows("SELECT count(*) FROM agents WHERE active")[0][0]
    per_team: dict[str, int] = defaultdict(int)
    for (team,) in ctx.workspace.rows("SELECT unnest(teams) FROM agents WHERE active"):
        per_team[team] += 1
    open_hours = {
        pidx: seconds / 3600
        for pidx, seconds in ctx.workspace.rows("SELECT pidx, open_seconds FROM period_open")
    }
    limit = ctx.settings.capacity_contacts_per_agent_hour
    results = []
    for group in contacts:
        agents = agents_total if group.cut == "overall" else per_team.get(group.cut_value or "", 0)
        agent_hours = agents * open_hours.get(group.pidx, 0)
        n = group["n"] or 0
        value = n / agent_hours if agent_hours else None
        results.append(ctx.result(d, group, "value", value, numerator=n, denominator=agent_hours, count=n))
        flag = None if limit is None or value is None else float(value > limit)
        results.append(ctx.result(d, group, "above_capacity", flag, unit="flag", count=n))
    return results


@kpi("K32", unit="agents", reads=("call", "ticket", "agent"), cuts=("overall", "hour"), forecast=True)
def staffing_forecast(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Per coming day and local hour (cut `hour`, e.g. `09`): forecast inbound calls and tickets (`calls`,
    `tickets`), agents needed (`needed`: Erlang C for K31's service level on the calls + ticket workload),
    agents available (`available`: the active agents while the desk is open) and the shortfall (`short`);
    per day (cut `overall`) the same summed over the open hours, in agent-hours.

    Made by `helpdesk-kpi forecast` and `run` (with the `forecast` extra) from the store's history for
    the weeks ahead (see Forecast and staffing); computing past periods gives none.
    """
    return []

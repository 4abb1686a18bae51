"""Why and how customers come back: first-contact resolution, repeat contacts, contact reasons and social
media insights."""

from __future__ import annotations

from collections import defaultdict

from connector.kpis.catalogue import Context, Group, KpiDefinition, kpi
from connector.kpis.figures import count_results, in_period, rate_results
from connector.kpis.results import KpiResult
from connector.kpis.tickets import hour_of_week_label
from connector.kpis.workspace import NONE, naive_utc


@kpi(
    "K07",
    unit="percent",
    reads=("ticket", "message", "call"),
    better="higher",
    looks_ahead=("fcr_window_days",),
)
def first_contact_resolution(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Contacts resolved at the first contact / contacts resolved × 100. A ticket: resolved with exactly
    one public agent reply and never reopened. A call: an answered inbound call after which the same
    customer does not contact again (call or ticket) within `HELPDESK_FCR_WINDOW_DAYS` (default 7).

    Period: the ticket's final resolution, the call's start. Only tickets whose messages the source
    provides can be judged, and only calls from a known caller (contact or number); the others are left
    out. The channel cut shows tickets and calls apart.
    """
    window = ctx.settings.fcr_window_days * 86400
    contacts = f"""
        WITH replies AS (
            SELECT ticket_id, count(*) FILTER (WHERE author_type = 'agent' AND is_public) AS agent_replies
            FROM messages GROUP BY ticket_id
        ), events AS (
            SELECT contact, id, started_at_e AS at_e, coalesce(ended_at_e, started_at_e) AS done_e,
                   started_at_p AS pidx, status = 'answered' AS judged, agent, team, channel, source, priority, category
            FROM calls WHERE contact IS NOT NULL AND direction = 'inbound'
            UNION ALL
            SELECT contact, id, created_at_e, created_at_e, NULL, false, agent, team, channel, source, priority, category
            FROM tickets WHERE contact IS NOT NULL
        ), following AS (
            -- ties at the same second are broken by the id: deterministic
            SELECT *, lead(at_e) OVER (PARTITION BY contact ORDER BY at_e, id) AS next_e FROM events
        )
        SELECT x.resolved_at_p AS pidx, x.agent, x.team, x.channel, x.source, x.priority, x.category,
               r.agent_replies = 1 AND x.reopen_count = 0 AS resolved_first
        FROM tickets x JOIN replies r ON r.ticket_id = x.id WHERE x.resolved_at_p IS NOT NULL
        UNION ALL
        SELECT pidx, agent, team, channel, source, priority, category, next_e IS NULL OR next_e > done_e + {window}
        FROM following WHERE judged AND pidx IS NOT NULL"""
    groups = ctx.groups(
        contacts, {"num": "count(*) FILTER (WHERE resolved_first)", "den": "count(*)"}, ctx.cuts_for(d)
    )
    return rate_results(ctx, d, groups)


@kpi(
    "K08",
    unit="percent",
    reads=("ticket",),
    cuts=("overall", "category", "source", "channel"),
    better="lower",
    looks_ahead=("repeat_contact_window_days",),
)
def repeat_contact_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Customers who contact again about the same category within N days / customers who contacted
    × 100 (N = `HELPDESK_REPEAT_CONTACT_WINDOW_DAYS`, default 7).

    Period: the first ticket's creation; the repeat may fall after the period. Customers are contact
    identities; tickets without a contact or a category cannot be judged and are left out.
    """
    window = ctx.settings.repeat_contact_window_days * 86400
    relation = f"""
        SELECT x.created_at_p AS pidx, x.*,
            lead(x.created_at_e) OVER (PARTITION BY x.contact, x.category ORDER BY x.created_at_e, x.id)
                - x.created_at_e <= {window} AS repeated
        FROM tickets x WHERE x.contact IS NOT NULL AND x.category <> '{NONE}'"""
    groups = ctx.groups(
        f"SELECT * FROM ({relation}) WHERE pidx IS NOT NULL",
        {
            "num": "count(DISTINCT contact) FILTER (WHERE repeated)",
            "den": "count(DISTINCT contact)",
        },
        ctx.cuts_for(d),
    )
    return rate_results(ctx, d, groups)


RISING_TOP = 3
"""Topics flagged as rising per period at the most."""
RISING_MIN_CHANGE = 25.0
"""A rising topic's count grew by at least this many percent against the previous period…"""
RISING_MIN_TICKETS = 5
"""…and by at least this many tickets, so that 1 → 2 tickets (+100 %) is no trend."""


@kpi(
    "K09",
    unit="count",
    reads=("ticket", "call"),
    cuts=("overall", "category", "tag", "topic"),
    looks_back=True,
)
def contact_reasons(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Ticket count (`count`) and share of all tickets (`share`, %) per category, per tag and per topic
    found in the tickets' words (`topic`, once `helpdesk-kpi topics` has run), their rank (`rank`, 1 =
    most frequent: the dashboard shows the top N) and the change of the count against the previous
    period (`change`, %). Topics rising fastest are flagged: `rising` = 1, 2, 3 for the at most
    `RISING_TOP` topics whose count grew the most in percent, of those that grew by at least
    `RISING_MIN_CHANGE` % and `RISING_MIN_TICKETS` tickets (a topic new in the period has no change and
    is not flagged). Per topic, `calls` counts the calls about it, started in the period: a call's topic
    is its notes' (what the agent wrote), else its ticket's.

    Period: ticket creation. Always broken down by category, by tag and (with topics) by topic. The
    change is null when the previous period had no ticket of that reason.
    """
    cuts = [c for c in ("category", "tag", "topic") if c != "topic" or ctx.workspace.has_topics]
    counts = _reason_counts(ctx, "x.created_at_p IS NOT NULL", "x.created_at_p")
    previous_first = ctx.periods[0].previous(ctx.settings.zone)
    before = _reason_counts(
        ctx,
        f"x.created_at >= TIMESTAMP '{naive_utc(previous_first.start)}'"
        f" AND x.created_at < TIMESTAMP '{naive_utc(previous_first.end)}'",
        "-1",
    )
    totals: dict[int, int] = defaultdict(int)
    for (pidx, cut, _), n in counts.items():
        if cut == "category":
            totals[pidx] += n
    results = count_results(
        ctx, d, [Group(pidx, "overall", None, {"n": totals.get(pidx, 0)}) for pidx in range(len(ctx.periods))]
    )
    for cut in cuts:
        for pidx in range(len(ctx.periods)):
            ranked = sorted(
                ((value, n) for (p, c, value), n in counts.items() if p == pidx and c == cut),
                key=lambda item: (-item[1], item[0]),
            )
            rising: list[tuple[float, Group]] = []
            for rank, (value, n) in enumerate(ranked, start=1):
                group = Group(pidx, cut, value, {})
                earlier = (counts if pidx > 0 else before).get((pidx - 1, cut, value))
                results += _reason_figures(ctx, d, group, n, totals.get(pidx, 0), rank, len(ranked), earlier)
                if cut == "topic" and value != NONE and _rises(n, earlier):
                    assert earlier
                    rising.append((100.0 * (n - earlier) / earlier, group))
            rising.sort(key=lambda item: (-item[0], item[1].cut_value or ""))
            results += [
                ctx.result(d, group, "rising", place, unit="rank", numerator=change, count=len(rising))
                for place, (change, group) in enumerate(rising[:RISING_TOP], start=1)
            ]
    if "topic" in cuts:
        results += [
            ctx.result(d, Group(int(pidx), "topic", value, {}), "calls", n, count=n)
            for pidx, value, n in ctx.workspace.rows(
                f"""SELECT started_at_p, topic, count(*) FROM calls
                    WHERE started_at_p IS NOT NULL AND topic <> '{NONE}' GROUP BY ALL ORDER BY ALL"""
            )
        ]
    return results


def _rises(n: int, earlier: int | None) -> bool:
    """Grew by at least `RISING_MIN_CHANGE` % and `RISING_MIN_TICKETS` tickets from a known count."""
    if not earlier:
        return False
    return n - earlier >= RISING_MIN_TICKETS and 100.0 * (n - earlier) / earlier >= RISING_MIN_CHANGE


def _reason_figures(
    ctx: Context,
    d: KpiDefinition,
    group: Group,
    n: int,
    total: int,
    rank: int,
    ranked: int,
    earlier: int | None,
) -> list[KpiResult]:
    """One reason's count, share, rank of `ranked` and change against `earlier`."""
    return [
        ctx.result(d, group, "count", n, count=n),
        ctx.result(
            d,
            group,
            "share",
            100.0 * n / total if total else None,
            unit="percent",
            numerator=n,
            denominator=total,
            count=total,
        ),
        ctx.result(d, group, "rank", rank, unit="rank", count=ranked),
        ctx.result(
            d,
            group,
            "change",
            100.0 * (n - earlier) / earlier if earlier else None,
            unit="percent_change",
            numerator=n - (earlier or 0),
            denominator=earlier,
            count=n,
        ),
    ]


def _reason_counts(ctx: Context, where: str, pidx: str) -> dict[tuple[int, str, str], int]:
    rows = ctx.workspace.rows(
        f"""SELECT {pidx} AS pidx, 'category' AS cut, x.category AS value, count(*) FROM tickets x WHERE {where} GROUP BY ALL
            UNION ALL
            SELECT {pidx}, 'topic', x.topic, count(*) FROM tickets x WHERE {where} GROUP BY ALL
            UNION ALL
            SELECT pidx, 'tag', tag, count(*) FROM (
                SELECT {pidx} AS pidx, unnest(CAST(json_extract_string(CAST(x.tags AS JSON), '$[*]') AS VARCHAR[])) AS tag
                FROM tickets x WHERE ({where}) AND x.tags IS NOT NULL AND CAST(x.tags AS VARCHAR) <> '[]')
            GROUP BY ALL"""
    )
    return {(int(p), cut, value): int(n) for p, cut, value, n in rows}


@kpi("K28", unit="count", reads=("ticket", "survey_response"), cuts=("overall", "channel"))
def social_media_insights(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """On tickets from social channels (`social:<network>`): volume per network (`count`), the share
    positive and negative (`positive_share`, `negative_share`: a `positive`/`negative` tag, or the
    ticket's CSAT in the top-2 / bottom-2 box), the share technical (`technical_share`: tag or category
    `technical`), the peak hour of the week (`peak_hour_of_week`, 0 = Monday 00h, the cell's label in
    `cut_value` of cut `weekday_hour`) and recurring topics (`topic:<category>` counts).

    Period: ticket creation.
    """
    social = f"""
        SELECT x.*, list_contains(tags_list, 'positive') OR coalesce(s.top, false) AS positive,
               list_contains(tags_list, 'negative') OR coalesce(s.bottom, false) AS negative,
               list_contains(tags_list, 'technical') OR lower(x.category) = 'technical' AS technical
        FROM (SELECT t.*, coalesce(CAST(json_extract_string(CAST(t.tags AS JSON), '$[*]') AS VARCHAR[]), []) AS tags_list
              FROM ({in_period("tickets", "created_at", "x.channel LIKE 'social:%'")}) t) x
        LEFT JOIN (SELECT ticket_id, bool_or(score >= scale_max - 1) AS top, bool_or(score <= scale_min + 1) AS bottom
                   FROM surveys WHERE kind = 'csat' GROUP BY ticket_id) s ON s.ticket_id = x.id"""
    cuts = tuple(dict.fromkeys(("overall", "channel", *ctx.cuts_for(d))))
    groups = ctx.groups(
        social,
        {
            "n": "count(*)",
            "positive": "count(*) FILTER (WHERE positive)",
            "negative": "count(*) FILTER (WHERE negative)",
            "technical": "count(*) FILTER (WHERE technical)",
        },
        cuts,
    )
    results = count_results(ctx, d, groups)
    for share in ("positive", "negative", "technical"):
        results += rate_results(
            ctx, d, groups, numerator=share, denominator="n", stat=f"{share}_share", unit="percent"
        )
    peaks = ctx.workspace.rows(
        f"""SELECT pidx, created_at_how, count(*) AS n FROM ({social}) GROUP BY pidx, created_at_how
            QUALIFY row_number() OVER (PARTITION BY pidx ORDER BY n DESC, created_at_how) = 1"""
    )
    for pidx, hour_of_week, n in peaks:
        group = Group(pidx, "weekday_hour", hour_of_week_label(hour_of_week), {})
        results.append(ctx.result(d, group, "peak_hour_of_week", hour_of_week, unit="hour_of_week", count=n))
    topics = ctx.workspace.rows(
        f"""SELECT pidx, category, count(*) AS n FROM ({social}) WHERE category <> '{NONE}'
            GROUP BY pidx, category
            QUALIFY row_number() OVER (PARTITION BY pidx ORDER BY n DESC, category) <= 5 ORDER BY pidx, n DESC"""
    )
    for pidx, category, n in topics:
        results.append(ctx.result(d, Group(pidx, "overall", None, {}), f"topic:{category}", n, count=n))
    return results

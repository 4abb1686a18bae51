"""The HubSpot properties the connector writes, and the per-record values it computes for them.

Ticket-level figures go on HubSpot tickets; contact-level figures on every HubSpot contact of a contact
identity, so calls from Aircall and chats from LiveAgent reach the HubSpot contact they belong to through
the identity links. Values are computed from the calculator's workspace (the same business calendar,
identities and exclusions as the KPIs) and returned as the strings HubSpot stores.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from hubspot.crm.properties import PropertyCreate

from adapters.hubspot_api import OWN_WRITE_PROPERTY
from connector.kpis import open_workspace
from connector.kpis.feedback import NPS_SCALE, nps_group
from connector.kpis.scope import RecordScope
from connector.kpis.workspace import NONE, Workspace
from connector.periods import Grain, make_period
from connector.settings import Settings
from connector.store import Store

GROUP = "helpdesk_kpis"
GROUP_LABEL = "Helpdesk KPIs"
RECENT = timedelta(days=90)


@dataclass(frozen=True)
class PropertySpec:
    name: str
    label: str
    type: str
    """HubSpot property type: number, bool, enumeration, string."""
    field_type: str
    description: str
    options: tuple[str, ...] = ()

    def create_input(self) -> PropertyCreate:
        """The SDK's property-create input, in the `helpdesk_kpis` group."""
        labels = (
            [("Yes", "true"), ("No", "false")]
            if self.type == "bool"
            else [(o.capitalize(), o) for o in self.options]
        )
        options = [
            {"label": label, "value": value, "displayOrder": n, "hidden": False}
            for n, (label, value) in enumerate(labels)
        ]
        return PropertyCreate(
            name=self.name,
            label=self.label,
            type=self.type,
            field_type=self.field_type,
            group_name=GROUP,
            description=self.description,
            options=options or None,
        )


def _number(name: str, label: str, description: str) -> PropertySpec:
    return PropertySpec(name, label, "number", "number", description)


TICKET_PROPERTIES = (
    _number("helpdesk_frt_business_seconds", "First response (business hours, s)", "Creation to first agent reply, open hours only."),
    _number("helpdesk_frt_calendar_seconds", "First response (calendar, s)", "Creation to first agent reply."),
    _number("helpdesk_resolution_business_seconds", "Resolution time (business hours, s)", "Creation to final resolution, open hours only."),
    _number("helpdesk_resolution_calendar_seconds", "Resolution time (calendar, s)", "Creation to final resolution."),
    _number("helpdesk_handle_seconds", "Handle time (s)", "Agent work time, when the source records it."),
    PropertySpec("helpdesk_escalated", "Escalated", "bool", "booleancheckbox", "Moved to another team or tier."),
    PropertySpec("helpdesk_first_contact_resolved", "First-contact resolved", "bool", "booleancheckbox",
                 "Resolved with one agent reply and never reopened (tickets whose messages are known)."),
    PropertySpec("helpdesk_topic", "Contact topic", "string", "text",
                 "The recurring topic found in the tickets' own words (`helpdesk-kpi topics`): its three most "
                 "distinctive terms. Empty until topics are discovered, or when the ticket has no known word."),
    PropertySpec("helpdesk_figures_source", "Figures computed from", "string", "text",
                 "The source system whose records these figures come from."),
)  # fmt: skip

CONTACT_PROPERTIES = (
    _number("helpdesk_csat_mean", "CSAT mean (%)", "Mean CSAT answer as a percentage of its scale (all sources)."),
    _number("helpdesk_last_nps_score", "Last NPS score", "The contact's latest NPS answer (0-10)."),
    PropertySpec("helpdesk_last_nps_category", "Last NPS category", "enumeration", "select",
                 "Promoter (9-10), passive (7-8) or detractor (0-6).", ("promoter", "passive", "detractor")),
    _number("helpdesk_ces_mean", "CES mean", "Mean Customer Effort Score answer."),
    _number("helpdesk_tickets_90d", "Tickets in 90 days", "Tickets created in the last 90 days (all sources)."),
    _number("helpdesk_calls_90d", "Calls in 90 days", "Inbound calls in the last 90 days (all sources)."),
    _number("helpdesk_missed_calls_90d", "Missed calls in 90 days", "Inbound calls not answered in the last 90 days."),
    _number("helpdesk_open_tickets", "Open tickets", "Tickets not yet resolved (all sources)."),
    _number("helpdesk_clv", "Customer lifetime value", "Purchases of the last 12 months × gross margin × expected lifespan in years."),
)  # fmt: skip

WRITE_ID = PropertySpec(
    OWN_WRITE_PROPERTY,
    "Last written by the connector",
    "string",
    "text",
    "The id of the connector's write that last set this record's helpdesk properties: its next sync "
    "skips records that changed only because of that write.",
)
"""Sent with every write, never computed per record (see `adapters.base.OwnWrite`)."""

PROPERTIES = {"tickets": (*TICKET_PROPERTIES, WRITE_ID), "contacts": (*CONTACT_PROPERTIES, WRITE_ID)}


def _text(value: object) -> str | None:
    """HubSpot's string form: numbers without needless decimals, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")  # to the hundredth, no trailing zeros
        return "0" if text in ("", "-0") else text
    return str(value)


def record_values(
    store: Store,
    settings: Settings,
    *,
    now: datetime,
    source: str = "hubspot",
    scope: RecordScope | None = None,
) -> dict[str, dict[str, dict[str, str | None]]]:
    """object type → object id (the source's own id) → property → value, for every `source` ticket
    and contact in the store — or, with a `scope`, for its tickets and the contacts of its customer
    identities only, computed from a workspace of just their rows (a webhook's few seconds)."""
    # the workspace's one period only bounds its calendar (no figure here is per period): whole local
    # days, so the calendar's buckets can be 15 minutes instead of one (see `Workspace._calendar_table`)
    today = now.astimezone(settings.zone).date()
    period = make_period(
        today - timedelta(days=RECENT.days), today + timedelta(days=1), Grain.RANGE, settings.zone
    )
    workspace = open_workspace(store, settings, [period], now=now, scope=scope)
    try:
        return {
            "tickets": _ticket_values(workspace, source, scope.tickets if scope is not None else None),
            "contacts": _contact_values(
                workspace, store, settings, source, now, scope.contacts if scope is not None else None
            ),
        }
    finally:
        workspace.close()


def _ticket_values(
    workspace: Workspace, source: str, ids: frozenset[str] | None = None
) -> dict[str, dict[str, str | None]]:
    """Per `source` ticket (only those in `ids` when given)."""
    if ids is not None and not ids:
        return {}
    rows = workspace.rows(
        """WITH replies AS (
               SELECT ticket_id, count(*) FILTER (WHERE author_type = 'agent' AND is_public) AS n
               FROM messages GROUP BY ticket_id)
           SELECT t.id, t.first_reply_at_b - t.created_at_b, t.first_reply_at_e - t.created_at_e,
                  t.resolved_at_b - t.created_at_b, t.resolved_at_e - t.created_at_e, t.handle_seconds,
                  t.escalated, CASE WHEN r.n IS NOT NULL AND t.resolved_at IS NOT NULL
                                    THEN r.n = 1 AND t.reopen_count = 0 END,
                  nullif(CAST(t.topic AS VARCHAR), ?), t.source
           FROM tickets t LEFT JOIN replies r ON r.ticket_id = t.id WHERE t.source = ?""",
        [NONE, source],
    )
    names = [p.name for p in TICKET_PROPERTIES]
    return {
        str(row[0]).split(":", 1)[1]: dict(zip(names, (_text(v) for v in row[1:]), strict=True))
        for row in rows
        if ids is None or row[0] in ids
    }


def _contact_values(
    workspace: Workspace,
    store: Store,
    settings: Settings,
    source: str,
    now: datetime,
    identities: frozenset[str] | None = None,
) -> dict[str, dict[str, str | None]]:
    """Per contact identity, then copied onto each of its `source` contact records (only the records of
    `identities` when given)."""
    if identities is not None and not identities:
        return {}
    recent = (now - RECENT).replace(tzinfo=None)
    figures: dict[str, dict[str, object]] = defaultdict(dict)
    for contact, csat, ces in workspace.rows(
        """SELECT contact,
                  avg(100 * (score - scale_min) / (scale_max - scale_min)) FILTER (WHERE kind = 'csat'),
                  avg(score) FILTER (WHERE kind = 'ces')
           FROM surveys WHERE contact IS NOT NULL GROUP BY contact"""
    ):
        figures[contact] |= {"helpdesk_csat_mean": csat, "helpdesk_ces_mean": ces}
    # the last answer NPS counts (K15: on the 0–10 scale), in K15's groups
    for contact, score in workspace.rows(
        f"""SELECT contact, arg_max(score, submitted_at) FROM surveys
            WHERE kind = 'nps' AND {NPS_SCALE} AND contact IS NOT NULL GROUP BY contact"""  # noqa: S608 (a constant)
    ):
        figures[contact] |= {"helpdesk_last_nps_score": score, "helpdesk_last_nps_category": nps_group(score)}
    for contact, recent_tickets, still_open in workspace.rows(
        """SELECT contact, count(*) FILTER (WHERE created_at >= ?), count(*) FILTER (WHERE resolved_at IS NULL)
           FROM tickets WHERE contact IS NOT NULL GROUP BY contact""",
        [recent],
    ):
        figures[contact] |= {"helpdesk_tickets_90d": recent_tickets, "helpdesk_open_tickets": still_open}
    for contact, calls, missed in workspace.rows(
        """SELECT contact, count(*), count(*) FILTER (WHERE status <> 'answered') FROM calls
           WHERE contact IS NOT NULL AND direction = 'inbound' AND started_at >= ? GROUP BY contact""",
        [recent],
    ):
        figures[contact] |= {"helpdesk_calls_90d": calls, "helpdesk_missed_calls_90d": missed}
    margin, lifespan = settings.clv_gross_margin, settings.clv_lifespan_years
    if margin is not None and lifespan is not None:
        year_ago = (now - timedelta(days=365)).replace(tzinfo=None)
        for contact, spent in workspace.rows(
            """SELECT contact, sum(amount) FROM purchases WHERE contact IS NOT NULL AND currency = ?
               AND occurred_at >= ? GROUP BY contact""",
            [settings.currency, year_ago],
        ):
            figures[contact]["helpdesk_clv"] = float(spent) * margin * lifespan
    names = [p.name for p in CONTACT_PROPERTIES]
    defaults = {"helpdesk_tickets_90d": 0, "helpdesk_open_tickets": 0, "helpdesk_calls_90d": 0,
                "helpdesk_missed_calls_90d": 0}  # fmt: skip
    values: dict[str, dict[str, str | None]] = {}
    for record_id, identity in store.source_contacts(source, identities):
        found = {**defaults, **figures.get(identity, {})}
        values[record_id.split(":", 1)[1]] = {name: _text(found.get(name)) for name in names}
    return values

"""HubSpot CRM objects → common records. Pure functions of the object's properties and the reference data
read once per run (pipeline stages, owners, associations); no HTTP here.

Property values arrive as strings (HubSpot's v3 objects API); a value that does not parse becomes None
with a warning naming the object and property, so one odd record never stops a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.records import build, build_agent, build_contact, plain_text
from connector.schema import Agent, Call, Contact, Purchase, SurveyResponse, Ticket

log = logging.getLogger(__name__)
SOURCE = "hubspot"

CHANNELS = {
    "EMAIL": "email",
    "CHAT": "chat",
    "PHONE": "phone",
    "FORM": "form",
    "WEB": "web",
    "API": "api",
    "FACEBOOK_MESSENGER": "social:facebook",
    "WHATSAPP": "social:whatsapp",
    "INSTAGRAM": "social:instagram",
}
"""`source_type` values → channel; anything else is `other` (with one warning per value)."""

ACQUISITION_SOURCES = {
    "REFERRALS": "referral",
    "ORGANIC_SEARCH": "organic_search",
    "PAID_SEARCH": "paid_search",
    "DIRECT_TRAFFIC": "direct",
    "SOCIAL_MEDIA": "social",
    "PAID_SOCIAL": "paid_social",
    "EMAIL_MARKETING": "email",
    "OTHER_CAMPAIGNS": "campaign",
    "OFFLINE": "offline",
}
ANSWERED_CALL_STATUSES = {"COMPLETED"}
CALL_DIRECTIONS = {"INBOUND": "inbound", "OUTBOUND": "outbound"}
SURVEY_KINDS = {"NPS": "nps", "CSAT": "csat", "CES": "ces"}
PRIORITIES = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high", "URGENT": "urgent"}


@dataclass
class Reference:
    """What mapping needs beyond the object: stage states and labels, owners' teams, associations."""

    stages: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """stage id → (ticketState OPEN/CLOSED, stage label, pipeline label)."""
    owner_teams: dict[str, str] = field(default_factory=dict)
    """owner id → primary team name."""
    associations: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """object id → target type → associated ids."""
    warned: set[str] = field(default_factory=set)

    def warn_once(self, key: str, message: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            log.warning(message)

    def first_associated(self, object_id: str, target: str) -> str | None:
        ids = self.associations.get(object_id, {}).get(target) or []
        return f"{SOURCE}:{min(ids, key=id_order)}" if ids else None


def id_order(value: str) -> tuple[int, str]:
    """HubSpot ids in numeric order (non-numeric ids after none, by text)."""
    return (int(value), value) if value.isdigit() else (0, value)


def instant(value: str | None) -> datetime | None:
    """HubSpot datetimes: ISO 8601 (`2026-01-05T09:00:00.000Z`) or epoch milliseconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    return float(str(value))


def _safe(reference: Reference, what: str, object_id: str, convert: Any, value: Any) -> Any:
    try:
        return convert(value)
    except (ValueError, TypeError, InvalidOperation):
        reference.warn_once(
            f"{what}:{object_id}", f"hubspot {object_id}: {what} {value!r} does not parse; left empty"
        )
        return None


def owner_to_agent(owner: Any, *, archived: bool = False) -> Agent:
    teams = [team.name for team in (owner.teams or []) if getattr(team, "name", None)]
    name = " ".join(part for part in (owner.first_name, owner.last_name) if part) or None
    active = not (archived or owner.archived)
    return build_agent(SOURCE, str(owner.id), name, owner.email, teams, active=active, user_id=owner.user_id)


def primary_team(owner: Any) -> str | None:
    teams = owner.teams or []
    primary = [team for team in teams if getattr(team, "primary", False)] or teams
    return primary[0].name if primary else None


def _text_or_none(value: Any) -> str | None:
    """A rich-text property as plain text; None when it holds no words."""
    return (plain_text(str(value)) or None) if value else None


def ticket(obj: Any, reference: Reference, *, archived: bool = False) -> Ticket:
    p: Mapping[str, Any] = obj.properties
    object_id = str(obj.id)
    created = instant(p.get("createdate")) or obj.created_at
    stage_id = p.get("hs_pipeline_stage")
    state, stage_label, pipeline_label = reference.stages.get(str(stage_id), ("", None, None))
    if not state:
        reference.warn_once(
            f"stage:{stage_id}",
            f"hubspot: ticket stage {stage_id!r} is in no pipeline we read; taken as open",
        )
    closed = state == "CLOSED"
    closed_at = instant(p.get("closed_date")) if closed else None
    if closed and closed_at is None and p.get("time_to_close"):
        closed_at = created + timedelta(
            milliseconds=_safe(reference, "time_to_close", object_id, float, p["time_to_close"]) or 0
        )
    reply_ms = _safe(
        reference, "time_to_first_agent_reply", object_id, _number, p.get("time_to_first_agent_reply")
    )
    first_reply = created + timedelta(milliseconds=reply_ms) if reply_ms is not None else None
    source_type = p.get("source_type")
    channel = CHANNELS.get(str(source_type or "").upper())
    if channel is None:
        if source_type:
            reference.warn_once(
                f"channel:{source_type}",
                f"hubspot: unknown ticket source_type {source_type!r}; channel other",
            )
        channel = "other"
    priority_code = p.get("hs_ticket_priority")
    priority = PRIORITIES.get(str(priority_code or "").upper())
    if priority_code and priority is None:
        reference.warn_once(
            f"priority:{priority_code}", f"hubspot: unknown ticket priority {priority_code!r}; left empty"
        )
    category = str(p["hs_ticket_category"]).lower() if p.get("hs_ticket_category") else None
    owner = p.get("hubspot_owner_id")
    status = "closed" if closed else ("open" if first_reply is not None else "new")
    return build(
        SOURCE,
        Ticket,
        object_id,
        {
            "subject": p.get("subject"),
            "description": _text_or_none(p.get("content")),
            "channel": channel,
            "status": status,
            "priority": priority,
            "category": category,
            "contact_id": reference.first_associated(object_id, "contacts"),
            "agent_id": f"{SOURCE}:{owner}" if owner else None,
            "team": reference.owner_teams.get(str(owner)) if owner else None,
            "created_at": created,
            "first_agent_reply_at": first_reply,
            "resolved_at": closed_at,
            "closed_at": closed_at,
            "is_complaint": category == "complaint",
            "updated_at": instant(p.get("hs_lastmodifieddate")) or obj.updated_at,
            "archived": archived or bool(getattr(obj, "archived", False)),
            "pipeline": p.get("hs_pipeline"),
            "pipeline_label": pipeline_label,
            "pipeline_stage": stage_id,
            "pipeline_stage_label": stage_label,
            "source_type": source_type,
        },
    )


def call(obj: Any, reference: Reference, *, archived: bool = False) -> Call:
    p: Mapping[str, Any] = obj.properties
    object_id = str(obj.id)
    started = instant(p.get("hs_timestamp")) or obj.created_at
    direction = CALL_DIRECTIONS.get(str(p.get("hs_call_direction") or "").upper(), "internal")
    call_status = str(p.get("hs_call_status") or "").upper()
    answered = call_status in ANSWERED_CALL_STATUSES
    duration_ms = _safe(reference, "hs_call_duration", object_id, _number, p.get("hs_call_duration"))
    talk = duration_ms / 1000 if answered and duration_ms is not None else None
    owner = p.get("hubspot_owner_id")
    return build(
        SOURCE,
        Call,
        object_id,
        {
            "direction": direction,
            "status": "answered" if answered else "missed",
            "missed_reason": None if answered else (call_status.lower() or None),
            "started_at": started,
            "ended_at": started + timedelta(seconds=talk) if talk is not None else None,
            "talk_seconds": talk,
            "agent_id": f"{SOURCE}:{owner}" if owner else None,
            "team": reference.owner_teams.get(str(owner)) if owner else None,
            "contact_id": reference.first_associated(object_id, "contacts"),
            "ticket_id": reference.first_associated(object_id, "tickets"),
            "notes": _text_or_none(p.get("hs_call_body")),
            "updated_at": instant(p.get("hs_lastmodifieddate")) or obj.updated_at,
            "archived": archived or bool(getattr(obj, "archived", False)),
            "hs_call_status": p.get("hs_call_status"),
            "hs_call_disposition": p.get("hs_call_disposition"),
        },
    )


def contact(obj: Any, reference: Reference, *, churn_property: str, archived: bool = False) -> Contact:
    p: Mapping[str, Any] = obj.properties
    object_id = str(obj.id)
    since = instant(p.get("hs_lifecyclestage_customer_date"))
    churned = instant(p.get(churn_property)) if churn_property else None
    if churned is not None and (since is None or churned < since):
        reference.warn_once(
            f"churn:{object_id}",
            f"hubspot contact {object_id}: churn date without an earlier customer date; ignored",
        )
        churned = None
    phone = p.get("phone")
    source = p.get("hs_analytics_source")
    values = {
        "email": p.get("email") or None,
        "name": " ".join(part for part in (p.get("firstname"), p.get("lastname")) if part) or None,
        "company": p.get("company") or None,
        "created_at": instant(p.get("createdate")) or obj.created_at,
        "customer_since": since,
        "churned_at": churned,
        "acquisition_source": ACQUISITION_SOURCES.get(str(source), str(source).lower()) if source else None,
        "archived": archived or bool(getattr(obj, "archived", False)),
        "lifecyclestage": p.get("lifecyclestage"),
    }
    return build_contact(SOURCE, object_id, {**values, "phone": phone or None})


def merged_ids(obj: Any) -> list[str]:
    """Ids of the contacts HubSpot merged into this one."""
    value = obj.properties.get("hs_merged_object_ids")
    return [part for part in str(value).split(";") if part.strip()] if value else []


def feedback(obj: Any, reference: Reference) -> SurveyResponse | None:
    p: Mapping[str, Any] = obj.properties
    object_id = str(obj.id)
    kind = SURVEY_KINDS.get(str(p.get("hs_survey_type") or "").upper())
    score = _safe(reference, "hs_value", object_id, _number, p.get("hs_value"))
    if kind is None or score is None:
        reference.warn_once(
            f"survey:{p.get('hs_survey_type')}",
            f"hubspot: feedback of type {p.get('hs_survey_type')!r} without a usable value is skipped",
        )
        return None
    return build(
        SOURCE,
        SurveyResponse,
        object_id,
        {
            "kind": kind,
            "score": score,
            "submitted_at": instant(p.get("hs_submission_timestamp")) or obj.created_at,
            "contact_id": reference.first_associated(object_id, "contacts"),
            "ticket_id": reference.first_associated(object_id, "tickets"),
            "comment": p.get("hs_content") or None,
            "channel": p.get("hs_survey_channel"),
            "response_group": p.get("hs_response_group"),
        },
    )


def deal(obj: Any, reference: Reference, *, won_stages: set[str], currency: str) -> Purchase | None:
    p: Mapping[str, Any] = obj.properties
    object_id = str(obj.id)
    if str(p.get("dealstage")) not in won_stages:
        return None
    amount = _safe(reference, "amount", object_id, Decimal, p.get("amount"))
    occurred = instant(p.get("closedate"))
    if amount is None or occurred is None:
        return None
    return build(
        SOURCE,
        Purchase,
        object_id,
        {
            "contact_id": reference.first_associated(object_id, "contacts"),
            "amount": amount,
            "currency": p.get("deal_currency_code") or currency,
            "occurred_at": occurred,
            "dealname": p.get("dealname"),
        },
    )

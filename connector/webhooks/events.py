"""Webhook bodies → events to record: which object of which vendor changed, under the vendor's event id
(so a redelivery is recorded once). Anything else is a `WebhookPayloadError` with a short reason (400).

HubSpot (NOTES.md): a JSON array of up to 100 events {eventId, subscriptionId, portalId, appId, occurredAt
(ms), subscriptionType (`ticket.propertyChange`, `contact.creation`, …), attemptNumber, objectId, …}.
Aircall (NOTES.md): `{resource, event, timestamp, token, data}`; it sends no event id, so one is made of the
event, the object's id and the timestamp (a redelivery repeats all three) — an assumption, listed in the
README. LiveAgent: the body the README's Rule sends, `{"event": …, "ticket_id": …, "changed_at": …}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.errors import WebhookPayloadError

MAX_EVENTS = 100
"""HubSpot batches at most 100 events in one request."""
HUBSPOT_OBJECTS = {"contact": "contacts", "ticket": "tickets", "call": "calls", "deal": "deals",
                   "feedback_submission": "feedback_submissions"}  # fmt: skip
"""Legacy `subscriptionType` prefixes the connector follows (`ticket.propertyChange`) → the CRM object
type to re-read."""
HUBSPOT_OBJECT_TYPE_IDS = {"0-1": "contacts", "0-5": "tickets", "0-48": "calls", "0-3": "deals",
                           "0-19": "feedback_submissions"}  # fmt: skip
"""Generic subscriptions (`object.propertyChange`) name the object by `objectTypeId` (HubSpot changelog,
"Public Beta: Generic Webhook Subscriptions", 2024-08; the ids from HubSpot's object API guide)."""
AIRCALL_EVENTS = {"call.created", "call.answered", "call.hungup", "call.ended", "call.tagged",
                  "call.commented", "call.voicemail_left"}  # fmt: skip
LIVEAGENT_EVENTS = {"ticket_created", "ticket_changed", "message_added", "call_started"}


@dataclass(frozen=True)
class WebhookEvent:
    vendor: str
    event_id: str
    kind: str
    object_type: str
    object_id: str
    occurred_at: datetime | None
    payload: dict[str, Any]


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise WebhookPayloadError("the body is not UTF-8") from None
    except (json.JSONDecodeError, RecursionError):
        raise WebhookPayloadError("the body is not JSON") from None


def _no_constant(name: str) -> Any:
    raise WebhookPayloadError(f"{name} is not a JSON value")


def _identifier(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise WebhookPayloadError(f"{what} is missing or not an id")
    text = str(value).strip()
    if len(text) > 64 or not text.isprintable():
        raise WebhookPayloadError(f"{what} is not an id")
    return text


def _millis(value: Any, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WebhookPayloadError(f"{what} is not a time in milliseconds")
    try:
        moment = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookPayloadError(f"{what} is not a time in milliseconds") from None
    if not 1970 < moment.year < 2100:
        raise WebhookPayloadError(f"{what} is out of range")
    return moment


def parse_hubspot(payload: Any) -> list[WebhookEvent]:
    if not isinstance(payload, list) or not payload:
        raise WebhookPayloadError("expected a JSON array of events")
    if len(payload) > MAX_EVENTS:
        raise WebhookPayloadError(f"more than {MAX_EVENTS} events in one request")
    events, unknown = [], []
    for n, item in enumerate(payload, start=1):
        if not isinstance(item, dict):
            raise WebhookPayloadError(f"event {n} is not an object")
        kind = item.get("subscriptionType")
        if not isinstance(kind, str) or "." not in kind:
            raise WebhookPayloadError(f"event {n}: subscriptionType is missing")
        object_type = _hubspot_object_type(kind, item.get("objectTypeId"))
        portal = _identifier(item.get("portalId"), f"event {n}: portalId")
        event_id = f"{portal}:{_identifier(item.get('eventId'), f'event {n}: eventId')}"
        object_id = _identifier(item.get("objectId"), f"event {n}: objectId")
        occurred = _millis(item.get("occurredAt"), f"event {n}: occurredAt")
        if kind.endswith(".merge"):
            _merge_ids(item, f"event {n}")
        if object_type is None:  # an object the connector does not follow: left out, the rest recorded
            unknown.append(kind)
            continue
        events.append(WebhookEvent("hubspot", event_id, kind, object_type, object_id, occurred, item))
    if not events:
        raise WebhookPayloadError(f"unknown event {unknown[0][:60]!r}")
    return events


def hubspot_merges(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(merged-away id, surviving id) pairs of a HubSpot merge event; none for another event. A merge
    names the primary object (`primaryObjectId`), the ones merged into it (`mergedObjectIds`) and, when
    the merge made a new record — as a ticket merge does — that record (`newObjectId`), which then
    survives the primary too (HubSpot developer changelog, "New subscription types for Webhooks";
    knowledge base, "Merge tickets")."""
    kind = event.get("subscriptionType")
    if not isinstance(kind, str) or not kind.endswith(".merge"):
        return []
    primary, merged, new = _merge_ids(event, "merge event")
    survivor = new or primary
    away = [*merged, *([primary] if survivor != primary else [])]
    return [(object_id, survivor) for object_id in dict.fromkeys(away) if object_id != survivor]


def _merge_ids(event: dict[str, Any], what: str) -> tuple[str, list[str], str | None]:
    """A merge event's primary, merged-away and new object ids, checked."""
    primary = _identifier(event.get("primaryObjectId"), f"{what}: primaryObjectId")
    merged = event.get("mergedObjectIds")
    if not isinstance(merged, list) or not merged:
        raise WebhookPayloadError(f"{what}: mergedObjectIds is not a list of ids")
    new = event.get("newObjectId")
    return (
        primary,
        [_identifier(value, f"{what}: mergedObjectIds") for value in merged],
        None if new is None else _identifier(new, f"{what}: newObjectId"),
    )


def _hubspot_object_type(kind: str, type_id: Any) -> str | None:
    prefix = kind.split(".", 1)[0]
    if prefix == "object":
        return HUBSPOT_OBJECT_TYPE_IDS.get(str(type_id)) if isinstance(type_id, str) else None
    return HUBSPOT_OBJECTS.get(prefix)


def _event_kind(payload: Any, known: set[str]) -> str:
    """The `event` of a one-event JSON object body, when it is one the connector follows."""
    if not isinstance(payload, dict):
        raise WebhookPayloadError("expected a JSON object")
    kind = payload.get("event")
    if kind not in known:
        raise WebhookPayloadError(f"unknown event {str(kind)[:60]!r}")
    return str(kind)


def parse_aircall(payload: Any) -> list[WebhookEvent]:
    kind = _event_kind(payload, AIRCALL_EVENTS)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise WebhookPayloadError("data is missing")
    call_id = _identifier(data.get("id"), "data.id")
    stamp = payload.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int):
        raise WebhookPayloadError("timestamp is not a UNIX time")
    occurred = _millis(stamp * 1000, "timestamp")
    safe = {k: v for k, v in payload.items() if k != "token"}  # the token is a secret: never stored
    return [WebhookEvent("aircall", f"{kind}:{call_id}:{stamp}", kind, "calls", call_id, occurred, safe)]


def parse_liveagent(payload: Any) -> list[WebhookEvent]:
    kind = _event_kind(payload, LIVEAGENT_EVENTS)
    ticket_id = _identifier(payload.get("ticket_id"), "ticket_id")
    changed = payload.get("changed_at")
    if not isinstance(changed, str) or len(changed) > 40:
        raise WebhookPayloadError("changed_at is missing")
    return [
        WebhookEvent("liveagent", f"{kind}:{ticket_id}:{changed}", kind, "tickets", ticket_id, None, payload)
    ]


PARSERS = {"hubspot": parse_hubspot, "aircall": parse_aircall, "liveagent": parse_liveagent}

"""Mappings checked on payloads written from the vendors' sources, not from the sandbox: a LiveAgent
Twitter ticket whose conversation holds a transfer, a resolution, an internal note, a tag event and a
quoted tweet (docs/Ticket.md, MessageGroup.md, Message.md, TicketHistory.md, CallListItem.md of LiveAgent's
generated client); an abandoned and an answered Aircall call with the keys Airbyte's schema lists; a HubSpot
ticket and call as the CRM search API returns them, deserialized through the SDK's models. Each payload is
first checked against the provenance table, so it cannot drift from the sources either."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from hubspot.crm.objects import CollectionResponseWithTotalSimplePublicObjectForwardPaging
from hubspot.crm.pipelines import CollectionResponsePipelineNoPaging

from adapters import aircall, hubspot_mapping, liveagent
from adapters.base import SyncPlan
from connector.errors import FatalAPIError
from connector.settings import load_settings
from tests.contract_tables import problems
from tests.test_mappings import sdk


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-02T{hms}+00:00")


def la_group(gid: str, kind: str, user: str, hms: str, *messages: tuple[str, str]) -> dict[str, Any]:
    """A message group as MessageGroup.md describes one; `messages` are (id, message type)."""
    stamp = f"2026-03-02 {hms}"
    return {
        "id": gid, "parent_id": None, "userid": user, "user_full_name": None, "type": kind, "status": "V",
        "datecreated": stamp, "datefinished": stamp, "sort_order": 0, "mail_msg_id": None, "pop3_msg_id": None,
        "messages": [
            {"id": mid, "userid": user, "type": mtype, "datecreated": stamp, "format": "T", "message": "…",
             "visibility": None}
            for mid, mtype in messages
        ],
    }  # fmt: skip


LA_TICKET = {
    "id": "8f3a2b1c", "code": "QWE-482-XYZ", "owner_contactid": "c7d1", "owner_email": "jan@example.org",
    "owner_name": "Jan de Vries", "departmentid": "d-social", "agentid": "ag-b", "status": "R",
    "tags": ["t-complaint", "t-gone"], "channel_type": "T", "date_created": "2026-03-02 09:00:00",
    "date_changed": "2026-03-02 15:00:05", "date_resolved": "2026-03-02 15:00:00", "date_due": None,
    "date_deleted": None, "last_activity": "2026-03-02 15:00:00", "last_activity_public": "2026-03-02 10:20:00",
    "public_access_urlcode": "k2j4", "subject": "My order never arrived", "custom_fields": [],
}  # fmt: skip
LA_GROUPS = [
    la_group("g1", "S", "sys", "09:00:00", ("m1", "U")),  # start info: the visitor's user agent
    la_group("g2", "W", "c7d1", "09:00:00", ("m2", "M")),  # the customer's tweet
    la_group("g3", "I", "ag-a", "09:05:00", ("m3", "N")),  # internal note by agent A
    la_group("g4", "T", "ag-a", "09:10:00", ("m4", "R")),  # A transfers the ticket to B (Social)
    la_group("g5", "G", "ag-b", "09:12:00", ("m5", "G")),  # B tags it
    la_group("g6", "W", "ag-b", "09:30:00", ("m6", "Q"), ("m7", "M")),  # B replies, quoting the tweet
    la_group("g7", "W", "c7d1", "10:00:00", ("m8", "M")),
    la_group("g8", "W", "ag-b", "10:20:00", ("m9", "M"), ("m10", "F")),  # a reply with a file
    la_group("g9", "R", "ag-b", "15:00:00", ("m11", "S")),  # resolved
]
LA_HISTORY = [
    {"id": "h1", "conversation_id": "8f3a2b1c", "conversation_code": "QWE-482-XYZ", "department_id": "d-support",
     "department_name": "Support", "agent_id": "ag-a", "status": "N", "date_from": "2026-03-02 09:00:00",
     "date_to": "2026-03-02 09:10:00", "elapsed_time": "600"},
    {"id": "h2", "conversation_id": "8f3a2b1c", "conversation_code": "QWE-482-XYZ", "department_id": "d-social",
     "department_name": "Social", "agent_id": "ag-b", "status": "R", "date_from": "2026-03-02 09:10:00",
     "date_to": "2026-03-02 15:00:00", "elapsed_time": "21000"},
]  # fmt: skip
LA_SLA = {
    "conversationid": "8f3a2b1c", "sla_level_id": "s1", "sla_level_name": "Standard",
    "first_answer": "2026-03-02 09:10:00",  # LiveAgent's own figure; the messages decide
    "first_assign": "2026-03-02 09:00:00", "first_resolve": "2026-03-02 15:00:00", "next_answer": None,
}  # fmt: skip
LA_TAGS = {"t-complaint": "complaint"}


def test_the_liveagent_payloads_follow_the_provenance_table() -> None:
    assert problems("liveagent", "ticket", LA_TICKET) == []
    assert [p for g in LA_GROUPS for p in problems("liveagent", "message_group", g)] == []
    assert [p for row in LA_HISTORY for p in problems("liveagent", "ticket_history", row)] == []
    assert problems("liveagent", "ticket_sla", LA_SLA) == []


def _la_ticket(groups: list[dict[str, Any]], history: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    warnings: list[str] = []
    messages = liveagent.map_messages("8f3a2b1c", groups, {"ag-a", "ag-b"}, lambda k, m: warnings.append(m))
    ticket = liveagent.map_ticket(
        LA_TICKET, messages=messages, sla=LA_SLA, history=history,
        departments={"d-support": "Support", "d-social": "Social"}, warn=lambda k, m: warnings.append(m),
        tags=LA_TAGS,
    )  # fmt: skip
    assert warnings == []
    return ticket, messages


def test_a_liveagent_twitter_ticket_with_a_transfer_a_note_a_tag_and_a_resolution() -> None:
    ticket, messages = _la_ticket(LA_GROUPS, LA_HISTORY)
    by_id = {m.source_id: m for m in messages}
    replies = [m for m in messages if m.author_type == "agent" and m.is_public]
    assert [m.source_id for m in replies] == ["m7", "m9"]  # two responses; the quote and the file are none
    assert ticket.first_agent_reply_at == at("09:30:00")  # not the transfer at 09:10, not the note at 09:05
    assert (by_id["m3"].author_type, by_id["m3"].is_public) == ("agent", False)  # the internal note
    assert {by_id[m].author_type for m in ("m1", "m4", "m5", "m6", "m10", "m11")} == {"system"}
    assert [m.source_id for m in messages if m.author_type == "customer"] == ["m2", "m8"]
    assert {m.channel for m in messages if m.raw["group_type"] == "W"} == {"social:twitter"}  # W is Twitter
    assert by_id["m4"].channel is None  # T is a transfer, not Twitter
    assert ticket.channel == "social:twitter" and ticket.status == "resolved"
    assert ticket.transfer_count == 1 and ticket.escalated and ticket.escalation_at == at("09:10:00")
    assert ticket.team == "Social" and ticket.agent_id == "liveagent:ag-b"
    assert ticket.tags == ["complaint", "t-gone"] and ticket.is_complaint  # an unknown tag id is kept
    assert ticket.resolved_at == ticket.first_resolved_at == at("15:00:00") and ticket.reopen_count == 0


def test_a_liveagent_ticket_whose_only_agent_entries_are_a_transfer_and_a_note_is_unanswered() -> None:
    ticket, messages = _la_ticket(LA_GROUPS[:4], LA_HISTORY)
    assert ticket.first_agent_reply_at is None  # even though the SLA's first_answer is set
    assert not [m for m in messages if m.author_type == "agent" and m.is_public]


LA_CALL = {
    "id": "c-5f1", "ticketId": "8f3a2b1c", "type": "I", "fromNumber": "+420 777 123 456", "fromName": "Jan",
    "toNumber": "+31 20 123 4567", "toName": None, "viaNumber": "+31 20 123 4567",
    "dateCreated": "2026-03-02 08:55:00", "dateAnswered": "2026-03-02 08:55:20",
    "dateFinished": "2026-03-02 09:01:00", "callDuration": "340",
}  # fmt: skip


@responses.activate
def test_a_liveagent_call_and_agents_teams_from_their_departments() -> None:
    assert problems("liveagent", "call", LA_CALL) == []
    call = liveagent.map_call(LA_CALL)
    assert (call.started_at, call.answered_at, call.ended_at) == (
        at("08:55:00"),
        at("08:55:20"),
        at("09:01:00"),
    )
    assert call.wait_seconds == 20 and call.talk_seconds == 340 and call.status == "answered"
    assert call.ticket_id == "liveagent:8f3a2b1c" and call.phone_number == "+420777123456"
    assert call.direction == "inbound"

    departments = [
        {"department_id": "d-support", "name": "Support", "agent_count": 2, "online_status": "N",
         "agent_ids": ["ag-a", "ag-b"], "mailaccount_id": None},
        {"department_id": "d-social", "name": "Social", "agent_count": 1, "online_status": "F",
         "agent_ids": ["ag-b"], "mailaccount_id": None},
    ]  # fmt: skip
    agent = {"id": "ag-b", "name": "Bea", "email": "bea@example.com", "role": "agent", "avatar_url": None,
             "online_status": "N", "status": "A", "gender": "F"}  # fmt: skip
    assert [p for d in departments for p in problems("liveagent", "department", d)] == []
    assert problems("liveagent", "agent", agent) == []
    responses.get("https://acme.ladesk.com/api/v3/departments", json=departments)
    settings = load_settings(
        sources="liveagent", liveagent={"base_url": "https://acme.ladesk.com/api/v3", "api_key": "k"}
    )
    plan = SyncPlan(now=at("12:00:00"), backfill_start=at("00:00:00"))
    adapter = liveagent.LiveAgentAdapter(settings.liveagent, plan)
    mapped = liveagent.map_agent(agent, adapter.agent_teams())
    assert mapped.teams == ["Support", "Social"] and mapped.active


# --- Aircall ---------------------------------------------------------------------------------------

AIRCALL_ABANDONED = {
    "id": 1234567, "direct_link": "https://api.aircall.io/v1/calls/1234567", "direction": "inbound",
    "status": "done", "missed_call_reason": "short_abandoned", "started_at": 1772442000, "answered_at": None,
    "ended_at": 1772442006, "duration": 6, "raw_digits": "+33 6 12 34 56 78", "user": None, "contact": None,
    "archived": False, "assigned_to": None, "transferred_to": None, "tags": [], "comments": [],
    "teams": [{"id": 12, "name": "Support FR", "direct_link": "https://api.aircall.io/v1/teams/12"}],
    "number": {"id": 3, "name": "Paris line", "digits": "+33 1 00 00 00 00", "country": "FR",
               "time_zone": "Europe/Paris", "direct_link": "https://api.aircall.io/v1/numbers/3"},
    "voicemail": None, "recording": None, "asset": None, "cost": "0.0", "country_code_a2": "FR",
    "pricing_type": None,
}  # fmt: skip


def test_aircall_calls_from_airbytes_keys() -> None:
    assert problems("aircall", "calls", AIRCALL_ABANDONED) == []
    abandoned = aircall.map_call(AIRCALL_ABANDONED, {})
    assert (abandoned.status, abandoned.missed_reason, abandoned.wait_seconds) == (
        "abandoned",
        "short_abandoned",
        6,
    )
    assert abandoned.phone_number == "+33612345678" and abandoned.team == "Support FR"
    answered = AIRCALL_ABANDONED | {
        "id": 1234568, "direction": "outbound", "missed_call_reason": None, "answered_at": 1772442010,
        "ended_at": 1772442130, "duration": 130, "raw_digits": "+33 6 98 76 54 32", "teams": [],
        "user": {"id": 77, "name": "Léa", "email": "lea@example.com"},
        "contact": {"id": 9, "first_name": "Paul", "last_name": "Martin", "company_name": None,
                    "phone_numbers": [{"id": 1, "label": "Work", "value": "+33 6 11 11 11 11"}], "emails": []},
        "pricing_type": "pay_as_you_go",
    }  # fmt: skip
    assert problems("aircall", "calls", answered) == []
    mapped = aircall.map_call(answered, {"77": "Sales FR"})
    assert (mapped.status, mapped.direction, mapped.talk_seconds) == ("answered", "outbound", 120)
    assert mapped.phone_number == "+33698765432"  # raw_digits (as dialled) before the contact's number
    assert mapped.team == "Sales FR" and mapped.agent_id == "aircall:77" and mapped.contact_id == "aircall:9"


# --- HubSpot ---------------------------------------------------------------------------------------

PIPELINES = {
    "results": [
        {"id": "0", "label": "Support Pipeline", "displayOrder": 0, "archived": False,
         "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
         "stages": [
             {"id": "1", "label": "New", "displayOrder": 0, "metadata": {"ticketState": "OPEN"},
              "archived": False, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
              "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"},
             {"id": "4", "label": "Closed", "displayOrder": 3, "metadata": {"ticketState": "CLOSED"},
              "archived": False, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
              "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"},
         ]},
    ]
}  # fmt: skip
HUBSPOT_TICKETS: dict[str, Any] = {
    "total": 1,
    "results": [
        {"id": "512", "archived": False, "createdAt": "2026-03-02T09:00:00.000Z", "updatedAt": "2026-03-03T08:00:00.000Z",
         "properties": {
             "subject": "Invoice twice", "hs_pipeline": "0", "hs_pipeline_stage": "4", "source_type": "EMAIL",
             "hs_ticket_priority": "HIGH", "hs_ticket_category": "BILLING_ISSUE",
             "createdate": "2026-03-02T09:00:00.000Z", "hs_lastmodifieddate": "2026-03-03T08:00:00.000Z",
             "closed_date": "2026-03-03T07:00:00.000Z", "time_to_close": "79200000",
             "time_to_first_agent_reply": "5400000", "hubspot_owner_id": "101", "hs_object_id": "512"}},
    ],
}  # fmt: skip


def test_a_hubspot_ticket_as_search_returns_it() -> None:
    properties = HUBSPOT_TICKETS["results"][0]["properties"]
    assert problems("hubspot", "tickets", properties) == []
    reference = hubspot_mapping.Reference()
    for pipeline in sdk(CollectionResponsePipelineNoPaging, PIPELINES).results:
        for stage in pipeline.stages:
            reference.stages[stage.id] = (stage.metadata["ticketState"], stage.label, pipeline.label)
    reference.owner_teams["101"] = "Billing"
    reference.associations["512"] = {"contacts": ["9001", "77"]}
    page = sdk(CollectionResponseWithTotalSimplePublicObjectForwardPaging, HUBSPOT_TICKETS)
    ticket = hubspot_mapping.ticket(page.results[0], reference)
    assert (ticket.status, ticket.channel, ticket.priority, ticket.category) == (
        "closed",
        "email",
        "high",
        "billing_issue",
    )
    created = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert ticket.first_agent_reply_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # + 5,400,000 ms
    assert (
        ticket.resolved_at == ticket.closed_at == datetime(2026, 3, 3, 7, tzinfo=UTC)
        and ticket.created_at == created
    )
    assert ticket.agent_id == "hubspot:101" and ticket.team == "Billing"
    assert ticket.contact_id == "hubspot:77"  # the lowest associated id, numerically


def test_liveagent_timestamps_in_another_form_are_read_or_refused_by_name() -> None:
    iso = liveagent.map_call(LA_CALL | {"dateCreated": "2026-03-02T09:55:00+01:00", "dateAnswered": None})
    assert iso.started_at == at("08:55:00")
    with pytest.raises(FatalAPIError, match="'02/03/2026 08:55'"):
        liveagent.map_call(LA_CALL | {"dateCreated": "02/03/2026 08:55"})
    with pytest.raises(FatalAPIError, match="'2026-03-02T08:55:00'"):  # no offset: which zone?
        liveagent.map_call(LA_CALL | {"dateCreated": "2026-03-02T08:55:00"})

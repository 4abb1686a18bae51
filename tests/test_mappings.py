"""Vendor payloads → common records, from the recorded cassettes and hand-made edge cases; and the
`requests`-based adapters' streams replayed through `responses` (429 → 200, 5xx → 200, empty pages,
a repeated cursor)."""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import yaml
from hubspot.crm.objects import CollectionResponseWithTotalSimplePublicObjectForwardPaging
from hubspot.crm.pipelines import CollectionResponsePipelineNoPaging

from adapters import aircall, hubspot_mapping, liveagent
from adapters.base import SyncPlan
from adapters.http import RetryPolicy
from connector.errors import PaginationLoopError, RecordValidationError, RetryableAPIError
from connector.settings import load_settings

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def body(vendor: str, name: str, n: int = 0) -> Any:
    answers = yaml.safe_load((CASSETTES / vendor / f"{name}.yaml").read_text())["responses"]
    return json.loads(answers[n]["response"]["body"])


def sdk(model: type, payload: Any) -> Any:
    """Deserialize a payload through the SDK's generated model, as the adapter receives it."""
    import importlib

    package = importlib.import_module(model.__module__.rsplit(".models", 1)[0])

    class Raw:
        data = json.dumps(payload)

    return package.ApiClient().deserialize(Raw(), model.__name__)


# --- Aircall ---------------------------------------------------------------------------------------


def test_aircall_calls_from_the_cassette() -> None:
    calls = body("aircall", "calls")["calls"]
    mapped = [aircall.map_call(c, {"501": "Tier 1"}) for c in calls]
    first = mapped[0]
    assert first.id == "aircall:900000"
    assert first.status == "answered" and first.direction == "inbound"
    assert first.wait_seconds == 1761999174 - 1761999127
    assert first.talk_seconds == 1761999237 - 1761999174
    assert first.agent_id == "aircall:501" and first.team == calls[0]["teams"][0]["name"] != "Tier 1"
    assert first.phone_number == "+31600000011" and calls[0]["raw_digits"] == "+31 6 00 00 00 11"
    untargeted = aircall.map_call(calls[0] | {"teams": []}, {"501": "Tier 1"})
    assert untargeted.team == "Tier 1"  # no team on the call: the answering user's
    assert first.contact_id == "aircall:700011"
    assert first.phone_number == "+31600000011"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"answered_at": None, "missed_call_reason": "short_abandoned"}, "abandoned"),
        ({"answered_at": None, "missed_call_reason": "abandoned_in_ivr"}, "abandoned"),
        ({"answered_at": None, "missed_call_reason": "no_available_agent"}, "missed"),
        ({"answered_at": None, "missed_call_reason": "a_reason_aircall_adds_later"}, "missed"),
        ({"answered_at": None, "missed_call_reason": None, "voicemail": "https://x/v.mp3"}, "voicemail"),
    ],
)
def test_aircall_unanswered_calls(changes: dict[str, Any], status: str) -> None:
    item = copy.deepcopy(body("aircall", "calls")["calls"][0]) | changes
    call = aircall.map_call(item, {})
    assert call.status == status
    assert call.missed_reason == changes.get("missed_call_reason")
    assert call.talk_seconds is None
    assert call.wait_seconds == item["ended_at"] - item["started_at"]  # waited until hanging up


def test_aircall_optional_fields_missing_and_unknown_direction() -> None:
    item = {"id": 1, "direction": "sideways", "started_at": 1761999127, "ended_at": 1761999130}
    call = aircall.map_call(item, {})
    assert (call.direction, call.status, call.agent_id, call.contact_id) == ("internal", "missed", None, None)
    with pytest.raises(RecordValidationError, match="aircall call 2"):
        aircall.map_call({"id": 2, "direction": "inbound"}, {})  # no start: not a call we can count


def test_aircall_call_notes_are_its_comments_text_oldest_first() -> None:
    item = {"id": 3, "direction": "inbound", "started_at": 1761999127, "ended_at": 1761999300}
    comments = [
        {"id": 2, "content": "Refund promised <b>today</b>", "posted_at": 1761999400},
        {"id": 1, "content": "Customer called about order 12345", "posted_at": 1761999350},
        {"id": 3, "content": "   ", "posted_at": 1761999500},  # no words: passed over
        "not a comment",
        {"id": 4, "posted_at": 1761999600},  # no content
    ]
    call = aircall.map_call(item | {"comments": comments}, {})
    assert call.notes == "Customer called about order 12345\n\nRefund promised today"
    assert call.raw["comments"] == 5
    assert aircall.map_call(item | {"comments": []}, {}).notes is None
    assert aircall.map_call(item | {"comments": None}, {}).notes is None


def test_aircall_users_and_contacts() -> None:
    users = body("aircall", "users")["users"]
    agent = aircall.map_user(users[0], ["Tier 1"])
    assert agent.id == f"aircall:{users[0]['id']}" and agent.email == users[0]["email"]
    contact = aircall.map_contact(
        {
            "id": 5,
            "first_name": "A",
            "last_name": "B",
            "phone_numbers": [{"value": "not a phone"}],
            "emails": [],
        }
    )
    assert contact.phone is None and contact.raw["phone_as_given"] == "not a phone"


def _aircall(**settings: str) -> aircall.AircallAdapter:
    config = load_settings(
        sources="aircall",
        aircall={
            "base_url": "https://api.aircall.io/v1",
            "api_id": "id",
            "api_token": "token",
            "requests_per_minute": 100000,
        },
        **settings,
    )
    plan = SyncPlan(now=datetime(2026, 1, 5, tzinfo=UTC), backfill_start=datetime(2026, 1, 1, tzinfo=UTC))
    adapter = aircall.AircallAdapter(config.aircall, plan)
    adapter.client.retry = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)
    adapter.client.sleep = lambda seconds: None
    return adapter


@responses.activate
def test_aircall_429_and_503_are_retried_and_an_empty_window_ends_the_stream() -> None:
    calls = body("aircall", "calls")
    calls["meta"]["total"] = 2
    shift = int(datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp()) - calls["calls"][0]["started_at"]
    for c in calls["calls"]:
        c["started_at"], c["answered_at"], c["ended_at"] = (
            c[k] + shift for k in ("started_at", "answered_at", "ended_at")
        )
    url = "https://api.aircall.io/v1/calls"
    responses.get(url, status=429, headers={"Retry-After": "0"}, json={"error": "Too Many Requests"})
    responses.get(url, status=503, json={"error": "Service Unavailable"})
    responses.get(url, json=calls)
    responses.get("https://api.aircall.io/v1/teams", json={"teams": [], "meta": {"next_page_link": None}})
    adapter = _aircall()
    batches = list(aircall.CallsStream(adapter).read(None))
    assert [c.id for b in batches for c in b.records] == ["aircall:900000", "aircall:900001"]
    assert batches[-1].cursor == "2026-01-05T00:00:00.000Z"
    assert adapter.governor.usage.retries == 2 and adapter.governor.usage.throttled == 1


@responses.activate
def test_aircall_a_listing_that_repeats_its_next_link_stops_with_an_error() -> None:
    page = {
        "users": body("aircall", "users")["users"],
        "meta": {"next_page_link": "https://api.aircall.io/v1/users?page=2"},
    }
    responses.get("https://api.aircall.io/v1/teams", json={"teams": [], "meta": {"next_page_link": None}})
    responses.get("https://api.aircall.io/v1/users", json=page)
    with pytest.raises(PaginationLoopError, match="repeated"):
        list(_aircall().streams()[0].read(None))  # users


# --- LiveAgent -------------------------------------------------------------------------------------


def test_liveagent_ticket_with_messages_sla_and_history_from_the_cassettes() -> None:
    item = body("liveagent", "tickets")[0]
    groups = body("liveagent", "ticket-messages")
    agents = {g["userid"] for g in groups if str(g["userid"]).startswith("ag")}
    messages = liveagent.map_messages(item["id"], groups, agents)
    assert {m.author_type for m in messages} >= {"customer", "agent"}
    history = [row for row in body("liveagent", "tickets-history") if row["conversation_id"] == item["id"]]
    ticket = liveagent.map_ticket(
        item,
        messages=messages,
        sla=body("liveagent", "ticket-sla"),
        history=history,
        departments={"dep002": "Social"},
        warn=lambda key, message: None,
        tags={t["id"]: t["name"] for t in body("liveagent", "tags")},
    )
    assert ticket.id == "liveagent:la0000000"
    assert ticket.status == "pending"  # W: postponed
    assert ticket.channel == "social:twitter"  # T
    assert ticket.team == "Social"
    assert ticket.contact_id == "liveagent:c000055" and ticket.agent_id == "liveagent:ag00003"
    first_agent = min(m.created_at for m in messages if m.author_type == "agent")
    assert ticket.first_agent_reply_at == first_agent
    assert ticket.tags == ["positive", "vip"]


def test_liveagent_transfers_reopen_and_unknown_codes(caplog: pytest.LogCaptureFixture) -> None:
    item = body("liveagent", "tickets")[0] | {
        "status": "R",
        "channel_type": "Z",
        "date_created": "2026-01-05 09:00:00",
        "date_resolved": "2026-01-07 10:00:00",
        "date_changed": "2026-01-07 10:00:05",
    }
    history = [
        {
            "agent_id": "ag1",
            "department_id": "dep000",
            "date_from": "2026-01-05 09:00:00",
            "elapsed_time": 60,
        },
        {
            "agent_id": "ag2",
            "department_id": "dep000",
            "date_from": "2026-01-05 10:00:00",
            "elapsed_time": 60,
        },
        {
            "agent_id": "ag3",
            "department_id": "dep001",
            "date_from": "2026-01-06 09:00:00",
            "elapsed_time": 60,
        },
    ]
    warnings: list[str] = []
    ticket = liveagent.map_ticket(
        item,
        messages=[],
        sla={"first_answer": "2026-01-05 09:30:00", "first_resolve": "2026-01-05 12:00:00"},
        history=history,
        departments={},
        warn=lambda key, message: warnings.append(message),
    )
    assert ticket.transfer_count == 2
    assert ticket.escalated and ticket.escalation_at == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert ticket.first_resolved_at == datetime(2026, 1, 5, 12, tzinfo=UTC)
    assert ticket.resolved_at == datetime(2026, 1, 7, 10, tzinfo=UTC)
    assert ticket.reopen_count == 1
    assert ticket.first_agent_reply_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # from the SLA
    assert ticket.channel == "other" and any("'Z'" in w for w in warnings)
    deleted = liveagent.map_ticket(
        item | {"status": "X"}, messages=[], sla=None, history=[], departments={}, warn=print
    )
    assert deleted.archived
    unknown = liveagent.map_ticket(
        item | {"status": "Q"},
        messages=[],
        sla=None,
        history=[],
        departments={},
        warn=lambda kind, message: warnings.append(message),
    )
    assert unknown.status == "open" and any("'Q'" in w for w in warnings)


def test_liveagent_first_resolution_from_the_resolve_events_without_the_sla() -> None:
    """Without the SLA call, the resolve events (message groups of type R) say when a ticket was first
    resolved: with two, it was reopened and the first is the first resolution; with one, date_resolved
    stands (the event may be stamped a second apart, which is no reopening)."""
    item = body("liveagent", "tickets")[0] | {
        "status": "R",
        "date_created": "2026-01-05 09:00:00",
        "date_resolved": "2026-01-07 10:00:00",
        "date_changed": "2026-01-07 10:00:05",
    }
    groups = [
        {"type": "S", "datecreated": "2026-01-05 09:00:00", "messages": []},
        {"type": "R", "datecreated": "2026-01-07 10:00:01", "messages": []},
        {"type": "R", "datecreated": "2026-01-05 12:00:00", "messages": []},
    ]
    assert liveagent.resolutions(groups) == [
        datetime(2026, 1, 5, 12, tzinfo=UTC),
        datetime(2026, 1, 7, 10, 0, 1, tzinfo=UTC),
    ]

    def mapped(resolved_at: list[datetime]) -> Any:
        return liveagent.map_ticket(
            item, messages=[], sla=None, history=[], departments={}, warn=print, resolved_at=resolved_at
        )

    reopened = mapped(liveagent.resolutions(groups))
    assert reopened.first_resolved_at == datetime(2026, 1, 5, 12, tzinfo=UTC) and reopened.reopen_count == 1
    once = mapped(liveagent.resolutions(groups[:2]))
    assert once.first_resolved_at == once.resolved_at == datetime(2026, 1, 7, 10, tzinfo=UTC)
    assert once.reopen_count == 0


def _liveagent() -> liveagent.LiveAgentAdapter:
    config = load_settings(
        sources="liveagent",
        liveagent={
            "base_url": "https://acme.ladesk.com/api/v3",
            "api_key": "key",
            "requests_per_minute": 100000,
        },
    )
    adapter = liveagent.LiveAgentAdapter(
        config.liveagent, SyncPlan(now=NOW, backfill_start=datetime(2026, 1, 1, tzinfo=UTC))
    )
    adapter.client.retry = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)
    adapter.client.sleep = lambda seconds: None
    return adapter


@responses.activate
def test_liveagent_empty_ticket_page_ends_the_window_and_calls_are_read_by_date_created_windows() -> None:
    responses.get("https://acme.ladesk.com/api/v3/tickets", json=[])
    responses.get("https://acme.ladesk.com/api/v3/tickets/history", json=[])  # a backfill reads it in bulk
    adapter = _liveagent()
    batches = list(liveagent.TicketsStream(adapter).read(None))
    assert [b.records for b in batches] == [[]] and batches[-1].cursor == "2026-01-02T00:00:00.000Z"

    calls = [c | {"dateCreated": f"2026-01-01 0{n}:00:00"} for n, c in enumerate(body("liveagent", "calls"))]
    url = "https://acme.ladesk.com/api/v3/calls"
    responses.get(url, status=502, json={"message": "Bad gateway"})
    responses.get(url, json=calls)
    read = list(liveagent.CallsStream(adapter).read("2026-01-01T06:00:00.000Z"))
    assert [c.id for b in read for c in b.records] == [f"liveagent:{c['id']}" for c in calls]
    assert read[-1].cursor == "2026-01-02T00:00:00.000Z"
    asked = [str(call.request.url) for call in responses.calls if str(call.request.url).startswith(url)]
    filters = json.loads(parse_qs(urlsplit(asked[-1]).query)["_filters"][0])
    # 24 h re-read behind the cursor (a call is answered and finished after it was created): from the backfill
    assert filters == [
        ["dateCreated", "D>=", "2026-01-01 00:00:00"],
        ["dateCreated", "D<", "2026-01-02 00:00:00"],
    ]
    assert "_cursor" not in asked[-1]  # no cursor is kept between runs


@responses.activate
def test_liveagent_one_seconds_calls_are_read_by_cursor_and_a_repeated_cursor_stops_with_an_error() -> None:
    same = [c | {"dateCreated": "2026-01-01 09:00:00"} for c in body("liveagent", "calls")]
    page = [same[n % 2] | {"id": f"la-call-{n}"} for n in range(liveagent.CURSOR_PAGE)]
    url = "https://acme.ladesk.com/api/v3/calls"
    responses.get(url, json=page)  # a full page of one second: the rest of it by cursor
    responses.get(url, json=page, headers={"next_page_cursor": "MQ=="})
    responses.get(url, json=page, headers={"next_page_cursor": "MQ=="})
    with pytest.raises(PaginationLoopError):
        list(liveagent.CallsStream(_liveagent()).read(None))


# --- HubSpot ---------------------------------------------------------------------------------------


def _reference() -> hubspot_mapping.Reference:
    reference = hubspot_mapping.Reference()
    pipelines = sdk(CollectionResponsePipelineNoPaging, body("hubspot", "pipelines"))
    for pipeline in pipelines.results:
        for stage in pipeline.stages:
            reference.stages[stage.id] = (stage.metadata["ticketState"], stage.label, pipeline.label)
    return reference


def test_hubspot_tickets_from_the_search_cassette() -> None:
    page = sdk(CollectionResponseWithTotalSimplePublicObjectForwardPaging, body("hubspot", "tickets-search"))
    reference = _reference()
    tickets = [hubspot_mapping.ticket(obj, reference) for obj in page.results]
    assert tickets and all(t.source == "hubspot" for t in tickets)
    for obj, ticket in zip(page.results, tickets, strict=True):
        # the recorded search asked only for subject: the rest falls back to the object's own fields
        assert ticket.subject == obj.properties["subject"]
        assert ticket.created_at == obj.created_at and ticket.updated_at == obj.updated_at
        assert ticket.status == "new" and ticket.channel == "other"


def test_hubspot_edge_cases_missing_optional_properties_unknown_codes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reference = _reference()
    payload = body("hubspot", "tickets-search")
    item = payload["results"][0]
    item["properties"] = {
        "createdate": "2026-01-05T09:00:00.000Z",
        "hs_lastmodifieddate": "2026-01-05T10:00:00.000Z",
        "hs_pipeline_stage": "999",
        "source_type": "CARRIER_PIGEON",
        "hs_ticket_priority": "BLOCKER",
        "time_to_first_agent_reply": "not a number",
    }
    obj = sdk(CollectionResponseWithTotalSimplePublicObjectForwardPaging, payload).results[0]
    with caplog.at_level(logging.WARNING):
        ticket = hubspot_mapping.ticket(obj, reference)
    assert (ticket.status, ticket.channel, ticket.priority, ticket.first_agent_reply_at) == (
        "new",
        "other",
        None,
        None,
    )
    assert "'999'" in caplog.text and "CARRIER_PIGEON" in caplog.text and "BLOCKER" in caplog.text


def _object(properties: dict[str, Any], object_id: str = "1") -> Any:
    payload = {
        "total": 1,
        "results": [
            {
                "id": object_id,
                "properties": properties,
                "createdAt": "2026-01-05T09:00:00.000Z",
                "updatedAt": "2026-01-05T10:00:00.000Z",
                "archived": False,
            }
        ],
    }
    return sdk(CollectionResponseWithTotalSimplePublicObjectForwardPaging, payload).results[0]


def test_hubspot_calls_contacts_feedback_and_deals() -> None:
    reference = hubspot_mapping.Reference(owner_teams={"101": "Tier 2"})
    reference.associations["7"] = {"contacts": ["300", "200"], "tickets": ["55"]}
    answered = hubspot_mapping.call(
        _object(
            {"hs_timestamp": "2026-01-05T09:00:00.000Z", "hs_call_direction": "INBOUND", "hs_call_status": "COMPLETED",
             "hs_call_duration": "125500", "hubspot_owner_id": "101",
             "hs_call_body": "<p>Klant belde: pakket <b>niet</b> bezorgd</p>"},
            "7",
        ),
        reference,
    )  # fmt: skip
    assert (answered.status, answered.talk_seconds, answered.team) == ("answered", 125.5, "Tier 2")
    assert answered.contact_id == "hubspot:200" and answered.ticket_id == "hubspot:55"  # lowest id first
    assert answered.notes == "Klant belde: pakket niet bezorgd"  # hs_call_body's rich text, as plain text
    missed = hubspot_mapping.call(
        _object(
            {
                "hs_timestamp": "2026-01-05T09:00:00.000Z",
                "hs_call_direction": "OUTBOUND",
                "hs_call_status": "NO_ANSWER",
            }
        ),
        reference,
    )
    assert (missed.direction, missed.status, missed.missed_reason, missed.talk_seconds) == (
        "outbound",
        "missed",
        "no_answer",
        None,
    )

    contact = hubspot_mapping.contact(
        _object({"email": "a@example.org", "phone": "+31 6 1234 5678", "firstname": "Ann", "lastname": "Bee",
                 "hs_lifecyclestage_customer_date": "2025-01-01T00:00:00.000Z", "churn_date": "2025-12-01T00:00:00.000Z",
                 "hs_analytics_source": "REFERRALS", "createdate": "2024-06-01T00:00:00.000Z"}),
        reference,
        churn_property="churn_date",
    )  # fmt: skip
    assert (contact.phone, contact.name, contact.acquisition_source) == (
        "+31612345678",
        "Ann Bee",
        "referral",
    )
    assert contact.churned_at == datetime(2025, 12, 1, tzinfo=UTC)
    odd = hubspot_mapping.contact(
        _object({"phone": "ask reception", "churn_date": "2025-12-01T00:00:00.000Z"}),
        reference,
        churn_property="churn_date",
    )
    assert odd.phone is None and odd.raw["phone_as_given"] == "ask reception"
    assert odd.churned_at is None  # a churn date without a customer date is ignored, not an error

    nps = hubspot_mapping.feedback(
        _object(
            {"hs_survey_type": "NPS", "hs_value": "9", "hs_submission_timestamp": "2026-01-06T08:00:00.000Z"},
            "7",
        ),
        reference,
    )
    assert nps is not None and (nps.kind, nps.score, nps.scale_min, nps.scale_max) == ("nps", 9, 0, 10)
    assert nps.contact_id == "hubspot:200" and nps.ticket_id == "hubspot:55"
    assert hubspot_mapping.feedback(_object({"hs_survey_type": "CUSTOM", "hs_value": "3"}), reference) is None
    with pytest.raises(RecordValidationError, match="outside the scale"):
        hubspot_mapping.feedback(_object({"hs_survey_type": "CSAT", "hs_value": "9"}), reference)

    won = hubspot_mapping.deal(
        _object(
            {"dealstage": "closedwon", "amount": "1250.50", "closedate": "2026-01-07T12:00:00.000Z"}, "7"
        ),
        reference,
        won_stages={"closedwon"},
        currency="EUR",
    )
    assert won is not None and (str(won.amount), won.currency, won.contact_id) == (
        "1250.5000",
        "EUR",
        "hubspot:200",
    )
    lost = _object({"dealstage": "closedlost", "amount": "10", "closedate": "2026-01-07T12:00:00.000Z"})
    assert hubspot_mapping.deal(lost, reference, won_stages={"closedwon"}, currency="EUR") is None


@responses.activate
def test_liveagent_one_seconds_tickets_past_a_page_are_read_by_page_number() -> None:
    """A bulk change stamps 130 tickets with one `date_changed`: a page of 100 cannot move the key, so
    the rest of that second is read by `_page` before the window goes on."""
    stamp = "2026-01-01 09:00:00"
    tickets = [
        body("liveagent", "tickets")[0] | {"id": f"t{n:03d}", "date_changed": stamp} for n in range(130)
    ]
    url = "https://acme.ladesk.com/api/v3/tickets"
    for answer in (tickets[:100], tickets[:100], tickets[:100], tickets[100:], []):
        responses.get(url, json=answer)
    adapter = _liveagent()
    for path in ("messages", "history"):
        responses.get(re.compile(rf"https://acme\.ladesk\.com/api/v3/tickets/t\d+/{path}"), json=[])
    responses.get(re.compile(r"https://acme\.ladesk\.com/api/v3/tickets/t\d+/sla"), json={})
    responses.get("https://acme.ladesk.com/api/v3/agents", json=[])
    responses.get("https://acme.ladesk.com/api/v3/departments", json=[])
    responses.get("https://acme.ladesk.com/api/v3/tags", json=[])
    stream = liveagent.TicketsStream(adapter)
    read = [r.id for b in stream.read("2026-01-01T08:00:00.000Z") for r in b.records if r.entity == "ticket"]
    assert sorted(read) == [f"liveagent:t{n:03d}" for n in range(130)]
    asked = [str(c.request.url) for c in responses.calls if str(c.request.url).split("?")[0] == url]
    assert "_page=2" in asked[3] and stream.reader is not None and stream.reader.tie_runs == 1


@responses.activate
def test_a_json_body_of_another_shape_is_retried_then_named_never_read_as_empty() -> None:
    """A 200 whose JSON is not the endpoint's shape (an error object where a list belongs, an Aircall
    answer without its `calls`) would read as an empty page: it is retried like a 5xx, then named."""
    responses.get("https://acme.ladesk.com/api/v3/tags", json={"message": "maintenance"})
    adapter = _liveagent()
    with pytest.raises(RetryableAPIError, match="a JSON dict, not the list this endpoint answers"):
        adapter.tag_names()
    assert len(responses.calls) == 3  # the policy's three attempts
    responses.get("https://api.aircall.io/v1/calls", json={"meta": {"total": 0}})
    responses.get("https://api.aircall.io/v1/teams", json={"teams": [], "meta": {"next_page_link": None}})
    with pytest.raises(RetryableAPIError, match="without its 'calls' list"):
        list(aircall.CallsStream(_aircall()).read(None))

"""The common schema: exact field names, ids, UTC timestamps, enums, raw, and a clear error per bad field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connector.schema import (
    ENTITIES,
    Agent,
    Call,
    Contact,
    Message,
    Purchase,
    QualityReview,
    ServiceCost,
    SurveyResponse,
    Ticket,
    entity_model,
)
from tests.conftest import example_records

SPEC_FIELDS = {
    "agent": "name email teams active",
    "contact": "email phone name company created_at customer_since churned_at acquisition_source referred_by "
    "attributes",
    "ticket": "subject channel status priority category tags contact_id agent_id team created_at "
    "first_agent_reply_at first_resolved_at resolved_at closed_at reopen_count escalated escalation_at "
    "transfer_count is_complaint handle_seconds updated_at",
    "message": "ticket_id author_type agent_id channel created_at is_public",
    "call": "direction status missed_reason started_at answered_at ended_at wait_seconds talk_seconds "
    "hold_seconds wrap_up_seconds agent_id team contact_id phone_number ticket_id updated_at",
    "survey_response": "kind score scale_min scale_max submitted_at contact_id ticket_id agent_id dimension "
    "measure comment responded_at",
    "quality_review": "ticket_id call_id agent_id reviewed_at criteria weights critical",
    "purchase": "contact_id amount currency gross_margin occurred_at",
    "service_cost": "period_start period_end amount currency",
}

# the smallest valid record of each entity; bad cases below override one field
MINIMAL: dict[str, dict[str, Any]] = {
    "agent": {"source": "hubspot", "source_id": "1"},
    "contact": {"source": "hubspot", "source_id": "1"},
    "ticket": {"source": "hubspot", "source_id": "1", "status": "open", "created_at": "2026-01-05T09:00:00Z"},
    "message": {
        "source": "liveagent",
        "source_id": "m1",
        "ticket_id": "liveagent:t1",
        "author_type": "agent",
        "created_at": "2026-01-05T09:00:00Z",
    },
    "call": {
        "source": "aircall",
        "source_id": "1",
        "direction": "inbound",
        "status": "answered",
        "started_at": "2026-01-05T09:00:00Z",
    },
    "survey_response": {
        "source": "hubspot",
        "source_id": "1",
        "kind": "csat",
        "score": 4,
        "submitted_at": "2026-01-05T09:00:00Z",
    },
    "quality_review": {
        "source": "qa",
        "source_id": "1",
        "reviewed_at": "2026-01-05T09:00:00Z",
        "criteria": {"tone": 80},
    },
    "purchase": {
        "source": "hubspot",
        "source_id": "1",
        "amount": "50",
        "currency": "USD",
        "occurred_at": "2026-01-05T09:00:00Z",
    },
    "service_cost": {
        "period_start": "2026-01-01",
        "period_end": "2026-02-01",
        "amount": 40000,
        "currency": "EUR",
    },
}


@pytest.mark.parametrize("entity", ENTITIES)
def test_models_carry_exactly_the_spec_field_names(entity: str) -> None:
    fields = set(ENTITIES[entity].model_fields)
    assert set(SPEC_FIELDS[entity].split()) <= fields
    extra = fields - set(SPEC_FIELDS[entity].split())
    expected_extra = {"id", "raw"} | ({"source", "source_id"} if entity != "service_cost" else set())
    if entity in ("ticket", "contact", "call"):
        expected_extra.add("archived")  # added beside the spec's names: deleted in the source
    if entity == "ticket":
        expected_extra.add("description")  # the customer's first message: what topic discovery reads
    if entity == "call":
        expected_extra.add("notes")  # what agents wrote on the call: topic discovery reads it too
    assert extra == expected_extra


@pytest.mark.parametrize("entity", ENTITIES)
def test_minimal_record_of_each_entity_is_valid(entity: str) -> None:
    record = ENTITIES[entity].model_validate(MINIMAL[entity])
    assert record.id


@pytest.mark.parametrize("data", example_records(), ids=lambda d: f"{d['type']}-{d.get('source_id', '')}")
def test_every_example_line_is_a_valid_record(data: dict[str, Any]) -> None:
    fields = dict(data)
    model = entity_model(fields.pop("type"))
    record = model.model_validate(fields)
    assert record.entity == model.entity


def test_id_is_source_colon_source_id_and_numbers_become_strings() -> None:
    ticket = Ticket.model_validate({**MINIMAL["ticket"], "source": "liveagent", "source_id": 42})
    assert (ticket.source_id, ticket.id) == ("42", "liveagent:42")
    assert Ticket.model_validate({**MINIMAL["ticket"], "id": "hubspot:1"}).id == "hubspot:1"


def test_service_cost_is_keyed_by_period_and_currency() -> None:
    cost = ServiceCost.model_validate({**MINIMAL["service_cost"], "currency": "eur"})
    assert cost.id == "2026-01-01/2026-02-01/EUR"
    assert cost.amount == Decimal("40000")


def test_timestamps_are_converted_to_utc() -> None:
    ticket = Ticket.model_validate({**MINIMAL["ticket"], "created_at": "2026-03-29T03:30:00+02:00"})
    assert ticket.created_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert ticket.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_unknown_fields_are_kept_in_raw() -> None:
    ticket = Ticket.model_validate({**MINIMAL["ticket"], "hs_pipeline": "0", "raw": {"vendor": "x"}})
    assert ticket.raw == {"vendor": "x", "hs_pipeline": "0"}


def test_phone_is_normalised_to_e164_and_channel_accepts_social_networks() -> None:
    contact = Contact.model_validate({**MINIMAL["contact"], "phone": "+31 (0)6-1234 5678"})
    assert contact.phone == "+31612345678"
    ticket = Ticket.model_validate({**MINIMAL["ticket"], "channel": "Social:Facebook"})
    assert ticket.channel == "social:facebook"


def test_survey_scales_default_by_kind_and_servqual_keeps_dimension() -> None:
    nps = SurveyResponse.model_validate({**MINIMAL["survey_response"], "kind": "nps", "score": 0})
    assert (nps.scale_min, nps.scale_max) == (0, 10)
    gap = SurveyResponse.model_validate(
        {
            **MINIMAL["survey_response"],
            "kind": "servqual",
            "score": 6,
            "dimension": "empathy",
            "measure": "perception",
        }
    )
    assert gap.dimension == "empathy"


def test_money_keeps_four_decimals_so_a_round_trip_compares_equal() -> None:
    purchase = Purchase.model_validate({**MINIMAL["purchase"], "amount": "49.5"})
    assert str(purchase.amount) == "49.5000"


BAD_FIELDS = Path(__file__).parent / "cases" / "bad_fields.jsonl"
"""One malformed record a line: the entity, the fields that override a minimal valid record, the field the
error must name and words its reason must contain."""
BAD_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (case["entity"], case["override"], case["field"], case["reason"])
    for case in map(json.loads, BAD_FIELDS.read_text(encoding="utf-8").splitlines())
]


@pytest.mark.parametrize(
    ("entity", "override", "field", "reason"),
    BAD_CASES,
    ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(BAD_CASES)],
)
def test_bad_field_is_reported_by_name_with_its_reason(
    entity: str, override: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ENTITIES[entity].model_validate({**MINIMAL[entity], **override})
    reported = {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}
    assert field in reported, reported
    assert reason.lower() in reported[field].lower()


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ticket", Ticket),
        ("Ticket", Ticket),
        ("SurveyResponse", SurveyResponse),
        ("survey-response", SurveyResponse),
        ("quality_review", QualityReview),
        ("ServiceCost", ServiceCost),
        ("call", Call),
        ("message", Message),
        ("agent", Agent),
        ("purchase", Purchase),
    ],
)
def test_entity_names_in_any_common_spelling(name: str, model: type) -> None:
    assert entity_model(name) is model


def test_unknown_entity_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown type .tiket.*ticket"):
        entity_model("tiket")

"""Writing to the sandbox's HubSpot through the SDK: property groups and properties, custom object
schemas, batch update and upsert (with 207 partial failures) and association reads — all kept, so a
test can assert what was written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import BatchInputSimplePublicObjectBatchInputUpsert
from hubspot.crm.properties import BatchInputPropertyCreate, PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesError
from hubspot.crm.schemas import ObjectSchemaEgg
from hubspot.crm.schemas.exceptions import ApiException as SchemasError
from hubspot.crm.tickets import BatchInputSimplePublicObjectBatchInput
from hubspot.crm.tickets.exceptions import ApiException as TicketsError

from connector.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=9, size=300, hubspot_requests_per_10s=100_000) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)


def test_property_group_and_properties_are_created_once(client: HubSpot, sandbox: Sandbox) -> None:
    properties = client.crm.properties
    group = properties.groups_api.create(
        "tickets", PropertyGroupCreate(name="helpdesk_kpis", label="Helpdesk KPIs")
    )
    assert group.name == "helpdesk_kpis"
    spec = PropertyCreate(
        name="helpdesk_frt_business_seconds", label="FRT (business seconds)", type="number",
        field_type="number", group_name="helpdesk_kpis",
    )  # fmt: skip
    created = properties.core_api.create("tickets", spec)
    assert created.name == "helpdesk_frt_business_seconds" and created.type == "number"
    with pytest.raises(PropertiesError) as again:
        properties.core_api.create("tickets", spec)
    assert again.value.status == 409 and "OBJECT_ALREADY_EXISTS" in again.value.body
    read = properties.core_api.get_by_name("tickets", "helpdesk_frt_business_seconds")
    assert read.group_name == "helpdesk_kpis"
    listed = {p.name for p in properties.core_api.get_all("tickets").results}
    assert {"subject", "hs_lastmodifieddate", "helpdesk_frt_business_seconds"} <= listed
    # a batch with one new and one existing property: 207, the new one created
    batch = properties.batch_api.create(
        "tickets",
        BatchInputPropertyCreate(
            inputs=[
                spec,
                PropertyCreate(name="helpdesk_escalated", label="Escalated", type="bool",
                               field_type="booleancheckbox", group_name="helpdesk_kpis"),
            ]
        ),
    )  # fmt: skip
    assert [p.name for p in batch.results] == ["helpdesk_escalated"]
    assert batch.errors[0].category == "OBJECT_ALREADY_EXISTS"


def test_batch_update_changes_records_and_reports_missing_ones(client: HubSpot, sandbox: Sandbox) -> None:
    client.crm.properties.core_api.create(
        "tickets",
        PropertyCreate(name="helpdesk_escalated", label="Escalated", type="bool",
                       field_type="booleancheckbox", group_name="ticketinformation"),
    )  # fmt: skip
    first = client.crm.tickets.basic_api.get_page(limit=2).results
    result = client.crm.tickets.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": first[0].id, "properties": {"helpdesk_escalated": "true"}},
                {"id": "77", "properties": {"helpdesk_escalated": "false"}},
            ]
        )
    )
    assert [r.id for r in result.results] == [first[0].id]
    assert result.errors[0].context == {"ids": ["77"]}
    reread = client.crm.tickets.basic_api.get_by_id(first[0].id, properties=["helpdesk_escalated"])
    assert reread.properties["helpdesk_escalated"] == "true"
    assert sandbox.hubspot.writes[-1][1] == "/crm/v3/objects/tickets/batch/update"
    with pytest.raises(TicketsError) as unknown:
        client.crm.tickets.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(inputs=[{"id": first[1].id, "properties": {"nope": "1"}}])
        )
    assert unknown.value.status == 400 and "nope" in unknown.value.body


def _snapshot_schema() -> ObjectSchemaEgg:
    return ObjectSchemaEgg(
        name="helpdesk_kpi_snapshot",
        labels={"singular": "KPI snapshot", "plural": "KPI snapshots"},
        primary_display_property="snapshot_key",
        required_properties=["snapshot_key"],
        properties=[
            {"name": "snapshot_key", "label": "Snapshot key", "type": "string", "fieldType": "text",
             "hasUniqueValue": True},
            {"name": "kpi", "label": "KPI", "type": "string", "fieldType": "text"},
            {"name": "value", "label": "Value", "type": "number", "fieldType": "number"},
        ],
        associated_objects=["CONTACT"],
    )  # fmt: skip


def test_custom_object_schema_and_upsert_by_unique_key(client: HubSpot) -> None:
    schema = client.crm.schemas.core_api.create(_snapshot_schema())
    assert schema.object_type_id.startswith("2-") and schema.name == "helpdesk_kpi_snapshot"
    with pytest.raises(SchemasError) as again:
        client.crm.schemas.core_api.create(_snapshot_schema())
    assert again.value.status == 409
    upsert = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            {
                "id": "K14|value|calendar|2026-01",
                "idProperty": "snapshot_key",
                "properties": {"kpi": "K14", "value": "60"},
            },
            {
                "id": "K15|value|calendar|2026-01",
                "idProperty": "snapshot_key",
                "properties": {"kpi": "K15", "value": "60"},
            },
        ]
    )
    first = client.crm.objects.batch_api.upsert(schema.object_type_id, upsert)
    assert [r.new for r in first.results] == [True, True]
    upsert.inputs[0]["properties"]["value"] = "62"
    second = client.crm.objects.batch_api.upsert(schema.fully_qualified_name, upsert)
    assert [r.new for r in second.results] == [False, False]
    listed = client.crm.objects.basic_api.get_page(
        schema.fully_qualified_name, properties=["snapshot_key", "value"]
    )
    values = {r.properties["snapshot_key"]: r.properties["value"] for r in listed.results}
    assert values == {"K14|value|calendar|2026-01": "62", "K15|value|calendar|2026-01": "60"}
    # addressed by objectTypeId or fully qualified name only: the bare name is not documented to work
    with pytest.raises(SchemasError) as bare:
        client.crm.schemas.core_api.get_by_id("helpdesk_kpi_snapshot")
    assert bare.value.status == 404
    with pytest.raises(Exception) as bare_objects:
        client.crm.objects.basic_api.get_page("helpdesk_kpi_snapshot")
    assert getattr(bare_objects.value, "status", None) in (400, 404)


def test_portal_without_custom_objects_refuses_schemas() -> None:
    with Sandbox(seed=1, size=10, hubspot_custom_objects=False) as sandbox:
        client = HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)
        with pytest.raises(SchemasError) as refused:
            client.crm.schemas.core_api.create(_snapshot_schema())
        assert refused.value.status == 403 and "MISSING_SCOPES" in refused.value.body


def test_associations_v4_batch_read(client: HubSpot, sandbox: Sandbox) -> None:
    from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest

    tickets = client.crm.tickets.basic_api.get_page(limit=3).results
    result = client.crm.associations.v4.batch_api.get_page(
        "tickets",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": t.id} for t in tickets]),
    )
    assert [r._from.id for r in result.results] == [t.id for t in tickets]
    contact_ids = {to.to_object_id for r in result.results for to in r.to}
    contact = client.crm.contacts.basic_api.get_by_id(str(next(iter(contact_ids))))
    assert contact.properties["email"].endswith("@example.org")


def test_remaining_read_endpoints_deserialize(client: HubSpot) -> None:
    """Property groups list, schema reads, and a custom object's get and search, through the SDK."""
    from hubspot.crm.objects import PublicObjectSearchRequest

    groups = client.crm.properties.groups_api.get_all("tickets")
    assert "ticketinformation" in {g.name for g in groups.results}
    schema = client.crm.schemas.core_api.create(_snapshot_schema())
    assert [s.name for s in client.crm.schemas.core_api.get_all().results] == ["helpdesk_kpi_snapshot"]
    assert (
        client.crm.schemas.core_api.get_by_id(schema.object_type_id).fully_qualified_name
        == schema.fully_qualified_name
    )
    client.crm.objects.batch_api.upsert(
        schema.object_type_id,
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {
                    "id": "K01|mean|calendar|2026-01",
                    "idProperty": "snapshot_key",
                    "properties": {"value": "90"},
                }
            ]
        ),
    )
    found = client.crm.objects.search_api.do_search(
        schema.object_type_id, PublicObjectSearchRequest(properties=["snapshot_key", "value"], limit=10)
    )
    assert found.total == 1
    one = client.crm.objects.basic_api.get_by_id(
        schema.object_type_id, found.results[0].id, properties=["value"]
    )
    assert one.properties["value"] == "90"


def test_unique_values_are_found_after_creates_and_updates() -> None:
    """The sandbox's upsert finds a record by its unique property through an index kept current by
    every write: created rows are found, a changed value moves, the old one no longer matches."""
    from datetime import UTC, datetime

    from connector.sandbox.hubspot_objects import StoredKind

    kind = StoredKind("2-100", 7_000_000, ("key",))
    at = datetime(2026, 12, 1, tzinfo=UTC)
    kind.create({"key": "a"}, at)
    assert kind.find("key", "a") == 0 and kind.find("key", "b") is None  # indexed on this first lookup
    kind.create({"key": "b"}, at)
    assert kind.find("key", "b") == 1  # rows created later enter the index
    kind.update(0, {"key": "c"}, at)
    assert kind.find("key", "c") == 0 and kind.find("key", "a") is None
    kind.update(1, {"other": "x"}, at)
    assert kind.find("key", "b") == 1

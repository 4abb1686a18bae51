"""The sandbox's HubSpot API, driven by the real `hubspot-api-client` over loopback: every response
deserializes into the SDK's generated models (the contract), paging and search behave like HubSpot's,
auth and rate limits answer as HubSpot does."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.owners import CollectionResponsePublicOwnerForwardPaging
from hubspot.crm.pipelines import CollectionResponsePipelineNoPaging
from hubspot.crm.tickets import (
    CollectionResponseSimplePublicObjectWithAssociationsForwardPaging,
    CollectionResponseWithTotalSimplePublicObjectForwardPaging,
    PublicObjectSearchRequest,
    SimplePublicObjectWithAssociations,
)
from hubspot.crm.tickets.exceptions import ApiException
from urllib3.util.retry import Retry

from connector.sandbox import Sandbox
from tests.hubspot_helpers import iso_epoch_ms, search_modified_since
from tests.sync_helpers import module_sandbox

SIZE = 12_500  # past HubSpot search's 10,000-result cap


sandbox = module_sandbox(seed=7, size=SIZE, hubspot_requests_per_10s=100_000)


@pytest.fixture
def client(sandbox: Sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)


def test_owners_and_pipelines_deserialize(client: HubSpot, sandbox: Sandbox) -> None:
    owners = client.crm.owners.owners_api.get_page(limit=100)
    assert isinstance(owners, CollectionResponsePublicOwnerForwardPaging)
    assert len(owners.results) == sandbox.world.agent_count
    assert all(o.email.endswith("@example.com") for o in owners.results)
    pipelines = client.crm.pipelines.pipelines_api.get_all("tickets")
    assert isinstance(pipelines, CollectionResponsePipelineNoPaging)
    states = {stage.id: stage.metadata["ticketState"] for stage in pipelines.results[0].stages}
    assert states == {"1": "OPEN", "2": "OPEN", "3": "OPEN", "4": "CLOSED"}


def test_list_pages_through_every_ticket_once(client: HubSpot) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.tickets.basic_api.get_page(
            limit=100, after=after, properties=["hs_lastmodifieddate"]
        )
        assert isinstance(page, CollectionResponseSimplePublicObjectWithAssociationsForwardPaging)
        seen += [t.id for t in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) == SIZE


def test_get_one_ticket_and_missing_ticket(client: HubSpot) -> None:
    first = client.crm.tickets.basic_api.get_page(limit=1).results[0]
    ticket = client.crm.tickets.basic_api.get_by_id(first.id, properties=["subject", "hs_pipeline_stage"])
    assert isinstance(ticket, SimplePublicObjectWithAssociations)
    assert set(ticket.properties) == {"subject", "hs_pipeline_stage"}
    with pytest.raises(ApiException) as missing:
        client.crm.tickets.basic_api.get_by_id("42")
    assert missing.value.status == 404
    assert '"category": "OBJECT_NOT_FOUND"' in missing.value.body


def test_search_stops_at_10000_and_rewindowing_by_modified_date_reaches_everything(client: HubSpot) -> None:
    seen: dict[str, str] = {}
    since, after = 0, None
    stopped_at_cap = False
    while True:
        try:
            page = search_modified_since(client, since, after)
        except ApiException as exc:
            assert exc.status == 400 and "10000" in exc.body
            stopped_at_cap = True
            since, after = iso_epoch_ms(max(seen.values())), None  # re-window from the last date seen
            continue
        assert isinstance(page, CollectionResponseWithTotalSimplePublicObjectForwardPaging)
        for ticket in page.results:
            seen[ticket.id] = ticket.properties["hs_lastmodifieddate"]
        if page.paging is None:
            if len(page.results) < 200 or (after is None and page.total <= 200):
                break
            since, after = iso_epoch_ms(max(seen.values())), None
            continue
        after = page.paging.next.after
    assert len(seen) == SIZE
    assert not stopped_at_cap or len(seen) > 10_000


def test_search_filters_by_date_range(client: HubSpot, sandbox: Sandbox) -> None:
    _, times = sandbox.hubspot.kinds["tickets"].by_modified
    low, high = times[100], times[299]
    request = PublicObjectSearchRequest(
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(low)},
                    {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": str(high)},
                ]
            }
        ],
        limit=10,
    )
    result = client.crm.tickets.search_api.do_search(request)
    assert result.total == 200


def test_search_on_other_properties(client: HubSpot) -> None:
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "hs_ticket_priority", "operator": "EQ", "value": "URGENT"}]}
        ],
        properties=["hs_ticket_priority"],
        limit=50,
    )
    result = client.crm.tickets.search_api.do_search(request)
    assert 0 < result.total < SIZE
    assert {t.properties["hs_ticket_priority"] for t in result.results} == {"URGENT"}


def test_search_ors_its_filter_groups_within_hubspots_limits(client: HubSpot, sandbox: Sandbox) -> None:
    """Groups are ORed, each group's filters ANDed, a window on the modification date bounding each;
    more than five groups, ten filters in a group or 25 in all is HubSpot's 400."""
    _, times = sandbox.hubspot.kinds["tickets"].by_modified
    window = [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(times[100])},
        {"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": str(times[300])},
    ]
    groups = [
        {"filters": [*window, {"propertyName": "hs_ticket_priority", "operator": "EQ", "value": p}]}
        for p in ("URGENT", "HIGH")
    ]
    both = client.crm.tickets.search_api.do_search(PublicObjectSearchRequest(filter_groups=groups, limit=1))
    alone = [
        client.crm.tickets.search_api.do_search(PublicObjectSearchRequest(filter_groups=[g], limit=1)).total
        for g in groups
    ]
    assert both.total == sum(alone) and 0 < both.total < 200
    missing = {"propertyName": "helpdesk_nothing", "operator": "NOT_HAS_PROPERTY"}
    every = client.crm.tickets.search_api.do_search(
        PublicObjectSearchRequest(filter_groups=[{"filters": [*window, missing]}], limit=1)
    )
    assert every.total == 200
    for too_many in (
        [{"filters": window}] * 6,
        [{"filters": window * 6}],
        [{"filters": window * 5}, {"filters": window * 5}, {"filters": window * 3}],
    ):
        with pytest.raises(ApiException) as caught:
            client.crm.tickets.search_api.do_search(PublicObjectSearchRequest(filter_groups=too_many))
        assert caught.value.status == 400 and "VALIDATION_ERROR" in caught.value.body


def test_wrong_or_missing_token_is_401_with_hubspots_error_body(sandbox: Sandbox) -> None:
    with pytest.raises(ApiException) as caught:
        HubSpot(access_token="pat-wrong", host=sandbox.hubspot_url).crm.tickets.basic_api.get_page()
    assert caught.value.status == 401
    assert '"category": "INVALID_AUTHENTICATION"' in caught.value.body


def test_rate_limit_headers_and_429_with_retry_after() -> None:
    """(The SDK's urllib3 retries a 429 that carries Retry-After by itself unless told not to: the
    adapters must account for that when they add their own retry policy.)"""
    with Sandbox(seed=1, size=10, hubspot_requests_per_10s=3) as small:
        no_retries = Retry(total=0, raise_on_status=False)
        client = HubSpot(access_token=small.hubspot_token, host=small.hubspot_url, retry=no_retries)
        response = client.crm.tickets.basic_api.get_page_with_http_info()
        headers = response[2]
        assert headers["X-HubSpot-RateLimit-Max"] == "3"
        assert headers["X-HubSpot-RateLimit-Remaining"] == "2"
        client.crm.tickets.basic_api.get_page()
        client.crm.tickets.basic_api.get_page()
        with pytest.raises(ApiException) as caught:
            client.crm.tickets.basic_api.get_page()
        assert caught.value.status == 429
        assert int(caught.value.headers["Retry-After"]) >= 1
        assert '"errorType": "RATE_LIMIT"' in caught.value.body


def test_same_seed_same_world() -> None:
    from connector.sandbox import World

    assert World(seed=3, size=50).ticket(17) == World(seed=3, size=50).ticket(17)
    assert World(seed=3, size=50).ticket(17) != World(seed=4, size=50).ticket(17)


def test_follow_up_tickets_are_repeat_contacts_about_the_same_category() -> None:
    """Some tickets come back from the customer of a recent ticket about the same category (K08's
    repeat contacts); the others take customers in turn, so most customers are first contacts."""
    from datetime import timedelta

    from connector.sandbox import World
    from connector.sandbox.world import FOLLOW_UP_DAYS

    world = World(seed=1, size=600)
    latest: dict[tuple[int, str], int] = {}
    follow_ups = 0
    for i in range(world.size):
        ticket, customer = world.ticket(i), world.ticket_customer(i)
        assert 0 <= customer < world.customer_count
        if customer != i * 7919 % world.customer_count:
            follow_ups += 1
            earlier = world.ticket(latest[(customer, ticket.category)])
            assert timedelta(0) <= ticket.created_at - earlier.created_at <= timedelta(days=FOLLOW_UP_DAYS)
        latest[(customer, ticket.category)] = i
    assert 0.05 * world.size < follow_ups < 0.2 * world.size


def test_sandbox_command_prints_settings_and_serves_until_stopped() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("helpdesk-kpi")
    process = subprocess.Popen(
        [str(script), "sandbox", "--size", "50", "--seed", "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(11))
        assert settings["HELPDESK_SOURCES"] == "hubspot,liveagent,aircall"
        client = HubSpot(
            access_token=settings["HELPDESK_HUBSPOT__ACCESS_TOKEN"],
            host=settings["HELPDESK_HUBSPOT__BASE_URL"],
        )
        assert len(client.crm.tickets.basic_api.get_page(limit=100).results) == 50
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("object_type", "api", "properties"),
    [
        ("contacts", "contacts", ["email", "phone", "lifecyclestage", "hs_lifecyclestage_customer_date"]),
        ("calls", "objects", ["hs_call_direction", "hs_call_duration", "hs_call_status", "hubspot_owner_id"]),
        ("feedback_submissions", "objects", ["hs_survey_type", "hs_value", "hs_submission_timestamp"]),
        ("deals", "deals", ["amount", "dealstage", "closedate"]),
    ],
)
def test_other_object_types_list_get_search_and_batch_read(
    client: HubSpot, sandbox: Sandbox, object_type: str, api: str, properties: list[str]
) -> None:
    """Through the SDK's generated APIs (the generic objects API for calls and feedback submissions)."""
    from hubspot.crm.objects import BatchReadInputSimplePublicObjectId
    from hubspot.crm.objects import PublicObjectSearchRequest as ObjectSearch

    kind = sandbox.hubspot.kinds[object_type]
    if api == "objects":
        basic, search, batch = (
            client.crm.objects.basic_api,
            client.crm.objects.search_api,
            client.crm.objects.batch_api,
        )
        page = basic.get_page(object_type, limit=100, properties=properties)
        one = basic.get_by_id(object_type, page.results[0].id, properties=properties)
        found = search.do_search(object_type, ObjectSearch(limit=200, properties=properties))
        read = batch.read(
            object_type,
            BatchReadInputSimplePublicObjectId(
                inputs=[{"id": r.id} for r in page.results[:5]], properties=properties
            ),
        )
    else:
        module = getattr(client.crm, api)
        page = module.basic_api.get_page(limit=100, properties=properties)
        one = module.basic_api.get_by_id(page.results[0].id, properties=properties)
        search_request = importlib.import_module(f"hubspot.crm.{api}").PublicObjectSearchRequest
        found = module.search_api.do_search(search_request(limit=200, properties=properties))
        batch_input = importlib.import_module(f"hubspot.crm.{api}").BatchReadInputSimplePublicObjectId
        read = module.batch_api.read(
            batch_input(inputs=[{"id": r.id} for r in page.results[:5]], properties=properties)
        )
    assert len(page.results) == min(100, kind.count)
    assert set(one.properties) == set(properties)
    assert found.total == kind.count
    assert [r.id for r in read.results] == [r.id for r in page.results[:5]]


def test_batch_read_reports_missing_ids_as_a_multi_status(client: HubSpot, sandbox: Sandbox) -> None:
    from hubspot.crm.tickets import BatchReadInputSimplePublicObjectId

    first = client.crm.tickets.basic_api.get_page(limit=1).results[0]
    result = client.crm.tickets.batch_api.read(
        BatchReadInputSimplePublicObjectId(inputs=[{"id": first.id}, {"id": "123"}], properties=["subject"])
    )
    assert [r.id for r in result.results] == [first.id]
    assert result.errors[0].category == "OBJECT_NOT_FOUND" and result.errors[0].context == {"ids": ["123"]}


def test_shared_fixture_serves_all_three_vendors(sandbox_factory: Any) -> None:
    running = sandbox_factory(seed=2, size=20)
    settings = running.settings_env()
    assert settings["HELPDESK_SOURCES"] == "hubspot,liveagent,aircall"
    assert (
        HubSpot(access_token=running.hubspot_token, host=running.hubspot_url)
        .crm.tickets.basic_api.get_page(limit=100)
        .results
    )


def test_daily_quota_headers_and_exhaustion() -> None:
    with Sandbox(seed=1, size=5, hubspot_daily_limit=3) as small:
        headers = {"Authorization": f"Bearer {small.hubspot_token}"}
        url = f"{small.hubspot_url}/crm/v3/objects/tickets"
        first = requests.get(url, headers=headers, timeout=10)
        assert first.headers["X-HubSpot-RateLimit-Daily"] == "3"
        assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "2"
        requests.get(url, headers=headers, timeout=10)
        requests.get(url, headers=headers, timeout=10)
        spent = requests.get(url, headers=headers, timeout=10)
        assert spent.status_code == 429 and spent.json()["policyName"] == "DAILY"


def test_search_and_association_reads_are_exempt_from_the_ten_second_window() -> None:
    """As HubSpot's specs mark them (x-hubspot-rate-limit-exemptions: ten-secondly): searches and v4
    association batch reads do not count in the ten-second window; search has its own 5 per second."""
    with Sandbox(seed=1, size=10, hubspot_requests_per_10s=3) as small:
        headers = {"Authorization": f"Bearer {small.hubspot_token}"}
        search = f"{small.hubspot_url}/crm/v3/objects/tickets/search"
        answers = [requests.post(search, json={"limit": 1}, headers=headers, timeout=10) for _ in range(6)]
        assert [a.status_code for a in answers[:5]] == [200] * 5
        assert answers[5].status_code == 429 and answers[5].json()["policyName"] == "SECONDLY"
        assert int(answers[5].headers["Retry-After"]) >= 1
        assert "X-HubSpot-RateLimit-Remaining" not in answers[0].headers  # not the ten-second window's
        associations = f"{small.hubspot_url}/crm/v4/associations/tickets/contacts/batch/read"
        for _ in range(4):
            read = requests.post(associations, json={"inputs": [{"id": "1"}]}, headers=headers, timeout=10)
            assert read.status_code == 200
        listing = requests.get(f"{small.hubspot_url}/crm/v3/objects/tickets", headers=headers, timeout=10)
        assert listing.status_code == 200 and listing.headers["X-HubSpot-RateLimit-Remaining"] == "2"


def test_oauth_answers_carry_no_daily_headers() -> None:
    """OAuth-authenticated calls have no daily limit and no X-HubSpot-RateLimit-Daily* headers (HubSpot's
    changelog, 'Rate limit headers will now appear for OAuth authenticated calls')."""
    with Sandbox(seed=1, size=5, hubspot_auth="oauth") as oauth:
        headers = {"Authorization": f"Bearer {oauth.hubspot_token}"}
        answer = requests.get(f"{oauth.hubspot_url}/crm/v3/objects/tickets", headers=headers, timeout=10)
        assert answer.status_code == 200 and "X-HubSpot-RateLimit-Max" in answer.headers
        assert not [h for h in answer.headers if h.lower().startswith("x-hubspot-ratelimit-daily")]

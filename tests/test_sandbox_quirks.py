"""The world quirks that make naive connectors lose data, each switchable and each shown here:
eventually consistent search, bulk edits with one timestamp, archived and merged records, Aircall's
limited call history and tags that arrive after the call."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from hubspot import HubSpot
from hubspot.crm.tickets import BatchInputSimplePublicObjectBatchInput, PublicObjectSearchRequest

from connector.sandbox import Sandbox


def _client(sandbox: Sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)


def _search_since(client: HubSpot, since_ms: int) -> list[str]:
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]}
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        limit=200,
    )
    return [t.id for t in client.crm.tickets.search_api.do_search(request).results]


def test_search_sees_a_write_only_after_the_lag() -> None:
    with Sandbox(size=50, faults="hubspot=search_lag(0.5)", hubspot_requests_per_10s=1000) as sandbox:
        client = _client(sandbox)
        ticket = client.crm.tickets.basic_api.get_page(limit=1).results[0]
        before_write = int(time.time() * 1000)
        client.crm.tickets.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[{"id": ticket.id, "properties": {"subject": "changed"}}]
            )
        )
        assert ticket.id not in _search_since(client, before_write)  # not indexed yet
        assert (
            client.crm.tickets.basic_api.get_by_id(ticket.id).properties["subject"] == "changed"
        )  # but stored
        time.sleep(0.6)
        assert ticket.id in _search_since(client, before_write)


def test_bulk_update_gives_many_tickets_one_modification_time() -> None:
    with Sandbox(size=400, faults="hubspot=bulk_update(250)") as sandbox:
        kind = sandbox.hubspot.kinds["tickets"]
        stamps = [kind.record(i).properties["hs_lastmodifieddate"] for i in range(kind.count)]
        assert max(stamps.count(s) for s in set(stamps)) == 250


def test_archived_records_are_listed_only_with_archived_true() -> None:
    with Sandbox(size=300, faults="hubspot=archived(0.1)", hubspot_requests_per_10s=1000) as sandbox:
        client = _client(sandbox)
        live = _all_ids(client, archived=False)
        gone = _all_ids(client, archived=True)
        assert live.isdisjoint(gone) and len(live) + len(gone) == 300 and 10 < len(gone) < 60
        assert client.crm.tickets.basic_api.get_by_id(next(iter(gone)), archived=True).archived is True


def _all_ids(client: HubSpot, *, archived: bool) -> set[str]:
    ids: set[str] = set()
    after = None
    while True:
        page = client.crm.tickets.basic_api.get_page(limit=100, after=after, archived=archived)
        ids |= {t.id for t in page.results}
        if page.paging is None:
            return ids
        after = page.paging.next.after


def test_merged_contacts_answer_with_the_survivor() -> None:
    with Sandbox(size=400, faults="hubspot=merged(0.2)") as sandbox:
        client = _client(sandbox)
        kind = sandbox.hubspot.kinds["contacts"]
        merged = next(i for i in range(kind.count) if kind.merged_into(i) is not None)
        survivor = client.crm.contacts.basic_api.get_by_id(
            kind.object_id(merged), properties=["hs_merged_object_ids"]
        )
        assert survivor.id == kind.object_id(merged - 1)
        assert kind.object_id(merged) in survivor.properties["hs_merged_object_ids"].split(";")
        listed = client.crm.contacts.basic_api.get_page(limit=100).results
        assert kind.object_id(merged) not in {c.id for c in listed}


def test_aircall_limited_history_and_late_tags() -> None:
    with Sandbox(size=2000, faults="aircall=history_days(30); aircall=late_tags(259200)",
                 aircall_requests_per_minute=1000) as sandbox:  # fmt: skip
        auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
        calls = requests.get(f"{sandbox.aircall_url}/calls", params={"per_page": "50", "order": "asc"}, auth=auth,
                             timeout=10).json()  # fmt: skip
        oldest = calls["calls"][0]["started_at"]
        assert oldest >= int((sandbox.now - timedelta(days=30)).timestamp())
        assert calls["meta"]["total"] < sandbox.world.call_count
        # the last calls, ended within the 3 days before now, have no tags yet
        tagged = [i for i in range(sandbox.world.call_count) if sandbox.world.call(i).tags]
        recent = next(
            i for i in reversed(tagged) if sandbox.world.call(i).ended_at > sandbox.now - timedelta(days=3)
        )
        url = f"{sandbox.aircall_url}/calls/{900_000 + recent}"
        assert requests.get(url, auth=auth, timeout=10).json()["call"]["tags"] == []
        sandbox.now += timedelta(days=4)
        assert requests.get(url, auth=auth, timeout=10).json()["call"]["tags"]

"""Webhook events end to end against the sandbox: signed event → recorded → the object re-read from its
vendor by id → stored → its ticket's or customer's figures recomputed from their rows alone → only the
HubSpot properties that changed pushed. Redeliveries and older events change nothing; a failed read
leaves events pending until `drain`; the Lambda handler does the same as the server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from werkzeug.test import Client

from connector.cli import cli
from connector.errors import RetryableAPIError
from connector.jobs import push_results, run_job
from connector.sandbox import Sandbox
from connector.sandbox.liveagent import _ticket_id
from connector.schema import Call, Ticket
from connector.settings import Settings
from connector.store import Store
from connector.store.tables import webhook_event
from connector.webhooks import host
from connector.webhooks.app import WebhookApp
from connector.webhooks.process import EventProcessor
from connector.webhooks.worker import InlineProcessing
from connector.writer.properties import record_values
from tests.sync_helpers import FAST, sandbox_settings, sync
from tests.test_webhook_app import LA_SECRET, TOKEN, hubspot_event
from tests.test_webhook_hosts import served
from tests.test_webhook_verify import SECRET, signed_request
from tests.test_writer import NOW, OPEN

CUTOFF = NOW - timedelta(days=20)
"""The store was synced up to here: what changed after reaches it by webhook."""
HUBSPOT_URL = "http://localhost/webhooks/hubspot"


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Settings, Store]]:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    store = Store.open(url)
    with Sandbox(seed=21, size=200, **OPEN) as sandbox:  # type: ignore[arg-type]
        settings = sandbox_settings(
            sandbox,
            monkeypatch,
            database_url=url,
            hubspot__client_secret=SECRET,
            aircall__webhook_token=TOKEN,
            liveagent__webhook_secret=LA_SECRET,
        )
        for vendor in ("hubspot", "aircall", "liveagent"):
            assert sync(settings, store, vendor, now=CUTOFF).ok
        assert push_results(settings, store, dry_run=False, now=NOW).ok
        yield sandbox, settings, store
    store.close()


def processing_client(settings: Settings, store: Store) -> Client:
    processor = EventProcessor(settings, store, now=lambda: NOW)
    return Client(WebhookApp(settings, store, recorded=InlineProcessing(processor, budget=60)))


def post_hubspot(client: Client, events: list[dict[str, Any]], **signing: Any) -> Any:
    body = json.dumps(events).encode()
    request = signed_request(url=HUBSPOT_URL, body=body, **signing)
    return client.post(
        "/webhooks/hubspot", data=body, headers=dict(request.headers) | {"Content-Type": "application/json"}
    )


def outcomes(store: Store) -> dict[str, tuple[str | None, int]]:
    with store.engine.connect() as connection:
        rows = connection.execute(webhook_event.select())
        return {row.event_id: (row.outcome, row.attempts) for row in rows}


def hubspot_holds_the_store_figures(sandbox: Sandbox, settings: Settings, store: Store) -> None:
    """Every stored HubSpot ticket and contact carries, in the sandbox, the figures the whole store gives."""
    values = record_values(store, settings, now=NOW)
    for object_type, by_id in values.items():
        kind = sandbox.hubspot.kinds[object_type]
        for object_id, props in by_id.items():
            index = kind.index_of(object_id)
            assert index is not None
            held = kind.record(index).properties
            wrong = {
                name: (held.get(name), value) for name, value in props.items() if held.get(name) != value
            }
            assert not wrong, f"{object_type} {object_id}: {wrong}"


def test_a_hubspot_ticket_event_updates_that_tickets_properties_once(
    synced: tuple[Sandbox, Settings, Store],
) -> None:
    sandbox, settings, store = synced
    tickets = sandbox.hubspot.kinds["tickets"]
    ticket_id = tickets.object_id(5)
    tickets.update(5, {"time_to_first_agent_reply": "5400000"}, CUTOFF + timedelta(days=1))
    client = processing_client(settings, store)
    event = hubspot_event(1, objectId=int(ticket_id), propertyName="time_to_first_agent_reply")

    answer = post_hubspot(client, [event])
    assert answer.status_code == 200 and answer.json == {"accepted": 1, "new": 1}
    assert tickets.record(5).properties["helpdesk_frt_calendar_seconds"] == "5400"
    assert outcomes(store)["62515:1001"] == ("applied", 1)
    hubspot_holds_the_store_figures(sandbox, settings, store)

    calls, writes = len(sandbox.hubspot.requests), len(sandbox.hubspot.writes)
    again = post_hubspot(client, [event])  # redelivered: recorded once, nothing read or written
    assert again.json == {"accepted": 1, "new": 0}
    assert (len(sandbox.hubspot.requests), len(sandbox.hubspot.writes)) == (calls, writes)

    older = hubspot_event(2, objectId=int(ticket_id), occurredAt=event["occurredAt"] - 60_000)
    assert post_hubspot(client, [older]).json == {"accepted": 1, "new": 1}
    assert outcomes(store)["62515:1002"] == ("stale", 1)  # older than what was processed: no re-read
    assert len(sandbox.hubspot.requests) == calls

    forged = post_hubspot(client, [hubspot_event(3, objectId=int(ticket_id))], secret="not-the-secret")
    assert forged.status_code == 401 and "62515:1003" not in outcomes(store)


def test_a_hubspot_ticket_merge_event_folds_the_merged_tickets_into_the_new_one(
    synced: tuple[Sandbox, Settings, Store],
) -> None:
    """A ticket merge makes a new record (HubSpot knowledge base, "Merge tickets"); its event names the
    primary, the merged-away tickets and the new one (developer changelog, "New subscription types for
    Webhooks"). The store keeps both old tickets folded into the new one, which is re-read; a merge event
    is applied even when an event about the same object processed later came first; a merge event
    without its ids is refused with the reason."""
    sandbox, settings, store = synced
    tickets = sandbox.hubspot.kinds["tickets"]
    new, primary, merged = (tickets.object_id(n) for n in (5, 6, 7))
    client = processing_client(settings, store)
    later = hubspot_event(
        1, objectId=int(new), occurredAt=int((NOW + timedelta(minutes=5)).timestamp() * 1000)
    )
    assert post_hubspot(client, [later]).status_code == 200
    event = hubspot_event(
        2,
        subscriptionType="ticket.merge",
        objectId=int(new),
        primaryObjectId=int(primary),
        mergedObjectIds=[int(merged)],
        newObjectId=int(new),
    )
    reads = len(sandbox.hubspot.requests)

    answer = post_hubspot(client, [event])
    assert answer.status_code == 200 and answer.json == {"accepted": 1, "new": 1}
    assert outcomes(store)["62515:1002"] == ("applied", 1)
    assert store.merged_tickets() == {
        f"hubspot:{primary}": f"hubspot:{new}",
        f"hubspot:{merged}": f"hubspot:{new}",
    }
    assert len(sandbox.hubspot.requests) > reads  # the new ticket re-read

    broken = hubspot_event(3, subscriptionType="ticket.merge", primaryObjectId=int(primary))
    refused = post_hubspot(client, [broken])
    assert refused.status_code == 400 and b"mergedObjectIds" in refused.data


def test_an_aircall_call_reaches_the_callers_hubspot_contact(synced: tuple[Sandbox, Settings, Store]) -> None:
    sandbox, settings, store = synced
    world = sandbox.world
    late = [i for i in range(world.call_count) if CUTOFF < world.call(i).started_at < world.end]
    client = processing_client(settings, store)
    before = len(sandbox.hubspot.writes)
    for index in late[:5]:
        body = {"resource": "call", "event": "call.ended", "timestamp": int(world.call(index).ended_at.timestamp()),
                "token": TOKEN, "data": {"id": 900_000 + index}}  # fmt: skip
        assert client.post("/webhooks/aircall", json=body).status_code == 200
        assert store.get(Call, f"aircall:{900_000 + index}") is not None
    assert {o for o, _ in outcomes(store).values()} == {"applied"}
    contact_writes = [w for w in sandbox.hubspot.writes[before:] if w[1].endswith("/contacts/batch/update")]
    assert contact_writes, "no caller's figures were pushed"
    assert all(
        "helpdesk_calls_90d" in i["properties"] for _, _, body in contact_writes for i in body["inputs"]
    )
    hubspot_holds_the_store_figures(sandbox, settings, store)


def test_a_liveagent_ticket_reaches_the_customers_hubspot_contact(
    synced: tuple[Sandbox, Settings, Store],
) -> None:
    sandbox, settings, store = synced
    world = sandbox.world
    late = [i for i in range(world.conversation_count) if world.conversation(i).created_at > CUTOFF]
    client = processing_client(settings, store)
    before = len(sandbox.hubspot.writes)
    for index in late[:5]:
        body = {
            "event": "ticket_created",
            "ticket_id": _ticket_id(index),
            "changed_at": "2026-11-01 10:00:00",
        }
        answer = client.post("/webhooks/liveagent", json=body, headers={"X-Helpdesk-Secret": LA_SECRET})
        assert answer.status_code == 200
        assert store.get(Ticket, f"liveagent:{_ticket_id(index)}") is not None
    assert {o for o, _ in outcomes(store).values()} == {"applied"}
    assert any(w[1].endswith("/contacts/batch/update") for w in sandbox.hubspot.writes[before:])
    hubspot_holds_the_store_figures(sandbox, settings, store)


class _Down:
    """An adapter whose vendor is unreachable for now."""

    vendor = "hubspot"

    def refetch(self, object_type: str, ids: Any) -> Any:
        raise RetryableAPIError("service unavailable", vendor="hubspot", status=503)

    def close(self) -> None:
        return None


def test_a_failed_read_leaves_events_pending_and_drain_finishes_them(
    synced: tuple[Sandbox, Settings, Store],
) -> None:
    sandbox, settings, store = synced
    tickets = sandbox.hubspot.kinds["tickets"]
    events = [hubspot_event(n, objectId=int(tickets.object_id(n))) for n in range(10, 110)]
    down = EventProcessor(settings, store, adapters={"hubspot": _Down()}, now=lambda: NOW)  # type: ignore[dict-item]
    client = Client(WebhookApp(settings, store, recorded=InlineProcessing(down, budget=60)))
    assert post_hubspot(client, events).json == {"accepted": 100, "new": 100}  # a batch of 100
    assert len(store.pending_webhook_events()) == 100
    assert {o for o in outcomes(store).values()} == {(None, 1)}

    def reads() -> int:
        return sum(
            1 for _, path in sandbox.hubspot.requests if path.startswith("/crm/v3/objects/tickets/batch/read")
        )

    before = reads()
    report = EventProcessor(settings, store, now=lambda: NOW).drain()
    assert report.ok and report.applied == 100 and report.reads == 100
    assert reads() == before + 1  # 100 ids, one read
    assert store.pending_webhook_events() == []
    hubspot_holds_the_store_figures(sandbox, settings, store)


def test_drain_and_run_finish_what_the_app_only_recorded(
    synced: tuple[Sandbox, Settings, Store], tmp_path: Path
) -> None:
    sandbox, settings, store = synced
    tickets = sandbox.hubspot.kinds["tickets"]
    tickets.update(8, {"time_to_first_agent_reply": "7200000"}, CUTOFF + timedelta(days=1))
    recording_only = Client(WebhookApp(settings, store))
    assert (
        post_hubspot(recording_only, [hubspot_event(1, objectId=int(tickets.object_id(8)))]).status_code
        == 200
    )
    assert len(store.pending_webhook_events()) == 1
    result = CliRunner().invoke(cli, ["drain"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 events processed (1 applied" in result.output
    assert tickets.record(8).properties["helpdesk_frt_calendar_seconds"] == "7200"
    assert store.pending_webhook_events() == []

    tickets.update(8, {"time_to_first_agent_reply": "3600000"}, CUTOFF + timedelta(days=2))
    later = hubspot_event(
        2, objectId=int(tickets.object_id(8)), occurredAt=hubspot_event(1)["occurredAt"] + 1
    )
    assert post_hubspot(recording_only, [later]).status_code == 200
    report = run_job(settings, out=tmp_path / "report", months=1, dry_run=False, now=NOW)
    assert report.webhooks is not None and report.webhooks.applied == 1, report.lines
    assert report.lines[0].startswith("webhooks: 1 events processed")
    assert tickets.record(8).properties["helpdesk_frt_calendar_seconds"] == "3600"


def test_the_lambda_handler_processes_a_v2_event(
    synced: tuple[Sandbox, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, _settings, store = synced
    monkeypatch.setattr(host, "_lambda", None)
    tickets = sandbox.hubspot.kinds["tickets"]
    tickets.update(9, {"time_to_first_agent_reply": "1800000"}, CUTOFF + timedelta(days=1))
    public = "https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/hubspot"
    body = json.dumps([hubspot_event(1, objectId=int(tickets.object_id(9)))]).encode()
    headers = dict(signed_request(url=public, body=body).headers) | {"content-type": "application/json"}
    event = {
        "version": "2.0", "routeKey": "POST /webhooks/hubspot", "rawPath": "/webhooks/hubspot", "rawQueryString": "",
        "headers": headers | {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/hubspot", "protocol": "HTTP/1.1",
                                    "sourceIp": "1.2.3.4"}, "stage": "$default"},
        "body": base64.b64encode(body).decode(), "isBase64Encoded": True,
    }  # fmt: skip
    answer = host.lambda_handler(event, None)
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"accepted": 1, "new": 1}
    assert tickets.record(9).properties["helpdesk_frt_calendar_seconds"] == "1800"
    assert store.pending_webhook_events() == []
    writes = len(sandbox.hubspot.writes)
    assert json.loads(host.lambda_handler(event, None)["body"]) == {"accepted": 1, "new": 0}
    assert len(sandbox.hubspot.writes) == writes


def test_a_signed_event_posted_to_serve_updates_the_ticket_in_hubspot(
    synced: tuple[Sandbox, Settings, Store],
) -> None:
    sandbox, settings, store = synced
    tickets = sandbox.hubspot.kinds["tickets"]
    tickets.update(11, {"time_to_first_agent_reply": "2700000"}, CUTOFF + timedelta(days=1))
    env = (
        sandbox.settings_env()
        | FAST
        | {
            "HELPDESK_DATABASE_URL": settings.database_url,
            "HELPDESK_HUBSPOT__CLIENT_SECRET": SECRET,
        }
    )
    with served(env) as base:
        url = f"{base}/webhooks/hubspot"
        body = json.dumps([hubspot_event(1, objectId=int(tickets.object_id(11)))]).encode()
        headers = dict(signed_request(url=url, body=body).headers) | {"Content-Type": "application/json"}
        assert requests.post(url, data=body, headers=headers, timeout=5).json() == {"accepted": 1, "new": 1}
        deadline = time.monotonic() + 30
        while store.pending_webhook_events() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tickets.record(11).properties["helpdesk_frt_calendar_seconds"] == "2700"
        writes = len(sandbox.hubspot.writes)
        again = requests.post(url, data=body, headers=headers, timeout=5)
        assert again.json() == {"accepted": 1, "new": 0}
        forged = requests.post(url, data=body.replace(b"1001", b"1002"), headers=headers, timeout=5)
        assert forged.status_code == 401
        time.sleep(0.5)
        assert len(sandbox.hubspot.writes) == writes and store.pending_webhook_events() == []

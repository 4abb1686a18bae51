"""The webhook app through a WSGI test client: signed events recorded once (a redelivery changes nothing)
before the 2xx, a batch of 100 HubSpot events, and a table of malformed or hostile requests each answered
4xx with nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from connector.settings import load_settings
from connector.store import Store
from connector.webhooks.app import WebhookApp
from tests.test_webhook_verify import NOW, SECRET, signed_request

HUBSPOT_URL = "http://localhost/webhooks/hubspot"
TOKEN, LA_SECRET = "aircall-token-1", "liveagent-secret-1"


def hubspot_event(n: int = 1, **changes: Any) -> dict[str, Any]:
    return {"eventId": 1000 + n, "subscriptionId": 7, "portalId": 62515, "appId": 54321,
            "occurredAt": int(NOW.timestamp() * 1000), "subscriptionType": "ticket.propertyChange",
            "attemptNumber": 0, "objectId": 5000 + n, "propertyName": "hs_pipeline_stage",
            "propertyValue": "4", "changeSource": "CRM"} | changes  # fmt: skip


def aircall_event(**changes: Any) -> dict[str, Any]:
    return {"resource": "call", "event": "call.ended", "timestamp": int(NOW.timestamp()), "token": TOKEN,
            "data": {"id": 900001, "direction": "inbound"}} | changes  # fmt: skip


def liveagent_event(**changes: Any) -> dict[str, Any]:
    return {
        "event": "ticket_changed",
        "ticket_id": "la0000007",
        "changed_at": "2026-12-03 12:00:00",
    } | changes


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'hooks.db'}")
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> Client:
    settings = load_settings(
        hubspot={"client_secret": SECRET},
        aircall={"webhook_token": TOKEN},
        liveagent={"webhook_secret": LA_SECRET},
    )
    return Client(WebhookApp(settings, store))


def post_hubspot(client: Client, events: Any, **overrides: Any) -> Any:
    body = overrides.pop("body", None) or json.dumps(events).encode()
    request = signed_request(url=HUBSPOT_URL, body=body, **overrides)
    headers = dict(request.headers) | {"Content-Type": "application/json"}
    return client.post("/webhooks/hubspot", data=body, headers=headers)


def test_signed_events_are_recorded_once_before_the_answer(client: Client, store: Store) -> None:
    batch = [hubspot_event(n) for n in range(100)]
    first = post_hubspot(client, batch)
    assert first.status_code == 200 and first.json == {"accepted": 100, "new": 100}
    again = post_hubspot(client, batch)  # HubSpot delivers again (at-least-once)
    assert again.status_code == 200 and again.json == {"accepted": 100, "new": 0}
    pending = store.pending_webhook_events()
    assert len(pending) == 100 and {p["object_type"] for p in pending} == {"tickets"}
    aircall = client.post("/webhooks/aircall", json=aircall_event())
    assert aircall.status_code == 200 and aircall.json is not None and aircall.json["new"] == 1
    stored = next(p for p in store.pending_webhook_events() if p["source"] == "aircall")
    assert "token" not in json.dumps(stored["payload"])  # the secret is never stored
    liveagent = client.post(
        "/webhooks/liveagent", json=liveagent_event(), headers={"X-Helpdesk-Secret": LA_SECRET}
    )
    assert liveagent.status_code == 200 and liveagent.json is not None and liveagent.json["new"] == 1
    assert client.get("/healthz").json == {"ok": True}


def _bad_requests() -> list[tuple[str, Any]]:
    """(name, request description) of requests that must get a 4xx and store nothing."""
    ok = hubspot_event()
    cases: list[tuple[str, Any]] = [
        ("get on a webhook path", ("GET", "/webhooks/hubspot", None, {})),
        ("put", ("PUT", "/webhooks/aircall", b"{}", {"Content-Type": "application/json"})),
        ("delete", ("DELETE", "/webhooks/liveagent", None, {})),
        ("post to healthz", ("POST", "/healthz", b"{}", {})),
        ("unknown vendor", ("POST", "/webhooks/zendesk", b"{}", {"Content-Type": "application/json"})),
        ("trailing slash", ("POST", "/webhooks/hubspot/", b"[]", {"Content-Type": "application/json"})),
        (
            "dot segments",
            ("POST", "/webhooks/../webhooks/hubspot", b"[]", {"Content-Type": "application/json"}),
        ),
        ("encoded slash", ("POST", "/webhooks%2Fhubspot", b"[]", {"Content-Type": "application/json"})),
        ("double slash", ("POST", "//webhooks/hubspot", b"[]", {"Content-Type": "application/json"})),
        ("root", ("POST", "/", b"[]", {})),
        (
            "huge body",
            (
                "POST",
                "/webhooks/aircall",
                b"{" + b" " * 1_000_001 + b"}",
                {"Content-Type": "application/json"},
            ),
        ),
        ("empty body", ("POST", "/webhooks/aircall", b"", {"Content-Type": "application/json"})),
        ("blank body", ("POST", "/webhooks/aircall", b"   \n", {"Content-Type": "application/json"})),
        ("no content type", ("POST", "/webhooks/aircall", json.dumps(aircall_event()).encode(), {})),
    ]
    cases += [
        (f"{kind} content", ("POST", "/webhooks/aircall", json.dumps(aircall_event()).encode(), headers))
        for kind, headers in {
            "form": {"Content-Type": "application/x-www-form-urlencoded"},
            "text": {"Content-Type": "text/plain"},
        }.items()
    ]
    aircall_bodies = {
        "aircall not json": b"{not json",
        "aircall array": b"[]",
        "aircall string": b'"hello"',
        "aircall null": b"null",
        "aircall no token": json.dumps({k: v for k, v in aircall_event().items() if k != "token"}).encode(),
        "aircall wrong token": json.dumps(aircall_event(token="guess")).encode(),
        "aircall token number": json.dumps(aircall_event(token=12345)).encode(),
        "aircall unknown event": json.dumps(aircall_event(event="call.exploded")).encode(),
        "aircall event null": json.dumps(aircall_event(event=None)).encode(),
        "aircall no data": json.dumps(aircall_event(data=None)).encode(),
        "aircall data list": json.dumps(aircall_event(data=[1])).encode(),
        "aircall id missing": json.dumps(aircall_event(data={})).encode(),
        "aircall id bool": json.dumps(aircall_event(data={"id": True})).encode(),
        "aircall id huge": json.dumps(aircall_event(data={"id": "9" * 200})).encode(),
        "aircall id control chars": json.dumps(aircall_event(data={"id": "1\r\nX-Injected: yes"})).encode(),
        "aircall timestamp text": json.dumps(aircall_event(timestamp="yesterday")).encode(),
        "aircall timestamp huge": json.dumps(aircall_event(timestamp=10**20)).encode(),
        "aircall NaN": json.dumps(aircall_event()).replace('"inbound"', "NaN").encode(),
        "aircall latin-1": json.dumps(aircall_event()).replace("inbound", "caf\u00e9").encode("latin-1"),
        "aircall utf-16": json.dumps(aircall_event()).encode("utf-16"),
        "aircall deep": b"[" * 100_000 + b"]" * 100_000,
    }
    cases += [
        (name, ("POST", "/webhooks/aircall", body, {"Content-Type": "application/json"}))
        for name, body in aircall_bodies.items()
    ]
    hubspot_events: dict[str, Any] = {
        "hubspot object": ok,
        "hubspot empty array": [],
        "hubspot 101 events": [hubspot_event(n) for n in range(101)],
        "hubspot item not object": [1],
        "hubspot unknown type": [hubspot_event(subscriptionType="planet.creation")],
        "hubspot no type": [hubspot_event(subscriptionType=None)],
        "hubspot type without dot": [hubspot_event(subscriptionType="ticket")],
        "hubspot no event id": [hubspot_event(eventId=None)],
        "hubspot object id list": [hubspot_event(objectId=[1])],
        "hubspot occurredAt text": [hubspot_event(occurredAt="now")],
        "hubspot occurredAt float": [hubspot_event(occurredAt=1.5)],
        "hubspot occurredAt year 1": [hubspot_event(occurredAt=-62135596800000)],
        "hubspot no portal": [hubspot_event(portalId=None)],
    }
    cases += [(name, ("hubspot-signed", events)) for name, events in hubspot_events.items()]
    cases += [
        (
            "hubspot unsigned",
            ("POST", "/webhooks/hubspot", json.dumps([ok]).encode(), {"Content-Type": "application/json"}),
        ),
        ("hubspot wrong secret", ("hubspot-signed-with", {"secret": "other"})),
        ("hubspot stale", ("hubspot-signed-with", {"sent": NOW.replace(year=NOW.year - 1)})),
        ("hubspot signature of another body", ("hubspot-signed-with", {"signature": "AAAA"})),
    ]
    liveagent_events: dict[str, tuple[dict[str, Any], str | None]] = {
        "liveagent no secret": (liveagent_event(), None),
        "liveagent wrong secret": (liveagent_event(), "guess"),
        "liveagent unknown event": (liveagent_event(event="x"), LA_SECRET),
        "liveagent no ticket": (liveagent_event(ticket_id=""), LA_SECRET),
        "liveagent changed_at number": (liveagent_event(changed_at=5), LA_SECRET),
    }
    for name, (event, secret) in liveagent_events.items():
        headers = {"Content-Type": "application/json"} | ({"X-Helpdesk-Secret": secret} if secret else {})
        cases.append((name, ("POST", "/webhooks/liveagent", json.dumps(event).encode(), headers)))
    return cases


BAD = _bad_requests()


@pytest.mark.parametrize(("name", "spec"), BAD, ids=[name for name, _ in BAD])
def test_a_malformed_or_hostile_request_gets_a_4xx_and_stores_nothing(
    client: Client, store: Store, name: str, spec: Any
) -> None:
    if spec[0] == "hubspot-signed":
        response = post_hubspot(client, spec[1])
    elif spec[0] == "hubspot-signed-with":
        response = post_hubspot(client, [hubspot_event()], **spec[1])
    else:
        method, path, body, headers = spec
        response = client.open(path, method=method, data=body, headers=headers)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.get_data(as_text=True))
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and len(text) < 300
    assert store.pending_webhook_events() == []


def test_there_are_at_least_fifty_malformed_cases() -> None:
    assert len(BAD) >= 50


def test_generic_object_events_and_events_about_objects_not_followed(client: Client, store: Store) -> None:
    """`object.*` subscriptions name the object by `objectTypeId`; an event about an object the connector
    does not follow (a company) is left out of its batch, and a batch of only such events is refused."""
    batch = [
        hubspot_event(1),
        hubspot_event(2, subscriptionType="object.propertyChange", objectTypeId="0-48"),
        hubspot_event(3, subscriptionType="object.creation", objectTypeId="0-2"),
    ]
    answer = post_hubspot(client, batch)
    assert answer.status_code == 200 and answer.json == {"accepted": 2, "new": 2}
    assert sorted(p["object_type"] for p in store.pending_webhook_events()) == ["calls", "tickets"]
    only_companies = post_hubspot(client, [hubspot_event(4, subscriptionType="company.creation")])
    assert only_companies.status_code == 400 and "unknown event" in only_companies.json["error"]

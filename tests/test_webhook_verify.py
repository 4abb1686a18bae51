"""Webhook verification with really signed requests, built by one helper (STYLE.md item 7): HubSpot's
documented v1 and v2 vectors, v3 with its five-minute window and URI decoding behind a proxy, Aircall's
token and LiveAgent's shared secret — each refusal a WebhookSignatureError with a short reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.errors import WebhookSignatureError
from connector.webhooks.verify import IncomingRequest, verify_aircall, verify_hubspot, verify_liveagent

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
NOW = datetime.now(UTC)
"""When the module was imported: only for values whose age does not matter. The SDK checks v3 timestamps
against the real clock, so signatures are stamped at the moment they are made (`signed_request`)."""
BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    b'"changeFlag":"NEW","appId":54321}]'
)
URL = "https://hooks.example.com/webhooks/hubspot"


def signed_request(
    *,
    version: str = "v3",
    secret: str = SECRET,
    method: str = "POST",
    url: str = URL,
    seen_url: str | None = None,
    body: bytes = BODY,
    sent: datetime | None = None,
    headers: dict[str, str] | None = None,
    signature: str | None = None,
) -> IncomingRequest:
    """A request as HubSpot would send it to `url` (the registered public URL), as the host saw it at
    `seen_url` (behind a proxy), signed with `secret` — unless `signature` overrides."""
    stamp = str(int((sent or datetime.now(UTC)).timestamp() * 1000))
    text = body.decode()
    if version == "v1":
        computed = hashlib.sha256((secret + text).encode()).hexdigest()
        signing = {"X-HubSpot-Signature": computed, "X-HubSpot-Signature-Version": "v1"}
    elif version == "v2":
        computed = hashlib.sha256((secret + method + url + text).encode()).hexdigest()
        signing = {"X-HubSpot-Signature": computed, "X-HubSpot-Signature-Version": "v2"}
    else:
        decoded = url.replace("%3A", ":").replace("%2F", "/").replace("%3F", "?").replace("%40", "@")
        digest = hmac.new(
            secret.encode(), (method + decoded + text + stamp).encode(), hashlib.sha256
        ).digest()
        computed = base64.b64encode(digest).decode()
        signing = {"X-HubSpot-Signature-v3": computed, "X-HubSpot-Request-Timestamp": stamp}
    if signature is not None:
        signing = {
            k: (signature if "Signature" in k and "Version" not in k else v) for k, v in signing.items()
        }
    return IncomingRequest(method, seen_url or url, signing | (headers or {}), body)


def test_hubspots_documented_v1_and_v2_vectors() -> None:
    v1 = IncomingRequest("POST", URL, {"X-HubSpot-Signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
                                       "X-HubSpot-Signature-Version": "v1"}, BODY)  # fmt: skip
    verify_hubspot(v1, SECRET)
    v2 = IncomingRequest("GET", "https://www.example.com/webhook_uri", {
        "X-HubSpot-Signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
        "X-HubSpot-Signature-Version": "v2"}, b"")  # fmt: skip
    verify_hubspot(v2, SECRET)
    assert signed_request(version="v1").header("x-hubspot-signature") == v1.header("X-HubSpot-Signature")


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_signed_request_passes_and_a_wrong_secret_does_not(version: str) -> None:
    verify_hubspot(signed_request(version=version), SECRET)
    with pytest.raises(WebhookSignatureError, match="bad signature"):
        verify_hubspot(signed_request(version=version, secret="another-secret"), SECRET)
    signed = signed_request(version=version)
    tampered = IncomingRequest(signed.method, signed.url, dict(signed.headers), BODY.replace(b"123", b"124"))
    with pytest.raises(WebhookSignatureError, match="bad signature"):
        verify_hubspot(tampered, SECRET)


@pytest.mark.parametrize("age", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)])
def test_v3_outside_the_five_minute_window_is_stale(age: timedelta) -> None:
    request = signed_request(sent=datetime.now(UTC) - age)
    with pytest.raises(WebhookSignatureError, match="stale"):
        verify_hubspot(request, SECRET)
    verify_hubspot(signed_request(sent=datetime.now(UTC) - timedelta(minutes=4)), SECRET)


def test_v3_behind_a_proxy_and_with_escaped_characters_in_the_uri() -> None:
    public = "https://hooks.example.com/webhooks/hubspot?portal=62515%3Aeu&next=%2Fx"
    behind = "http://10.0.0.7:8080/webhooks/hubspot?portal=62515%3Aeu&next=%2Fx"
    request = signed_request(url=public, seen_url=behind,
                             headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"})  # fmt: skip
    verify_hubspot(request, SECRET)
    without_proxy_headers = signed_request(url=public, seen_url=behind)
    with pytest.raises(WebhookSignatureError, match="bad signature"):
        verify_hubspot(without_proxy_headers, SECRET)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "unsigned"),
        ({"X-HubSpot-Signature": "abc", "X-HubSpot-Signature-Version": "v9"}, "unknown signature version"),
        ({"X-HubSpot-Signature-v3": "abc"}, "no valid X-HubSpot-Request-Timestamp"),
        ({"X-HubSpot-Signature-v3": "abc", "X-HubSpot-Request-Timestamp": "soon"}, "no valid"),
        ({"X-HubSpot-Signature-v3": "abc", "X-HubSpot-Request-Timestamp": "9" * 40}, "no valid"),
        ({"X-HubSpot-Signature": "", "X-HubSpot-Signature-Version": "v1"}, "bad signature"),
    ],
)
def test_unsigned_or_malformed_signatures_are_refused_with_a_reason(
    headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_hubspot(IncomingRequest("POST", URL, headers, BODY), SECRET)


def test_a_body_that_is_not_utf8_and_no_configured_secret_are_refused() -> None:
    with pytest.raises(WebhookSignatureError, match="not UTF-8"):
        verify_hubspot(IncomingRequest("POST", URL, {"X-HubSpot-Signature": "x"}, b"\xff"), SECRET)
    with pytest.raises(WebhookSignatureError, match="HELPDESK_HUBSPOT__CLIENT_SECRET"):
        verify_hubspot(signed_request(), "")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [({"token": "t0k3n"}, None), ({"token": "wrong"}, "bad token"), ({}, "no token"), ([1], "no token"),
     ({"token": 5}, "no token")],
)  # fmt: skip
def test_aircalls_body_token(payload: Any, reason: str | None) -> None:
    if reason is None:
        verify_aircall(payload | {"event": "call.ended"}, "t0k3n")
        return
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_aircall(payload, "t0k3n")


@pytest.mark.parametrize(
    ("url", "headers", "reason"),
    [
        ("https://h/webhooks/liveagent", {"X-Helpdesk-Secret": "s3cret"}, None),
        ("https://h/webhooks/liveagent?secret=s3cret", {}, None),
        ("https://h/webhooks/liveagent?secret=s3cre%74", {}, None),  # URL-encoded
        ("https://h/webhooks/liveagent", {"x-helpdesk-secret": "nope"}, "bad secret"),
        ("https://h/webhooks/liveagent?secret=", {}, "unsigned"),
        ("https://h/webhooks/liveagent", {}, "unsigned"),
    ],
)
def test_liveagents_shared_secret(url: str, headers: dict[str, str], reason: str | None) -> None:
    request = IncomingRequest("POST", url, headers, b"{}")
    if reason is None:
        verify_liveagent(request, "s3cret")
        return
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_liveagent(request, "s3cret")

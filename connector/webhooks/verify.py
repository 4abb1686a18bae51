"""Who sent a webhook: HubSpot's signatures (v1, v2, v3) through the SDK's own `Signature`, Aircall's body
token and LiveAgent's shared secret, each compared in constant time. Every refusal is a
`WebhookSignatureError` with a short reason for the 401; nothing here parses the events.

    >>> request = IncomingRequest("POST", "https://hooks.example.com/webhooks/hubspot", headers, body)
    >>> verify_hubspot(request, client_secret)            # raises WebhookSignatureError when not HubSpot's

Facts (NOTES.md, HubSpot's webhook docs): v1 = hex SHA-256(secret + body); v2 = hex SHA-256(secret + method
+ URI + body); v3 = base64 HMAC-SHA256(secret, method + URI + body + timestamp) with
`X-HubSpot-Request-Timestamp` (ms) no older than 5 minutes, the URI being the public URL the app registered
with %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded. Behind a proxy or API Gateway the public URL
is rebuilt from `X-Forwarded-Proto` and `X-Forwarded-Host`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from hubspot.exceptions import InvalidSignatureTimestampError, InvalidSignatureVersionError
from hubspot.utils.signature import Signature

from connector.errors import WebhookSignatureError

WINDOW = timedelta(minutes=5)
"""How old (or how far in the future) a v3 timestamp may be."""
V3_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
              "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}  # fmt: skip
"""The escapes HubSpot decodes in the URI before signing it (v3)."""
LIVEAGENT_SECRET_HEADER = "X-Helpdesk-Secret"  # noqa: S105  (a header name, not a secret)
LIVEAGENT_SECRET_PARAMETER = "secret"  # noqa: S105  (a parameter name)


@dataclass(frozen=True)
class IncomingRequest:
    """A webhook request as any host hands it over: the raw body, never re-encoded JSON."""

    method: str
    url: str
    """The full URL as the host saw it (scheme, host, path, query)."""
    headers: Mapping[str, str]
    body: bytes
    _lower: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lower", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    def public_url(self) -> str:
        """The URL the sender used: scheme and host from `X-Forwarded-Proto`/`X-Forwarded-Host` when a
        proxy or API Gateway stands in front (their first value), else the URL as seen."""
        parts = urlsplit(self.url)
        scheme = (self.header("X-Forwarded-Proto") or parts.scheme).split(",")[0].strip()
        host = (self.header("X-Forwarded-Host") or parts.netloc).split(",")[0].strip()
        return urlunsplit((scheme, host, parts.path, parts.query, ""))

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookSignatureError("the body is not UTF-8") from None


def _v3_uri(url: str) -> str:
    for escape, character in V3_DECODED.items():
        url = url.replace(escape, character).replace(escape.lower(), character)
    return url


def verify_hubspot(request: IncomingRequest, client_secret: str, *, now: datetime | None = None) -> None:
    """Accept a request signed by HubSpot with `client_secret` (v3, else v2 or v1 as the request says)."""
    if not client_secret:
        raise WebhookSignatureError(
            "no HubSpot client secret is configured (HELPDESK_HUBSPOT__CLIENT_SECRET)"
        )
    body = request.text()
    v3 = request.header("X-HubSpot-Signature-v3")
    if v3 is not None:
        stamp = request.header("X-HubSpot-Request-Timestamp") or ""
        _check_window(stamp, now or datetime.now(UTC))
        valid = _sdk_check(
            v3, client_secret, body, _v3_uri(request.public_url()), request.method, "v3", stamp
        )
    else:
        signature = request.header("X-HubSpot-Signature")
        if signature is None:
            raise WebhookSignatureError("unsigned: no X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
        version = (request.header("X-HubSpot-Signature-Version") or "v1").lower()
        if version not in ("v1", "v2"):
            raise WebhookSignatureError(f"unknown signature version {version[:10]!r}")
        valid = _sdk_check(
            signature, client_secret, body, request.public_url(), request.method, version, None
        )
    if not valid:
        raise WebhookSignatureError("bad signature")


def _check_window(stamp: str, now: datetime) -> None:
    """The SDK refuses timestamps older than five minutes; one from the future is refused here too."""
    try:
        sent = datetime.fromtimestamp(int(stamp) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookSignatureError("no valid X-HubSpot-Request-Timestamp") from None
    if abs(now - sent) > WINDOW:
        raise WebhookSignatureError("stale: the timestamp is outside the five-minute window")


def _sdk_check(
    signature: str, secret: str, body: str, uri: str, method: str, version: str, stamp: str | None
) -> bool:
    try:
        return bool(
            Signature.is_valid(
                signature=signature,
                client_secret=secret,
                request_body=body,
                http_uri=uri,
                http_method=method.upper(),
                signature_version=version,
                timestamp=stamp,
            )
        )
    except InvalidSignatureTimestampError:
        raise WebhookSignatureError("stale: the timestamp is outside the five-minute window") from None
    except (InvalidSignatureVersionError, TypeError, ValueError):
        raise WebhookSignatureError("malformed signature") from None


def verify_aircall(payload: Any, token: str) -> None:
    """Aircall signs nothing: each webhook body carries the webhook's `token`, compared in constant time."""
    if not token:
        raise WebhookSignatureError(
            "no Aircall webhook token is configured (HELPDESK_AIRCALL__WEBHOOK_TOKEN)"
        )
    given = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(given, str) or not given:
        raise WebhookSignatureError("unsigned: the body carries no token")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise WebhookSignatureError("bad token")


def verify_liveagent(request: IncomingRequest, secret: str) -> None:
    """LiveAgent's Rules send unsigned HTTP requests: the admin puts the shared secret in the
    `X-Helpdesk-Secret` header (or, where a header cannot be set, the `secret` query parameter)."""
    if not secret:
        raise WebhookSignatureError("no LiveAgent secret is configured (HELPDESK_LIVEAGENT__WEBHOOK_SECRET)")
    given = request.header(LIVEAGENT_SECRET_HEADER)
    if given is None:
        values = parse_qs(urlsplit(request.url).query).get(LIVEAGENT_SECRET_PARAMETER) or []
        given = values[0] if values else None
    if not given:
        raise WebhookSignatureError(f"unsigned: no {LIVEAGENT_SECRET_HEADER} header or secret parameter")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise WebhookSignatureError("bad secret")

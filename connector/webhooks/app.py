"""The webhook WSGI app, one core for every host (`serve`, a container, AWS Lambda through a WSGI adapter):
verify → parse → record → acknowledge. Each accepted event is in the store, unique by the vendor's event
id, before the 2xx; processing (re-read the object from the vendor, recompute, push) happens after, so a
vendor's timeout never loses an event.

    POST /webhooks/hubspot | /webhooks/aircall | /webhooks/liveagent     GET /healthz

Bad input is always a 4xx with a short JSON reason and nothing stored: 401 unsigned, badly signed or stale;
404 unknown path; 405 wrong method; 413 body over 1 MB; 415 not JSON content; 400 malformed JSON or an
unknown event. A failure of the connector itself (the store is down) is a 503 without details, so the
vendor delivers again later.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from connector.errors import WebhookPayloadError, WebhookSignatureError
from connector.settings import Settings
from connector.store import Store
from connector.webhooks.events import PARSERS, WebhookEvent, parse_json
from connector.webhooks.verify import IncomingRequest, verify_aircall, verify_hubspot, verify_liveagent

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
"""Bytes a webhook body may have (HubSpot's batches of 100 events are far smaller)."""
_ROUTE = re.compile(r"^/webhooks/(hubspot|aircall|liveagent)$")


def _answer(status: int, **body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class WebhookApp:
    """The WSGI application. `recorded` hears the events newly stored by each request (the processing
    step hooks in there)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        max_body: int = MAX_BODY,
        recorded: Callable[[list[WebhookEvent]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.max_body = max_body
        self.recorded = recorded
        self.worker: Any = None
        """The background worker processing this app's events, when its host started one."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            response = self.handle(Request(environ))
        except Exception:  # the connector's own failure, never the sender's: retry later, no details
            log.exception("webhook request failed")
            response = _answer(503, error="temporarily unavailable; deliver again later")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/healthz":
            if request.method not in ("GET", "HEAD"):
                return _answer(405, error="method not allowed")
            return _answer(200, ok=True)
        route = _ROUTE.match(request.path)
        if route is None:
            return _answer(404, error="not found")
        vendor = route.group(1)
        if request.method != "POST":
            response = _answer(405, error="method not allowed")
            response.headers["Allow"] = "POST"
            return response
        if request.content_length is not None and request.content_length > self.max_body:
            return _answer(413, error="body too large")
        body = request.stream.read(self.max_body + 1)
        if len(body) > self.max_body:
            return _answer(413, error="body too large")
        if not body.strip():
            return _answer(400, error="empty body")
        if request.mimetype != "application/json":
            return _answer(415, error="expected application/json")
        incoming = IncomingRequest(request.method, request.url, dict(request.headers.items()), body)
        try:
            events = self._verified_events(vendor, incoming)
        except WebhookSignatureError as exc:
            return _answer(401, error=str(exc))
        except WebhookPayloadError as exc:
            return _answer(400, error=str(exc))
        new = self.store.record_webhook_events(events)
        if self.recorded is not None and new:
            self.recorded(new)
        return _answer(200, accepted=len(events), new=len(new))

    def _verified_events(self, vendor: str, incoming: IncomingRequest) -> list[WebhookEvent]:
        if vendor == "hubspot":
            secret = self.settings.hubspot.client_secret
            verify_hubspot(incoming, secret.get_secret_value() if secret else "")
            return PARSERS[vendor](parse_json(incoming.body))
        if vendor == "liveagent":
            secret = self.settings.liveagent.webhook_secret
            verify_liveagent(incoming, secret.get_secret_value() if secret else "")
            return PARSERS[vendor](parse_json(incoming.body))
        payload = parse_json(incoming.body)  # Aircall's token travels inside the body
        token = self.settings.aircall.webhook_token
        verify_aircall(payload, token.get_secret_value() if token else "")
        return PARSERS[vendor](payload)

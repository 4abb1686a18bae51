"""Hosts of the webhook app: `helpdesk-kpi serve` under waitress (a production WSGI server) and an AWS
Lambda handler for API Gateway REST (v1) and HTTP API (v2) events and function URLs through `apig-wsgi`.
Both build the same `WebhookApp` from the settings, once per process.

    # Lambda: handler = connector.webhooks.host.lambda_handler
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.settings import Settings, load_settings
from connector.store import Store
from connector.webhooks.app import WebhookApp

_lambda: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def make_app(settings: Settings) -> WebhookApp:
    """The app with its store opened (migrated if needed)."""
    return WebhookApp(settings, Store.open(settings.database_url))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The AWS Lambda entry point; the app (settings, store) is made on the first invocation and kept
    while the Lambda stays warm."""
    global _lambda
    if _lambda is None:
        from apig_wsgi import make_lambda_handler

        _lambda = make_lambda_handler(make_app(load_settings()), binary_support=True)
    return _lambda(event, context)


def serve(settings: Settings, *, host: str, port: int, threads: int = 8) -> None:
    """Serve the app until interrupted (waitress)."""
    from waitress import serve as waitress_serve

    waitress_serve(make_app(settings), host=host, port=port, threads=threads, ident="helpdesk-kpi")

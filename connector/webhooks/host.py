"""Hosts of the webhook app: `helpdesk-kpi serve` under waitress (a production WSGI server) and an AWS
Lambda handler for API Gateway REST (v1) and HTTP API (v2) events and function URLs through `apig-wsgi`.
Both build the same `WebhookApp` from the settings, once per process; `serve` processes the recorded
events in a worker process, Lambda inside the invocation within `HELPDESK_WEBHOOK_BUDGET`.

    # Lambda: handler = connector.webhooks.host.lambda_handler
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from connector.settings import Settings, load_settings
from connector.store import Store
from connector.webhooks.app import WebhookApp
from connector.webhooks.process import EventProcessor
from connector.webhooks.worker import BackgroundWorker, InlineProcessing, ProcessWorker

_lambda: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def make_app(settings: Settings, *, processing: str = "none") -> WebhookApp:
    """The app with its store opened (migrated if needed). `processing`: `process` (a worker process,
    started here; `app.worker`), `background` (a worker thread), `inline` (inside the request, within
    `webhook_budget`) or `none` (record only; `drain` processes)."""
    store = Store.open(settings.database_url)
    app = WebhookApp(settings, store)
    if processing == "process":
        app.worker = ProcessWorker(settings).start()
        app.recorded = app.worker.notify
    elif processing == "background":
        app.worker = BackgroundWorker(EventProcessor(settings, store)).start()
        app.recorded = app.worker.notify
    elif processing == "inline":
        budget = settings.webhook_budget.total_seconds()
        app.recorded = InlineProcessing(EventProcessor(settings, store), budget=budget)
    return app


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The AWS Lambda entry point; the app (settings, store) is made on the first invocation and kept
    while the Lambda stays warm. Events are processed inside the invocation, within the budget."""
    global _lambda
    if _lambda is None:
        from apig_wsgi import make_lambda_handler

        _lambda = make_lambda_handler(make_app(load_settings(), processing="inline"), binary_support=True)
    return _lambda(event, context)


def serve(settings: Settings, *, host: str, port: int, threads: int = 8) -> None:
    """Serve the app until interrupted or terminated (waitress), processing events in a worker process."""
    from waitress import serve as waitress_serve

    app = make_app(settings, processing="process")
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # a container's stop: the worker ends too
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="helpdesk-kpi")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if app.worker is not None:
            app.worker.stop()
        app.store.close()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)

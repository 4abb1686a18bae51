"""The offline sandbox: vendor APIs served on 127.0.0.1 from a deterministic world.

    >>> with Sandbox(seed=7, size=500) as sandbox:
    ...     client = HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url)
    ...     page = client.crm.tickets.basic_api.get_page(limit=100)

It speaks HubSpot (owners, pipelines, CRM objects and custom objects, properties, schemas,
associations) at the root, Aircall (calls, users, teams, contacts, webhooks) under `/v1` and LiveAgent
(tickets, messages, SLA, history, calls, agents, departments, contacts, tags) under `/api/v3`, with the
fault switches and world quirks of `connector.sandbox.faults`. The demo, the integration tests and the
benchmarks run against it.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connector.sandbox.aircall import AircallEmulator
from connector.sandbox.faults import FaultInjector, parse_faults, quirk
from connector.sandbox.hubspot import HubSpotEmulator
from connector.sandbox.hubspot_objects import HubSpotQuirks
from connector.sandbox.liveagent import LiveAgentEmulator
from connector.sandbox.world import World

__all__ = ["Sandbox", "World"]


class _QuietHandler(WSGIRequestHandler):
    """No line on stderr per request: the emulators keep their own request log for tests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        return None  # dropped on purpose by a fault switch, or by the client


def _search_limit(requests_per_10s: int) -> int:
    """HubSpot's CRM search limit, 5 per second, unless the sandbox's ten-second limit was opened beyond any
    real tier (tests that count calls rather than wait): then search opens in proportion."""
    return 5 if requests_per_10s <= 190 else max(5, requests_per_10s // 2)


class Sandbox:
    """Serves the emulated vendor APIs on a loopback port (ephemeral by default) in a background thread."""

    def __init__(
        self,
        *,
        seed: int = 1,
        size: int = 1000,
        port: int = 0,
        hubspot_token: str | None = None,
        hubspot_requests_per_10s: int = 190,
        aircall_requests_per_minute: int = 60,
        liveagent_requests_per_minute: int = 180,
        hubspot_custom_objects: bool = True,
        hubspot_daily_limit: int = 500_000,
        hubspot_search_per_second: int | None = None,
        hubspot_auth: str = "private_app",
        faults: str = "",
        end: datetime | None = None,
    ) -> None:
        self.world = World(seed=seed, size=size, end=end)
        """The year of records before `end` (default the fixed 2026-11-01 the tests know)."""
        rules = parse_faults(faults)
        self.now = self.world.end
        """The sandbox's clock for time-dependent behaviour (late call tags, call history); tests move it."""
        self.hubspot_token = hubspot_token or f"pat-sandbox-{secrets.token_hex(12)}"
        self.hubspot = HubSpotEmulator(
            self.world,
            token=self.hubspot_token,
            requests_per_10s=hubspot_requests_per_10s,
            custom_objects=hubspot_custom_objects,
            daily_limit=hubspot_daily_limit,
            search_per_second=hubspot_search_per_second or _search_limit(hubspot_requests_per_10s),
            auth=hubspot_auth,
            quirks=HubSpotQuirks(
                search_lag=quirk(rules, "hubspot", "search_lag") or 0.0,
                bulk_update=int(quirk(rules, "hubspot", "bulk_update") or 0),
                archived_fraction=quirk(rules, "hubspot", "archived") or 0.0,
                merged_fraction=quirk(rules, "hubspot", "merged") or 0.0,
            ),
        )
        self.aircall_api_id = f"sandbox-{secrets.token_hex(4)}"
        self.aircall_api_token = secrets.token_hex(16)
        self.aircall = AircallEmulator(
            self.world,
            api_id=self.aircall_api_id,
            api_token=self.aircall_api_token,
            requests_per_minute=aircall_requests_per_minute,
            clock=lambda: self.now,
            history_days=quirk(rules, "aircall", "history_days"),
            late_tags_seconds=quirk(rules, "aircall", "late_tags") or 0.0,
        )
        self.liveagent_api_key = secrets.token_hex(16)
        self.liveagent = LiveAgentEmulator(
            self.world, api_key=self.liveagent_api_key, requests_per_minute=liveagent_requests_per_minute
        )
        self.faults = {
            "hubspot": FaultInjector(self.hubspot, "hubspot", rules, seed),
            "aircall": FaultInjector(self.aircall, "aircall", rules, seed),
            "liveagent": FaultInjector(self.liveagent, "liveagent", rules, seed),
        }
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        application = DispatcherMiddleware(
            self.faults["hubspot"], {"/v1": self.faults["aircall"], "/api/v3": self.faults["liveagent"]}
        )
        self._server = make_server(
            "127.0.0.1", self._port, application, threaded=True, request_handler=_QuietHandler
        )
        self.hubspot.base_url = self.aircall.base_url = self.hubspot_url
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_port)

    @property
    def hubspot_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aircall_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def liveagent_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v3"

    def settings_env(self) -> dict[str, str]:
        """The settings that point the connector at this sandbox, as environment variables."""
        return {
            "HELPDESK_SOURCES": "hubspot,liveagent,aircall",
            "HELPDESK_HUBSPOT__BASE_URL": self.hubspot_url,
            "HELPDESK_HUBSPOT__ACCESS_TOKEN": self.hubspot_token,
            "HELPDESK_HUBSPOT__REQUESTS_PER_10S": str(self.hubspot.window.limit),
            "HELPDESK_HUBSPOT__CHURN_PROPERTY": "churn_date",
            "HELPDESK_AIRCALL__BASE_URL": self.aircall_url,
            "HELPDESK_AIRCALL__API_ID": self.aircall_api_id,
            "HELPDESK_AIRCALL__API_TOKEN": self.aircall_api_token,
            "HELPDESK_AIRCALL__REQUESTS_PER_MINUTE": str(self.aircall.window.limit),
            "HELPDESK_LIVEAGENT__BASE_URL": self.liveagent_url,
            "HELPDESK_LIVEAGENT__API_KEY": self.liveagent_api_key,
            "HELPDESK_LIVEAGENT__REQUESTS_PER_MINUTE": str(self.liveagent.window.limit),
        }

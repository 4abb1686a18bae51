"""`helpdesk-kpi webhooks register`: the Aircall webhook created through Aircall's API (once — a webhook
already sending to the same URL is kept), its token saved where the settings read it, and what to set
up by hand in HubSpot (an app's webhook subscriptions) and LiveAgent (a Rule), which have no API for it.

    >>> result = register(settings, "https://hooks.example.com", token_file=Path(".env"))
    >>> result.lines    # what was done, and the steps left to the admin

The token is a secret: it is written to the token file (created readable by its owner only), never
printed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from connector.errors import ConfigError
from connector.settings import Settings, Vendor
from connector.webhooks.events import AIRCALL_EVENTS, HUBSPOT_OBJECT_TYPE_IDS

WEBHOOK_NAME = "helpdesk-kpi"
TOKEN_SETTING = "HELPDESK_AIRCALL__WEBHOOK_TOKEN"  # noqa: S105 — the variable's name, not a secret
HUBSPOT_OBJECTS = {"contacts": "contact", "tickets": "ticket", "calls": "call", "deals": "deal",
                   "feedback_submissions": "feedback_submission"}  # fmt: skip
"""What each followed CRM object is called in a HubSpot app's webhook subscriptions."""


@dataclass
class Registration:
    lines: list[str] = field(default_factory=list)
    aircall_created: bool = False


def endpoint(base_url: str, vendor: str) -> str:
    """The public URL of one vendor's route under `base_url` (the server's public address)."""
    parts = urlsplit(base_url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise ConfigError(f"--url must be the server's public https:// address, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ConfigError("--url takes no query or fragment")
    path = parts.path.rstrip("/").removesuffix("/webhooks")
    return f"{parts.scheme}://{parts.netloc}{path}/webhooks/{vendor}"


def register(settings: Settings, base_url: str, *, token_file: Path) -> Registration:
    result = Registration()
    hubspot, aircall, liveagent = (endpoint(base_url, v) for v in ("hubspot", "aircall", "liveagent"))
    if Vendor.AIRCALL in settings.sources:
        _register_aircall(settings, aircall, token_file, result)
    else:
        result.lines.append("aircall: not an enabled source; nothing registered")
    if Vendor.HUBSPOT in settings.sources:
        result.lines += _hubspot_steps(settings, hubspot)
    if Vendor.LIVEAGENT in settings.sources:
        result.lines += _liveagent_steps(settings, liveagent)
    return result


def _register_aircall(settings: Settings, url: str, token_file: Path, result: Registration) -> None:
    from adapters.aircall import AircallAdapter
    from connector.sync import sync_plan

    adapter = AircallAdapter(settings.aircall, sync_plan(settings))
    try:
        existing = next((hook for hook in adapter.webhooks() if hook.get("url") == url), None)
        hook = existing or adapter.create_webhook(url, sorted(AIRCALL_EVENTS), WEBHOOK_NAME)
    finally:
        adapter.close()
    result.aircall_created = existing is None
    verb = "created" if existing is None else "already sends to this URL; kept"
    result.lines.append(f"aircall: webhook {hook.get('webhook_id', '')} → {url} {verb}")
    token = hook.get("token")
    if isinstance(token, str) and token:
        save_setting(token_file, TOKEN_SETTING, token)
        result.lines.append(f"aircall: its token is saved in {token_file} as {TOKEN_SETTING}")
    else:
        result.lines.append(f"aircall: Aircall gave no token; copy it from the webhook into {TOKEN_SETTING}")


def _hubspot_steps(settings: Settings, url: str) -> list[str]:
    objects = ", ".join(
        HUBSPOT_OBJECTS[name] for name in ("tickets", "contacts", "calls", "feedback_submissions", "deals")
    )
    ready = "set" if settings.hubspot.client_secret else "NOT SET yet"
    return [
        "hubspot: in your app's Webhooks settings (HubSpot has no API for this):",
        f"  target URL: {url}",
        f"  subscribe creation, deletion, merge and propertyChange events of: {objects}",
        "  (generic object.* subscriptions work too: objectTypeId "
        + ", ".join(sorted(HUBSPOT_OBJECT_TYPE_IDS))
        + ")",
        f"  HELPDESK_HUBSPOT__CLIENT_SECRET, the app's client secret (it verifies each request): {ready}",
    ]


def _liveagent_steps(settings: Settings, url: str) -> list[str]:
    ready = "set" if settings.liveagent.webhook_secret else "NOT SET yet: choose a long random value"
    return [
        "liveagent: add a Rule (Configuration › Automation › Rules; LiveAgent has no API for it):",
        "  apply when: ticket created, ticket status changed, message added (a rule per trigger)",
        f"  action: HTTP request, POST {url}, content type application/json",
        "  header: X-Helpdesk-Secret: <the value of HELPDESK_LIVEAGENT__WEBHOOK_SECRET>",
        '  body: {"event": "ticket_changed", "ticket_id": "<the ticket id placeholder>", '
        '"changed_at": "<the change time placeholder>"}',
        f"  HELPDESK_LIVEAGENT__WEBHOOK_SECRET: {ready}",
    ]


def save_setting(path: Path, name: str, value: str) -> None:
    """Set `name=value` in an env file: the line replaced if present, else appended; a new file is
    readable by its owner only."""
    if not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", value):
        raise ConfigError(f"{name}: the value Aircall gave cannot be written to an env file as is")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if not line.strip().startswith(f"{name}=")]
    text = "\n".join([*kept, f"{name}={value}"]) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)

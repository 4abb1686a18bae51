"""`helpdesk-kpi webhooks register` against the sandbox: the Aircall webhook created once through the API,
its token saved (never printed) and then accepted by the app; the HubSpot and LiveAgent steps printed.
And the webhook keys the connector reads are in the vendors' provenance tables."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from connector.cli import cli
from connector.settings import load_settings
from connector.store import Store
from connector.webhooks.app import WebhookApp
from connector.webhooks.events import AIRCALL_EVENTS
from connector.webhooks.register import endpoint
from tests.contract_tables import keys_of, keys_read_by, problems
from tests.sync_helpers import FAST


def test_register_creates_the_aircall_webhook_once_and_saves_its_token(
    sandbox_factory: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = sandbox_factory(seed=2, size=50)  # type: ignore[operator]
    for name, value in (
        sandbox.settings_env() | FAST | {"HELPDESK_SOURCES": "hubspot,aircall,liveagent"}
    ).items():
        monkeypatch.setenv(name, value)
    token_file = tmp_path / "deploy.env"
    args = ["webhooks", "register", "--url", "https://hooks.example.com/", "--token-file", str(token_file)]

    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    (hook,) = sandbox.aircall.webhooks
    assert hook["url"] == "https://hooks.example.com/webhooks/aircall"
    assert sorted(hook["events"]) == sorted(AIRCALL_EVENTS) and hook["custom_name"] == "helpdesk-kpi"
    assert problems("aircall", "webhooks", hook) == []
    assert f"HELPDESK_AIRCALL__WEBHOOK_TOKEN={hook['token']}\n" in token_file.read_text()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert hook["token"] not in first.output
    assert "target URL: https://hooks.example.com/webhooks/hubspot" in first.output
    assert "POST https://hooks.example.com/webhooks/liveagent" in first.output

    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert again.exit_code == 0 and "already sends to this URL; kept" in again.output
    assert len(sandbox.aircall.webhooks) == 1
    assert token_file.read_text().count("HELPDESK_AIRCALL__WEBHOOK_TOKEN=") == 1

    settings = load_settings(_env_file=token_file)
    store = Store.open(f"sqlite:///{tmp_path / 'hooks.db'}")
    delivery = {"resource": "call", "event": "call.created", "timestamp": 1764000000, "token": hook["token"],
                "data": {"id": 900001}}  # fmt: skip
    assert Client(WebhookApp(settings, store)).post("/webhooks/aircall", json=delivery).status_code == 200
    store.close()


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com", "ftp://hooks.example.com", "hooks.example.com", "https://h.example/?x=1"],
)
def test_register_refuses_an_address_vendors_cannot_use(url: str) -> None:
    result = CliRunner().invoke(cli, ["webhooks", "register", "--url", url])
    assert result.exit_code == 1 and "--url" in result.output


def test_endpoints_under_the_public_address() -> None:
    assert endpoint("https://h.example.com/base/", "hubspot") == "https://h.example.com/base/webhooks/hubspot"
    assert endpoint("https://h.example.com/webhooks", "aircall") == "https://h.example.com/webhooks/aircall"
    assert endpoint("http://127.0.0.1:8080", "liveagent") == "http://127.0.0.1:8080/webhooks/liveagent"


def test_the_webhook_keys_read_are_in_the_tables() -> None:
    read = keys_read_by("connector/webhooks/events.py")
    known = (
        set(keys_of("hubspot", "webhook_event"))
        | set(keys_of("aircall", "webhook_event"))
        | set(keys_of("aircall", "calls"))
        | set(keys_of("liveagent", "webhook_body"))
    )
    assert read and read <= known, read - known
    assert keys_read_by("connector/webhooks/register.py") <= set(keys_of("aircall", "webhooks"))

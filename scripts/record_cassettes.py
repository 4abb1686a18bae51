"""Record the sandbox's answers as `responses` cassettes, one file per vendor and endpoint.

    .venv/bin/python scripts/record_cassettes.py        # rewrites cassettes/<vendor>/<endpoint>.yaml

Requests go through `requests` against a freshly started sandbox (seed 42); the recorder stores each
answer in the `responses` recorder's YAML format. Before writing, every sandbox URL is rewritten to the
vendor's public base URL and every credential the sandbox issued is replaced by `REDACTED` (the recorder
keeps no request headers, but bodies and URLs are scrubbed too, to be sure). Tests replay the files with
`responses` and check that no credential is in any of them. Hand-written edge cases (`*-edge.yaml`) are
not touched by this script.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import requests
import yaml
from responses import _recorder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.sandbox import Sandbox

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
TIMEOUT = 30
"""Seconds a sandbox request may take (the sandbox is on the loopback: it answers at once)."""
PUBLIC = {
    "hubspot": "https://api.hubapi.com",
    "aircall": "https://api.aircall.io/v1",
    "liveagent": "https://acme.ladesk.com/api/v3",
}


def main() -> None:
    with Sandbox(seed=42, size=300) as sandbox:
        hubspot = requests.Session()
        hubspot.headers["Authorization"] = f"Bearer {sandbox.hubspot_token}"
        aircall = requests.Session()
        aircall.auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
        liveagent = requests.Session()
        liveagent.headers["apikey"] = sandbox.liveagent_api_key
        h, a, la = sandbox.hubspot_url, sandbox.aircall_url, sandbox.liveagent_url
        ticket_id = hubspot.get(f"{h}/crm/v3/objects/tickets", params={"limit": 1}).json()["results"][0]["id"]
        la_ticket = liveagent.get(f"{la}/tickets", params={"_perPage": 1}).json()[0]["id"]
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]}
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["subject", "hs_lastmodifieddate"],
            "limit": 3,
        }
        plan: dict[str, dict[str, Callable[[], object]]] = {
            "hubspot": {
                "owners": lambda: hubspot.get(f"{h}/crm/v3/owners", params={"limit": 2}),
                "pipelines": lambda: hubspot.get(f"{h}/crm/v3/pipelines/tickets"),
                "tickets-list": lambda: hubspot.get(
                    f"{h}/crm/v3/objects/tickets",
                    params={"limit": "2", "properties": "subject,hs_pipeline_stage"},
                ),
                "tickets-get": lambda: hubspot.get(f"{h}/crm/v3/objects/tickets/{ticket_id}"),
                "tickets-search": lambda: hubspot.post(f"{h}/crm/v3/objects/tickets/search", json=search),
                "contacts-list": lambda: hubspot.get(f"{h}/crm/v3/objects/contacts", params={"limit": 2}),
                "properties-tickets": lambda: hubspot.get(f"{h}/crm/v3/properties/tickets/subject"),
                "auth-error": lambda: requests.get(f"{h}/crm/v3/objects/tickets", timeout=TIMEOUT),
            },
            "aircall": {
                "calls": lambda: aircall.get(f"{a}/calls", params={"per_page": 2}),
                "users": lambda: aircall.get(f"{a}/users", params={"per_page": 2}),
                "teams": lambda: aircall.get(f"{a}/teams"),
                "contacts": lambda: aircall.get(f"{a}/contacts", params={"per_page": 2}),
                "auth-error": lambda: requests.get(f"{a}/calls", timeout=TIMEOUT),
            },
            "liveagent": {
                "tickets": lambda: liveagent.get(f"{la}/tickets", params={"_perPage": 2}),
                "ticket-messages": lambda: liveagent.get(
                    f"{la}/tickets/{la_ticket}/messages", params={"_page": 1, "_perPage": 500}
                ),
                "ticket-sla": lambda: liveagent.get(f"{la}/tickets/{la_ticket}/sla"),
                "tickets-history": lambda: liveagent.get(f"{la}/tickets/history", params={"_perPage": 2}),
                "calls": lambda: liveagent.get(
                    f"{la}/calls",
                    params={
                        "_filters": json.dumps([["dateCreated", "D>=", "2026-01-01 00:00:00"]]),
                        "_sortField": "dateCreated",
                        "_sortDir": "ASC",
                        "_perPage": "2",
                    },
                ),
                "agents": lambda: liveagent.get(f"{la}/agents", params={"_perPage": 2}),
                "departments": lambda: liveagent.get(f"{la}/departments"),
                "tags": lambda: liveagent.get(f"{la}/tags"),
                "auth-error": lambda: requests.get(
                    f"{la}/tickets", headers={"apikey": "wrong"}, timeout=TIMEOUT
                ),
            },
        }
        base = {"hubspot": h, "aircall": a, "liveagent": la}
        secrets = [
            sandbox.hubspot_token,
            sandbox.aircall_api_id,
            sandbox.aircall_api_token,
            sandbox.liveagent_api_key,
        ]
        for vendor, endpoints in plan.items():
            (CASSETTES / vendor).mkdir(parents=True, exist_ok=True)
            for name, call in endpoints.items():
                recorder = _recorder.Recorder()
                target = CASSETTES / vendor / f"{name}.yaml"
                with recorder:  # leaving the block resets the recorder: dump inside it
                    call()
                    recorder.dump_to_file(target)
                scrub(target, base[vendor], PUBLIC[vendor], secrets)
                print(f"recorded {target.relative_to(CASSETTES.parent)}")


def scrub(path: Path, sandbox_url: str, public_url: str, secrets: list[str]) -> None:
    """Point the cassette at the vendor's public URL and redact anything the sandbox issued as a secret."""
    data = yaml.safe_load(path.read_text())
    text = json.dumps(data).replace(sandbox_url, public_url)
    text = text.replace(sandbox_url.replace("http://", "http:\\/\\/"), public_url)
    for secret in secrets:
        text = text.replace(secret, "REDACTED")
    path.write_text(yaml.safe_dump(json.loads(text), sort_keys=False, allow_unicode=True))


if __name__ == "__main__":
    main()

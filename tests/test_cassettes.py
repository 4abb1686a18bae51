"""The recorded and hand-written cassettes: each replays through `responses`, none holds a credential,
and HubSpot's bodies deserialize through the SDK's generated models (the same contract as the sandbox)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import yaml

CASSETTES = sorted((Path(__file__).resolve().parent.parent / "cassettes").glob("*/*.yaml"))
CREDENTIALS = [
    re.compile(r"pat-[a-z0-9-]{8,}", re.IGNORECASE),  # HubSpot private-app tokens (and the sandbox's)
    re.compile(r"\bBearer\s+\S+", re.IGNORECASE),
    re.compile(r"\bBasic\s+[A-Za-z0-9+/=]{8,}"),
    re.compile(r"\b[0-9a-f]{32}\b"),  # the sandbox's API keys and tokens
    re.compile(r"(authorization|apikey|api_token|access_token|client_secret)\s*[:=]", re.IGNORECASE),
]
SDK_MODELS = {
    ("hubspot", "owners"): ("hubspot.crm.owners", "CollectionResponsePublicOwnerForwardPaging"),
    ("hubspot", "pipelines"): ("hubspot.crm.pipelines", "CollectionResponsePipelineNoPaging"),
    ("hubspot", "tickets-list"): (
        "hubspot.crm.tickets",
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    ("hubspot", "tickets-last-page-edge"): (
        "hubspot.crm.tickets",
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    ("hubspot", "tickets-get"): ("hubspot.crm.tickets", "SimplePublicObjectWithAssociations"),
    ("hubspot", "tickets-search"): (
        "hubspot.crm.tickets",
        "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
    ),
    ("hubspot", "tickets-search-empty-edge"): (
        "hubspot.crm.tickets",
        "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
    ),
    ("hubspot", "contacts-list"): (
        "hubspot.crm.contacts",
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    ("hubspot", "properties-tickets"): ("hubspot.crm.properties", "ModelProperty"),
    ("hubspot", "batch-update-partial-edge"): (
        "hubspot.crm.tickets",
        "BatchResponseSimplePublicObjectWithErrors",
    ),
}


def _responses(path: Path) -> list[dict[str, Any]]:
    return [item["response"] for item in yaml.safe_load(path.read_text())["responses"]]


def test_there_are_cassettes_for_every_vendor() -> None:
    assert {p.parent.name for p in CASSETTES} == {"hubspot", "aircall", "liveagent"}
    assert all(_responses(p) for p in CASSETTES)


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_cassette_contains_a_credential(path: Path) -> None:
    text = path.read_text()
    for pattern in CREDENTIALS:
        assert not pattern.search(text), f"{path.name} matches {pattern.pattern}"
    assert "127.0.0.1" not in text and "localhost" not in text


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
@responses.activate
def test_cassette_replays_through_responses(path: Path) -> None:
    responses._add_from_file(file_path=path)
    for recorded in _responses(path):
        answer = requests.request(recorded["method"], recorded["url"], timeout=5)
        assert answer.status_code == recorded["status"]
        assert answer.text == recorded["body"]
        json.loads(answer.text)  # every body is JSON


@pytest.mark.parametrize(
    ("key", "model"), SDK_MODELS.items(), ids=lambda v: "/".join(v) if isinstance(v, tuple) else v
)
def test_hubspot_cassette_bodies_deserialize_through_the_sdk(
    key: tuple[str, str], model: tuple[str, str]
) -> None:
    import importlib

    vendor, name = key
    package = importlib.import_module(model[0])
    path = Path(__file__).resolve().parent.parent / "cassettes" / vendor / f"{name}.yaml"
    body = _responses(path)[0]["body"]

    class Raw:
        data = body

    result = package.ApiClient().deserialize(Raw(), model[1])
    assert type(result).__name__ == model[1]

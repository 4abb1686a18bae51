"""Shared fixtures: an isolated environment per test, and a store on SQLite and on PostgreSQL.

PostgreSQL tests use CONNECTOR_TEST_POSTGRES_URL (scripts/test.sh starts a throwaway server); each test
gets its own schema, dropped afterwards. Without a server they are skipped, unless
CONNECTOR_REQUIRE_POSTGRES=1 (CI), which makes them fail instead.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from connector.store import Store

POSTGRES_URL = os.environ.get("CONNECTOR_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("CONNECTOR_REQUIRE_POSTGRES") == "1"
EXAMPLE_LINES = (
    resources.files("connector").joinpath("examples", "example.jsonl").read_text("utf-8").splitlines()
)


def example_records() -> list[dict[str, Any]]:
    """The bundled example file's objects (every entity type appears in it)."""
    return [json.loads(line) for line in EXAMPLE_LINES]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HELPDESK_* variable or .env file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.upper().startswith("HELPDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _postgres_schema_url() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("CONNECTOR_REQUIRE_POSTGRES=1 but CONNECTOR_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set CONNECTOR_TEST_POSTGRES_URL or install PostgreSQL)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(POSTGRES_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sandbox_factory() -> Iterator[Any]:
    """Start sandboxes in-process on ephemeral loopback ports (options as `Sandbox`); all are stopped
    when the test ends."""
    from connector.sandbox import Sandbox

    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        sandbox = Sandbox(**options).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(sandbox_factory: Any) -> Any:
    """A running sandbox with a small deterministic world (seed 1, 500 HubSpot tickets)."""
    return sandbox_factory(seed=1, size=500)

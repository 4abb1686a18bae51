"""The database's own queries for the facts within load bounds (`connector.store.facts`): found by index,
never by reading a fact table whole, and a superset of what the calculator keeps (the figures are
compared with the whole store's in tests/test_kpi_bounds.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from connector.store import Store
from connector.store.facts import FactWindow, fact_columns
from connector.store.tables import LAST_EVENT_INDEX

LOW, HIGH = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize("table", ["ticket", "message", "call", "survey_response"])
def test_each_fact_query_reads_by_index_not_the_whole_table(tmp_path: Path, table: str) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        window = FactWindow("sqlite", None, LOW, HIGH)
        with store.engine.connect() as connection:
            plan = [row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + window.rows(table)))]
    finally:
        store.close()
    scans = [step for step in plan if step.startswith("SCAN")]
    assert scans == [], plan  # SQLite names a whole-table read SCAN, an index lookup SEARCH
    if table == "ticket":
        assert any(LAST_EVENT_INDEX in step for step in plan), plan


def test_the_latest_event_index_exists_in_every_database(store: Store) -> None:
    catalog = {  # SQLAlchemy's reflection skips expression indexes
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket'",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'ticket' AND schemaname = current_schema()",
    }
    with store.engine.connect() as connection:
        indexes = set(connection.execute(text(catalog[store.engine.dialect.name])).scalars())
    assert LAST_EVENT_INDEX in indexes


def test_the_window_widens_the_bounds_and_reads_no_bookkeeping() -> None:
    window = FactWindow("sqlite", None, LOW, HIGH)
    sql = window.rows("call", margin=timedelta(seconds=30))
    assert "started_at >= '2026-08-31 23:59:29'" in sql and "started_at < '2026-11-01 00:00:01'" in sql
    assert "raw" not in fact_columns("call") and "ingested_at" not in fact_columns("ticket")
    postgres = FactWindow("postgresql", "tenant", LOW, HIGH).rows("ticket")
    assert "greatest(created_at" in postgres and '"tenant"."ticket"' in postgres
    with pytest.raises(ValueError, match="mysql"):
        FactWindow("mysql", None, LOW, HIGH)
    with pytest.raises(ValueError, match="purchase"):
        window.rows("purchase")

"""The fact rows a computation of a few periods needs, as SQL in the store's own dialect that the database
answers by index (`ix_ticket_last_event`, the time indexes of messages, calls and survey answers).

The calculator reads the store through DuckDB's scanners, which read a table whole: a two-month run of a
store holding years would read every year. With load bounds `[low, high)` it asks the database instead,
with the queries here, for a superset of the rows its own filter keeps (each bound is widened by a second,
so how the database compares stored instants with the bounds cannot lose a row):
- tickets created before `high` that are still open, or whose latest event (`LastEvent`) falls from `low`
  on, or that a message or survey answer within the bounds refers to;
- the messages and survey answers of those tickets (and of tickets merged into others), and any others
  within the bounds;
- calls that started within the bounds (widened before by the caller's margin).

    >>> window = FactWindow("sqlite", None, low, high)
    >>> window.rows("call")
    'SELECT id, source, … FROM "call" WHERE started_at >= \'…\' AND started_at < \'…\''
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from connector.store.tables import TICKET_EVENTS, LastEvent, entity_tables

SLACK = timedelta(seconds=1)
"""Added to each side of the bounds: the database's comparison of stored instants (text in SQLite) with
a literal need not agree with DuckDB's to the microsecond; the calculator's own filter is exact."""
_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}  # type: ignore[no-untyped-call]
BOOKKEEPING = frozenset({"raw", "content_hash", "ingested_at"})
"""Columns of an entity table no computation reads."""


def fact_columns(table: str) -> list[str]:
    """The columns of an entity table a computation may read (all but the bookkeeping)."""
    return [c.name for c in entity_tables[table].columns if c.name not in BOOKKEEPING]


@dataclass(frozen=True)
class FactWindow:
    """Native SQL for the rows within `[low, high)` of one store (`dialect`: sqlite or postgresql; `schema`:
    PostgreSQL's schema of the tables, None for the default)."""

    dialect: str
    schema: str | None
    low: datetime
    high: datetime

    def __post_init__(self) -> None:
        if self.dialect not in _DIALECTS:
            raise ValueError(f"no fact window for a {self.dialect} store")

    def rows(self, table: str, margin: timedelta = timedelta(0)) -> str:
        """The rows of fact table `table` (ticket, message, call, survey_response) a computation within
        the bounds may need, with every column but the bookkeeping; calls from `margin` before them."""
        columns = fact_columns(table)
        if table == "call":
            return self.calls(columns, margin)
        queries = {"ticket": self.tickets, "message": self.messages, "survey_response": self.survey_responses}
        if table not in queries:
            raise ValueError(f"no fact window for table {table}")
        return queries[table](columns)

    def tickets(self, columns: Sequence[str]) -> str:
        if self.dialect == "postgresql":
            return self._postgresql_tickets(columns)
        return f"SELECT {', '.join(columns)} FROM {self._table('ticket')} WHERE {self._needed_tickets()}"

    def _postgresql_tickets(self, columns: Sequence[str]) -> str:
        """PostgreSQL's planner answers `id IN (a union of index lookups)` with a scan of the whole table
        (3 s for 3,000,000 tickets): the same tickets as three disjoint parts, each found by its index,
        take a quarter of that. Each part excludes the rows of those before it, so none repeats."""
        ticket = self._table("ticket")
        last_event = str(LastEvent().compile(dialect=_DIALECTS[self.dialect]))
        recent = f"coalesce({last_event} >= {self._instant(self.low - SLACK)}, false)"
        still_open = "(resolved_at IS NULL AND closed_at IS NULL)"
        referred = f"id IN (SELECT ticket_id FROM ({self.ticket_references()}) r)"
        select = (
            f"SELECT {', '.join(columns)} FROM {ticket} WHERE created_at < {self._instant(self.high + SLACK)}"
        )
        return (
            f"{select} AND {recent} "
            f"UNION ALL {select} AND {still_open} AND NOT {recent} "
            f"UNION ALL {select} AND {referred} AND NOT {still_open} AND NOT {recent}"
        )

    def messages(self, columns: Sequence[str]) -> str:
        return self._of_needed_tickets("message", columns, "created_at")

    def calls(self, columns: Sequence[str], margin: timedelta) -> str:
        within = self._between("started_at", margin)
        return f"SELECT {', '.join(columns)} FROM {self._table('call')} WHERE {within}"

    def survey_responses(self, columns: Sequence[str]) -> str:
        return self._of_needed_tickets("survey_response", columns, "submitted_at")

    def ticket_references(self) -> str:
        """The ticket and time (`ticket_id`, `at`) of each message and survey answer within the bounds
        (two index ranges): their tickets are needed, for their cut values and figures — the survivor,
        when the ticket referred to was merged into another (`ticket_merge`)."""
        messages = (
            f"SELECT ticket_id, created_at AS at FROM {self._table('message')} "
            f"WHERE {self._between('created_at')}"
        )
        answers = (
            f"SELECT ticket_id, submitted_at AS at FROM {self._table('survey_response')} "
            f"WHERE {self._between('submitted_at')}"
        )
        return (
            f"SELECT coalesce(m.into_ticket_id, r.ticket_id) AS ticket_id, r.at "
            f"FROM ({messages} UNION ALL {answers}) r "
            f"LEFT JOIN {self._table('ticket_merge')} m ON m.ticket_id = r.ticket_id"
        )

    def _needed_tickets(self) -> str:
        """SQL condition on a ticket: its life touches the bounds — created before they end, and still
        open, or with an event or a message from their start on."""
        return f"created_at < {self._instant(self.high + SLACK)} AND {self._key()} IN ({self._touching()})"

    def _touching(self) -> str:
        """The keys of the tickets still open, or with an event from the bounds' start on, or referred to
        by a message or survey answer within them (SQLite's rowid: no second lookup by id). Each part is
        one index lookup."""
        ticket, key = self._table("ticket"), self._key()
        last_event = str(LastEvent().compile(dialect=_DIALECTS[self.dialect]))
        return (
            f"SELECT {key} FROM {ticket} WHERE {last_event} >= {self._instant(self.low - SLACK)} "
            f"UNION SELECT {key} FROM {ticket} WHERE resolved_at IS NULL AND closed_at IS NULL "
            f"UNION SELECT {key} FROM {ticket} WHERE id IN "
            f"(SELECT ticket_id FROM ({self.ticket_references()}) r)"
        )

    def _of_needed_tickets(self, table: str, columns: Sequence[str], instant: str) -> str:
        """The rows of `table` within the bounds (by `instant`), or about a ticket whose life touches them
        (by `ticket_id`; created after them too: a superset, cheaper to find) or merged into another."""
        rows, ticket, key = self._table(table), self._table("ticket"), self._key()
        if self.dialect == "postgresql":  # two disjoint parts, as in `_postgresql_tickets`
            within = f"coalesce({self._between(instant)}, false)"
            events = ", ".join(f"t.{column}" for column in TICKET_EVENTS)
            survivor = (
                f"coalesce((SELECT m.into_ticket_id FROM {self._table('ticket_merge')} m "
                f"WHERE m.ticket_id = x.ticket_id), x.ticket_id)"
            )
            about_touching = (
                f"EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = {survivor} AND (greatest({events}) >= "
                f"{self._instant(self.low - SLACK)} OR (t.resolved_at IS NULL AND t.closed_at IS NULL) "
                f"OR t.id IN (SELECT ticket_id FROM ({self.ticket_references()}) r)))"
            )
            select = f"SELECT {', '.join(f'x.{c}' for c in columns)} FROM {rows} x"
            return f"{select} WHERE {within} UNION ALL {select} WHERE NOT {within} AND {about_touching}"
        touching = f"SELECT id FROM {ticket} WHERE {key} IN ({self._touching()})"
        # those of any merged-away ticket too (few; the calculator keeps those whose survivor it reads):
        # asking only for those merged into a touching ticket made SQLite find the touching ones twice
        merged = f"SELECT ticket_id FROM {self._table('ticket_merge')}"
        return (
            f"SELECT {', '.join(columns)} FROM {rows} WHERE {key} IN ("
            f"SELECT {key} FROM {rows} WHERE ticket_id IN ({touching}) "
            f"UNION SELECT {key} FROM {rows} WHERE ticket_id IN ({merged}) "
            f"UNION SELECT {key} FROM {rows} WHERE {self._between(instant)})"
        )

    def history(self) -> str:
        """The first and last ticket creation in the store (two index look-ups)."""
        ticket = self._table("ticket")
        return f"SELECT (SELECT min(created_at) FROM {ticket}), (SELECT max(created_at) FROM {ticket})"

    def _between(self, column: str, margin: timedelta = timedelta(0)) -> str:
        low, high = self._instant(self.low - margin - SLACK), self._instant(self.high + SLACK)
        return f"{column} >= {low} AND {column} < {high}"

    def _key(self) -> str:
        """A row's key: SQLite's rowid, PostgreSQL's primary key."""
        return "rowid" if self.dialect == "sqlite" else "id"

    def _table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.schema else f'"{name}"'

    def _instant(self, instant: datetime) -> str:
        utc = instant.astimezone(UTC).replace(tzinfo=None)
        if self.dialect == "sqlite":  # stored as UTC text, `YYYY-MM-DD HH:MM:SS[.ffffff]`
            return f"'{utc:%Y-%m-%d %H:%M:%S}'"
        return f"TIMESTAMPTZ '{utc:%Y-%m-%d %H:%M:%S}+00'"

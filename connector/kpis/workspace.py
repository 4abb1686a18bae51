"""The calculator's workspace: the store's records as DuckDB columns, ready for set-based KPI queries.

The store (SQLite file or PostgreSQL) is attached read-only through DuckDB's scanner extensions, and the
records a computation needs are copied once into in-memory tables with:
- agents and contacts replaced by their cross-source identity (`identity_link`), so one person in three
  vendors counts once;
- the cut columns every fact table shares: `agent`, `team`, `channel`, `source`, `priority`, `category`
  and `topic` (the label of the discovered topic of the ticket, or of the call's notes,
  `connector.topics`), `(none)` where unknown, so one grouping routine serves every KPI; they are ENUM
  types of the values found (`cut_<column>`, see `_cut_codes`), which read as text;
- each timestamp `x` also as `x_e` (calendar seconds since the epoch), `x_b` (business seconds since the
  calendar's start), `x_p` (index of the period it falls in, null outside them) and, where a KPI needs
  them, `x_open` (whether the desk was open then) and `x_how` (local hour of the week, Monday 00h = 0), so
  a duration is a subtraction in either basis and assigning a period or a heat-map cell is no join.

Business seconds `B(t)` (open seconds since the calendar's start) come from a table of quarter-hour buckets
with a bit per open minute, built from `BusinessCalendar`'s open intervals (see `_calendar_table`) before
the facts are read, so each fact table is read and given its calendar columns in one pass; the few
instants before the calendar's start get theirs from the open intervals directly
(`_early_business_seconds`).
"""

from __future__ import annotations

import importlib
import json
import logging
import pathlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
from sqlalchemy.engine import make_url

from connector.calendar import BusinessCalendar
from connector.errors import StoreError
from connector.periods import Period
from connector.store.facts import FactWindow
from connector.store.tables import TICKET_EVENTS

log = logging.getLogger(__name__)

NONE = "(none)"
CALENDAR_COLUMNS: dict[str, dict[str, str]] = {
    "tickets": {
        "created_at": "ebph",
        "first_reply_at": "ebp",
        "first_resolved_at": "ebp",
        "resolved_at": "ebp",
        "escalation_at": "eb",
    },
    "messages": {"created_at": "ebp"},
    "calls": {"started_at": "epo", "answered_at": "e", "ended_at": "e"},
    "surveys": {"submitted_at": "p"},
    "reviews": {"reviewed_at": "p"},
    "period_bounds": {"as_of": "eb"},
}
"""Per workspace table, the calendar columns its timestamps get — only those a KPI or the writer reads, as
each is a million-row column to compute and hold: `e` → `x_e` (calendar seconds since the epoch), `b` →
`x_b` (business seconds), `p` → `x_p` (period index), `o` → `x_open` (desk open), `h` → `x_how` (local
hour of the week)."""
BUCKET_MINUTES = 15
"""Minutes per calendar bucket (see `Workspace._calendar_table`)."""
FACT_TABLES = ("ticket", "message", "call", "survey_response")
INDEXED_SHARE = 1 / 4
"""Load bounds spanning less than this share of the store's ticket history are read by index (see
`Workspace._fact_window`)."""
CUT_COLUMNS = ("agent", "team", "channel", "source", "priority", "category", "topic")
_SCANNERS = {"sqlite": "sqlite_scanner", "postgresql": "postgres_scanner"}


def _load_scanner(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """LOAD the scanner extension shipped in the `duckdb-extension-<name>` package (no download)."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = con.execute("PRAGMA version").fetchone()[0]  # type: ignore[index]
    path = pathlib.Path(str(module.__path__[0])) / "extensions" / version / f"{name}.duckdb_extension"
    if not path.exists():
        raise StoreError(
            f"DuckDB {version} has no bundled {name} extension at {path}; reinstall the connector"
        )
    con.execute(f"LOAD {sql_literal(str(path))}")


def attach_store(
    con: duckdb.DuckDBPyConnection, database_url: str, schema: str | None, *, read_only: bool = True
) -> str:
    """Attach the store as `s`; returns the qualified prefix of its tables (`s.main` / `s."<schema>"`)."""
    mode = ", READ_ONLY" if read_only else ""
    url = make_url(database_url)
    backend = url.get_backend_name()
    _load_scanner(con, _SCANNERS[backend])
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreError("an in-memory SQLite store cannot be read by the calculator; use a file")
        con.execute(f"ATTACH {sql_literal(url.database)} AS s (TYPE sqlite{mode})")
        return "s.main"
    parts = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in parts.items() if value is not None)
    options = url.query.get("options")
    if options:
        conninfo += f" options={_quote(options if isinstance(options, str) else options[0])}"
    con.execute(f"ATTACH {sql_literal(conninfo)} AS s (TYPE postgres{mode})")
    return f's."{schema or "public"}"'


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote(value: Any) -> str:
    """A libpq connection-string value."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


class Workspace:
    """An in-memory DuckDB holding the records of one computation (see the module docstring)."""

    def __init__(
        self,
        database_url: str,
        calendar: BusinessCalendar,
        periods: Sequence[Period],
        *,
        schema: str | None = None,
        lookaround: timedelta = timedelta(days=31),
        now: datetime | None = None,
        bounds: tuple[datetime, datetime] | None = None,
        call_duplicate_seconds: float = 0,
        yielding_call_sources: frozenset[str] = frozenset(),
        loader: Callable[[duckdb.DuckDBPyConnection], str] | None = None,
        memory_limit_mb: int = 0,
    ) -> None:
        self.calendar = calendar
        self.now = now or datetime.now(UTC)
        self.periods = list(periods)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        # row order of the workspace tables never matters (every query groups or sorts): lets DuckDB
        # build them in parallel with less memory
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        self.spill_directory: str | None = None
        """Where DuckDB spills what exceeds `memory_limit_mb` (0: no limit of ours); removed on close."""
        if memory_limit_mb:
            self.spill_directory = tempfile.mkdtemp(prefix="helpdesk-kpi-")
            self.con.execute(f"SET temp_directory = {sql_literal(self.spill_directory)}")
            self.con.execute(f"SET memory_limit = '{int(memory_limit_mb)}MB'")
        self.span_start = min(p.start for p in self.periods)
        self.span_end = max(p.end for p in self.periods)
        self.lookaround = lookaround
        self.bounds = bounds
        """[from, until): load only the facts a computation of the periods can need (see `_within`); None
        loads the store whole."""
        self.call_duplicate_seconds = call_duplicate_seconds
        self.yielding_call_sources = yielding_call_sources
        """Sources whose copy of a call logged twice is the one dropped (`_drop_duplicate_calls`)."""
        self.attached = loader is None
        self.prefix = ""
        self.backend = make_url(database_url).get_backend_name()
        self.window: FactWindow | None = None
        """Set when the facts are read by index (see `_fact_window`)."""
        self.bucket_minutes, self.first_minute = 1, 0
        """Set by the calendar: minutes per bucket, and the calendar's first minute since the epoch."""
        self._fact_tables: list[str] = []
        self._staged: list[str] = []
        self.has_topics = False
        """Whether any ticket or call read has a discovered topic (without, the topic cut is left out)."""
        try:  # a failed build leaves no connection to the store open (it would hold PostgreSQL locks)
            self._open(database_url, schema, loader)
            self._build()
        except BaseException:
            self.close()
            raise

    def _open(
        self,
        database_url: str,
        schema: str | None,
        loader: Callable[[duckdb.DuckDBPyConnection], str] | None,
    ) -> None:
        """Reach the store's tables: attached whole, or (`loader`, see `connector.kpis.scope`) a few rows
        copied in; and choose how the facts are read (`_fact_window`)."""
        self.prefix = attach_store(self.con, database_url, schema) if loader is None else loader(self.con)
        # `utc(x)`: a stored instant as the naive UTC timestamp the workspace holds. PostgreSQL's
        # timestamptz by arithmetic on its epoch (DuckDB's cast to TIMESTAMP goes through ICU: twice the time)
        stored = (
            "make_timestamp(epoch_us(x))"
            if self.attached and self.backend == "postgresql"
            else "CAST(x AS TIMESTAMP)"
        )
        self.con.execute(f"CREATE MACRO utc(x) AS {stored}")
        self.window = self._fact_window(schema) if self.attached else None

    def close(self) -> None:
        self.con.close()
        if self.spill_directory is not None:
            shutil.rmtree(self.spill_directory, ignore_errors=True)
            self.spill_directory = None

    # --- building -----------------------------------------------------------------------------------

    def _build(self) -> None:
        self._periods_table()
        self._identity_tables()
        self._agents()
        # the calendar first, so each fact table is read with its calendar columns in one pass
        self._calendar_table()
        # the instant a period is judged at: its end, or now for a period still running
        self._with_epochs(
            "period_bounds",
            f"SELECT pidx, least(p_end, TIMESTAMP '{naive_utc(self.now).isoformat()}') AS as_of FROM periods",
        )
        self._stage_facts()
        self._tickets()
        self.con.execute("DROP TABLE topic_of_ticket")
        self._messages()
        self._calls()
        self.con.execute("DROP TABLE topic_of_call")
        self._surveys()
        for staged in self._staged:  # none left: each was dropped by the read that used it
            self.con.execute(f"DROP TABLE {staged}")
        self._early_business_seconds()
        self._cut_codes()
        # tickets deleted in their source (or merged into another) are loaded up to here only to drop
        # their messages and lend their cut values to their survey responses; no KPI counts them.
        # Deleted after `_cut_codes`: DuckDB's ALTER TYPE converts deleted rows too, whose values need
        # not be in the type.
        self.con.execute("DELETE FROM tickets WHERE archived")
        found = self.con.execute(
            f"""SELECT (SELECT count(*) FROM tickets WHERE topic <> '{NONE}')
                + (SELECT count(*) FROM calls WHERE topic <> '{NONE}')"""
        ).fetchone()
        self.has_topics = bool(found and found[0])
        self._drop_duplicate_calls()
        self._contacts()
        self._purchases_reviews_costs()
        self.con.execute("DETACH s" if self.attached else f"DROP SCHEMA {self.prefix} CASCADE")

    def _periods_table(self) -> None:
        self.con.execute("CREATE TABLE periods (pidx INTEGER, p_start TIMESTAMP, p_end TIMESTAMP)")
        self.con.execute(
            f"INSERT INTO periods SELECT {unnested('INTEGER')}, {unnested('TIMESTAMP')}, {unnested('TIMESTAMP')}",
            [
                json_list(range(len(self.periods))),
                json_list(str(naive_utc(p.start)) for p in self.periods),
                json_list(str(naive_utc(p.end)) for p in self.periods),
            ],
        )

    def _identity_tables(self) -> None:
        """Who is who: agent and contact records → their identity, merged-away tickets → the ticket
        that survives them (`connector.store.merges`), and tickets and calls → their topic's label (the
        last discovery's, `connector.topics`)."""
        for kind in ("agent", "contact"):
            self.con.execute(
                f"""CREATE TABLE {kind}_identity AS
                SELECT record_id, identity_id FROM {self.prefix}.identity_link
                WHERE kind = '{kind}' AND identity_id <> record_id"""
            )
        self.con.execute(
            f"CREATE TABLE merged_ticket AS SELECT ticket_id, into_ticket_id FROM {self.prefix}.ticket_merge"
        )
        for kind in ("ticket", "call"):
            self.con.execute(
                f"""CREATE TABLE topic_of_{kind} AS SELECT tt.{kind}_id AS id, tp.label
                FROM {self.prefix}.{kind}_topic tt JOIN {self.prefix}.topic tp ON tp.number = tt.topic"""
            )

    def _agents(self) -> None:
        """One row per agent identity: active when any of its records is active; its teams."""
        self.con.execute(
            f"""CREATE TABLE agents AS
            SELECT coalesce(ai.identity_id, a.id) AS agent, bool_or(CAST(a.active AS BOOLEAN)) AS active,
                list_distinct(flatten(list(CAST(json_extract_string(CAST(a.teams AS JSON), '$[*]') AS VARCHAR[]))))
                    AS teams
            FROM {self.prefix}.agent a LEFT JOIN agent_identity ai ON ai.record_id = a.id
            GROUP BY 1"""
        )

    def _calendar_table(self) -> None:
        """The business calendar as one packed list of buckets (`calendar_codes`), from before the
        periods and the load bounds (`_calendar_start`) to a lookaround past the periods. Opening hours
        are whole local minutes and every time zone's offset is a whole number of minutes, so a minute is
        open or closed throughout, and `B(t) = 60 · (open minutes before minute(t)) + open[minute(t)] ·
        (t − minute(t))` is exact.

        A bucket is `BUCKET_MINUTES` (15) UTC minutes: one list entry holds the business minutes before
        it, which of its minutes are open (a bit each), the period it lies in and its local hour of the
        week. Every real time zone's offset is a multiple of 15 minutes and periods start at local
        midnights, so a bucket lies in one period and one local hour; when that does not hold (a period
        starting at another instant) the buckets are single minutes. A short list matters: DuckDB copies
        the list into every chunk of 2,048 rows that looks it up — so it does not stretch back to a
        ticket opened years ago (`_early_business_seconds`).

        The calendar ends a lookaround after the last period, not at now: every figure is assigned to a
        period by its ending event, so no duration ends later, and the instant a period is judged at
        (`as_of`) is at most its end. An instant after the calendar's end has no business time."""
        start = self._calendar_start()
        end = self.span_end + self.lookaround + timedelta(days=2)
        start, end = _floor_minutes(start, BUCKET_MINUTES), _floor_minutes(end, BUCKET_MINUTES)
        first_minute, last_minute = _epoch_minute(start), _epoch_minute(end)
        self.con.execute("CREATE TABLE open_minute_ranges (first BIGINT, stop BIGINT)")
        ranges = [(_epoch_minute(a), _epoch_minute(b)) for a, b in self.calendar.open_intervals(start, end)]
        if ranges:
            self.con.execute(
                f"INSERT INTO open_minute_ranges SELECT {unnested('BIGINT')}, {unnested('BIGINT')}",
                [json_list(a for a, _ in ranges), json_list(b for _, b in ranges)],
            )
        for bucket in (BUCKET_MINUTES, 1):
            if self._calendar_buckets(first_minute, last_minute, bucket):
                break
        if len(self.periods) >= 65535:
            raise ValueError("at most 65,534 periods in one computation")

    def _calendar_buckets(self, first_minute: int, last_minute: int, bucket: int) -> bool:
        """Build `calendar_buckets` and `calendar_codes` with buckets of `bucket` minutes; False (and
        nothing built) when a bucket would span two periods or two local hours."""
        zone = sql_literal(self.calendar.zone.key)

        def local(instant: str) -> str:
            return f"timezone({zone}, CAST({instant} AS TIMESTAMPTZ))"

        self.con.execute(
            f"""CREATE OR REPLACE TABLE calendar_buckets AS
            WITH open_minutes AS (
                SELECT unnest(range(first, stop)) - {first_minute} AS m FROM open_minute_ranges
            ), masks AS (
                SELECT m // {bucket} AS k, bit_or(CAST(1 AS BIGINT) << CAST(m % {bucket} AS INTEGER)) AS mask,
                    count(*) AS n
                FROM open_minutes GROUP BY 1
            ), buckets AS (
                SELECT b.k, {first_minute} + b.k * {bucket} AS m, coalesce(masks.mask, 0) AS mask,
                    coalesce(sum(coalesce(masks.n, 0)) OVER (ORDER BY b.k
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                FROM range(0, {(last_minute - first_minute) // bucket}) b(k) LEFT JOIN masks ON masks.k = b.k
            )
            SELECT b.k, b.mask, b.before,
                CASE WHEN b.at < p.p_end THEN p.pidx END AS pidx,
                CASE WHEN b.last_at < q.p_end THEN q.pidx END AS last_pidx,
                CAST((isodow({local("b.at")}) - 1) * 24 + hour({local("b.at")}) AS SMALLINT) AS hour_of_week,
                hour({local("b.last_at")}) = hour({local("b.at")}) AS one_hour
            FROM (SELECT *, make_timestamp(m * 60000000) AS at, make_timestamp((m + {bucket - 1}) * 60000000) AS last_at
                  FROM buckets) b
            ASOF LEFT JOIN periods p ON b.at >= p.p_start
            ASOF LEFT JOIN periods q ON b.last_at >= q.p_start"""
        )
        uniform = self.con.execute(
            "SELECT bool_and(one_hour AND pidx IS NOT DISTINCT FROM last_pidx) FROM calendar_buckets"
        ).fetchone()
        if bucket > 1 and not (uniform and uniform[0]):
            self.con.execute("DROP TABLE calendar_buckets")
            return False
        most = self.con.execute("SELECT max(before) FROM calendar_buckets").fetchone()
        before_shift = 24 + bucket
        if most and most[0] is not None and most[0] >= 1 << (63 - before_shift):
            raise ValueError("the business calendar spans too many open minutes for one computation")
        # Bits of a code: before · 2^(24 + bucket) | open-minute mask · 2^24 | (pidx + 1) · 2^8 | hour_of_week
        self.con.execute(
            f"""CREATE TABLE calendar_codes AS
            SELECT list((before << {before_shift}) | (mask << 24) | ((coalesce(pidx, -1) + 1) << 8) | hour_of_week
                     ORDER BY k) AS codes
            FROM calendar_buckets"""
        )
        self.bucket_minutes, self.first_minute = bucket, first_minute
        self.con.execute(
            """CREATE TABLE period_open AS
               SELECT p.pidx, CAST(coalesce(sum(bit_count(b.mask)), 0) * 60 AS DOUBLE) AS open_seconds
               FROM periods p LEFT JOIN calendar_buckets b ON b.pidx = p.pidx GROUP BY p.pidx"""
        )
        return True

    def _calendar_start(self) -> datetime:
        """Where the calendar starts: a lookaround before the periods and the load bounds (less a call's
        margin: the earliest call read), so the tickets touching them that began shortly before are in
        it; two days early for any time zone. Older instants (a ticket open for months) get their
        business seconds from `_early_business_seconds`."""
        earliest = [self.span_start]
        if self.bounds is not None:
            earliest.append(self.bounds[0] - self._call_margin())
        return min(earliest) - self.lookaround - timedelta(days=2)

    def _fact_window(self, schema: str | None) -> FactWindow | None:
        """The database's own queries for the facts within the load bounds (`connector.store.facts`),
        when they are the cheaper read. DuckDB's scanner reads a table whole, in parallel; a query by
        index reads only the rows it needs, on one thread, several times slower a row (a SQLite row costs
        DuckDB about 5 µs that way), and finding the tickets and answers a span needs costs about half a
        second of index lookups. Measured on two cores, a two-month computation takes the same time both
        ways on a one-year store (4.5 s), and about 5.5–5.9 s by index against 6.2 s by scanner on a
        three-year one (PostgreSQL: 6.3 s against 9.3 s): the scanner's time grows with the history, the
        index's with the span. So bounds spanning less than
        `INDEXED_SHARE` of the store's ticket history are read by index; wider ones, or none, by scanner."""
        if self.bounds is None:
            return None
        window = FactWindow(self.backend, schema, *self.bounds)
        span = self.con.execute(f"SELECT utc(COLUMNS(*)) FROM {self._native(window.history())}").fetchone()
        if span is None or span[0] is None or span[1] is None:
            return None
        first, last = (_aware(value) for value in span)
        wide = self.bounds[1] - self.bounds[0] >= INDEXED_SHARE * (last - first)
        return None if wide else window

    def _native(self, sql: str) -> str:
        """A table function running `sql` in the attached store's own database."""
        function = "sqlite_query" if self.backend == "sqlite" else "postgres_query"
        return f"{function}('s', {sql_literal(sql)})"

    def _facts(self, table: str) -> str:
        """What a fact table is read from: the store's table through the scanner, or (with a fact window)
        the rows the database's queries staged (`_stage_facts`)."""
        return f"{self.prefix}.{table}" if self.window is None else f"staged_{table}"

    def _stage_facts(self) -> None:
        """With a fact window: run its queries in the database, all at once, each into a table
        `staged_<table>` (and the tickets that messages and answers within the bounds refer to into
        `staged_ticket_references`). Each query is one thread of the database's work, so side by side
        they take the time of the longest."""
        window = self.window
        if window is None:
            return
        queries = {table: window.rows(table, self._call_margin()) for table in FACT_TABLES}
        queries["ticket_references"] = window.ticket_references()

        def stage(table: str, sql: str) -> None:
            with self.con.cursor() as cursor:
                cursor.execute(f"CREATE TABLE staged_{table} AS SELECT * FROM {self._native(sql)}")

        with ThreadPoolExecutor(max_workers=len(queries)) as pool:
            for staged in [pool.submit(stage, table, sql) for table, sql in queries.items()]:
                staged.result()
        self._staged = [f"staged_{table}" for table in queries]

    def _within(self, column: str, *, margin: timedelta = timedelta(0)) -> str:
        """SQL: the stored instant `column` lies in the load bounds widened by `margin` before them
        (TRUE without bounds)."""
        if self.bounds is None:
            return "TRUE"
        low, high = (
            f"TIMESTAMP '{naive_utc(t).isoformat()}'" for t in (self.bounds[0] - margin, self.bounds[1])
        )
        return f"(utc({column}) >= {low} AND utc({column}) < {high})"

    def _ticket_needed(self) -> str:
        """SQL over the stored ticket `t`: its life touches the load bounds — created before they end,
        and still open, or with an event (reply, resolution, escalation) from their start on, or referred
        to by a message or a survey answer within them (the answer borrows the ticket's cut values). A
        ticket resolved before them, without such a reference, can change no figure of the periods:
        open-ticket ages and waiting counts are of tickets still open then."""
        if self.bounds is None:
            return "TRUE"
        low, high = (f"TIMESTAMP '{naive_utc(t).isoformat()}'" for t in self.bounds)
        references = (
            "staged_ticket_references"
            if self.window is not None
            else f"(SELECT ticket_id, created_at AS at FROM {self.prefix}.message "
            f"UNION ALL SELECT ticket_id, submitted_at FROM {self.prefix}.survey_response)"
        )
        last = "greatest(" + ", ".join(f"utc(t.{event})" for event in TICKET_EVENTS) + ")"
        # a reference to a merged-away ticket is one to its survivor
        referred = f"""SELECT coalesce(mt.into_ticket_id, r.ticket_id) FROM {references} r
            LEFT JOIN merged_ticket mt ON mt.ticket_id = r.ticket_id WHERE {self._within("r.at")}"""
        return f"""(utc(t.created_at) < {high} AND (
            (t.resolved_at IS NULL AND t.closed_at IS NULL) OR {last} >= {low} OR t.id IN ({referred})))"""

    def _read(self, table: str, source_sql: str) -> None:
        """Copy a fact table from the store with its calendar columns (`_with_epochs`); `_cut_codes`
        turns its cut columns into codes once every table is read. The staged rows it read
        (`_stage_facts`; each staged table serves one read) are dropped at once, so their memory serves
        what follows."""
        self._with_epochs(table, source_sql)
        self._fact_tables.append(table)
        for staged in [name for name in self._staged if re.search(rf"\b{name}\b", source_sql)]:
            self.con.execute(f"DROP TABLE {staged}")
            self._staged.remove(staged)

    def _early_business_seconds(self) -> None:
        """Business seconds of the facts' instants before the calendar's start (`_calendar_start`), as
        negative offsets from it: `B(t) = −Σ |[t, start) ∩ I|` over the open intervals I, so every
        duration `B(b) − B(a)` stays the open time between them. Such instants are of the few tickets
        open since long before the periods, so they are computed here — each matched to the first open
        interval closing after it, with the open seconds from there to the start — from the same open
        intervals the calendar table is built of, instead of stretching the calendar every row looks up."""
        start = naive_utc(datetime.fromtimestamp(self.first_minute * 60, UTC))
        columns = [
            (table, name)
            for table in self._fact_tables
            for name, kinds in CALENDAR_COLUMNS[table].items()
            if "b" in kinds
        ]
        firsts = self.con.execute(
            "SELECT min(t) FROM ("
            + " UNION ALL ".join(f"SELECT min({name}) AS t FROM {table}" for table, name in columns)
            + ")"
        ).fetchone()
        if not firsts or firsts[0] is None or firsts[0] >= start:
            return
        intervals = list(self.calendar.open_intervals(_aware(firsts[0]), _aware(start)))
        opens = [a.timestamp() for a, _ in intervals]
        closes = [b.timestamp() for _, b in intervals]
        self.con.execute(
            f"""CREATE TEMP TABLE early_intervals AS SELECT opens, closes,
                sum(closes - opens) OVER (ORDER BY closes ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
                    AS open_after
            FROM (SELECT {unnested("DOUBLE")} AS opens, {unnested("DOUBLE")} AS closes)""",
            [json_list(opens), json_list(closes)],
        )
        for table, name in columns:
            self.con.execute(
                f"""UPDATE {table} SET {name}_b = e.b FROM (
                    SELECT r.rowid AS rid,
                        -coalesce(i.closes - greatest(i.opens, r.{name}_e) + coalesce(i.open_after, 0), 0) AS b
                    FROM {table} r ASOF LEFT JOIN early_intervals i ON r.{name}_e < i.closes
                    WHERE r.{name} < ?) e
                WHERE {table}.rowid = e.rid""",
                [start],
            )
        self.con.execute("DROP TABLE early_intervals")

    def _cut_codes(self) -> None:
        """Turn the fact tables' cut columns into ENUM types of the values found in any of them
        (`cut_<column>`, in alphabetical order so that sorting them sorts their text). Grouping by a
        one- or two-byte code instead of a string takes about a fifth off every grouped query, and the
        tables take less memory."""
        tables = self._fact_tables
        for column in CUT_COLUMNS:
            # `(none)` always: DuckDB cannot query an ENUM without values
            values = " UNION ALL ".join(
                [f"SELECT '{NONE}' AS v", *(f"SELECT {column} FROM {table}" for table in tables)]
            )
            self.con.execute(
                f"CREATE TYPE cut_{column} AS ENUM (SELECT DISTINCT v FROM ({values}) WHERE v IS NOT NULL ORDER BY v)"
            )
            for table in tables:
                self.con.execute(f"ALTER TABLE {table} ALTER {column} TYPE cut_{column}")
        self._fact_tables = []

    def _with_epochs(self, table: str, source_sql: str) -> None:
        """CREATE TABLE `table` from `source_sql` in one pass, adding the calendar columns of its
        timestamps named in `CALENDAR_COLUMNS`. A timestamp's bucket is looked up in `calendar_codes` by
        position (an instant outside the calendar gets nulls)."""
        wanted = CALENDAR_COLUMNS[table]
        looked_up = [name for name, kinds in wanted.items() if set(kinds) & set("bpoh")]
        bucket, first = self.bucket_minutes, self.first_minute
        epochs = [f"epoch(r.{name}) AS {name}_e" for name in wanted]
        # each timestamp's minute since the calendar's start, its bucket's code, and from the code the
        # bucket's open minutes (`__mask`) and the timestamp's minute within the bucket (`__within`)
        minutes = [
            f"CASE WHEN {name}_e >= {first * 60} THEN CAST(floor({name}_e / 60) AS BIGINT) - {first} END AS {name}__min"
            for name in looked_up
        ]
        lookups = [
            f"list_extract(mc.codes, {name}__min // {bucket} + 1) AS {name}__code" for name in looked_up
        ]
        parts = [
            f"({name}__code >> 24) & {(1 << bucket) - 1} AS {name}__mask, "
            f"CAST({name}__min % {bucket} AS INTEGER) AS {name}__within"
            for name in looked_up
        ]
        columns, helpers = [], [f"{name}_e" for name, kinds in wanted.items() if "e" not in kinds]
        for name in looked_up:
            kinds, code, mask, within = wanted[name], f"{name}__code", f"{name}__mask", f"{name}__within"
            helpers += [code, f"{name}__min", mask, within]
            open_bit = f"(({mask} >> {within}) & 1)"
            if "b" in kinds:
                opened_before = f"bit_count({mask} & ((CAST(1 AS BIGINT) << {within}) - 1))"
                columns.append(
                    f"CAST((({code} >> {24 + bucket}) + {opened_before}) * 60 AS DOUBLE)"
                    f" + {open_bit} * ({name}_e - ({name}__min + {first}) * 60) AS {name}_b"
                )
            if "p" in kinds:
                columns.append(f"CAST(nullif(({code} >> 8) & 65535, 0) - 1 AS INTEGER) AS {name}_p")
            if "o" in kinds:
                columns.append(f"{open_bit} = 1 AS {name}_open")
            if "h" in kinds:
                columns.append(f"CAST({code} & 255 AS SMALLINT) AS {name}_how")
        query = f"SELECT r.*, {', '.join(epochs)} FROM ({source_sql}) r"
        if looked_up:
            query = f"SELECT e.*, {', '.join(minutes)} FROM ({query}) e"
            query = f"SELECT m.*, {', '.join(lookups)} FROM ({query}) m, calendar_codes mc"
            query = f"SELECT c.*, {', '.join(parts)} FROM ({query}) c"
        if helpers:
            query = (
                f"SELECT * EXCLUDE ({', '.join(helpers)}){''.join(', ' + c for c in columns)} FROM ({query})"
            )
        self.con.execute(f"CREATE TABLE {table} AS {query}")

    def _tickets(self) -> None:
        self._read(
            "tickets",
            f"""SELECT t.id, t.source, t.tags,
                coalesce(t.channel, '{NONE}') AS channel,
                coalesce(t.priority, '{NONE}') AS priority,
                coalesce(t.category, '{NONE}') AS category,
                coalesce(tt.label, '{NONE}') AS topic,
                coalesce(ai.identity_id, t.agent_id, '{NONE}') AS agent,
                coalesce(t.team, '{NONE}') AS team,
                coalesce(ci.identity_id, t.contact_id) AS contact,
                utc(t.created_at) AS created_at,
                utc(t.first_agent_reply_at) AS first_reply_at,
                -- a ticket never reopened was first resolved when it was finally resolved
                utc(coalesce(t.first_resolved_at, CASE WHEN t.reopen_count = 0
                    THEN coalesce(t.resolved_at, t.closed_at) END)) AS first_resolved_at,
                utc(coalesce(t.resolved_at, t.closed_at)) AS resolved_at,
                utc(t.escalation_at) AS escalation_at,
                CAST(t.reopen_count AS INTEGER) AS reopen_count,
                CAST(t.escalated AS BOOLEAN) AS escalated,
                CAST(t.transfer_count AS INTEGER) AS transfer_count,
                CAST(t.is_complaint AS BOOLEAN) AS is_complaint,
                CAST(t.handle_seconds AS DOUBLE) AS handle_seconds,
                -- deleted in its source, or merged into another ticket there: counted no more
                coalesce(CAST(t.archived AS BOOLEAN), false) OR mt.ticket_id IS NOT NULL AS archived,
                -- open until its final resolution; waiting for an agent until its first reply or resolution
                coalesce(utc(coalesce(t.resolved_at, t.closed_at)), TIMESTAMP 'infinity') AS open_until,
                least(coalesce(utc(t.first_agent_reply_at), TIMESTAMP 'infinity'),
                      coalesce(utc(coalesce(t.resolved_at, t.closed_at)), TIMESTAMP 'infinity'))
                    AS waiting_until
            FROM {self._facts("ticket")} t
            LEFT JOIN merged_ticket mt ON mt.ticket_id = t.id
            LEFT JOIN topic_of_ticket tt ON tt.id = t.id
            LEFT JOIN agent_identity ai ON ai.record_id = t.agent_id
            LEFT JOIN contact_identity ci ON ci.record_id = t.contact_id
            WHERE {self._ticket_needed()}""",
        )

    def _messages(self) -> None:
        self._read(
            "messages",
            f"""SELECT m.id, coalesce(mt.into_ticket_id, m.ticket_id) AS ticket_id, m.author_type,
                CAST(m.is_public AS BOOLEAN) AS is_public,
                coalesce(ai.identity_id, m.agent_id, '{NONE}') AS agent,
                coalesce(t.team, '{NONE}') AS team,
                coalesce(m.channel, t.channel, '{NONE}') AS channel,
                m.source,
                coalesce(t.priority, '{NONE}') AS priority,
                coalesce(t.category, '{NONE}') AS category,
                coalesce(t.topic, '{NONE}') AS topic,
                utc(m.created_at) AS created_at
            FROM {self._facts("message")} m
            -- a merged-away ticket's messages are the survivor's
            LEFT JOIN merged_ticket mt ON mt.ticket_id = m.ticket_id
            LEFT JOIN tickets t ON t.id = coalesce(mt.into_ticket_id, m.ticket_id)
            LEFT JOIN agent_identity ai ON ai.record_id = m.agent_id
            -- the messages of a ticket deleted in its source go with it; with load bounds, those of
            -- the tickets read, and any other within them (a ticket with a message there is read)
            WHERE NOT coalesce(t.archived, false) AND (t.id IS NOT NULL OR {self._within("m.created_at")})""",
        )

    def _calls(self) -> None:
        self._read(
            "calls",
            f"""SELECT c.id, c.source, c.direction, c.status, c.missed_reason, c.phone_number, c.ticket_id,
                'phone' AS channel, '{NONE}' AS priority, '{NONE}' AS category,
                -- the call's own topic (from its notes), else its ticket's
                coalesce(tc.label, t.topic, '{NONE}') AS topic,
                coalesce(ai.identity_id, c.agent_id, '{NONE}') AS agent,
                coalesce(c.team, '{NONE}') AS team,
                coalesce(ci.identity_id, c.contact_id, c.phone_number) AS contact,
                utc(c.started_at) AS started_at,
                utc(c.answered_at) AS answered_at,
                utc(c.ended_at) AS ended_at,
                CAST(c.wait_seconds AS DOUBLE) AS wait_seconds,
                CAST(c.talk_seconds AS DOUBLE) AS talk_seconds,
                CAST(c.hold_seconds AS DOUBLE) AS hold_seconds,
                CAST(c.wrap_up_seconds AS DOUBLE) AS wrap_up_seconds
            FROM {self._facts("call")} c
            LEFT JOIN topic_of_call tc ON tc.id = c.id
            LEFT JOIN tickets t ON t.id = c.ticket_id
            LEFT JOIN agent_identity ai ON ai.record_id = c.agent_id
            LEFT JOIN contact_identity ci ON ci.record_id = c.contact_id
            WHERE NOT coalesce(CAST(c.archived AS BOOLEAN), false)
            -- a copy of a call just before the bounds still decides which copy is kept
              AND {self._within("c.started_at", margin=self._call_margin())}""",
        )

    def _call_margin(self) -> timedelta:
        """Calls read before the load bounds: a copy of a call just before them still decides which copy
        is kept."""
        return timedelta(seconds=self.call_duplicate_seconds + 1)

    def _drop_duplicate_calls(self) -> None:
        """One call logged by two systems counts once. Telephony systems log their calls into the CRM
        (`adapters.registry`: a CRM that logs others' calls), so the same call arrives from two sources.
        Calls of the same caller (contact identity, else phone number) in the same direction from
        different sources, starting within `call_duplicate_seconds` of each other, are one call: the
        telephony system's copy is kept (it knows the wait and the missed reason), the copy of a source in
        `yielding_call_sources` dropped (between two others, the alphabetically first source's stays).
        Neighbours in (caller, direction, start) order are compared, so the check is one sort, and it is
        skipped when calls come from one source only."""
        window = self.call_duplicate_seconds
        sources = self.con.execute("SELECT count(DISTINCT source) FROM calls").fetchone()
        if not window or sources is None or sources[0] < 2:
            return
        yielding = ", ".join(sql_literal(source) for source in sorted(self.yielding_call_sources)) or "NULL"
        rank = f"CASE WHEN CAST(source AS VARCHAR) IN ({yielding}) THEN 1 ELSE 0 END"
        self.con.execute(
            f"""DELETE FROM calls WHERE id IN (
                SELECT id FROM (
                    SELECT id, source, {rank} AS r, started_at_e AS at_e,
                        lag(source) OVER w AS prev_source, lag({rank}) OVER w AS prev_r, lag(started_at_e) OVER w AS prev_e,
                        lead(source) OVER w AS next_source, lead({rank}) OVER w AS next_r, lead(started_at_e) OVER w AS next_e
                    FROM calls WHERE contact IS NOT NULL
                    WINDOW w AS (PARTITION BY contact, direction ORDER BY started_at_e, id))
                WHERE (prev_source <> source AND at_e - prev_e <= {window} AND (prev_r < r OR (prev_r = r AND prev_source < source)))
                   OR (next_source <> source AND next_e - at_e <= {window} AND (next_r < r OR (next_r = r AND next_source < source))))"""
        )

    def _surveys(self) -> None:
        self._read(
            "surveys",
            f"""SELECT r.id, r.source, r.kind, CAST(r.score AS DOUBLE) AS score,
                CAST(r.scale_min AS DOUBLE) AS scale_min, CAST(r.scale_max AS DOUBLE) AS scale_max,
                r.dimension, r.measure, coalesce(mt.into_ticket_id, r.ticket_id) AS ticket_id,
                coalesce(ci.identity_id, r.contact_id) AS contact,
                coalesce(ai.identity_id, r.agent_id, t.agent, '{NONE}') AS agent,
                coalesce(t.team, '{NONE}') AS team,
                coalesce(t.channel, '{NONE}') AS channel,
                coalesce(t.priority, '{NONE}') AS priority,
                coalesce(t.category, '{NONE}') AS category,
                coalesce(t.topic, '{NONE}') AS topic,
                utc(r.submitted_at) AS submitted_at,
                utc(r.responded_at) AS responded_at
            FROM {self._facts("survey_response")} r
            -- archived or not: a response borrows its ticket's cut values as last stored (SPEC §4); a
            -- merged-away ticket's response belongs to the survivor
            LEFT JOIN merged_ticket mt ON mt.ticket_id = r.ticket_id
            LEFT JOIN tickets t ON t.id = coalesce(mt.into_ticket_id, r.ticket_id)
            LEFT JOIN agent_identity ai ON ai.record_id = r.agent_id
            LEFT JOIN contact_identity ci ON ci.record_id = r.contact_id
            -- with load bounds: those submitted within them, and any about a ticket read (K28 judges a
            -- social ticket by its survey, whenever it came)
            WHERE {self._within("r.submitted_at")} OR t.id IS NOT NULL""",
        )

    def _contacts(self) -> None:
        """One row per customer identity: customer since its earliest record says so; churned only when
        every record that made it a customer has churned (the latest churn date)."""
        p = self.prefix
        self.con.execute(
            f"""CREATE TABLE customers AS
            SELECT coalesce(ci.identity_id, c.id) AS contact,
                min(utc(c.customer_since)) AS customer_since,
                CASE WHEN bool_and(c.customer_since IS NULL OR c.churned_at IS NOT NULL)
                     THEN max(utc(c.churned_at)) END AS churned_at,
                arg_min(c.acquisition_source, c.customer_since) AS acquisition_source,
                bool_or(c.referred_by IS NOT NULL) AS referred,
                bool_or(coalesce(json_extract_string(CAST(c.attributes AS JSON), '$.loyalty_member') = 'true', false))
                    AS loyalty_member,
                bool_or(coalesce(
                    json_extract_string(CAST(c.attributes AS JSON), '$.education_participant') = 'true', false))
                    AS education_participant
            FROM {p}.contact c
            LEFT JOIN contact_identity ci ON ci.record_id = c.id
            WHERE NOT coalesce(CAST(c.archived AS BOOLEAN), false)
            GROUP BY 1"""
        )

    def _purchases_reviews_costs(self) -> None:
        p = self.prefix
        self.con.execute(
            f"""CREATE TABLE purchases AS
            SELECT pu.id, coalesce(ci.identity_id, pu.contact_id) AS contact, CAST(pu.amount AS DOUBLE) AS amount,
                pu.currency, CAST(pu.gross_margin AS DOUBLE) AS gross_margin,
                utc(pu.occurred_at) AS occurred_at
            FROM {p}.purchase pu LEFT JOIN contact_identity ci ON ci.record_id = pu.contact_id"""
        )
        self._with_epochs(
            "reviews",
            f"""SELECT r.id, coalesce(ai.identity_id, r.agent_id, '{NONE}') AS agent,
                utc(r.reviewed_at) AS reviewed_at,
                CAST(r.criteria AS VARCHAR) AS criteria, CAST(r.weights AS VARCHAR) AS weights,
                CAST(r.critical AS VARCHAR) AS critical
            FROM {p}.quality_review r LEFT JOIN agent_identity ai ON ai.record_id = r.agent_id""",
        )
        self.con.execute(
            f"""CREATE TABLE costs AS SELECT CAST(period_start AS DATE) AS period_start,
                CAST(period_end AS DATE) AS period_end, CAST(amount AS DOUBLE) AS amount, currency
            FROM {p}.service_cost"""
        )

    # --- querying -----------------------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()


def json_list(values: Iterable[Any]) -> str:
    """Values for one `unnested(type)` parameter. Rows go into DuckDB as a JSON array per column in one
    statement: executemany costs ~0.5 ms a row, and a Python list parameter ~0.13 ms a value (DuckDB
    tries to import numpy for each one), a JSON string a hundredth of that."""
    return json.dumps(list(values))


def unnested(sql_type: str) -> str:
    """The SQL that unpacks a `json_list` parameter into rows of `sql_type`."""
    return f"CAST(unnest(from_json(?, '[\"VARCHAR\"]')) AS {sql_type})"


def naive_utc(instant: datetime) -> datetime:
    """A UTC instant as the naive timestamp DuckDB tables hold."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def _floor_minutes(instant: datetime, minutes: int) -> datetime:
    """The instant rounded down to a multiple of `minutes` since the epoch."""
    return datetime.fromtimestamp(_epoch_minute(instant) // minutes * minutes * 60, UTC)


def _epoch_minute(instant: datetime) -> int:
    """Whole minutes since the epoch, rounded down."""
    return int(instant.timestamp() // 60)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

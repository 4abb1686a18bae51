"""Opening the database and bringing its schema to the current version.

SQLite (the default, a file) and PostgreSQL (via psycopg 3) are supported. Migrations are Alembic
revisions shipped in `connector/store/migrations/versions/`, applied automatically on open.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from connector.errors import ConfigError, StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server before saying it cannot be reached."""
WRITE_OPTION = "helpdesk_write"
"""Execution option marking a connection whose transaction will write (SQLite: BEGIN IMMEDIATE)."""
_MIGRATION_LOCK_ID = 0x4845_4C50  # "HELP": one PostgreSQL advisory lock serialises concurrent migrators


def create_store_engine(url: str) -> Engine:
    """An Engine for `url`; `postgresql://` URLs get the psycopg 3 driver, SQLite files real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        try:
            engine = create_engine(
                parsed.set(drivername="postgresql+psycopg"),
                pool_pre_ping=True,
                connect_args={"connect_timeout": CONNECT_TIMEOUT},
            )
        except ModuleNotFoundError as exc:
            raise ConfigError(
                "a PostgreSQL store needs the psycopg driver: pip install 'helpdesk-kpi-connector[postgres]'"
            ) from exc
    elif parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        _use_real_sqlite_transactions(engine)
    else:
        raise StoreError(f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")
    return engine


def _use_real_sqlite_transactions(engine: Engine) -> None:
    """pysqlite defers BEGIN until the first write, so a read-then-write is not atomic. Take over BEGIN
    (SQLAlchemy's documented recipe) and wait for a busy database instead of failing at once."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock at BEGIN: a deferred one that read first cannot wait
        # for another writer (SQLite answers "database is locked" at once rather than deadlock), so two
        # runs on one file would collide; IMMEDIATE makes the second wait (busy_timeout) and go on.
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The schema version this code expects."""
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Apply every pending migration in one transaction; refuse a database newer than this code. Two
    processes opening one new store migrate one after the other (PostgreSQL: an advisory lock; SQLite:
    an immediate transaction), the second finding the schema made."""
    with writing(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        current = MigrationContext.configure(connection).get_current_revision()
        known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(
                f"the database is at schema version {current}, which this connector does not know "
                f"(it knows up to {head_revision()}): upgrade the connector"
            )
        try:
            command.upgrade(alembic_config(connection), "head")
        except CommandError as exc:
            raise StoreError(f"schema migration failed: {exc}") from exc


_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_LOCK = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock | None:
    """For a SQLite file, one lock per file shared by the process's threads (None for PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return None
    with _SQLITE_WRITERS_LOCK:
        return _SQLITE_WRITERS.setdefault(str(engine.url.database), threading.Lock())


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed when the block ends, rolled back if it raises. On SQLite
    the process's threads queue for the file's one writer on a lock of their own: SQLite's busy handler
    makes a waiting writer sleep in steps of up to 100 ms, which a webhook answer cannot afford (other
    processes still wait through the busy timeout)."""
    lock = _writer_lock(engine)
    with lock if lock is not None else nullcontext(), engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


def shown_url(url: str) -> str:
    """The store's URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file_problem(url: str) -> str | None:
    """Why a SQLite file store cannot be created or written where the URL points, or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    folder = path.parent
    if path.is_dir():
        return f"{path} is a folder, not a database file (e.g. sqlite:///{path / 'helpdesk.db'})"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(path if path.exists() else folder, os.W_OK):
        return f"{path if path.exists() else folder} is not writable"
    return None


def connection_problem(url: str, exc: Exception) -> str:
    """One line naming the server and the cause of a failed connection."""
    parsed = make_url(url)
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    where = (
        f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
        if parsed.get_backend_name() == "postgresql"
        else shown_url(url)
    )
    return f"cannot connect to {where}: {cause}"


def probe_store(url: str) -> str | None:
    """Why the store at `url` cannot be used, or None — found without writing anything (for `check`)."""
    problem = sqlite_file_problem(url)
    if problem is not None or make_url(url).get_backend_name() != "postgresql":
        return problem
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        return connection_problem(url, exc)
    finally:
        engine.dispose()
    return None

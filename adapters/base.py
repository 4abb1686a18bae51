"""The small protocol every vendor adapter speaks to the sync job.

An adapter offers streams; a stream reads from its stored cursor and yields batches of common records,
each with the cursor value that is safe to store once the batch is committed:

    >>> for stream in adapter.streams():
    ...     for batch in stream.read(store.cursor(adapter.vendor, stream.name)):
    ...         with store.transaction() as tx:
    ...             store.upsert(tx, batch.records)
    ...             store.set_cursor(tx, adapter.vendor, stream.name, batch.cursor)

The sync job (`connector.sync`) does exactly that, plus progress and error handling; adapters never
touch the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import requests

from adapters.governor import RateGovernor
from adapters.http import Shape, VendorClient
from adapters.records import from_epoch_seconds
from adapters.windows import ReadProgress, WindowedQuery, WindowedReader
from connector.errors import FatalAPIError, RecordValidationError
from connector.schema import Record

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R", bound=Record)


@dataclass
class Batch:
    """Records to commit together, and what to remember once they are."""

    records: Sequence[Record]
    cursor: str | None = None
    """The stream's cursor after this batch (None: leave it as it is)."""
    merged: Sequence[tuple[str, str, str]] = ()
    """(kind, merged record id, surviving record id): records a source merged into another."""
    rejected: Sequence[str] = ()
    """Vendor records that did not fit the common schema, each with the reason (logged, counted)."""
    progress: ReadProgress | None = None
    """How far the stream's read has come after this batch (None: the stream cannot tell)."""


def map_each(items: Iterable[T], convert: Callable[[T], R | None], rejected: list[str]) -> list[R]:
    """Map vendor items one by one; an item that breaks the schema is named in `rejected` and skipped,
    so one odd record never stops a sync."""
    records: list[R] = []
    for item in items:
        try:
            record = convert(item)
        except RecordValidationError as exc:
            rejected.append(str(exc))
            continue
        if record is not None:
            records.append(record)
    return records


def batch_of(items: Iterable[T], convert: Callable[[T], Record | None]) -> Batch:
    """The records `convert` makes of `items` (`map_each`), with those it rejected; no cursor."""
    rejected: list[str] = []
    return Batch(map_each(items, convert, rejected), None, rejected=rejected)


def windowed_batches(
    reader: WindowedReader,
    start: int,
    end: int,
    convert: Callable[[Sequence[Any]], Batch],
    instant: Callable[[int], datetime],
) -> Iterator[Batch]:
    """A time-windowed stream's batches: each chunk `reader` reads of `[start, end)` made into a batch
    (`convert`) whose cursor is the instant (`instant` of the key) up to which every item was read, and
    with its progress — so a cursor never passes a record that was not yet committed."""
    for chunk in reader.chunks(start, end):
        batch = convert(chunk.items)
        batch.cursor = format_cursor(instant(chunk.done_until))
        batch.progress = reader.progress(chunk.done_until)
        yield batch


@dataclass
class Refetched:
    """Objects re-read by id (a webhook's changed objects): their records, and the ids the vendor no
    longer has."""

    batch: Batch
    gone: list[str] = field(default_factory=list)


def joined(*batches: Batch) -> Batch:
    """One batch of the records, merges and rejections of several (their cursors dropped)."""
    return Batch(
        [r for b in batches for r in b.records],
        None,
        [m for b in batches for m in b.merged],
        [r for b in batches for r in b.rejected],
    )


class Stream(Protocol):
    name: str
    """The cursor's name, e.g. `tickets`."""
    entities: tuple[str, ...]
    """Common-schema entities the stream produces (for `sync --entity`)."""

    def read(self, cursor: str | None) -> Iterator[Batch]: ...


class Adapter(Protocol):
    vendor: str
    governor: RateGovernor

    def streams(self) -> Sequence[Stream]: ...

    def probe(self) -> None:
        """One cheap authenticated call (`check --online`); raises the vendor's error."""

    def refetch(self, object_type: str, ids: Sequence[str]) -> Refetched:
        """The current state of objects named by a webhook (`object_type` as the webhook events name
        it), read by id; an object type the adapter does not follow is a `ConfigError`."""

    def close(self) -> None: ...


class RequestsVendorSettings(Protocol):
    """What `RequestsAdapter` reads of a vendor's settings model (`connector.settings`)."""

    @property
    def base_url(self) -> str | None: ...
    @property
    def requests_per_minute(self) -> int: ...
    def require(self, vendor: str) -> None: ...


C = TypeVar("C", bound=RequestsVendorSettings)


class RequestsAdapter(Generic[C]):
    """Base of the `requests`-based adapters (LiveAgent, Aircall): the vendor's settings (checked complete
    for a sync) and the plan, the vendor's rate governor (its published requests per minute unless one is
    given) and one HTTP client authenticated as the subclass's `auth` says."""

    vendor: str

    def __init__(self, config: C, plan: SyncPlan, *, governor: RateGovernor | None = None) -> None:
        config.require(self.vendor)
        assert config.base_url
        self.config = config
        self.plan = plan
        self.governor = governor or RateGovernor.for_vendor(
            self.vendor, limit=config.requests_per_minute, interval=60.0
        )
        session = requests.Session()
        session.auth = self.auth(config)
        self.client = VendorClient(self.vendor, config.base_url, session, governor=self.governor)

    def auth(self, config: C) -> requests.auth.AuthBase:
        """The vendor's authentication from its settings (complete: `require` passed)."""
        raise NotImplementedError

    def close(self) -> None:
        self.client.session.close()

    def refetch_each(
        self, ids: Sequence[str], path: str, expect: Shape, convert: Callable[[Any], Sequence[Record]]
    ) -> Refetched:
        """Objects by id, one GET each (`path` has an `{id}` slot): a 404 means the vendor no longer has
        it; an object that does not fit the common schema is rejected, as a sync would."""
        records: list[Record] = []
        gone: list[str] = []
        rejected: list[str] = []
        for object_id in ids:
            try:
                body, _ = self.client.get_json(path.format(id=quote(object_id, safe="")), expect=expect)
            except FatalAPIError as exc:
                if exc.status != 404:
                    raise
                gone.append(object_id)
                continue
            try:
                records += convert(body)
            except RecordValidationError as exc:
                rejected.append(str(exc))
        return Refetched(Batch(records, rejected=rejected), gone)


class _RereadingAdapter(Protocol):
    """What `CallWindowStream` reads of its adapter: the sync plan and the vendor's `reread` setting."""

    @property
    def plan(self) -> SyncPlan: ...
    @property
    def config(self) -> _Rereads: ...


class _Rereads(Protocol):
    @property
    def reread(self) -> timedelta: ...


A = TypeVar("A", bound=_RereadingAdapter)


class CallWindowStream(Generic[A]):
    """A vendor's calls, read in windows of their creation time (UNIX seconds) from the cursor on, each
    run re-reading the vendor's `reread` behind it: a call's answer, end, tags and notes come after its
    creation, and upserts by id make the re-read harmless. A subclass says what to ask (`query`) and how
    to map a call (`mapper`, made once per read)."""

    name = "calls"
    entities = ("call",)

    def __init__(self, adapter: A) -> None:
        self.adapter = adapter
        self.reader: WindowedReader | None = None

    def query(self) -> WindowedQuery:
        raise NotImplementedError

    def mapper(self) -> Callable[[Any], Record | None]:
        raise NotImplementedError

    def read(self, cursor: str | None) -> Iterator[Batch]:
        plan = self.adapter.plan
        start = plan.start(cursor, reread=self.adapter.config.reread)
        convert = self.mapper()
        self.reader = WindowedReader(self.query())
        yield from windowed_batches(
            self.reader,
            int(start.timestamp()),
            int(plan.now.timestamp()),
            lambda items: batch_of(items, convert),
            from_epoch_seconds,
        )


@dataclass(frozen=True)
class OwnWrite:
    """The connector's latest write to one object type of a vendor: every record it wrote carries
    `write_id` in a property of ours, and `until` is the vendor's modification time of the last of
    them (the vendor's clock, so no skew between hosts). An incremental read can leave such records out
    unless they changed after `until` — they changed only because we wrote them."""

    write_id: str
    until: datetime

    def dump(self) -> str:
        return json.dumps({"write_id": self.write_id, "until": format_cursor(self.until)})

    @classmethod
    def parse(cls, text: str) -> OwnWrite | None:
        """The stored mark; None, with a warning, when it cannot be read — the records of that write are
        then simply read again, and the next write stores a fresh mark."""
        try:
            data = json.loads(text)
            return cls(str(data["write_id"]), parse_cursor(str(data["until"])))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring an unreadable own-write mark (%s): %r", exc, text)
            return None


OWN_WRITE_STREAM = "own-write:"
"""Prefix of the store's state entries that hold an `OwnWrite` (the rest: the object type)."""


@dataclass(frozen=True)
class SyncPlan:
    """Where an incremental read starts and ends, shared by every stream of a run."""

    now: datetime
    backfill_start: datetime
    overlap: timedelta = timedelta(minutes=10)
    full: bool = False
    extra: dict[str, timedelta] = field(default_factory=dict)
    own_writes: dict[str, OwnWrite] = field(default_factory=dict)
    """Object type → the connector's latest write to it (see `OwnWrite`); ignored by a full read."""

    def own_write(self, object_type: str) -> OwnWrite | None:
        """What an incremental read of `object_type` may leave out: None on a first or full read."""
        return None if self.full else self.own_writes.get(object_type)

    def start(
        self, cursor: str | None, *, reread: timedelta | None = None, whole_history: bool = False
    ) -> datetime:
        """The first instant to read: the backfill start on a first (or `--full`) run — the beginning
        of time for `whole_history` streams such as contacts, whose customer base reaches back before
        any backfill — else the cursor minus the overlap (eventually consistent search, late records),
        or minus `reread` when that is longer (Aircall's late tags)."""
        floor = EPOCH if whole_history else self.backfill_start
        if self.full or cursor is None:
            return floor
        behind = max(self.overlap, reread or timedelta(0))
        return max(floor, parse_cursor(cursor) - behind)

    def due(self, cursor: str | None, every: timedelta) -> bool:
        """Whether a stream that re-reads everything (its cursor: the time it last did) should run now:
        on a first or `--full` run, or when the last read is `every` old."""
        return self.full or cursor is None or self.now - parse_cursor(cursor) >= every


@dataclass(eq=False)  # a stream is itself, not its fields
class ListingStream:
    """A vendor list without a modified-since filter (users, agents, contacts), read in full when the
    plan says it is `due` (default once a day); its cursor is the time of that read."""

    name: str
    entities: tuple[str, ...]
    plan: SyncPlan
    pages: Callable[[], Iterable[Sequence[Any]]]
    """Each call reads the list anew, page by page."""
    convert: Callable[[Any], Record | None]
    every: timedelta = field(default=timedelta(days=1), kw_only=True)

    def read(self, cursor: str | None) -> Iterator[Batch]:
        if not self.plan.due(cursor, self.every):
            return
        for page in self.pages():
            yield batch_of(page, self.convert)
        yield Batch([], format_cursor(self.plan.now))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_cursor(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_cursor(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

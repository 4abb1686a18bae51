"""What the writer last pushed to a target, value by value (`pushed_value`): the next push sends only the
values that differ, so an unchanged store writes nothing."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connector.store.records import dialect_insert, id_chunks
from connector.store.tables import pushed_value

FEW = 5_000
"""Up to this many objects are looked up by id; more, by one read of the object type's values."""

PushedValues = dict[tuple[str, str], str | None]
"""(object id, property) → the value last pushed (None: cleared)."""


def pushed_values(
    connection: Connection, target: str, object_type: str, object_ids: Collection[str]
) -> PushedValues:
    """The values last pushed to `target` for these objects of `object_type`."""
    p = pushed_value.c
    query = select(p.object_id, p.property, p.value).where(p.target == target, p.object_type == object_type)
    parts = (
        [query] if len(object_ids) > FEW else [query.where(p.object_id.in_(c)) for c in id_chunks(object_ids)]
    )
    last: PushedValues = {}
    for part in parts:
        last.update({(r.object_id, r.property): r.value for r in connection.execute(part)})
    return last


def remember_pushed(
    connection: Connection,
    target: str,
    object_type: str,
    written: Iterable[tuple[str, Mapping[str, str | None]]],
) -> None:
    """Record the values just pushed (object id → property → value)."""
    now = datetime.now(UTC)
    rows = [
        {
            "target": target,
            "object_type": object_type,
            "object_id": object_id,
            "property": name,
            "value": value,
            "pushed_at": now,
        }
        for object_id, props in written
        for name, value in props.items()
    ]
    if not rows:
        return
    statement = dialect_insert(connection, pushed_value)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[p for p in pushed_value.primary_key.columns],
            set_={"value": statement.excluded.value, "pushed_at": statement.excluded.pushed_at},
        ),
        rows,
    )

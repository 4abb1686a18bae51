"""Write a new migration for schema changes: `python -m connector.store.new_migration "what changed"`.

Migrates a scratch SQLite database to the current head, lets Alembic compare it with the table
definitions, and writes the difference as the next numbered revision for review.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from connector.store.engine import alembic_config, create_store_engine, migrate


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: python -m connector.store.new_migration "what changed"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_store_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        migrate(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        next_id = f"{int(head or 0) + 1:04d}"
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=argv[0], autogenerate=True, rev_id=next_id)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

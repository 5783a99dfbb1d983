"""Numbered schema migrations, one file each, applied in one transaction.

To add one: write ``mNNNN_<what>.py`` with ``upgrade(db)`` and append it to ``MIGRATIONS``.
A shipped migration is never edited. ``PRAGMA user_version`` holds the last one applied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import sqlcipher3

from engine.storage.db import Connection, rollback, translate
from engine.storage.errors import DatabaseTooNew, MigrationFailed, StorageError
from engine.storage.migrations import (
    m0001_initial,
    m0002_search,
    m0003_egress_log,
    m0004_search_thinking,
    m0005_documents,
)


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    upgrade: Callable[[Connection], None]


def _from_module(module: ModuleType) -> Migration:
    stem = module.__name__.rsplit(".", 1)[-1]  # e.g. m0001_initial
    return Migration(int(stem[1:5]), stem, module.upgrade)


MIGRATIONS: tuple[Migration, ...] = (
    _from_module(m0001_initial),
    _from_module(m0002_search),
    _from_module(m0003_egress_log),
    _from_module(m0004_search_thinking),
    _from_module(m0005_documents),
)
LATEST_VERSION = MIGRATIONS[-1].number


def check_order(migrations: Sequence[Migration]) -> None:
    """Raises ValueError unless the numbers strictly increase (a programming error)."""
    numbers = [m.number for m in migrations]
    if any(b <= a for a, b in itertools.pairwise(numbers)) or (numbers and numbers[0] < 1):
        raise ValueError(f"migration numbers must strictly increase from 1: {numbers}")


def schema_version(db: Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    db: Connection, migrations: Sequence[Migration] = MIGRATIONS, target: int | None = None
) -> int:
    """Apply the pending migrations (up to ``target``) in one transaction; return the version.

    Raises: DatabaseTooNew (left untouched), MigrationFailed (rolled back).
    """
    check_order(migrations)
    known = migrations[-1].number if migrations else 0
    current = schema_version(db)
    if current > known:
        raise DatabaseTooNew(current, known)
    goal = known if target is None else target
    pending = [m for m in migrations if current < m.number <= goal]
    if not pending:
        return current
    db.execute("BEGIN IMMEDIATE")
    try:
        for migration in pending:
            migration.upgrade(db)
            # PRAGMA takes no ? parameters; the number is an int from our own table.
            db.execute(f"PRAGMA user_version = {int(migration.number)}")
        db.execute("COMMIT")
    except sqlcipher3.Error as exc:
        rollback(db)
        error = translate(exc)
        if type(error) is StorageError:
            raise MigrationFailed(
                f"Upgrading the conversation database failed at {migration.name}."
            ) from exc
        raise error from exc
    except BaseException:
        rollback(db)
        raise
    return pending[-1].number

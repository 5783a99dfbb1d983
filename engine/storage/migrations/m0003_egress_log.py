"""The egress ledger kept in the encrypted file: every network or program attempt the policy
saw, allowed or blocked. Hosts and program names only — never arguments or user text."""

from __future__ import annotations

from engine.storage.db import Connection

STATEMENTS = (
    """CREATE TABLE egress_log (
        id INTEGER PRIMARY KEY,
        time REAL NOT NULL,
        action TEXT NOT NULL,
        host TEXT NOT NULL DEFAULT '',
        port INTEGER,
        module TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX egress_log_by_time ON egress_log(time)",
)


def upgrade(db: Connection) -> None:
    for statement in STATEMENTS:
        db.execute(statement)

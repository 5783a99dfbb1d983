"""Adding the conversations of a backup to the history: what ``hearth restore`` does. Nothing
already here is replaced or changed; a conversation already here (the same creation time and
first message, whatever it was renamed to since) is left out.

Part of ``ConversationStore`` (a mixin), like ``DocumentRoom``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.storage.db import Connection

# Who a conversation is, across stores: when it was made and its first message.
_IDENTITY = (
    "SELECT c.id, c.title, c.created_at, (SELECT m.content FROM messages m "
    "WHERE m.conversation_id = c.id ORDER BY m.id LIMIT 1) FROM conversations c "
    "ORDER BY c.created_at, c.id"
)
_MESSAGE_COPY = (
    "role, content, thinking, model_id, status, prompt_tokens, generated_tokens, "
    "time_to_first_token_s, tokens_per_second, activated, created_at, updated_at"
)


@dataclass
class MergePlan:
    """What a backup would add: the titles of the conversations not here yet, and how many
    of its conversations are here already."""

    new: list[tuple[int, str]] = field(default_factory=list)  # (id in the backup, title)
    already_here: int = 0


class MergeRoom:
    """Methods of ``ConversationStore`` for adding another store's conversations."""

    if TYPE_CHECKING:

        def _transaction(self, *, durable: bool = True) -> contextlib.AbstractContextManager[Any]:
            raise NotImplementedError

        def _reading(self) -> contextlib.AbstractContextManager[Any]:
            raise NotImplementedError

    def merge_plan(self, other: MergeRoom) -> MergePlan:
        """What ``merge_from(other)`` would add (nothing is written)."""
        with self._reading() as db:
            here = {(r[2], r[3]) for r in db.execute(_IDENTITY).fetchall()}
        plan = MergePlan()
        with other._reading() as theirs:
            rows = theirs.execute(_IDENTITY).fetchall()
        for conversation_id, title, created_at, first in rows:
            if (created_at, first) in here:
                plan.already_here += 1
            else:
                plan.new.append((int(conversation_id), str(title)))
        return plan

    def merge_from(self, other: MergeRoom) -> MergePlan:
        """Copy ``other``'s conversations that are not here, with every branch of their
        messages and the passages their replies were given, in one transaction.

        Raises: StorageError (nothing was added).
        """
        plan = self.merge_plan(other)
        with other._reading() as theirs, self._transaction() as db:
            for conversation_id, _title in plan.new:
                _copy_conversation(theirs, db, conversation_id)
        return plan


def _copy_conversation(theirs: Connection, db: Connection, conversation_id: int) -> None:
    conv = theirs.execute(
        "SELECT title, system_prompt, pinned, active_leaf_id, created_at, updated_at "
        "FROM conversations WHERE id = ?",
        (conversation_id,),
    ).fetchone()
    new_id = int(
        db.execute(
            "INSERT INTO conversations (title, system_prompt, pinned, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (conv[0], conv[1], conv[2], conv[4], conv[5]),
        ).lastrowid
    )
    ids: dict[int, int] = {}
    # Parents come before children: a message's id is larger than its parent's.
    for row in theirs.execute(
        f"SELECT id, parent_id, {_MESSAGE_COPY} FROM messages WHERE conversation_id = ? "
        "ORDER BY id",
        (conversation_id,),
    ).fetchall():
        old_id, parent, *values = row
        cur = db.execute(
            f"INSERT INTO messages (conversation_id, parent_id, {_MESSAGE_COPY}) "
            f"VALUES (?, ?, {', '.join('?' * len(values))})",
            (new_id, ids.get(parent) if parent is not None else None, *values),
        )
        ids[old_id] = int(cur.lastrowid)
    if conv[3] is not None and conv[3] in ids:
        db.execute(
            "UPDATE conversations SET active_leaf_id = ? WHERE id = ?", (ids[conv[3]], new_id)
        )
    for message_id, number, path, page, text in theirs.execute(
        "SELECT s.message_id, s.number, s.path, s.page, s.text FROM message_sources s "
        "JOIN messages m ON m.id = s.message_id WHERE m.conversation_id = ?",
        (conversation_id,),
    ).fetchall():
        db.execute(
            "INSERT INTO message_sources (message_id, number, document_id, path, page, text) "
            "VALUES (?, ?, NULL, ?, ?, ?)",
            (ids[message_id], number, path, page, text),
        )

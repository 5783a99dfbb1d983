"""Full-text search over titles and messages, with user text quoted so FTS5 never sees syntax."""

from __future__ import annotations

from engine.storage.db import Connection
from engine.storage.types import SearchHit

OPEN_MARK = "«"
CLOSE_MARK = "»"
# Control characters as snippet markers so text containing « or » is never misread.
_START = "\x02"
_END = "\x03"
_SNIPPET_TOKENS = 12


def fts_query(text: str) -> str | None:
    """Each whitespace-separated word as a quoted FTS5 string (all must match); None if
    there are no words. ``"``, ``AND(``, ``NEAR``, ``*`` are matched as text, never parsed."""
    words = [w for w in text.split() if w.strip(_START + _END)]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(db: Connection, text: str, limit: int) -> list[SearchHit]:
    """Title hits (best first), then message hits (newest first), ``limit`` in all."""
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    hits: list[SearchHit] = []
    title_rows = db.execute(
        f"SELECT rowid, snippet(conversations_fts, 0, char(2), char(3), '…', "
        f"{_SNIPPET_TOKENS}) FROM conversations_fts WHERE conversations_fts MATCH ? "
        f"ORDER BY rank LIMIT ?",
        (query, limit),
    ).fetchall()
    for conversation_id, raw in title_rows:
        title = db.execute(
            "SELECT title FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        hits.append(_hit(conversation_id, None, title[0] if title else "", raw))
    remaining = limit - len(hits)
    if remaining <= 0:
        return hits
    # Newest first, not bm25: ranking must score every match (≈100 ms for a word in most of
    # 100k messages), while rowid order stops after ``limit`` hits.
    message_rows = db.execute(
        # Column -1: the snippet comes from the answer or the thinking, whichever matched.
        f"SELECT rowid, snippet(messages_fts, -1, char(2), char(3), '…', {_SNIPPET_TOKENS}) "
        f"FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (query, remaining),
    ).fetchall()
    for message_id, raw in message_rows:
        row = db.execute(
            "SELECT m.conversation_id, c.title FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
            (message_id,),
        ).fetchone()
        if row is not None:
            hits.append(_hit(row[0], message_id, row[1], raw))
    return hits


def _hit(conversation_id: int, message_id: int | None, title: str, raw: str) -> SearchHit:
    plain: list[str] = []
    marked: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start = 0
    for ch in raw:
        if ch == _START:
            start = length
            marked.append(OPEN_MARK)
        elif ch == _END:
            spans.append((start, length))
            marked.append(CLOSE_MARK)
        else:
            plain.append(ch)
            marked.append(ch)
            length += 1
    return SearchHit(
        conversation_id, message_id, title, "".join(marked), "".join(plain), tuple(spans)
    )

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
    """One hit per conversation, ``limit`` in all: those whose title matches first (best
    first), then the others by their newest matching message. A conversation whose messages
    match carries how many do and the snippet of the newest of them."""
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    titles = db.execute(
        f"SELECT rowid, snippet(conversations_fts, 0, char(2), char(3), '…', "
        f"{_SNIPPET_TOKENS}) FROM conversations_fts WHERE conversations_fts MATCH ? "
        f"ORDER BY rank LIMIT ?",
        (query, limit),
    ).fetchall()
    # Every match is counted (a count cannot stop early), but none is ranked: bm25 for each
    # would cost three to five times as much for a common word (measured on 100k messages),
    # so the newest match stands for its conversation, as newest-first orders the list.
    groups = db.execute(
        "SELECT m.conversation_id, count(*), max(m.id) FROM messages_fts "
        "JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ? "
        "GROUP BY m.conversation_id ORDER BY max(m.id) DESC",
        (query,),
    ).fetchall()
    in_messages = {conversation_id: (count, newest) for conversation_id, count, newest in groups}
    title_snippets = dict(titles)
    order = [c for c, _ in titles] + [c for c, _, _ in groups if c not in title_snippets]
    hits: list[SearchHit] = []
    for conversation_id in order[:limit]:
        row = db.execute(
            "SELECT title FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            continue
        if conversation_id not in in_messages:
            hits.append(_hit(conversation_id, None, row[0], title_snippets[conversation_id], 0))
            continue
        count, message_id = in_messages[conversation_id]
        # Column -1: the snippet comes from the answer or the thinking, whichever matched.
        (raw,) = db.execute(
            f"SELECT snippet(messages_fts, -1, char(2), char(3), '…', {_SNIPPET_TOKENS}) "
            f"FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?",
            (query, message_id),
        ).fetchone()
        hits.append(_hit(conversation_id, message_id, row[0], raw, count))
    return hits


def _hit(
    conversation_id: int, message_id: int | None, title: str, raw: str, count: int
) -> SearchHit:
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
        conversation_id, message_id, title, "".join(marked), "".join(plain), tuple(spans), count
    )

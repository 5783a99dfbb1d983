"""Is the database whole? Checked at open, before anything can write to it.

Two kinds of damage are looked for:

- **A damaged write-ahead log.** SQLite replays the ``-wal`` file up to its first frame whose
  checksum fails and silently ignores everything after it, committed or not; the next
  checkpoint then erases those frames for good. ``read_wal_damage`` walks the frames itself
  (the format is SQLite's documented one; SQLCipher encrypts the pages, not the frame headers)
  and counts the commits after the break that still carry this log's salts: those are saved
  changes SQLite would drop.
- **Damaged pages in the database.** ``quick_check`` reads every page in use (each read
  verifies the page's HMAC) and SQLite's structural quick check, within a time budget; a large
  history that does not finish in time is checked fully later by ``full_check`` on a
  connection of its own.

The checks run on a read-only connection, because closing a read-write connection
checkpoints the log into the database, which is a write.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlcipher3

if TYPE_CHECKING:
    from engine.storage.db import Connection

WAL_HEADER_SIZE = 32
WAL_FRAME_HEADER_SIZE = 24
_WAL_MAGIC_LE = 0x377F0682  # checksums over little-endian words
_WAL_MAGIC_BE = 0x377F0683  # checksums over big-endian words
_MASK = 0xFFFFFFFF

# How long opening may spend on the quick check before leaving the rest to ``full_check``.
QUICK_CHECK_BUDGET_S = 1.5
_PROGRESS_STEPS = 2000  # SQLite virtual-machine steps between two looks at the clock


@dataclass(frozen=True)
class WalDamage:
    """Committed changes in the write-ahead log that SQLite would not replay."""

    lost_commits: int  # saved changes (transactions) after the damaged frame
    lost_frames: int  # pages written by them
    written_at: float  # the log's last modification time (epoch seconds)

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.written_at).strftime("%d %b %Y %H:%M")
        changes = "change" if self.lost_commits == 1 else "changes"
        return (
            f"the journal of your history is damaged: the last {self.lost_commits} saved "
            f"{changes} (written up to {when}) cannot be read back"
        )


@dataclass(frozen=True)
class Damage:
    """What is wrong with a database that opened: damaged pages, a damaged log, or both."""

    problems: tuple[str, ...] = ()  # SQLite's and SQLCipher's own findings (no user text)
    wal: WalDamage | None = None

    def describe(self) -> str:
        """One sentence for the person."""
        parts = []
        if self.problems:
            count = len(self.problems)
            parts.append(f"{count} damaged part{'s' if count != 1 else ''} found in the file")
        if self.wal is not None:
            parts.append(self.wal.describe())
        return "; ".join(parts) or "the file is damaged"


def read_wal_damage(db_path: Path) -> WalDamage | None:
    """The committed frames of ``db_path``'s log that SQLite would discard, or None when
    there are none (no log, an empty one, or one that is whole up to a torn last write).

    Reads the log only; never raises for a log that is not one (SQLite ignores it too).
    """
    wal = Path(f"{db_path}-wal")
    try:
        data = wal.read_bytes()
        written_at = wal.stat().st_mtime
    except FileNotFoundError:
        return None
    if len(data) < WAL_HEADER_SIZE:
        return None
    magic, _version, page_size, _seq, salt1, salt2, c1, c2 = struct.unpack(
        ">8I", data[:WAL_HEADER_SIZE]
    )
    if magic not in (_WAL_MAGIC_LE, _WAL_MAGIC_BE) or not _valid_page_size(page_size):
        return None
    order = ">" if magic == _WAL_MAGIC_BE else "<"
    if _checksum(data[:24], (0, 0), order) != (c1, c2):
        return None  # a log whose header is bad is ignored whole, by SQLite too
    frame_size = WAL_FRAME_HEADER_SIZE + page_size
    seed = (c1, c2)
    broken = False
    lost_commits = lost_frames = 0
    for offset in range(WAL_HEADER_SIZE, len(data) - frame_size + 1, frame_size):
        header = data[offset : offset + WAL_FRAME_HEADER_SIZE]
        _pgno, commit_size, f_salt1, f_salt2, f1, f2 = struct.unpack(">6I", header)
        if (f_salt1, f_salt2) != (salt1, salt2):
            if broken:
                continue  # a frame left over from an earlier use of the file
            break  # the end of this log: what follows is from before the last reset
        if not broken:
            page = data[offset + WAL_FRAME_HEADER_SIZE : offset + frame_size]
            chained = _checksum(header[:8] + page, seed, order)
            if chained == (f1, f2):
                seed = chained
                continue
            broken = True
        lost_frames += 1
        if commit_size:
            lost_commits += 1
    if not lost_commits:
        return None  # a torn, uncommitted tail: the normal trace of a crash mid-write
    return WalDamage(lost_commits, lost_frames, written_at)


def quick_check(conn: Connection, budget_s: float = QUICK_CHECK_BUDGET_S) -> list[str] | None:
    """SQLite's quick check (every page in use is read, so each page's HMAC is verified),
    stopped after ``budget_s``. Returns the problems found (empty: healthy), or None when
    the budget ran out first.
    """
    deadline = time.monotonic() + budget_s
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    except sqlcipher3.DatabaseError as exc:
        if str(getattr(exc, "sqlite_errorname", "")) == "SQLITE_INTERRUPT":
            return None
        return [_finding(exc)]
    finally:
        conn.set_progress_handler(None, 0)
    return [] if rows == ["ok"] else rows


def full_check(conn: Connection) -> list[str]:
    """Every page's HMAC (free pages included), then SQLite's full structural check. Slow on
    a large history: run it on a connection of its own, off the store's thread."""
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
        rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlcipher3.DatabaseError as exc:
        return [_finding(exc)]
    if rows != ["ok"]:
        problems.extend(rows)
    return problems


def _finding(exc: sqlcipher3.DatabaseError) -> str:
    return str(getattr(exc, "sqlite_errorname", "") or "unreadable page")


def _valid_page_size(size: int) -> bool:
    return 512 <= size <= 65536 and size & (size - 1) == 0


def _checksum(data: bytes, seed: tuple[int, int], order: str) -> tuple[int, int]:
    """SQLite's WAL checksum: Fibonacci-weighted sums of 32-bit word pairs."""
    s0, s1 = seed
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & _MASK
        s1 = (s1 + words[i + 1] + s0) & _MASK
    return s0, s1

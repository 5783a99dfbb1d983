"""The egress ledger as text, for ``hearth privacy``."""

from __future__ import annotations

from collections.abc import Iterable

from engine.policy.types import Action, EgressAttempt


def format_ledger(entries: Iterable[EgressAttempt]) -> str:
    """One line per attempt (local time, verdict, kind, target, calling module, mode), then a
    count. Never contains prompt or chat text: entries hold hosts and program names only."""
    rows = list(entries)
    attempts = [e for e in rows if e.action is not Action.MODE]
    if not rows:
        return "No network attempts recorded: nothing tried to leave this computer.\n"
    header = ("time", "verdict", "kind", "target", "from module", "mode")
    lines = [header]
    for e in rows:
        verdict = "changed" if e.action is Action.MODE else ("allowed" if e.allowed else "BLOCKED")
        target = e.target
        if e.host and e.detail:
            target += f" ({e.detail})"
        lines.append(
            (
                e.time.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                verdict,
                e.action.value,
                target or "-",
                e.module,
                e.mode.label,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in lines
    ]
    blocked = sum(not e.allowed for e in attempts)
    out.append("")
    out.append(
        f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''}: "
        f"{blocked} blocked, {len(attempts) - blocked} allowed."
    )
    return "\n".join(line.rstrip() for line in out) + "\n"

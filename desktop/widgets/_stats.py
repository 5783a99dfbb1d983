"""A reply's statistics in words: the quiet line under it and the tooltip over it."""

from __future__ import annotations

from engine.inference import Stats
from engine.storage import MessageStats


def stats_line(stats: Stats | MessageStats | None) -> str:
    """The quiet line under a finished reply: speed, tokens, time."""
    if stats is None or stats.generated_tokens is None:
        return ""
    parts = [f"{stats.generated_tokens:,} tokens"]
    if stats.tokens_per_second:
        parts.insert(0, f"{stats.tokens_per_second:.1f} tokens/s")
        parts.append(f"{stats.generated_tokens / stats.tokens_per_second:.1f} s")
    return " · ".join(parts)


def stats_text(stats: Stats | MessageStats | None) -> str:
    """The tooltip of an answer: speed, time to first token, tokens used."""
    if stats is None:
        return ""
    parts = []
    if stats.tokens_per_second is not None:
        parts.append(f"{stats.tokens_per_second:.1f} tokens/s")
    if stats.time_to_first_token_s is not None:
        parts.append(f"first token after {stats.time_to_first_token_s:.2f} s")
    if stats.generated_tokens is not None:
        parts.append(f"{stats.generated_tokens} tokens generated")
    if stats.prompt_tokens is not None:
        parts.append(f"{stats.prompt_tokens} tokens of prompt")
    if isinstance(stats, Stats) and stats.thinking_tokens:
        parts.append(f"{stats.thinking_tokens} of them thinking")
    return " · ".join(parts)

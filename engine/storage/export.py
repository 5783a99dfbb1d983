"""A conversation as Markdown or JSON text. Only ever on the person's explicit request; the
caller decides where the text goes (the store writes no file)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.storage.types import Conversation, Message

JSON_FORMAT = "hearth-conversation"
JSON_VERSION = 1
_HEADINGS = {"system": "System", "user": "You", "assistant": "Assistant"}


def to_markdown(conversation: Conversation, path: Sequence[Message]) -> str:
    """The active branch, root to leaf, as Markdown."""
    lines = [f"# {conversation.title}", ""]
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt, ""]
    for message in path:
        heading = _HEADINGS.get(message.role, message.role)
        if message.model_id:
            heading += f" ({message.model_id})"
        lines += [f"## {heading}", ""]
        if message.thinking:
            lines += [
                "<details><summary>Thinking</summary>",
                "",
                message.thinking,
                "",
                "</details>",
                "",
            ]
        lines += [message.content, ""]
        if message.status in ("interrupted", "error"):
            lines += [f"*(reply {message.status})*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_json(
    conversation: Conversation, messages: Sequence[Message], active_path: Sequence[Message]
) -> str:
    """The whole tree (every branch) plus the ids of the active path, as JSON."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "system_prompt": conversation.system_prompt,
            "pinned": conversation.pinned,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "active_path": [m.id for m in active_path],
        "messages": [_message(m) for m in messages],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "parent_id": m.parent_id,
        "role": m.role,
        "content": m.content,
        "thinking": m.thinking,
        "model_id": m.model_id,
        "status": m.status,
        "stats": None
        if m.stats is None
        else {
            "prompt_tokens": m.stats.prompt_tokens,
            "generated_tokens": m.stats.generated_tokens,
            "time_to_first_token_s": m.stats.time_to_first_token_s,
            "tokens_per_second": m.stats.tokens_per_second,
        },
        "created_at": m.created_at.isoformat(),
        "updated_at": m.updated_at.isoformat(),
    }

"""In-process inference with llama.cpp: load, stream, split reasoning, reuse the KV cache."""

from engine.chat_template import ChatMessage
from engine.inference.loader import open_model
from engine.inference.session import ModelSession
from engine.inference.types import (
    Answer,
    Chunk,
    Finished,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    Notice,
    NoticeKind,
    Reply,
    Stats,
    Thinking,
)

__all__ = [
    "Answer",
    "ChatMessage",
    "Chunk",
    "FinishReason",
    "Finished",
    "GenerationControl",
    "GenerationOptions",
    "ModelSession",
    "Notice",
    "NoticeKind",
    "Reply",
    "Stats",
    "Thinking",
    "open_model",
]

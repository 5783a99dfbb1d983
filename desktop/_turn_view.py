"""How turns and stored conversations reach the transcript, for ``ChatSession``: the reply the
model thread is writing now (``ReplyStream``: its text batched between repaints, its notices,
what it is doing before its first word, its sources), and what a stored conversation shows
(its active path, the versions of its messages, the passages its replies were given).

The view is addressed by message id and a widget that is gone is skipped, never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.widgets.message_widget import MessageWidget
from desktop.widgets.transcript_view import TranscriptView
from desktop.workers.inference_worker import TurnOutcome, TurnRequest
from engine.inference import Notice
from engine.storage import ConversationStore, Message
from engine.storage.types import Source

Branches = dict[int, tuple[int, int]]
Shown = tuple[list[Message], Branches, dict[int, list[Source]]]  # path, versions, sources


def placeholder_ids(request: TurnRequest) -> tuple[int, int]:
    """(question, reply) ids for a turn's widgets until the stored ids arrive. Stored ids are
    positive, so a negative id can never name a stored message."""
    return -2 * request.id - 1, -2 * request.id


@dataclass
class ReplyStream:
    """The turn the model thread is working on, and where its reply is shown."""

    request: TurnRequest
    transcript: TranscriptView
    question_key: int | None  # the question widget's id (None: the turn asks no new question)
    reply_key: int  # the reply widget's id: a placeholder until turn_started
    conversation_id: int | None
    pending: list[tuple[str, str]] = field(default_factory=list)  # ("thinking"|"answer", text)
    missed: bool = False  # some text found no view (it was reopened or closed meanwhile)
    sources: list[Source] = field(default_factory=list)  # the passages the reply was given

    def reply_widget(self) -> MessageWidget | None:
        return self.transcript.message_widget(self.reply_key)

    def stored(self, question: Message, reply_id: int) -> None:
        """The question and the reply are stored: their widgets take the stored ids."""
        self.conversation_id = question.conversation_id
        if (reply := self.reply_widget()) is not None:
            reply.set_message_id(reply_id)
        if self.question_key is not None and (
            asked := self.transcript.message_widget(self.question_key)
        ):
            asked.set_message_id(question.id)
        self.reply_key, self.question_key = reply_id, question.id

    def finish(self, outcome: TurnOutcome) -> None:
        """The turn ended: the reply shows how (all that was stored, if text went missing)."""
        if self.reply_widget() is None:
            return
        if self.missed and outcome.saved is not None:
            self.transcript.replace_message(outcome.saved)
            if self.sources and (widget := self.reply_widget()):
                widget.set_sources(self.sources)
        elif widget := self.reply_widget():
            widget.finish(outcome.status, outcome.reply.stats if outcome.reply else None)
        if outcome.error and (widget := self.reply_widget()):
            widget.show_error(outcome.error)

    def add_text(self, kind: str, text: str) -> None:
        """Keep text until the next flush."""
        pending = self.pending
        if pending and pending[-1][0] == kind:
            pending[-1] = (kind, pending[-1][1] + text)
        else:
            pending.append((kind, text))

    def flush(self) -> None:
        """Hand what arrived since the last flush to the view: one update per batch."""
        if not self.pending:
            done, total = self.request.control.prompt_progress
            if total and (widget := self.reply_widget()):
                widget.set_prompt_progress(done, total)  # a long prompt is being read
            return
        pending, self.pending = self.pending, []
        widget = self.reply_widget()
        if widget is None:
            self.missed = True
            return
        for kind, text in pending:
            if kind == "thinking":
                widget.append_thinking(text)
            else:
                widget.append_answer(text)

    def notice(self, notice: Notice) -> None:
        self.flush()
        if (widget := self.reply_widget()) is not None:
            widget.add_notice(notice)

    def activity(self, text: str) -> None:
        if (widget := self.reply_widget()) is not None:
            widget.set_activity(text)

    def note(self, text: str) -> None:
        if (widget := self.reply_widget()) is not None:
            widget.add_note(text)

    def set_sources(self, sources: list[Source]) -> None:
        self.sources = sources
        if (widget := self.reply_widget()) is not None:
            widget.set_sources(sources)


def tokens_used(path: list[Message]) -> int:
    """What the conversation's last reply took of the context (prompt and reply)."""
    for m in reversed(path):
        if m.role == "assistant" and m.stats is not None:
            return (m.stats.prompt_tokens or 0) + (m.stats.generated_tokens or 0)
    return 0


def shown(store: ConversationStore, conversation_id: int) -> Shown:
    """What the transcript shows of a conversation: its active path, the versions of its
    messages, and the passages its replies were given. Runs on the store's owner thread."""
    path, branches = path_and_branches(store, conversation_id)
    replies = [m.id for m in path if m.role == "assistant"]
    return path, branches, store.sources_for(replies) if replies else {}


def path_and_branches(
    store: ConversationStore, conversation_id: int
) -> tuple[list[Message], Branches]:
    """A conversation's active path, and (index among siblings, count) for each message of it
    that has siblings. Runs on the store's owner thread."""
    path = store.active_path(conversation_id)
    branches = {}
    for m in path:
        siblings = store.siblings(m.id)
        if len(siblings) > 1:
            branches[m.id] = ([s.id for s in siblings].index(m.id), len(siblings))
    return path, branches

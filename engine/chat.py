"""A conversation turn, in one place: the CLI and the desktop both go through here.

A turn saves the question, streams the reply through a ModelSession and saves the reply as it
grows (at least every ``SAVE_INTERVAL_S``), then finishes it as 'done', 'interrupted' or
'error'. What the model is sent comes from the stored active branch: earlier answers, never
their thinking, and never a turn that failed.

    chat = Chat(store, session)
    turn = chat.send("Where should I go in May?")
    for chunk in turn:
        ...
    turn.reply  # the stored assistant message
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.docs.citations import numbered, question_with_sources
from engine.docs.planner import fit_passages
from engine.inference import (
    Answer,
    ChatMessage,
    Chunk,
    Finished,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    Reply,
    Thinking,
)
from engine.storage import (
    ConversationStore,
    Message,
    MessageStats,
    ReplyNotStreaming,
    Status,
    StorageError,
)
from engine.storage.types import Passage, Source
from engine.titles import title_for

if TYPE_CHECKING:
    from engine.inference import ModelSession

# How often a growing reply is written to the store. A killed process loses at most this much.
SAVE_INTERVAL_S = 1.0


class PassageFinder(Protocol):
    """Where a question's passages come from (``engine.docs.DocumentFinder``)."""

    def find(
        self,
        conversation_id: int,
        question: str,
        *,
        attached: Sequence[int] = (),
        exclude: frozenset[str] = frozenset(),
    ) -> Sequence[Passage]:
        """Candidate passages, best first; ``attached`` are documents attached to this
        question, ``exclude`` the texts the conversation's history already carries."""
        ...


def history(
    path: list[Message],
    system_prompt: str = "",
    sources: Mapping[int, Sequence[Source]] | None = None,
) -> list[ChatMessage]:
    """What the model is sent for a branch ending in the question being answered.

    Thinking is never sent back, and a question whose reply failed or is empty is left out
    with that reply: it is not history the model should build on (and templates that require
    alternating roles would refuse it). A question answered from passages (``sources``, by
    reply id) is sent with them, exactly as it was then, so the cached prompt is reused.
    """
    sources = sources or {}
    msgs = [ChatMessage("system", system_prompt)] if system_prompt else []
    question: Message | None = None
    for m in path:
        if m.role == "user":
            question = m
        elif m.role == "assistant":
            if question is not None and m.content and m.status in ("done", "interrupted"):
                given = sources.get(m.id, ())
                msgs.append(ChatMessage("user", question_with_sources(question.content, given)))
                msgs.append(ChatMessage("assistant", m.content))
            question = None
    if question is not None:
        msgs.append(ChatMessage("user", question.content))
    return msgs


@dataclass(frozen=True)
class UnsavedReply:
    """A reply shown in full whose final save failed (a full disk): what that save needs.
    Its stored row, begun as 'streaming', holds at most what an earlier save wrote."""

    reply_id: int
    status: Status
    content: str
    thinking: str
    stats: MessageStats | None

    def save(self, store: ConversationStore) -> Message:
        """Complete the stored reply with all of it, as it was shown. Idempotent: a reply
        already stored so is returned as it is.

        Raises: StorageError (still not saved), RecordNotFound (its conversation was deleted),
        ReplyNotStreaming (it was finished otherwise meanwhile).
        """
        try:
            return store.finish_reply(
                self.reply_id, self.content, self.thinking, self.status, self.stats
            )
        except ReplyNotStreaming:
            stored = store.get_message(self.reply_id)
            if (stored.content, stored.thinking, stored.status) == (
                self.content,
                self.thinking,
                self.status,
            ):
                return stored
            raise


class Turn:
    """One reply being generated: iterate it for the chunks. The question and the (empty,
    'streaming') reply are stored before the first chunk; the reply is finished when the
    iteration ends, however it ends.

    ``save_error`` is set when saving failed part-way (e.g. a full disk): the reply still
    streams to the person, and the error is raised once the stream has ended. The whole
    reply then stays in memory (``unsaved``) and ``retry_save`` stores it when space is back.
    """

    def __init__(
        self,
        chat: Chat,
        question: Message,
        reply: Message,
        messages: list[ChatMessage],
        *,
        options: GenerationOptions | None,
        control: GenerationControl | None,
        sources: Sequence[Source] = (),
    ) -> None:
        self.question = question
        self.reply_id = reply.id
        self.sources = list(sources)  # the numbered passages this reply was given
        self.reply: Message | None = None  # the stored reply once finished
        self.result: Reply | None = None  # the engine's reply (with stats) once finished
        self.save_error: StorageError | None = None
        # What the reply's final save needs, kept while that save has not succeeded.
        self.unsaved: UnsavedReply | None = None
        self._chat = chat
        # A continued reply starts from what it already had; only new text is streamed.
        self._earlier = (reply.content, reply.thinking)
        self._chunks = self._stream(messages, options, control)

    def __iter__(self) -> Iterator[Chunk]:
        return self._chunks

    def _stream(
        self,
        messages: list[ChatMessage],
        options: GenerationOptions | None,
        control: GenerationControl | None,
    ) -> Iterator[Chunk]:
        store, session = self._chat.store, self._chat.session
        earlier_answer, earlier_thinking = self._earlier
        answer: list[str] = [earlier_answer]
        thinking: list[str] = [earlier_thinking]
        last_save = time.monotonic()
        status: Status = "interrupted"
        try:
            for chunk in session.stream_chat(
                messages, options, control, answer_prefix=earlier_answer
            ):
                if isinstance(chunk, Answer):
                    answer.append(chunk.text)
                elif isinstance(chunk, Thinking):
                    thinking.append(chunk.text)
                elif isinstance(chunk, Finished):
                    self.result = chunk.reply
                yield chunk
                now = time.monotonic()
                if now - last_save >= SAVE_INTERVAL_S and self.save_error is None:
                    last_save = now
                    self._save(
                        lambda: store.update_reply(
                            self.reply_id, "".join(answer), "".join(thinking)
                        )
                    )
        except Exception:  # a HearthError, or a bug below: either way the reply failed
            status = "error"
            raise
        finally:
            if self.result is not None:
                status = (
                    "interrupted" if self.result.finish_reason is FinishReason.CANCELLED else "done"
                )
            self._finish(status, "".join(answer), "".join(thinking))
        if self.save_error is not None:
            raise self.save_error

    def _save(self, write: Callable[[], object]) -> None:
        try:
            write()
        except StorageError as exc:
            self.save_error = exc

    def _finish(self, status: Status, answer: str, thinking: str) -> None:
        stats = None
        if self.result is not None:
            s = self.result.stats
            stats = MessageStats(
                s.prompt_tokens, s.generated_tokens, s.time_to_first_token_s, s.tokens_per_second
            )
        self.unsaved = UnsavedReply(self.reply_id, status, answer, thinking, stats)
        try:
            self.reply = self._chat.store.finish_reply(
                self.reply_id, answer, thinking, status, stats
            )
        except StorageError as exc:
            self.save_error = self.save_error or exc
            self._chat.unsaved = self  # saved before the conversation's next question
            return
        # The final save holds the whole reply: an earlier failed save lost nothing.
        self.unsaved = self.save_error = None

    def retry_save(self) -> Message:
        """Store the reply as it was shown, after a save failed (the disk is full, say).
        Idempotent: a reply already stored is returned as it is.

        Raises: StorageError (still not saved; the reply stays in memory for another try).
        """
        if self.unsaved is None and self.reply is not None:
            return self.reply
        assert self.unsaved is not None  # a turn that has not ended has nothing to retry
        self.reply = self.unsaved.save(self._chat.store)
        self.unsaved = None
        self.save_error = None
        if self._chat.unsaved is self:
            self._chat.unsaved = None
        return self.reply


class Chat:
    """One conversation in the store, answered by ``session`` (which may be swapped for
    another loaded model between turns). The conversation is created by the first ``send``
    when ``conversation_id`` is None, titled after its first question.

    ``unsaved`` is the last turn whose reply was shown but could not be stored (a full disk):
    ``retry_save`` stores it, and so does the next question, regenerate, edit or continue,
    before anything else (the next question then follows the whole reply)."""

    def __init__(
        self,
        store: ConversationStore,
        session: ModelSession,
        conversation_id: int | None = None,
        *,
        system_prompt: str = "",
        finder: PassageFinder | None = None,
    ) -> None:
        self.store = store
        self.session = session
        self.conversation_id = conversation_id
        self._system_prompt = system_prompt
        self.finder = finder
        self.unsaved: Turn | None = None

    def retry_save(self) -> Message | None:
        """Store the reply that could not be saved (``unsaved``), as it was shown; None when
        no reply is waiting to be saved.

        Raises: StorageError (still not saved; it stays in memory for another try).
        """
        return None if self.unsaved is None else self.unsaved.retry_save()

    def send(
        self,
        question: str,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
        *,
        attached: Sequence[int] = (),
    ) -> Turn:
        """Store ``question`` under the active branch and start its reply. With a ``finder``,
        the reply is given the passages that fit from the conversation's library and attached
        files (``attached``: documents attached to this question, read whole when they fit).

        Raises: StorageError (nothing was generated; the question is kept if it was stored).
        Iterating the turn raises PromptTooLong, InferenceError, ModelError (the reply is then
        stored with status 'error'), or the StorageError of a save that failed.
        """
        return self.answer(self.ask(question), options, control, attached=attached)

    def ask(self, question: str) -> Message:
        """Store ``question`` under the active branch (after a reply still unsaved, which is
        stored first) without answering it yet: ``answer`` does.

        Raises: StorageError (the question was not stored).
        """
        self.retry_save()
        conversation_id = self.ensure_conversation(question)
        parent = self.store.get_conversation(conversation_id).active_leaf_id
        return self.store.add_message(conversation_id, parent, "user", question)

    def answer(
        self,
        asked: Message,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
        *,
        attached: Sequence[int] = (),
    ) -> Turn:
        """Start the reply to ``asked``, a question ``ask`` stored (as ``send`` does).

        Raises: StorageError (nothing was generated; the question stays stored).
        """
        return self._answer(asked, options, control, attached)

    def ensure_conversation(self, question: str) -> int:
        """The conversation's id, creating it (titled after ``question``) if there is none
        yet: files can then be attached to it before the question is sent."""
        if self.conversation_id is None:
            conv = self.store.create_conversation(title_for(question), self._system_prompt)
            self.conversation_id = conv.id
        return self.conversation_id

    def regenerate(
        self,
        reply_id: int,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
    ) -> Turn:
        """A new reply beside ``reply_id`` (same question); the old one stays as a branch.

        Raises: RecordNotFound, ValueError (not a reply to a question), StorageError.
        """
        self.retry_save()
        old = self.store.get_message(reply_id)
        if old.role != "assistant" or old.parent_id is None:
            raise ValueError("only a reply to a question can be regenerated")
        return self._answer(self.store.get_message(old.parent_id), options, control)

    def edit(
        self,
        message_id: int,
        new_text: str,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
    ) -> Turn:
        """Ask an edited question beside ``message_id`` and answer it; the original and its
        replies stay as another branch.

        Raises: RecordNotFound, ValueError (not a question), StorageError.
        """
        self.retry_save()
        return self._answer(self.store.edit_user_message(message_id, new_text), options, control)

    def continue_reply(
        self,
        reply_id: int,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
    ) -> Turn:
        """Continue a reply that was stopped, in place: the model picks up after its last
        word and the stored reply grows. A reply stopped before any answer text (still
        thinking) gets a fresh reply beside it instead.

        Raises: RecordNotFound, ValueError (not a stopped reply at the end of its branch),
        StorageError.
        """
        self.retry_save()
        old = self.store.get_message(reply_id)
        if old.role != "assistant" or old.status != "interrupted" or old.parent_id is None:
            raise ValueError("only a reply that was stopped can be continued")
        if not old.content:
            return self.regenerate(reply_id, options, control)
        path = self.store.switch_branch(reply_id)
        if path[-1].id != reply_id:
            raise ValueError("only the last reply of a conversation can be continued")
        reply = self.store.resume_reply(reply_id)
        given = self._sources(path)
        messages = history(
            path[:-1], self.store.get_conversation(old.conversation_id).system_prompt, given
        )
        sources = given.get(reply_id, [])
        if sources:  # the passages it was answering from, as they were
            messages[-1] = ChatMessage("user", question_with_sources(path[-2].content, sources))
        return Turn(
            self, path[-2], reply, messages, options=options, control=control, sources=sources
        )

    def _answer(
        self,
        question: Message,
        options: GenerationOptions | None,
        control: GenerationControl | None,
        attached: Sequence[int] = (),
    ) -> Turn:
        conv_id = question.conversation_id
        reply = self.store.begin_reply(conv_id, question.id, self.session.model_id)
        path = self.store.active_path(conv_id)[:-1]  # ends at the question
        given = self._sources(path)
        messages = history(path, self.store.get_conversation(conv_id).system_prompt, given)
        sources: list[Source] = []
        if self.finder is not None:
            earlier = frozenset(s.text for group in given.values() for s in group)
            candidates = self.finder.find(
                conv_id, question.content, attached=attached, exclude=earlier
            )
            if candidates:
                reserve = self.session.reply_reserve(options or GenerationOptions())
                sources = numbered(
                    fit_passages(self.session, messages, candidates, reserve=reserve)
                )
            if sources:
                self.store.save_sources(reply.id, sources)
                messages[-1] = ChatMessage("user", question_with_sources(question.content, sources))
        return Turn(
            self, question, reply, messages, options=options, control=control, sources=sources
        )

    def _sources(self, path: list[Message]) -> dict[int, list[Source]]:
        if self.finder is None and not self.store.has_sources():
            return {}
        return self.store.sources_for([m.id for m in path if m.role == "assistant"])

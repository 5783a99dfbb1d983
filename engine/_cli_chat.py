"""``hearth chat``: a conversation in the terminal.

In a terminal, lines are read with prompt-toolkit: editing, Up and Down through this session's
earlier messages, Alt+Enter (or Esc, then Enter) or a trailing backslash for a new line. The
history is kept in memory only: what the person types never reaches a file that is not
encrypted. When standard input or output is not a terminal (a pipe, a test), lines are read
one by one with no terminal features; a trailing backslash still continues a message.

A message that starts with "/" is a command and is never sent to the model; "//" at the start
sends a single "/".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from engine._cli_base import not_utf8, store_context
from engine._cli_turn import ctrl_c_stops, document_finder, load_model, run_turn

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from engine.catalog.catalog import Catalog, CatalogModel
    from engine.chat import Chat, Turn
    from engine.storage import ConversationStore, StorageError

PROMPT = "you › "
CONTINUATION = "    … "  # as wide as PROMPT, on the second and later lines of a message
LEAVE_HINT = "To leave, press Ctrl+D or type /quit."

HELP = """\
Commands (never sent to the model):
  /help            this list
  /new             start a new conversation
  /model           list the installed models; /model ID switches to one
  /system          show this conversation's system prompt
  /system TEXT     set it: before the first message, or for the replies from now on
  /system clear    remove it
  /retry-save      save a reply that was shown but not saved (the disk was full)
  /quit, /bye      leave (so does Ctrl+D at an empty prompt)
Typing:
  Enter sends; an empty line sends nothing. A line that ends with \\ goes on to the next
  line; in a terminal, so does Alt+Enter (or Esc, then Enter).
  Up and Down bring back this session's earlier messages (kept in memory only, never
  written to disk).
  Ctrl+C stops a reply and keeps what it had written; at the prompt it clears the line.
  To send a message that starts with /, begin it with //."""


class _Reader(Protocol):
    def read(self) -> str:
        """The next message. Raises: EOFError (Ctrl+D, end of input), KeyboardInterrupt."""
        ...


class _PlainReader:
    """Lines from a pipe or a file: the prompt goes to ``out``, no terminal features."""

    def __init__(self, inp: TextIO, out: TextIO) -> None:
        self.inp, self.out = inp, out

    def read(self) -> str:
        self.out.write(PROMPT)
        self.out.flush()
        lines: list[str] = []
        while True:
            line = self.inp.readline()
            if not line:
                if lines:  # input ended inside a continued message: send what there is
                    return "\n".join(lines)
                raise EOFError
            line = line.rstrip("\r\n")
            if not line.endswith("\\"):
                return "\n".join([*lines, line])
            lines.append(line[:-1])


class _EditingReader:
    """Line editing in a terminal (prompt-toolkit), with the history in memory only."""

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession  # noqa: PLC0415
        from prompt_toolkit.history import InMemoryHistory  # noqa: PLC0415
        from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent  # noqa: PLC0415

        keys = KeyBindings()

        @keys.add("escape", "enter")  # what a terminal sends for Alt+Enter
        def _new_line(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @keys.add("enter")
        def _send_or_continue(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            doc = buffer.document
            if doc.is_cursor_at_the_end_of_line and doc.text_before_cursor.endswith("\\"):
                buffer.delete_before_cursor(1)
                buffer.insert_text("\n")
            else:
                buffer.validate_and_handle()

        # multiline=True so that a message may hold new lines and a pasted text stays one
        # message; Enter sends (the binding above) instead of starting a new line.
        self._session: PromptSession[str] = PromptSession(
            PROMPT,
            multiline=True,
            prompt_continuation=CONTINUATION,
            history=InMemoryHistory(),
            key_bindings=keys,
        )

    def read(self) -> str:
        return self._session.prompt()


def _reader() -> _Reader:
    if sys.stdin.isatty() and sys.stdout.isatty():
        return _EditingReader()
    return _PlainReader(sys.stdin, sys.stdout)


@dataclass(frozen=True)
class _Installed:
    id: str  # the catalog id, or the file name of an imported model the catalog does not know
    path: Path
    entry: CatalogModel | None

    @property
    def label(self) -> str:
        return self.entry.label if self.entry else "imported model"


class _Conversation:
    """The terminal's side of ``hearth chat``: reads messages, runs the commands, sends the
    rest through ``Chat`` (the one home of a turn)."""

    def __init__(
        self,
        args: argparse.Namespace,
        store: ConversationStore,
        catalog: Catalog,
        model_path: Path,
        chat: Chat,
    ) -> None:
        self.args, self.store, self.catalog = args, store, catalog
        self.model_path = model_path
        self.chat = chat
        # The system prompt of a conversation not yet stored (it is stored with the first
        # message); a stored conversation's own is read from the store.
        self.pending_system = args.system
        self.commands: dict[str, Callable[[str], bool]] = {
            "/help": self._help,
            "/new": self._new,
            "/model": self._model,
            "/system": self._system,
            "/retry-save": self._retry_save,
            "/quit": self._quit,
            "/bye": self._quit,
            "/exit": self._quit,
        }

    def run(self, reader: _Reader) -> int:
        from engine.errors import HearthError  # noqa: PLC0415

        _note(
            f"Hearth · {self.chat.session.display_name} · offline. /help lists the commands; "
            "Ctrl+C stops a reply; Ctrl+D or /quit leaves."
        )
        while True:
            try:
                text = reader.read()
            except EOFError:
                print(file=sys.stderr)
                self._leaving()
                return 0
            except KeyboardInterrupt:
                _note(LEAVE_HINT)
                continue
            try:
                if not self.handle(text):
                    self._leaving()
                    return 0
            except HearthError as exc:
                _note(f"hearth: {exc.full_message}")
            except KeyboardInterrupt:  # Ctrl+C between a reply and the next prompt
                _note(LEAVE_HINT)

    def handle(self, text: str) -> bool:
        """Run a command or send a message; False when the person asked to leave."""
        text = text.strip()
        if not text:
            return True
        if text.startswith("/") and not text.startswith("//"):
            name, *rest = text.split(None, 1)
            command = self.commands.get(name.lower())
            if command is None:
                _note(
                    f"Unknown command {name}: nothing was sent. /help lists the commands; to "
                    "send a message that starts with /, begin it with //."
                )
                return True
            return command(rest[0] if rest else "")
        problem = not_utf8(text)
        if problem:
            _note(f"That message was not sent: {problem}.")
            return True
        self._send(text.removeprefix("/"))
        return True

    def _send(self, question: str) -> None:
        from engine.inference import GenerationControl  # noqa: PLC0415
        from engine.storage import StorageError  # noqa: PLC0415

        if self.chat.unsaved is not None:
            # Saved before the question, so that it follows the whole reply (Chat.send would
            # do it too; here the person is told which of the two failed).
            try:
                self.chat.retry_save()
            except StorageError as exc:
                _note(
                    f"Your message was not sent: the last reply is still not saved. "
                    f"{exc.user_message} {_what_to_do(exc)}, then send it again (the last "
                    "reply is saved first)."
                )
                return
            _note("The last reply is saved now.")
        control = GenerationControl()
        with ctrl_c_stops(control):
            run_turn(self.chat, question, self.args, control, on_unsaved=self._not_saved)

    def _not_saved(self, _turn: Turn, problem: StorageError) -> None:
        # The turn stays in self.chat.unsaved: /retry-save or the next message saves it.
        _note(
            f"\nThis reply was shown but not saved: {problem.user_message} "
            f"{_what_to_do(problem)}, then type /retry-save (your next message saves it "
            "first, too)."
        )

    def _leaving(self) -> None:
        """A reply still unsaved gets one more try; if that fails, the person is told it
        is lost."""
        from engine.storage import StorageError  # noqa: PLC0415

        if self.chat.unsaved is None:
            return
        try:
            self.chat.retry_save()
        except StorageError as exc:
            _note(
                f"The last reply was not saved ({exc.user_message}): the copy above is "
                "the only one."
            )
            return
        _note("The last reply is saved now.")

    # -- commands ----------------------------------------------------------------------------

    def _help(self, _rest: str) -> bool:
        print(HELP)
        return True

    def _retry_save(self, _rest: str) -> bool:
        from engine.storage import StorageError  # noqa: PLC0415

        if self.chat.unsaved is None:
            print("Every reply is saved: there is nothing to save again.")
            return True
        try:
            self.chat.retry_save()
        except StorageError as exc:
            _note(
                f"Still not saved: {exc.user_message} {_what_to_do(exc)}, then type "
                "/retry-save again."
            )
            return True
        print("Saved.")
        return True

    def _quit(self, _rest: str) -> bool:
        return False

    def _new(self, _rest: str) -> bool:
        from engine.chat import Chat  # noqa: PLC0415

        self.pending_system = self.args.system
        self._replace_chat(
            Chat(
                self.store,
                self.chat.session,
                system_prompt=self.pending_system,
                finder=self.chat.finder,
            )
        )
        print("New conversation.")
        return True

    def _system(self, rest: str) -> bool:
        from engine.chat import Chat  # noqa: PLC0415

        conv_id = self.chat.conversation_id
        if not rest:
            current = (
                self.pending_system
                if conv_id is None
                else self.store.get_conversation(conv_id).system_prompt
            )
            if current:
                print(f"System prompt of this conversation:\n{current}")
            else:
                print("This conversation has no system prompt; /system TEXT sets one.")
            return True
        prompt = "" if rest.lower() == "clear" else rest
        if conv_id is None:
            self.pending_system = prompt
            self._replace_chat(
                Chat(self.store, self.chat.session, system_prompt=prompt, finder=self.chat.finder)
            )
            done = "It is stored with the conversation's first message."
        else:
            self.store.set_system_prompt(conv_id, prompt)
            done = "It applies from the next reply."
        print(f"System prompt {'set' if prompt else 'removed'}. {done}")
        return True

    def _replace_chat(self, chat: Chat) -> None:
        # A reply still waiting to be saved is not forgotten with its conversation.
        chat.unsaved, self.chat = self.chat.unsaved, chat

    def _installed(self) -> list[_Installed]:
        from engine.catalog.installed import installed  # noqa: PLC0415
        from engine.catalog.manage import other_models  # noqa: PLC0415

        found = [
            _Installed(model_id, path, self.catalog.get(model_id))
            for model_id, path in installed(self.catalog).items()
        ]
        return found + [_Installed(p.name, p, None) for p in other_models(self.catalog)]

    def _model(self, rest: str) -> bool:
        models = self._installed()
        if rest:
            self._switch_model(rest, models)
            return True
        current = _same(self.model_path)
        if not any(_same(m.path) == current for m in models):
            print(f"Answering now: {self.chat.session.display_name} ({self.model_path})")
        if len(models) == 1 and _same(models[0].path) == current:
            print(
                f"Only one model is installed: {models[0].label} ({models[0].id}). "
                "'hearth models' lists the others and what fits this machine; "
                "'hearth models pull ID' downloads one."
            )
            return True
        print("Installed models (* answers now):")
        width = max(len(m.id) for m in models)
        for m in models:
            mark = "*" if _same(m.path) == current else " "
            print(f"{mark} {m.id:{width}}  {m.label}")
        print("/model ID switches; the conversation goes on with that model.")
        return True

    def _switch_model(self, spec: str, models: list[_Installed]) -> None:
        from engine.catalog.installed import resolve  # noqa: PLC0415

        match = next((m for m in models if spec in (m.id, m.path.name)), None)
        path, entry = (match.path, match.entry) if match else resolve(self.catalog, spec)
        old = self.chat.session
        if _same(path) == _same(self.model_path):
            print(f"Already answering with {old.display_name}.")
            return
        _note(f"Loading {entry.label if entry else path.name} …")
        try:
            # Loaded before the old model is closed: a model that fails to load leaves the
            # conversation as it was.
            new = load_model(self.args, path, entry)
        except KeyboardInterrupt:
            _note(f"Stopped; still answering with {old.display_name}.")
            return
        self.chat.session, self.model_path = new, path
        old.close()
        print(f"Now answering with {new.display_name}.")


def _what_to_do(problem: StorageError) -> str:
    from engine.storage import DiskFull  # noqa: PLC0415

    return "Free some disk space" if isinstance(problem, DiskFull) else "Check the disk"


def _same(path: Path) -> str:
    """A model file's identity: its absolute path, links not followed (an imported model may
    be a link to another installed file and is still another entry)."""
    return os.path.abspath(path)


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def run_chat(args: argparse.Namespace) -> int:
    """``hearth chat``: returns the exit status.

    Raises: StorageError, ModelError, ModelDoesNotFit (before the conversation starts).
    """
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.installed import resolve  # noqa: PLC0415
    from engine.chat import Chat  # noqa: PLC0415

    with store_context(args.no_save) as store, document_finder(args, store) as finder:
        catalog = load_catalog()
        path, entry = resolve(catalog, args.model)
        chat = Chat(store, load_model(args, path, entry), system_prompt=args.system, finder=finder)
        conversation = _Conversation(args, store, catalog, path, chat)
        try:
            return conversation.run(_reader())
        finally:
            conversation.chat.session.close()  # the model answering now, after any /model

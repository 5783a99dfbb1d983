"""Chat templates: the messages they take, rendered in a sandboxed Jinja environment, and the
one check a file's template passes before the file is installed.

GGUF files carry their own Jinja chat template; a template is code from whoever made the file,
so it runs in Jinja's ImmutableSandboxedEnvironment, which refuses attribute access to Python
internals (``__class__``, ``__globals__`` …) and mutation of passed-in objects.

Both ``engine.catalog`` (the importer checks a file's template) and ``engine.inference``
(sessions render it) use this module, and it imports neither: it sits below both, so
inference depends on the catalog and never the other way round.
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from types import FrameType
from typing import Any, Literal

from jinja2 import Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from engine.errors import ModelError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One turn as the model sees it. Assistant turns carry the answer only: earlier thinking
    is never sent back to the model."""

    role: Role
    content: str


MAX_TEMPLATE_CHARS = 64 * 1024
# Every render, on every prompt (a template may run away only for some conversations): at
# most this long, and at most this much beyond what the messages themselves hold.
RENDER_SECONDS = 2.0
RENDER_OVERHEAD_CHARS = 256 * 1024
MAX_NESTING = 60  # blocks inside blocks, when parsing
# No string or list made by a template may be longer than this (``'x' * 10**10``).
MAX_REPEAT = 1 << 20

# Used when a GGUF has no template at all: ChatML, which most current instruct models use.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_SAMPLE = (
    ChatMessage("system", "You are a helpful assistant."),
    ChatMessage("user", "Hello!"),
    ChatMessage("assistant", "Hi! How can I help?"),
    ChatMessage("user", "What is two plus two?"),
)


def _raise(message: str) -> None:
    raise TemplateError(message)


class _TooMuch(Exception):
    """A render that ran too long or grew too large."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


# The most characters (or items) any value a render builds may hold: what its prompt may
# hold (set per render; this while compiling, when Jinja works out constant filters).
_VALUE_LIMIT: ContextVar[int] = ContextVar("template_value_limit", default=RENDER_OVERHEAD_CHARS)
# Filters and str methods taking a width or a count of pieces: one call with a huge number
# builds gigabytes, or loops in Jinja's own code, where the line clock does not look.
_SIZED = frozenset(
    {
        *("center", "indent", "wordwrap", "truncate", "batch", "slice"),  # filters
        *("ljust", "rjust", "zfill", "expandtabs"),  # str methods (and center)
    }
)
# A width or precision of a million or more in a format, a width given as an argument
# (``%*d``), or a format spec with a field inside it (``{:{}}``).
_WIDE_FORMAT = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d{7,}|\d*\.(?:\*|\d{7,}))|\{[^{}]*:[^{}]*(?:\d{7,}|\{)"
)

_TOO_LARGE = "it builds text far larger than its prompt may be"


def _bounded(value: Any) -> Any:
    """``value``, if it is no longer than the render's limit."""
    if isinstance(value, str | list | tuple | dict) and len(value) > _VALUE_LIMIT.get():
        raise _TooMuch(_TOO_LARGE)
    return value


def _check_growth(name: str, subject: Any, args: Sequence[Any]) -> None:
    """Refuse the filter or str method ``name`` on ``subject`` before it runs, if what it
    would build is past the limit."""
    limit = _VALUE_LIMIT.get()
    text = subject if isinstance(subject, str) else ""
    numbers = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
    if name in _SIZED and any(n > limit for n in numbers):
        raise _TooMuch("it asks for text far too wide, or in far too many pieces")
    if name == "format" and _WIDE_FORMAT.search(text):
        raise _TooMuch("it formats text far too wide")
    growth = 0
    if name == "indent" and args:
        width = len(args[0]) if isinstance(args[0], str) else numbers[0] if numbers else 0
        growth = width * (text.count("\n") + 1)
    elif name == "expandtabs":
        growth = (numbers[0] if numbers else 8) * text.count("\t")
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        growth = (text.count(old) if old else len(text) + 1) * len(new)
    if growth > limit:
        raise _TooMuch(_TOO_LARGE)


def _checked_join(items: Any, separator: Any) -> list[Any]:
    """The items to join, read once into a list, if the separators between them fit."""
    listed = list(items)
    if len(str(separator)) * len(listed) > _VALUE_LIMIT.get():
        raise _TooMuch(_TOO_LARGE)
    return listed


def _bounded_filter(name: str, func: Any) -> Any:
    """The Jinja filter ``func`` with the growth it would cause checked before it runs, and
    the size of what it returns after."""
    skip = int(getattr(func, "jinja_pass_arg", None) is not None)  # context, environment …

    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja passes the same arguments
    def bounded(*args: Any, **kwargs: Any) -> Any:
        head, value, rest = args[:skip], args[skip], args[skip + 1 :]
        if name == "join":
            value = _checked_join(value, kwargs.get("d", rest[0] if rest else ""))
        else:
            _check_growth(name, value, [*rest, *kwargs.values()])
        return _bounded(func(*head, value, *rest, **kwargs))

    return bounded


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with ``a ~ b`` checked for size (not an operator the sandbox can
    intercept): a value doubled line after line reaches gigabytes within a second."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with what one operation may build bounded: ``'x' * 10**10``,
    ``2 ** 10**9``, ``'x'|center(10**10)``, ``'{:>9999999999}'.format(1)`` or ``s ~ s``
    repeated would take all memory or time in a few steps, before any other limit looks."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    @staticmethod
    def bounded(value: Any) -> Any:
        return _bounded(value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 1024:
            raise _TooMuch("it raises a number to a huge power")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(count, int)
                    and len(seq) * max(count, 0) > MAX_REPEAT
                ):
                    raise _TooMuch("it repeats text far too many times")
        if operator == "%":
            _check_growth("format", left, ())
        if (
            operator == "+"
            and all(isinstance(v, str | list | tuple) for v in (left, right))
            and len(left) + len(right) > _VALUE_LIMIT.get()  # looked at before joining them
        ):
            raise _TooMuch(_TOO_LARGE)
        return _bounded(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Any:
        _check_growth("format", getattr(value, "__self__", None), ())
        return super().wrap_str_format(value)

    # Named as Jinja names them: a template may pass keyword arguments called self or obj.
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):  # a str method: 'x'.ljust(n), ', '.join(items) …
            name = getattr(__obj, "__name__", "")
            if name == "join" and args:
                args = (_checked_join(args[0], owner), *args[1:])
            else:
                _check_growth(name, owner, [*args, *kwargs.values()])
        return _bounded(super().call(__context, __obj, *args, **kwargs))


def _compile(source: str, *, refuse_internal_names: bool = False) -> Template:
    """``source`` compiled in the sandbox; with ``refuse_internal_names``, refused first if it
    names a Python internal anywhere (the import's stricter look).

    Raises: ModelError when the template is too large, does not compile, or names internals.
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ModelError(
            f"The model's chat template is too large ({len(source):,} characters; Hearth "
            f"accepts at most {MAX_TEMPLATE_CHARS:,}). The file may have been tampered with."
        )
    env = _BoundedSandbox(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: date.today().strftime(fmt)
    if _nesting(source) > MAX_NESTING:
        # Deep nesting makes the parser (and the compiled code) recurse past Python's limit.
        raise ModelError(
            f"The model's chat template nests blocks more than {MAX_NESTING} deep; it is not "
            "a usable template."
        )
    try:
        tree = env.parse(source)
        if refuse_internal_names:
            # Looked at before compiling: compiling folds constants in the tree in place.
            _refuse_internal_names(tree)
        return env.from_string(tree)
    except TemplateError as exc:
        raise ModelError(f"The model's chat template does not compile ({exc}).") from None
    except RecursionError:
        raise ModelError(
            "The model's chat template is nested too deeply to compile; it is not a usable "
            "template."
        ) from None
    except MemoryError:
        raise ModelError(
            "The model's chat template needs far more memory to compile than this computer "
            "has; it is not a usable template."
        ) from None


_BLOCK_TAG = re.compile(r"\{%[-+]?\s*(end)?(if|for|macro|call|filter|block|with)\b")


def _nesting(source: str) -> int:
    """How deep blocks (``{% if %}`` … ``{% endif %}``) or brackets nest: a cheap look before
    the parser, which recurses once per level."""
    depth = blocks = 0
    for tag in _BLOCK_TAG.finditer(source):
        depth += -1 if tag.group(1) else 1
        blocks = max(blocks, depth)
    depth = brackets = 0
    for ch in source:
        if ch in "([":
            depth += 1
            brackets = max(brackets, depth)
        elif ch in ")]":
            depth -= 1
    return max(blocks, brackets)


def _refuse_internal_names(tree: nodes.Template) -> None:
    """The sandbox stops Python internals at run time only on the paths a sample conversation
    takes, and a template has no business naming them at all.

    Raises: ModelError.
    """
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name = ""
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = str(node.arg.value)
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            name = "_ (the attr filter)"
        if name.startswith("_"):
            raise ModelError(
                f"The model's chat template tries to reach Python internals ({name!r}); "
                "Hearth refuses to run it."
            )


def _render(template: Template, messages: Sequence[ChatMessage], bos: str, eos: str) -> str:
    """Render within RENDER_SECONDS and the size the messages allow.

    Raises: ModelError when the template fails, runs away, or tries to escape the sandbox.
    """
    limit = sum(len(m.content) for m in messages) * 2 + RENDER_OVERHEAD_CHARS
    deadline = time.monotonic() + RENDER_SECONDS

    # A loop that writes nothing yields nothing to check between: the template's own frames
    # are traced, and each line looks at the clock (only while this render runs, only on
    # this thread; a render takes milliseconds, so the tracing costs little).
    def line(frame: FrameType, event: str, _arg: object) -> Any:
        if event == "line" and time.monotonic() > deadline:
            raise _TooMuch(f"it ran for more than {RENDER_SECONDS:g} seconds")
        return line

    def call(frame: FrameType, event: str, _arg: object) -> Any:
        if event == "call" and frame.f_code.co_filename == "<template>":
            return line
        return None

    previous = sys.gettrace()
    parts: list[str] = []
    size = 0
    sys.settrace(call)
    no_larger = _VALUE_LIMIT.set(limit)  # what any value the render builds may hold
    try:
        for part in template.generate(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            add_generation_prompt=True,
            bos_token=bos,
            eos_token=eos,
        ):
            size += len(part)
            if size > limit:
                raise _TooMuch(f"its prompt grew past {limit:,} characters")
            parts.append(part)
    except _TooMuch as exc:
        raise ModelError(
            f"The model's chat template was stopped: {exc.why}.",
            "Pick another model, or import the file again with a template that works.",
        ) from None
    except SecurityError:
        raise ModelError(
            "The model's chat template tried to reach Python internals and was stopped."
        ) from None
    except (TemplateError, TypeError, ValueError, AssertionError) as exc:
        # AssertionError: Jinja's own filters check their arguments with assert (truncate).
        raise ModelError(f"The model's chat template failed to render ({exc}).") from None
    except (ArithmeticError, LookupError, AttributeError, RecursionError, MemoryError) as exc:
        # A template is untrusted input: {{ 1/0 }} must be a clear error, not a traceback,
        # and said in words (a Python class name means nothing to the person).
        raise ModelError(
            f"The model's chat template failed to render: {_failure_words(exc)}."
        ) from None
    finally:
        _VALUE_LIMIT.reset(no_larger)
        sys.settrace(previous)
    return "".join(parts)


def _failure_words(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it calls itself without end"
    if isinstance(exc, MemoryError):
        return "it needs far more memory than this computer has"
    if isinstance(exc, ZeroDivisionError):
        return "it divides by zero"
    if isinstance(exc, ArithmeticError):
        return "it computes a number too large"
    if isinstance(exc, LookupError):
        return "it looks up an item the conversation does not have"
    return "it uses something a message does not have"


class ChatTemplate:
    """A compiled chat template.

    Raises (constructor): ModelError when the template is too large or does not compile.
    """

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = "") -> None:
        self._template = _compile(source or CHATML)
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply starts.

        Raises: ModelError when the template fails or tries to escape the sandbox.
        """
        return _render(self._template, messages, self.bos_token, self.eos_token)


def check_chat_template(source: str) -> None:
    """The look a template from a file gets before Hearth installs the file: what loading
    checks (size, compiles), plus no name of a Python internal anywhere in it, and a sample
    conversation that renders within the limits every render has (time, size).

    Raises: ModelError with the reason.
    """
    _render(_compile(source, refuse_internal_names=True), _SAMPLE, "", "")

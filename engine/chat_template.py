"""Chat templates: the messages they take, rendered in a sandboxed Jinja environment.

GGUF files carry their own Jinja chat template; a template is code from whoever made the file,
so it runs in Jinja's ImmutableSandboxedEnvironment, which refuses attribute access to Python
internals (``__class__``, ``__globals__`` …) and mutation of passed-in objects.

Both ``engine.catalog`` (the importer checks a file's template) and ``engine.inference``
(sessions render it) use this module, and it imports neither: it sits below both, so
inference depends on the catalog and never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from jinja2 import TemplateError
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

# Used when a GGUF has no template at all: ChatML, which most current instruct models use.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _raise(message: str) -> None:
    raise TemplateError(message)


class ChatTemplate:
    """A compiled chat template.

    Raises (constructor): ModelError when the template is too large or does not compile.
    """

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = "") -> None:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise ModelError(
                f"The model's chat template is {len(source):,} characters long; Hearth accepts "
                f"at most {MAX_TEMPLATE_CHARS:,}. The file may have been tampered with."
            )
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: date.today().strftime(fmt)
        try:
            self._template = env.from_string(source or CHATML)
        except TemplateError as exc:
            raise ModelError(f"The model's chat template does not compile ({exc}).") from None
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply starts.

        Raises: ModelError when the template fails or tries to escape the sandbox.
        """
        try:
            return self._template.render(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except SecurityError:
            raise ModelError(
                "The model's chat template tried to reach Python internals and was stopped."
            ) from None
        except (TemplateError, TypeError, ValueError) as exc:
            raise ModelError(f"The model's chat template failed to render ({exc}).") from None

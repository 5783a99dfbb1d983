"""Chat templates: one check for the size and the syntax, whether a template comes from a file
being imported or is handed to a session; the import's stricter look; the sandbox at run time."""

from __future__ import annotations

import pytest

from engine.chat_template import CHATML, ChatMessage, ChatTemplate, check_chat_template
from engine.errors import ModelError


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{# padding #}" + "x" * 70_000, "too large"),
        ("{% for m in messages %}", "does not compile"),
    ],
)
def test_loading_and_importing_refuse_a_template_for_the_same_reason(template: str, why: str):
    with pytest.raises(ModelError, match=why) as loading:
        ChatTemplate(template)
    with pytest.raises(ModelError, match=why) as importing:
        check_chat_template(template)
    assert loading.value.user_message == importing.value.user_message


def test_the_sandbox_stops_internals_at_render_time_too():
    # Built at run time, the names get past the static look; the sandbox refuses them.
    escape = "{{ messages[0][('__cla' ~ 'ss__')][('__mr' ~ 'o__')] }}"
    with pytest.raises(ModelError, match="tried to reach Python internals and was stopped"):
        check_chat_template(escape)
    with pytest.raises(ModelError, match="was stopped"):
        ChatTemplate(escape).render([ChatMessage("user", "hi")])


def test_a_template_that_only_names_internals_loads_but_is_not_imported():
    # Loading compiles; the sandbox guards the rest when it renders. Importing is stricter.
    template = "{% if False %}{{ raise_exception.__globals__ }}{% endif %}ok"
    assert ChatTemplate(template).render([ChatMessage("user", "hi")]) == "ok"
    with pytest.raises(ModelError, match=r"Python internals \('__globals__'\)"):
        check_chat_template(template)


def test_no_template_means_chatml():
    prompt = ChatTemplate("").render([ChatMessage("user", "hi")])
    assert prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    check_chat_template(CHATML)


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ 1 / 0 }}", "failed to render: it divides by zero"),
        ("{{ messages[5]['content'] }}", "failed to render"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "it calls itself without end"),
    ],
)
def test_a_template_that_fails_while_rendering_is_a_clear_error(template: str, error: str):
    with pytest.raises(ModelError, match=error) as info:
        ChatTemplate(template).render([ChatMessage("user", "hi")])
    assert "Error" not in info.value.full_message  # words, not a Python class name
    with pytest.raises(ModelError, match=error):
        check_chat_template(template)

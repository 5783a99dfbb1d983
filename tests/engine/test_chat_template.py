"""Chat templates: one check for the size and the syntax, whether a template comes from a file
being imported or is handed to a session; the import's stricter look; the sandbox at run time."""

from __future__ import annotations

import sys
import time
import tracemalloc

import pytest

from engine.chat_template import CHATML, ChatMessage, ChatTemplate, check_chat_template
from engine.errors import ModelError
from tests._fuzz import bounded_memory


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


NESTED_LOOP = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}" + CHATML
)
# Runs away only for some conversations: the import's sample passes, a later prompt does not.
ONLY_FOR_STORIES = (
    "{% for m in messages %}{% if 'story' in m['content'] %}"
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    "{% endif %}{% endfor %}" + CHATML
)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        (NESTED_LOOP, "ran for more than 2 seconds"),
        ("{{ 'x' * 10000000000 }}" + CHATML, "repeats text far too many times"),
        ("{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}", "prompt grew past"),
        ("{{ 2 ** 1000000000 }}" + CHATML, "raises a number to a huge power"),
        ("{{ range(10**12) | list }}" + CHATML, "failed to render"),
    ],
    ids=["nested-loop", "huge-repeat", "huge-output", "huge-power", "huge-range"],
)
def test_a_runaway_template_is_stopped_on_every_render(template: str, says: str):
    compiled = ChatTemplate(template)
    with pytest.raises(ModelError, match=says) as info:
        compiled.render([ChatMessage("user", "hi")])
    assert "Error" not in info.value.full_message


def test_a_template_that_runs_away_only_later_is_stopped_then():
    check_chat_template(ONLY_FOR_STORIES)  # the import's sample conversation passes
    compiled = ChatTemplate(ONLY_FOR_STORIES)
    assert compiled.render([ChatMessage("user", "hi")]).endswith("<|im_start|>assistant\n")
    with pytest.raises(ModelError, match="ran for more than"):
        compiled.render([ChatMessage("user", "Tell me a story.")])


def test_deep_nesting_is_refused_when_compiling():
    deep = "{% if true %}" * 500 + "x" + "{% endif %}" * 500
    with pytest.raises(ModelError, match="nests blocks more than 60 deep"):
        ChatTemplate(deep)
    brackets = "{{ " + "(" * 400 + "1" + ")" * 400 + " }}"
    with pytest.raises(ModelError, match="nests blocks"):
        ChatTemplate(brackets)


def test_rendering_leaves_no_tracer_behind():
    before = sys.gettrace()
    ChatTemplate(CHATML).render([ChatMessage("user", "hi")])
    assert sys.gettrace() is before


# Found by test_fuzz_chat_template.py: one call in a template (a filter, a string method, a
# format, a join) or a value doubled line after line could take gigabytes, or loop in Jinja's
# own code where the line clock does not look; Jinja also ran filters on constants while
# compiling, outside every limit (`'x'|center(10**9)`: 12 s and gigabytes at load).
GROWING = {
    "filter-width": "{{ ('x'|center(1000000000))|length }}",
    "filter-indent": "{{ ('x\n' * 100000)|indent(100000) }}",
    "filter-pieces": "{{ ([1]|slice(100000000))|list|length }}",
    "filter-truncate": "{{ 0|truncate(0) }}",
    "method-width": "{{ 'x'.ljust(1000000000)|length }}",
    "format-method": "{{ '{:>1000000000}'.format(1)|length }}",
    "format-filter": "{{ '%1000000000d'|format(1)|length }}",
    "format-operator": "{{ ('%*d' % (1000000000, 1))|length }}",
    "join": "{{ (range(100000)|join('y' * 100000))|length }}",
    "replace": "{{ (('x' * 100000)|replace('x', 'y' * 100000))|length }}",
    "concat-doubling": (
        "{% set ns = namespace(s='x') %}{% for i in range(34) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "plus-doubling": (
        "{% macro f(s, n) %}{% if n %}{{ f(s + s, n - 1) }}{% else %}{{ s|length }}{% endif %}"
        "{% endmacro %}{{ f('x', 34) }}"
    ),
}


@pytest.mark.parametrize("template", GROWING.values(), ids=GROWING.keys())
def test_a_template_that_builds_a_huge_value_is_stopped_at_once(template: str):
    started = time.monotonic()
    tracemalloc.start()
    try:
        with bounded_memory(3 << 30), pytest.raises(ModelError) as info:
            ChatTemplate(template).render([ChatMessage("user", "hi")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "Error" not in info.value.full_message
    assert time.monotonic() - started < 1.5
    assert peak < 64 << 20, f"{peak:,} bytes"

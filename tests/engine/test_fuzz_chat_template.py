"""Fuzzing the chat-template sandbox with templates built from a grammar of what templates
use (loops, ranges, macros that call themselves, filters with huge arguments, repetition,
namespaces that grow): a render gives text or a ModelError in words, within the time limit
and in bounded memory, and no RecursionError, OverflowError or MemoryError gets out."""

from __future__ import annotations

import time
import tracemalloc

from hypothesis import strategies as st

from engine.chat_template import RENDER_SECONDS, ChatMessage, ChatTemplate
from engine.errors import ModelError
from tests._fuzz import bounded_memory, run_fuzz

# The limit is looked at between template lines; one line (a filter, a join) may run on a
# little past it, and this shared 2-core machine may be busy.
SLACK_SECONDS = 1.5
# Far more than a render of this short conversation needs (values are bounded by what its
# prompt may hold, 256 K characters here); 1 GB of padding or doubling would go past it.
PEAK_BYTES = 64 << 20
# Past this, an allocation fails with MemoryError (which must not get out) instead of
# taking the shared machine's memory.
RENDER_MEMORY = 2 << 30

# Sizes: small ones (loops that end), the edges of the sandbox's limits, and huge ones.
NUMBERS = [0, 1, 2, 3, 7, 64, 1000, 10**5, 10**6, 10**9, 10**18, -1, -(10**9)]
SMALL = [0, 1, 2, 3, 40, 1000]  # for loops: a template may loop, not hang
TEXTS = ["''", "'x'", "'ab c'", "'<|im_start|>'", "'%s%d'", "'{}'", "'\\n'", "'\\t'"]
TEXTS += ["'%1000000000d'", "'{:>1000000000}'", "'%*d'", "'{:{}}'", "('y' * 100000)"]
NAMES = ["messages", "messages[0]", "messages[0]['content']", "messages[-1].content", "m"]
NAMES += ["m['role']", "m.content", "loop.index", "ns.s", "ns.n", "s", "bos_token"]
NAMES += ["add_generation_prompt", "none", "true", "[1, 2, 3]", "{'a': 1}"]
FILTERS = ["length", "list", "join", "upper", "string", "int", "float", "abs", "first", "last"]
FILTERS += ["reverse", "sort", "unique", "sum", "max", "trim", "title", "wordcount", "tojson"]
FILTERS += ["e", "safe", "items", "striptags", "urlencode", "pprint", "filesizeformat"]
# Filters and str methods whose argument is a size, a count or a text put in many times:
# where a huge number (or text) is one call.
SIZED = ["center", "indent", "wordwrap", "truncate", "batch", "slice", "round", "join"]
SIZED += ["format", "default"]
METHODS = ["ljust", "rjust", "center", "zfill", "expandtabs", "join", "format"]
BINOPS = ["~", "+", "-", "*", "**", "/", "//", "%", "==", "<", "and", "in"]

# Written as draws (not st.recursive) so that a failing case is reported at once: the repr
# of a deeply recursive strategy runs to megabytes and takes Hypothesis a minute to build.
EXPRESSIONS = [
    "({0} {op} {1})",
    "({0}|{filter})",
    "({0}|{sized}({size}))",
    "({0}|replace({text}, {size}))",
    # The same on text, where the huge cases bite (on a number they fail at once).
    "({text}|{sized}({number}))",
    "({text}).{method}({number})",
    "({text}|replace({text}, {text}))",
    "({0} ~ {text})",
    "({0}).{method}({size})",
    "({0}).replace({text}, {size})",
    "{0}[{1}]",
    "f({0})",
    "({0} if {1} else {2})",
    "({0}).split({1})",
    "({0})|map('string')|join",
]
STATEMENTS = [
    "{{% for m in {expr} %}}{0}{{% endfor %}}",
    "{{% for i in range({small}) %}}{0}{{% endfor %}}",
    "{{% if {expr} %}}{0}{{% else %}}{1}{{% endif %}}",
    "{{% call f({expr}) %}}{{{{ caller() }}}}{0}{{% endcall %}}",
    "{{% filter upper %}}{0}{{% endfilter %}}",
    "{{% with s = {expr} %}}{0}{{% endwith %}}",
]
SIMPLE = ["{{{{ {expr} }}}}", "{{{{ {expr} }}}}", "text ", "\n"]
SIMPLE += ["{{{{ raise_exception('no') }}}}"]
SIMPLE += ["{{% set ns.s = ns.s ~ ns.s %}}", "{{% set s = s ~ s %}}", "{{% set ns.s = {expr} %}}"]
SIMPLE += ["{{% set ns.s = ns.s + {expr} %}}", "{{% set s = {expr} %}}"]


_PICK = {
    "op": st.sampled_from(BINOPS),
    "filter": st.sampled_from(FILTERS),
    "sized": st.sampled_from(SIZED),
    "method": st.sampled_from(METHODS),
    "text": st.sampled_from(TEXTS),
    "small": st.sampled_from(SMALL),
    "number": st.sampled_from([str(n) for n in NUMBERS]),
}
_LEAVES = st.sampled_from([str(n) for n in NUMBERS] + TEXTS + NAMES) | st.sampled_from(SMALL).map(
    lambda n: f"range({n})"
)
_SIZES = st.sampled_from([str(n) for n in NUMBERS] + TEXTS)
_EXPRESSION_FORMS = st.sampled_from(EXPRESSIONS)
_STATEMENT_FORMS = st.sampled_from(STATEMENTS)
_SIMPLE_FORMS = st.sampled_from(SIMPLE)


def _fill(draw: st.DrawFn, form: str, inner: list[str], **more: str) -> str:
    """``form`` with its {0}, {1} … from ``inner`` and only the other names it uses drawn."""
    names = {name: draw(pick) for name, pick in _PICK.items() if "{" + name + "}" in form}
    return form.format(*inner, **names, **more)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or not draw(st.integers(0, 2)):
        return draw(_LEAVES)
    form = draw(_EXPRESSION_FORMS)
    inner = [draw(expressions(depth + 1)) for n in range(3) if "{" + str(n) + "}" in form]
    size = draw(_SIZES) if "{size}" in form and draw(st.booleans()) else None
    return _fill(draw, form, inner, size=size or draw(expressions(depth + 1)))


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> str:
    if depth < 3 and draw(st.booleans()):
        form = draw(_STATEMENT_FORMS)
        bodies = [
            "".join(draw(st.lists(statements(depth + 1), max_size=3)))
            for n in range(2)
            if "{" + str(n) + "}" in form
        ]
    else:
        form, bodies = draw(_SIMPLE_FORMS), []
    expr = draw(expressions()) if "{expr}" in form else ""
    return _fill(draw, form, bodies, expr=expr)


@st.composite
def templates(draw: st.DrawFn) -> str:
    """A macro ``f`` (which may call itself), a namespace and names set, then statements;
    sometimes with a slice cut out, so that what the parser gets is not always well formed."""
    macro = "".join(draw(st.lists(statements(), max_size=3)))
    body = "".join(draw(st.lists(statements(), min_size=1, max_size=4)))
    source = (
        "{% set ns = namespace(s='x', n=1) %}{% set m = messages[0] %}{% set s = 'ab' %}"
        f"{{% macro f(s) %}}{macro}{{% endmacro %}}{body}"
    )
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(source)))
        source = source[:at] + source[at + draw(st.integers(1, 12)) :]
    return source


MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "What is 2 + 2?")]


def test_any_template_renders_or_fails_in_words_within_limits():
    def one(source: str) -> None:
        started = time.monotonic()
        tracemalloc.start()
        try:
            with bounded_memory(RENDER_MEMORY):
                ChatTemplate(source).render(MESSAGES)
        except ModelError as exc:
            message = exc.full_message
            assert "chat template" in message, message
            assert "Error" not in message and "Traceback" not in message, message
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        elapsed = time.monotonic() - started
        assert elapsed < RENDER_SECONDS + SLACK_SECONDS, f"the render took {elapsed:.1f} s"
        assert peak < PEAK_BYTES, f"the render held {peak:,} bytes"

    run_fuzz(one, templates())

"""Fuzzing models.toml parsing with damaged copies of the real catalog and with catalogs
written from random values: it loads, or raises a CatalogError in plain words, never
another exception."""

from __future__ import annotations

import math
import re
import string

from hypothesis import strategies as st

from engine.catalog import Catalog, parse_catalog
from engine.errors import CatalogError
from engine.paths import catalog_path
from tests._fuzz import run_fuzz

REAL = catalog_path().read_text(encoding="utf-8")
LINES = REAL.splitlines(keepends=True)
# Values written over a value in the file: each TOML type, edges of each, and nesting.
VALUES = ['""', '"x"', "0", "-1", "1", "9" * 30, "1.5", "-0.0", "inf", "nan", "true"]
VALUES += ["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "[]", '["x", 1]', "{}"]
VALUES += ['{ open = "<think>" }', '"Q4_K_M"', '"https://x/y.gguf"', '"a/b.gguf"', '"\\u001b[2J"']
# Arrays or inline tables nested n deep (tomllib recurses once a level).
NESTED = ["[" * n + "]" * n for n in (2, 50, 20_000)] + ["{ a = " * 5000 + "1" + " }" * 5000]
KEYS = ["id", "schema", "default", "flagship", "model", "kind", "embedding", "sampling"]
KEYS += ["reasoning", "urls", "size", "context_length", "default_context", "layers", "budget"]
KEYS += ["unknown", '"quoted key"', "sampling.top_p", "a.b.c"]

# An edit: (what, which line, what with).
_line = st.integers(0, len(LINES))
edits = st.lists(
    st.tuples(st.just("drop"), _line, st.just(""))
    | st.tuples(st.just("repeat"), _line, st.just(""))
    | st.tuples(st.just("value"), _line, st.sampled_from(VALUES))
    | st.tuples(st.just("value"), _line, st.sampled_from(NESTED))
    | st.tuples(st.just("key"), _line, st.sampled_from(KEYS))
    | st.tuples(st.just("insert"), _line, st.text(string.printable, max_size=12))
    | st.tuples(st.just("line"), _line, st.sampled_from(["[[model]]", "[model.sampling]", "[x]"]))
    | st.tuples(st.just("cut"), _line, st.just("")),
    min_size=1,
    max_size=6,
)


def damaged(changes: list[tuple[str, int, str]]) -> str:
    lines = list(LINES)
    for kind, where, arg in changes:
        at = min(where, len(lines) - 1)
        line = lines[at]
        if kind == "drop":
            del lines[at]
        elif kind == "repeat":
            lines.insert(at, line)
        elif kind == "value" and "=" in line:
            lines[at] = line.split("=", 1)[0] + "= " + arg + "\n"
        elif kind == "key" and "=" in line:
            lines[at] = arg + " =" + line.split("=", 1)[1]
        elif kind == "insert":
            middle = len(line) // 2
            lines[at] = line[:middle] + arg + line[middle:]
        elif kind == "line":
            lines.insert(at, arg + "\n")
        elif kind == "cut":
            lines[at] = line[: len(line) // 2]
    return "".join(lines)


# A catalog written from random values: the right keys with values of any TOML type.
_scalars = (
    st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.text(max_size=8)
    | st.sampled_from(["Q4_1", "tiny", "tiny.gguf", "https://h/tiny.gguf", "a" * 64, "<think>"])
)
_values = _scalars | _scalars | st.recursive(_scalars, st.lists, max_leaves=6)
# Most fields get a value that fits (as in test_catalog.GOOD), so that a document gets past
# its first field; the others get anything.
GOOD = {"id": "tiny", "name": "Tiny", "family": "llama", "parameters_b": 0.1}
GOOD |= {"quantization": "Q4_1", "file": "tiny.gguf", "urls": [], "size": 0, "sha256": ""}
GOOD |= {"license": "mit", "context_length": 2048, "layers": 4, "kv_heads": 1, "head_dim": 64}
GOOD |= {"kind": "chat", "temperature": 0.5, "top_p": 0.9, "open": "<think>"}
GOOD |= {"close": "</think>", "budget": 100, "dimensions": 8, "template_opens": False}
MODEL_KEYS = ["id", "name", "family", "parameters_b", "quantization", "file", "urls", "size"]
MODEL_KEYS += ["sha256", "license", "context_length", "layers", "kv_heads", "head_dim", "kind"]
MODEL_KEYS += ["approx_size", "default_context", "source", "notes"]
TABLE_KEYS = ["temperature", "top_p", "open", "close", "budget", "template_opens", "dimensions"]


def _toml(value: object) -> str:
    """``value`` as TOML: strings with every unusual character escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        safe = (c if c.isalnum() or c in " ._-:/<>" else f"\\U{ord(c):08x}" for c in value)
        return '"' + "".join(safe) + '"'
    assert isinstance(value, list)
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def _value(draw: st.DrawFn, key: str) -> str:
    fits = key in GOOD and draw(st.integers(0, 3))
    return _toml(GOOD[key] if fits else draw(_values))


@st.composite
def written(draw: st.DrawFn) -> str:
    schema = draw(st.sampled_from([1, 1, 1, None]))
    head = {"schema": draw(_values) if schema is None else 1, "default": "tiny", "flagship": "tiny"}
    lines = [f"{k} = {_toml(v)}" for k, v in head.items() if draw(st.integers(0, 5))]
    for _ in range(draw(st.integers(0, 3))):
        lines.append("[[model]]")
        for key in MODEL_KEYS:
            if draw(st.integers(0, 9)):
                lines.append(f"{key} = {_value(draw, key)}")
        for table in ("sampling", "reasoning", "embedding"):
            if not draw(st.integers(0, 3)):
                lines.append(f"[model.{table}]")
                for key in TABLE_KEYS:
                    if draw(st.booleans()):
                        lines.append(f"{key} = {_value(draw, key)}")
    return "\n".join(lines) + "\n"


# What a person may read: no Python class name ("got str"), no traceback.
_CLASS_NAMES = re.compile(r"\bgot (str|int|float|bool|list|dict|NoneType|datetime|date|time)\b")


def _check(text: str) -> None:
    try:
        catalog = parse_catalog(text, "models.toml")
    except CatalogError as exc:
        message = exc.full_message
        assert message.startswith("The model catalog is invalid (models.toml"), message
        assert "Traceback" not in message and "Error" not in message, message
        assert not _CLASS_NAMES.search(message.split(": ", 1)[1]), message
        return
    assert isinstance(catalog, Catalog)
    assert catalog.default in catalog.models and catalog.flagship in catalog.models


def test_damaged_or_written_catalogs_load_or_are_refused_in_words():
    assert isinstance(parse_catalog(REAL), Catalog)  # the real file itself loads

    def one(case: list[tuple[str, int, str]] | str) -> None:
        _check(case if isinstance(case, str) else damaged(case))

    run_fuzz(one, edits | edits | written())

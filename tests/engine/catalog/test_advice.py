"""The welcome advice for the shipped catalog on the reference machines (plain text)."""

from __future__ import annotations

from engine.catalog import load_catalog
from engine.catalog.advice import GREETING, model_to_get, welcome_text
from tests.engine.catalog._profiles import LAPTOP_8, RTX_4090


def test_a_laptop_hears_the_flagship_does_not_fit_and_what_suits_it():
    text = welcome_text(load_catalog(), LAPTOP_8)
    first, flagship, how, best = text.split("\n\n")
    assert first == GREETING
    assert "starter model" in flagship and "QwQ-32B Q4_K_M" in flagship
    assert "does not fit" in flagship
    assert how == "To get it: Models… above, or hearth models pull qwq-32b-q4_k_m"
    assert best.startswith("Best for this computer: DeepSeek-R1-Distill-Qwen 7B Q4_K_M (")


def test_a_big_gpu_hears_the_flagship_runs_and_gets_no_other_advice():
    text = welcome_text(load_catalog(), RTX_4090)
    assert "on this computer: fully on GPU, ~34 tokens/s (estimate)." in text
    assert "Best for this computer" not in text  # the flagship is the best here


def test_unknown_hardware_or_catalog_gives_the_greeting_only():
    assert welcome_text(load_catalog(), None) == GREETING
    assert welcome_text(None, LAPTOP_8) == GREETING


def test_the_model_offered_is_the_best_one_not_yet_installed():
    catalog = load_catalog()
    assert model_to_get(catalog, LAPTOP_8).id == "deepseek-r1-distill-qwen-7b-q4_k_m"
    assert model_to_get(catalog, RTX_4090).id == catalog.flagship.id
    assert model_to_get(catalog, None) is None

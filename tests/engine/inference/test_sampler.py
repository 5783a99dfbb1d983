"""The sampler chain's top-k cut before the repetition penalty is exact, on the real model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.inference import ChatMessage, ModelSession
from engine.inference._llama import PENALTY_LAST_N, NativeModel, SamplerParams

PROMPT = [ChatMessage("user", "Write a song about the sea, the sea, the sea and the sea.")]
STEPS = 160  # several times PENALTY_LAST_N, so the penalty window fills and slides

GREEDY = SamplerParams(temperature=0, top_p=1.0, top_k=40, min_p=0.0, repeat_penalty=1.3, seed=1)
SAMPLED = SamplerParams(
    temperature=0.9, top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.3, seed=7
)


@contextmanager
def chains(native: NativeModel, *params: tuple[SamplerParams, bool]) -> Iterator[list[Any]]:
    built = [native.build_chain(p, prefilter=pre) for p, pre in params]
    try:
        yield built
    finally:
        for chain in built:
            native._ll.llama_sampler_free(chain)


def walk(session: ModelSession, params: SamplerParams) -> tuple[int, int]:
    """Generate STEPS tokens, sampling every step with the prefiltered chain, the plain chain
    and a chain without the penalty. Asserts the first two always agree; returns how often the
    penalty changed the choice, and how many steps ran."""
    native = session._native
    ll = native._ll
    unpenalised = SamplerParams(
        params.temperature, params.top_p, params.top_k, params.min_p, 1.0, params.seed
    )
    native.clear()
    assert native.decode(session.tokenize_prompt(PROMPT), lambda: False)
    changed = 0
    with chains(native, (params, True), (params, False), (unpenalised, True)) as (
        fast,
        plain,
        bare,
    ):
        for step in range(STEPS):
            a = ll.llama_sampler_sample(fast, native._ctx, -1)
            b = ll.llama_sampler_sample(plain, native._ctx, -1)
            assert a == b, f"step {step}: the prefilter changed the sampled token"
            # The penalty-free chain follows the same text (it accepts the chosen token), so
            # each step asks: would this token have been picked without the penalty?
            c = ll.llama_sampler_sample(bare, native._ctx, -1)
            changed += c != a
            native.decode_one(a)
    return changed, STEPS


@pytest.mark.parametrize("params", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_prefilter_picks_the_same_tokens_as_the_whole_vocabulary_scan(
    session: ModelSession, params: SamplerParams
):
    changed, steps = walk(session, params)
    # Not a vacuous check: the penalty really changed some choices along the way.
    assert 0 < changed < steps


def test_the_prefilter_comes_first_and_keeps_room_for_every_penalised_token(session: ModelSession):
    native = session._native
    ll = native._ll
    with chains(native, (SAMPLED, True), (SAMPLED, False), (GREEDY, True)) as (fast, plain, greedy):

        def names(chain: Any) -> list[str]:
            return [
                ll.llama_sampler_name(ll.llama_sampler_chain_get(chain, i)).decode()
                for i in range(ll.llama_sampler_chain_n(chain))
            ]

        assert names(fast)[:3] == ["top-k", "penalties", "top-k"]
        assert names(plain)[:2] == ["penalties", "top-k"]
        assert names(greedy) == ["top-k", "penalties", "greedy"]


def test_a_penalty_below_one_scans_the_whole_vocabulary(session: ModelSession):
    # A "penalty" under 1 raises repeated tokens' logits, so any token could climb into the
    # top k: no cut may come before it.
    native = session._native
    ll = native._ll
    bonus = SamplerParams(0.8, 0.95, 40, 0.05, 0.9, 3)
    with chains(native, (bonus, True)) as (chain,):
        first = ll.llama_sampler_chain_get(chain, 0)
        assert ll.llama_sampler_name(first).decode() == "penalties"
    assert PENALTY_LAST_N > 0

"""The only module that talks to llama.cpp. Owns the native model, context and sampler.

Built on llama.cpp's C API through llama-cpp-python's ctypes bindings rather than its ``Llama``
class: that class's per-token Python work (logit copies into NumPy, stop-string scans) costs
about a tenth of generation speed on small models, and its ``from_pretrained`` and disk cache
are things Hearth must never call.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InferenceError, ModelError

log = logging.getLogger(__name__)

_import_lock = threading.Lock()
_lib: Any = None
PENALTY_LAST_N = 64  # tokens the repetition penalty looks back over
_log_callback: Any = None  # kept referenced: llama.cpp holds the raw pointer


def lib() -> Any:
    """Import llama_cpp once (it loads the native library: slow) and route its log to ours."""
    global _lib, _log_callback  # noqa: PLW0603 - process-wide native state, set once
    with _import_lock:
        if _lib is None:
            import llama_cpp  # noqa: PLC0415 - deferred so the window shows first

            def forward(level: int, text: bytes, _user: Any) -> None:
                # ggml_log_level: 3 warn, 4 error. Info and debug lines are noise for users.
                if level in (3, 4):
                    log.log(
                        logging.WARNING if level == 3 else logging.ERROR,
                        "%s",
                        text.decode("utf-8", "replace").rstrip(),
                    )

            _log_callback = llama_cpp.llama_log_callback(forward)
            llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
            llama_cpp.llama_backend_init()
            _lib = llama_cpp
    return _lib


@dataclass(frozen=True)
class LoadParams:
    n_ctx: int
    gpu_layers: int
    threads: int
    kv_type: str = "f16"  # or "q8_0"
    flash_attn: bool = False
    n_batch: int = 512


@dataclass(frozen=True)
class SamplerParams:
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    seed: int


class NativeModel:
    """A loaded GGUF with one context and one sampler chain. Not thread-safe: one thread owns
    it. ``close()`` frees native memory in the right order (sampler, context, model)."""

    def __init__(self, path: Path, params: LoadParams) -> None:
        ll = lib()
        self._ll = ll
        self._stack = ExitStack()
        self.params = params
        mparams = ll.llama_model_default_params()
        mparams.n_gpu_layers = params.gpu_layers
        # No ``use_mmap`` here: llama.cpp 0.3.36's llama_model_params has no such field (a
        # ctypes Structure would silently take it as a plain Python attribute). load_mode stays
        # at its default, AUTO (llama.cpp picks by device), which is also what llama-bench uses.
        model = ll.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ModelError(
                f"llama.cpp could not load “{path.name}”: the file is damaged, or its "
                "architecture is not supported by this version of Hearth."
            )
        self._model = model
        self._stack.callback(ll.llama_model_free, model)
        self._vocab = ll.llama_model_get_vocab(model)

        cparams = ll.llama_context_default_params()
        cparams.n_ctx = params.n_ctx
        cparams.n_batch = params.n_batch
        cparams.n_ubatch = params.n_batch
        cparams.n_threads = params.threads
        cparams.n_threads_batch = params.threads
        kv_type = ll.GGML_TYPE_Q8_0 if params.kv_type == "q8_0" else ll.GGML_TYPE_F16
        cparams.type_k = kv_type
        cparams.type_v = kv_type
        cparams.flash_attn_type = (
            ll.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if params.flash_attn
            else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        cparams.no_perf = False
        ctx = ll.llama_init_from_model(model, cparams)
        if not ctx:
            self.close()
            raise ModelError(
                f"llama.cpp could not allocate a {params.n_ctx:,}-token context for "
                f"“{path.name}” (out of memory?).",
                "Lower the context size or pick a smaller model.",
            )
        self._ctx = ctx
        self._stack.callback(ll.llama_free, ctx)
        self._memory = ll.llama_get_memory(ctx)
        self.n_ctx = int(ll.llama_n_ctx(ctx))
        self._sampler: Any = None
        self._sampler_params: SamplerParams | None = None
        self._stack.callback(self._free_sampler)
        self._one = (ll.llama_token * 1)()
        self._one_batch = ll.llama_batch_get_one(self._one, 1)  # reused for every token
        # Per-token lookups answered from Python after the first time (saves native calls in
        # the generation loop).
        self._pieces: dict[int, bytes] = {}
        self._eog: dict[int, bool] = {}
        self._piece = ctypes.create_string_buffer(256)
        self._batch_buf = (ll.llama_token * params.n_batch)()

    # -- metadata ----------------------------------------------------------------------------

    def chat_template(self) -> str:
        raw = self._ll.llama_model_chat_template(self._model, None)
        return raw.decode("utf-8", "replace") if raw else ""

    def token_text(self, token: int) -> str:
        return self.piece(token, special=True).decode("utf-8", "replace")

    @property
    def bos_token(self) -> int:
        return int(self._ll.llama_vocab_bos(self._vocab))

    @property
    def eos_token(self) -> int:
        return int(self._ll.llama_vocab_eos(self._vocab))

    # -- text --------------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        buf = (self._ll.llama_token * cap)()
        n = self._ll.llama_tokenize(self._vocab, data, len(data), buf, cap, add_special, True)
        if n < 0:
            cap = -n
            buf = (self._ll.llama_token * cap)()
            n = self._ll.llama_tokenize(self._vocab, data, len(data), buf, cap, add_special, True)
            if n < 0:
                raise InferenceError("The text could not be tokenized.")
        return list(buf[:n])

    def piece(self, token: int, *, special: bool = False) -> bytes:
        if not special:
            cached = self._pieces.get(token)
            if cached is None:
                cached = self._pieces[token] = self._piece_uncached(token, special=False)
            return cached
        return self._piece_uncached(token, special=True)

    def _piece_uncached(self, token: int, *, special: bool) -> bytes:
        n = self._ll.llama_token_to_piece(self._vocab, token, self._piece, 256, 0, special)
        if n < 0:
            big = ctypes.create_string_buffer(-n)
            n = self._ll.llama_token_to_piece(self._vocab, token, big, -n, 0, special)
            return big.raw[:n]
        return self._piece.raw[:n]

    def is_eog(self, token: int) -> bool:
        eog = self._eog.get(token)
        if eog is None:
            eog = self._eog[token] = bool(self._ll.llama_vocab_is_eog(self._vocab, token))
        return eog

    # -- KV cache ----------------------------------------------------------------------------

    def keep_prefix(self, n: int) -> bool:
        """Drop every cached position from ``n`` on. False when the memory cannot do a
        partial removal (recurrent models); then the caller starts over."""
        return bool(self._ll.llama_memory_seq_rm(self._memory, 0, n, -1))

    def clear(self) -> None:
        """Wipe the KV cache's buffers and the last prompt's tokens from the batch buffer."""
        self._ll.llama_memory_clear(self._memory, True)
        ctypes.memset(self._batch_buf, 0, ctypes.sizeof(self._batch_buf))

    def decode(
        self,
        tokens: Sequence[int],
        should_stop: Callable[[], bool],
        progress: Callable[[int, int], None] | None = None,
    ) -> bool:
        """Evaluate ``tokens`` after what is cached, in batches. Returns False when stopped
        between batches (what was evaluated so far stays cached). ``progress(done, total)``
        is told after each batch.

        Raises: InferenceError.
        """
        ll = self._ll
        step = self.params.n_batch
        for start in range(0, len(tokens), step):
            if start and progress is not None:
                progress(start, len(tokens))
            if start and should_stop():
                return False
            chunk = tokens[start : start + step]
            self._batch_buf[: len(chunk)] = chunk
            rc = ll.llama_decode(self._ctx, ll.llama_batch_get_one(self._batch_buf, len(chunk)))
            if rc != 0:
                raise InferenceError(f"llama.cpp failed to evaluate the prompt (code {rc}).")
        return True

    def decode_one(self, token: int) -> None:
        """Raises: InferenceError."""
        self._one[0] = token
        rc = self._ll.llama_decode(self._ctx, self._one_batch)
        if rc != 0:
            raise InferenceError(f"llama.cpp failed to generate (code {rc}).")

    # -- sampling ----------------------------------------------------------------------------

    def set_sampler(self, params: SamplerParams) -> None:
        """Build the sampler chain, or reset the existing one when the settings are the same."""
        if self._sampler is not None and params == self._sampler_params:
            self._ll.llama_sampler_reset(self._sampler)
            return
        self._free_sampler()
        self._sampler = self.build_chain(params)
        self._sampler_params = params

    def build_chain(self, params: SamplerParams, *, prefilter: bool = True) -> Any:
        """A new sampler chain for ``params`` (the caller frees it).

        The repetition penalty comes first, as in llama.cpp's own order, but scanning the whole
        vocabulary for penalised tokens costs about 1 ms per token (a hash lookup for each of
        50k-150k candidates: ~10 % of generation speed on small models). With ``prefilter`` a
        top-k cut runs before it that cannot change the result: the penalty lowers the logits
        of at most PENALTY_LAST_N tokens, so the best k tokens after it are among the best
        k + PENALTY_LAST_N before it. ``prefilter=False`` builds the plain chain (tests compare
        the two).
        """
        ll = self._ll
        chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
        add = ll.llama_sampler_chain_add
        greedy = params.temperature <= 0
        keep = 1 if greedy else params.top_k  # candidates the steps after the penalty need
        if params.repeat_penalty != 1.0:
            # Only a penalty above 1 lowers logits; one below 1 raises them and may lift any
            # token, so it needs the whole vocabulary.
            if prefilter and keep > 0 and params.repeat_penalty > 1.0:
                add(chain, ll.llama_sampler_init_top_k(keep + PENALTY_LAST_N))
            add(chain, self._penalties(params.repeat_penalty))
        if greedy:
            add(chain, ll.llama_sampler_init_greedy())
            return chain
        if params.top_k > 0:
            add(chain, ll.llama_sampler_init_top_k(params.top_k))
        if params.top_p < 1.0:
            add(chain, ll.llama_sampler_init_top_p(params.top_p, 1))
        if params.min_p > 0:
            add(chain, ll.llama_sampler_init_min_p(params.min_p, 1))
        add(chain, ll.llama_sampler_init_temp(params.temperature))
        add(chain, ll.llama_sampler_init_dist(params.seed))
        return chain

    def _penalties(self, repeat_penalty: float) -> Any:
        n_vocab = self._ll.llama_vocab_n_tokens(self._vocab)
        return self._ll.llama_sampler_init_penalties(
            n_vocab, PENALTY_LAST_N, repeat_penalty, 0.0, 0.0
        )

    def sample(self) -> int:
        """Pick the next token from the last evaluated position (and tell the chain)."""
        return int(self._ll.llama_sampler_sample(self._sampler, self._ctx, -1))

    def accept(self, token: int) -> None:
        """Record a token we injected ourselves, so repetition penalties see it."""
        self._ll.llama_sampler_accept(self._sampler, token)

    def _free_sampler(self) -> None:
        if self._sampler is not None:
            self._ll.llama_sampler_free(self._sampler)
            self._sampler = None
            self._sampler_params = None

    # -- counters ----------------------------------------------------------------------------

    def perf_reset(self) -> None:
        self._ll.llama_perf_context_reset(self._ctx)

    def perf(self) -> tuple[int, int]:
        """llama.cpp's own counters since the last reset: (prompt tokens evaluated in
        batches, tokens evaluated one at a time). llama.cpp reports at least 1 for each."""
        # Decoding is asynchronous; the counters are only updated on synchronisation.
        self._ll.llama_synchronize(self._ctx)
        data = self._ll.llama_perf_context(self._ctx)
        return int(data.n_p_eval), int(data.n_eval)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> NativeModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NativeEmbedder:
    """A GGUF loaded for embeddings: one pooled (mean) vector per text. Not thread-safe.

    Works for embedding models and for chat models alike (a chat model's mean-pooled hidden
    states are a weak but real embedding; tests use the starter model that way).
    """

    def __init__(self, path: Path, *, n_ctx: int, threads: int, max_sequences: int = 16) -> None:
        ll = lib()
        self._ll = ll
        self._stack = ExitStack()
        mparams = ll.llama_model_default_params()
        mparams.n_gpu_layers = 0  # small models; the GPU stays free for the chat model
        model = ll.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ModelError(
                f"llama.cpp could not load “{path.name}” for embeddings: the file is damaged, "
                "or its architecture is not supported by this version of Hearth."
            )
        self._model = model
        self._stack.callback(ll.llama_model_free, model)
        self._vocab = ll.llama_model_get_vocab(model)
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = n_ctx
        # Every sequence of a batch is evaluated in one micro-batch (non-causal models need
        # a whole sequence at once), all in one unified cache.
        cparams.n_batch = n_ctx
        cparams.n_ubatch = n_ctx
        cparams.n_seq_max = max_sequences
        cparams.kv_unified = True
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.embeddings = True
        # The model's own pooling (an embedding GGUF names it); mean for a model that has
        # none, such as a chat model.
        cparams.pooling_type = ll.LLAMA_POOLING_TYPE_UNSPECIFIED
        ctx = ll.llama_init_from_model(model, cparams)
        if ctx and ll.llama_pooling_type(ctx) == ll.LLAMA_POOLING_TYPE_NONE:
            ll.llama_free(ctx)
            cparams.pooling_type = ll.LLAMA_POOLING_TYPE_MEAN
            ctx = ll.llama_init_from_model(model, cparams)
        if not ctx:
            self.close()
            raise ModelError(f"llama.cpp could not make an embedding context for “{path.name}”.")
        self._ctx = ctx
        self._stack.callback(ll.llama_free, ctx)
        self._memory = ll.llama_get_memory(ctx)
        self.n_ctx = int(ll.llama_n_ctx(ctx))
        self.max_sequences = max_sequences
        self.dimensions = int(ll.llama_model_n_embd(model))
        self._batch = ll.llama_batch_init(self.n_ctx, 0, 1)
        self._stack.callback(ll.llama_batch_free, self._batch)

    def tokenize(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        buf = (self._ll.llama_token * cap)()
        n = self._ll.llama_tokenize(self._vocab, data, len(data), buf, cap, True, False)
        if n < 0:
            raise InferenceError("The text could not be tokenized.")
        return list(buf[:n])

    def embed(self, sequences: Sequence[Sequence[int]]) -> list[list[float]]:
        """One vector per token sequence; together they must fit in ``n_ctx`` tokens and
        ``max_sequences`` sequences (the caller packs them). Raises: InferenceError."""
        ll = self._ll
        total = sum(len(s) for s in sequences)
        if total > self.n_ctx or len(sequences) > self.max_sequences:
            raise ValueError("the sequences do not fit one batch")
        batch = self._batch
        i = 0
        for seq, tokens in enumerate(sequences):
            for pos, token in enumerate(tokens):
                batch.token[i] = token
                batch.pos[i] = pos
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = seq
                batch.logits[i] = 1
                i += 1
        batch.n_tokens = i
        ll.llama_memory_clear(self._memory, True)
        rc = ll.llama_decode(self._ctx, batch)
        if rc != 0:
            raise InferenceError(f"llama.cpp failed to embed the text (code {rc}).")
        vectors = []
        for seq in range(len(sequences)):
            ptr = ll.llama_get_embeddings_seq(self._ctx, seq)
            if not ptr:
                raise InferenceError("llama.cpp returned no embedding.")
            vectors.append(list(ptr[: self.dimensions]))
        ll.llama_memory_clear(self._memory, True)
        return vectors

    def close(self) -> None:
        self._stack.close()

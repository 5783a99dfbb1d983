"""A loaded model that chats: prompt building, KV-cache reuse, trimming, streaming, thinking.

One thread owns a ModelSession. Another thread may only touch the GenerationControl.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from engine.catalog.catalog import Reasoning, Sampling
from engine.catalog.plan import OffloadPlan
from engine.chat_template import ChatMessage, ChatTemplate
from engine.errors import InferenceError, PromptTooLong
from engine.inference._llama import NativeModel, SamplerParams
from engine.inference.reasoning import Part, ReasoningSplitter
from engine.inference.types import (
    Answer,
    Chunk,
    Finished,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    Notice,
    NoticeKind,
    Reply,
    Stats,
    Thinking,
)

# No tokenizer averages more characters a token than this: a longer text cannot fit.
MAX_CHARS_PER_TOKEN = 64


@dataclass(frozen=True)
class PromptFit:
    tokens: list[int]
    dropped: int  # oldest messages left out


@dataclass
class _Progress:
    """What one generation has produced so far."""

    t_start: float
    t_prompt_done: float
    t_first: float | None = None
    t_think_end: float | None = None
    generated: int = 0
    thinking_tokens: int = 0
    thinking: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)

    def emit(self, pieces: list[tuple[Part, str]]) -> Iterator[Chunk]:
        for part, text in pieces:
            if part is Part.THINKING:
                self.thinking.append(text)
                yield Thinking(text)
            else:
                self.answer.append(text)
                yield Answer(text)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class ModelSession:
    """Chat with one loaded model. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        native: NativeModel,
        *,
        model_id: str,
        display_name: str,
        template: ChatTemplate,
        sampling: Sampling,
        reasoning: Reasoning | None,
        plan: OffloadPlan,
    ) -> None:
        self._native = native
        self.model_id = model_id
        self.display_name = display_name
        self._template = template
        self.sampling = sampling
        self.reasoning = reasoning
        self.plan = plan
        self._cached: list[int] = []  # exactly the tokens in the KV cache, in order
        self._prompt_counters = (0, 0)
        self._evaluated = 0

    @property
    def n_ctx(self) -> int:
        return self._native.n_ctx

    # -- prompt ------------------------------------------------------------------------------

    def tokenize_prompt(self, messages: Sequence[ChatMessage]) -> list[int]:
        """Raises: PromptTooLong (too long to be worth tokenizing), ModelError (template)."""
        text = self._template.render(messages)
        bos = self._template.bos_token
        # Templates that write the BOS text themselves would otherwise get a second one.
        if bos and text.startswith(bos):
            text = text[len(bos) :]
        if len(text) > self.n_ctx * MAX_CHARS_PER_TOKEN:
            # Cannot fit whatever the tokenizer does, and a huge text makes llama.cpp's
            # tokenizer allocate without bound (std::bad_alloc aborts the process).
            raise PromptTooLong(
                f"This message is {len(text):,} characters long: far more than the model's "
                f"{self.n_ctx:,}-token context can hold."
            )
        return self._native.tokenize(text, add_special=True)

    def count_text_tokens(self, text: str) -> int:
        """Tokens ``text`` takes inside a prompt (no special tokens)."""
        return len(self._native.tokenize(text, add_special=False))

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the prompt for ``messages`` takes (for a context gauge); for a text far too
        long to tokenize, an estimate (4 characters a token) that is well over the context."""
        try:
            return len(self.tokenize_prompt(messages))
        except PromptTooLong:
            return sum(len(m.content) for m in messages) // 4

    def reply_reserve(self, options: GenerationOptions) -> int:
        """Context kept free for the reply when deciding how much history fits."""
        if options.max_tokens:
            return min(options.max_tokens, self.n_ctx // 2)
        if self.reasoning:
            budget = options.thinking_budget or self.reasoning.budget
            return min(self.n_ctx // 2, budget + 512)
        return min(self.n_ctx // 4, 1024)

    def fit_prompt(self, messages: Sequence[ChatMessage], reserve: int) -> PromptFit:
        """Tokenize, leaving out the oldest turns until the prompt and ``reserve`` fit.

        The system message and the newest message always stay.

        Raises: PromptTooLong when the newest message alone does not fit.
        """
        system = list(messages[:1]) if messages and messages[0].role == "system" else []
        rest = list(messages[len(system) :])
        limit = self.n_ctx - reserve
        dropped = 0
        while True:
            try:
                tokens = self.tokenize_prompt(system + rest[dropped:])
            except PromptTooLong:
                if dropped >= len(rest) - 1:
                    raise
                tokens = []  # far too long with this much history: leave out more
            if tokens and len(tokens) <= limit:
                return PromptFit(tokens, dropped)
            if dropped >= len(rest) - 1:
                raise PromptTooLong(
                    f"This message needs about {len(tokens):,} tokens, but with room kept for "
                    f"the reply the model's context holds {limit:,}."
                )
            dropped += 1
            # The history the model sees starts with a user turn.
            while dropped < len(rest) - 1 and rest[dropped].role != "user":
                dropped += 1

    # -- generation --------------------------------------------------------------------------

    def _sampler_params(self, o: GenerationOptions) -> SamplerParams:
        s = self.sampling
        return SamplerParams(
            temperature=s.temperature if o.temperature is None else o.temperature,
            top_p=s.top_p if o.top_p is None else o.top_p,
            top_k=s.top_k if o.top_k is None else o.top_k,
            min_p=s.min_p if o.min_p is None else o.min_p,
            repeat_penalty=s.repeat_penalty if o.repeat_penalty is None else o.repeat_penalty,
            seed=0xFFFFFFFF if o.seed is None else o.seed,  # LLAMA_DEFAULT_SEED: random
        )

    def _evaluate_prompt(self, tokens: list[int], control: GenerationControl) -> bool:
        """Bring the KV cache to ``tokens``, evaluating only what is not cached already."""
        native = self._native
        common = _common_prefix(self._cached, tokens)
        if common >= len(tokens):
            common = len(tokens) - 1  # the last token is evaluated again for its logits
        if not native.keep_prefix(common):
            native.clear()
            common = 0
        self._cached = self._cached[:common]
        native.perf_reset()
        if not native.decode(tokens[common:], lambda: control.cancelled, control.report_prompt):
            native.keep_prefix(common)  # forget the partly evaluated prompt
            return False
        self._cached = list(tokens)
        self._prompt_counters = native.perf()
        self._evaluated = len(tokens) - common
        return True

    @property
    def last_prompt_counters(self) -> tuple[int, int]:
        """llama.cpp's counters for the last prompt evaluation: (batched, single) tokens."""
        return self._prompt_counters

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
        *,
        answer_prefix: str = "",
    ) -> Iterator[Chunk]:
        """Stream the reply to ``messages`` (the last one is the person's).

        Yields Thinking and Answer text as it is generated, Notices (history trimmed,
        thinking budget reached, context full), and a final Finished with the whole Reply.
        A cancelled generation still finishes, with what was generated so far.
        ``answer_prefix`` is an answer begun earlier (a stopped reply): the model continues
        it, and only the new text is streamed.

        Raises: PromptTooLong, InferenceError, ModelError (template).
        """
        options = options or GenerationOptions()
        control = control or GenerationControl()
        notices: list[Notice] = []
        t_start = time.monotonic()

        prefix: list[int] = []
        if answer_prefix:
            # A template that opens the think block itself needs it closed before the answer.
            if self.reasoning and self.reasoning.template_opens:
                answer_prefix = f"\n{self.reasoning.close}\n\n{answer_prefix}"
            prefix = self._native.tokenize(answer_prefix, add_special=False)
        fit = self.fit_prompt(messages, self.reply_reserve(options) + len(prefix))
        if prefix:
            fit = PromptFit(fit.tokens + prefix, fit.dropped)
        if fit.dropped:
            notice = Notice(
                NoticeKind.TRIMMED,
                f"The {fit.dropped} oldest message{'s' if fit.dropped != 1 else ''} no longer "
                f"fit in the model's {self.n_ctx:,}-token context, so the model does not see "
                "them for this reply. They stay in the conversation.",
            )
            notices.append(notice)
            yield notice

        try:
            ok = self._evaluate_prompt(fit.tokens, control)
        except InferenceError:
            self._reset_cache()
            raise
        if not ok:
            self._evaluated = 0
            now = time.monotonic()
            yield Finished(
                self._reply(
                    _Progress(t_start=t_start, t_prompt_done=now),
                    FinishReason.CANCELLED,
                    notices,
                    fit,
                )
            )
            return

        try:
            yield from self._generate(
                fit, options, control, notices, t_start, in_answer=bool(prefix)
            )
        except InferenceError:
            self._reset_cache()
            raise

    def _generate(
        self,
        fit: PromptFit,
        options: GenerationOptions,
        control: GenerationControl,
        notices: list[Notice],
        t_start: float,
        *,
        in_answer: bool = False,
    ) -> Iterator[Chunk]:
        native = self._native
        native.set_sampler(self._sampler_params(options))
        run = _Progress(t_start=t_start, t_prompt_done=time.monotonic())
        reasoning = self.reasoning
        splitter = (
            ReasoningSplitter(
                reasoning.open,
                reasoning.close,
                starts_inside=reasoning.template_opens and not in_answer,
            )
            if reasoning
            else None
        )
        budget = (options.thinking_budget or reasoning.budget) if reasoning else 0
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        finish = FinishReason.STOP
        n_ctx = self.n_ctx
        cached = self._cached
        ended_in_thinking = False

        def notify(kind: NoticeKind, message: str) -> Notice:
            notice = Notice(kind, message)
            notices.append(notice)
            return notice

        while True:
            if control.cancelled:
                finish = FinishReason.CANCELLED
                break
            if options.max_tokens and run.generated >= options.max_tokens:
                finish = FinishReason.LENGTH
                break
            if (
                splitter is not None
                and reasoning is not None
                and splitter.in_thinking
                and (run.thinking_tokens >= budget or control.answer_requested or ended_in_thinking)
            ):
                # Close the think block ourselves, as the model would, and let it answer.
                closing = native.tokenize(f"\n{reasoning.close}\n\n", add_special=False)
                if len(cached) + len(closing) >= n_ctx:
                    finish = FinishReason.LENGTH
                    break
                yield from run.emit(splitter.feed(decoder.decode(b"", final=True)))
                native.decode(closing, lambda: False)
                cached.extend(closing)
                for token in closing:
                    native.accept(token)
                splitter.close_thinking()
                run.t_think_end = time.monotonic()
                if ended_in_thinking:
                    ended_in_thinking = False  # no notice: the model simply stopped thinking
                elif run.thinking_tokens >= budget:
                    yield notify(
                        NoticeKind.BUDGET_REACHED,
                        f"Thinking budget of {budget:,} tokens reached; the model answers now.",
                    )
                else:
                    yield notify(
                        NoticeKind.ANSWER_NOW,
                        "Thinking ended early on request; the model answers now.",
                    )
                continue
            if len(cached) >= n_ctx:
                yield notify(
                    NoticeKind.CONTEXT_FULL,
                    f"The reply filled the model's {n_ctx:,}-token context and was cut short.",
                )
                finish = FinishReason.LENGTH
                break

            token = native.sample()
            if run.t_first is None:
                run.t_first = time.monotonic()
            if native.is_eog(token):
                if splitter is not None and splitter.in_thinking:
                    # The model ended inside its think block: close it so it still answers.
                    ended_in_thinking = True
                    continue
                break
            was_thinking = splitter is not None and splitter.in_thinking
            native.decode_one(token)
            cached.append(token)
            run.generated += 1
            if was_thinking:
                run.thinking_tokens += 1
            text = decoder.decode(native.piece(token))
            if not text:
                continue  # part of a multi-byte character
            if splitter is None:
                yield from run.emit([(Part.ANSWER, text)])
                continue
            yield from run.emit(splitter.feed(text))
            if was_thinking and not splitter.in_thinking:
                run.t_think_end = time.monotonic()

        tail = decoder.decode(b"", final=True)
        if splitter is not None:
            yield from run.emit(splitter.feed(tail) + splitter.flush())
        elif tail:
            yield from run.emit([(Part.ANSWER, tail)])
        yield Finished(self._reply(run, finish, notices, fit))

    def _reply(
        self, run: _Progress, finish: FinishReason, notices: list[Notice], fit: PromptFit
    ) -> Reply:
        now = time.monotonic()
        gen_time = now - run.t_prompt_done
        think_time = 0.0
        if run.thinking_tokens and run.t_first is not None:
            think_time = (run.t_think_end or now) - run.t_first
        return Reply(
            thinking="".join(run.thinking),
            answer="".join(run.answer),
            finish_reason=finish,
            stats=Stats(
                prompt_tokens=len(fit.tokens),
                evaluated_tokens=self._evaluated,
                generated_tokens=run.generated,
                thinking_tokens=run.thinking_tokens,
                time_to_first_token_s=(run.t_first - run.t_start) if run.t_first else 0.0,
                tokens_per_second=run.generated / gen_time
                if run.generated and gen_time > 0
                else 0.0,
                thinking_seconds=max(0.0, think_time),
            ),
            notices=tuple(notices),
        )

    def chat(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
    ) -> Reply:
        """The whole reply at once. Raises: as ``stream_chat``."""
        for chunk in self.stream_chat(messages, options, control):
            if isinstance(chunk, Finished):
                return chunk.reply
        raise InferenceError("The model stopped without finishing its reply.")

    def forget(self) -> None:
        """Wipe the conversation from the KV cache (its buffers are cleared, not only marked
        free), e.g. when the app locks. The next turn evaluates its whole prompt again."""
        self._reset_cache()

    def _reset_cache(self) -> None:
        self._cached = []
        self._native.clear()

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> ModelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Calling an endpoint model for a job's cases: one event loop per process, retries, budgets, answers cached on arrival."""

from __future__ import annotations

import asyncio
import json
import queue
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaltui.core.registry.model import Model
from evaltui.core.runs.cache import OutputCache
from evaltui.core.runs.jobs import CallCounts
from evaltui.core.runs.prompts import estimate_tokens
from evaltui.core.runs.providers import (
    ChatRequest,
    FatalError,
    MalformedAnswer,
    Provider,
    RetryableError,
    api_key,
    base_url,
    open_provider,
)
from evaltui.core.runs.providers.limits import Budget, backoff

DEFAULT_TIMEOUT = 60.0
DEFAULT_OUTPUT_TOKENS = 512  # assumed per answer when a model sets no max_tokens (estimates only)
RAW_KEEP = 20_000  # characters of a malformed answer kept in the record
GATHER = 0.02  # seconds the cache writer waits for more answers before one write

_BUDGETS: dict[str, Budget] = {}  # per model name, set by the runner (and in each worker by its initializer)
_LOCAL = threading.local()


def install_budgets(budgets: dict[str, Budget]) -> None:
    """Make the shared rpm/tpm buckets of this run's models known to this process."""
    _BUDGETS.clear()
    _BUDGETS.update(budgets)


def make_budgets(models: Sequence[Model], ctx: Any = None) -> dict[str, Budget]:
    """A shared budget per endpoint model that sets rpm or tpm."""
    return {m.name: Budget(m.rpm, m.tpm, ctx) for m in models if m.kind == "endpoint" and (m.rpm or m.tpm)}


def event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, created once and reused by every job it runs."""
    loop = getattr(_LOCAL, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


def provider_for(model: Model) -> Provider:
    """This thread's client for `model`, opened by its first job and kept for the jobs after it.

    The jobs of one model in a process share its connection pool (kept-alive connections, TLS
    sessions) instead of each opening its own; `close_providers` ends them.
    """
    providers: dict[tuple[str, ...], Provider] = _LOCAL.__dict__.setdefault("providers", {})
    params = json.dumps(dict(model.params), sort_keys=True, default=str)
    key = (model.provider or "", model.model or "", params, base_url(model), api_key(model))
    if key not in providers:
        providers[key] = open_provider(model)
    return providers[key]


def close_providers() -> None:
    """Close the clients this thread's jobs opened; the runner calls it once its jobs in this thread are done."""
    providers: dict[tuple[str, ...], Provider] = _LOCAL.__dict__.get("providers", {})
    if not providers:
        return
    opened = list(providers.values())
    providers.clear()
    loop = event_loop()
    # Calls a Ctrl-C left behind on the loop stop here rather than send while the clients close.
    left = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in left:
        task.cancel()

    async def close_all() -> None:
        await asyncio.gather(*left, return_exceptions=True)
        await asyncio.gather(*(p.close() for p in opened), return_exceptions=True)

    loop.run_until_complete(close_all())


def cost_of(model: Model, input_tokens: int, output_tokens: int) -> float | None:
    """US dollars for these tokens at the model's prices; None when it has none."""
    if not model.prices:
        return None
    return (
        input_tokens * model.prices.get("input_per_mtok", 0.0)
        + output_tokens * model.prices.get("output_per_mtok", 0.0)
    ) / 1e6


def output_budget(model: Model) -> int:
    """The output tokens one answer may take: params.max_tokens, else an assumed default."""
    value = model.params.get("max_tokens") or model.params.get("max_completion_tokens")
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_OUTPUT_TOKENS


@dataclass
class CaseCalls:
    """Per-case columns for the record (None where the case was not called in this run)."""

    latency: list[float | None]
    input_tokens: list[int | None]
    output_tokens: list[int | None]
    attempts: list[int | None]
    raw: list[str | None]

    @classmethod
    def empty(cls, n: int) -> CaseCalls:
        return cls([None] * n, [None] * n, [None] * n, [None] * n, [None] * n)


class ArrivalWriter:
    """Writes each answer to the output cache as it arrives, from a thread, in whatever batches have queued.

    The event loop never waits on disk; a process killed mid-run loses at most the answers of
    the last few milliseconds.
    """

    def __init__(self, cache: OutputCache | None, fingerprint: str):
        self.cache, self.fingerprint = cache, fingerprint
        self.items: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._drain, name="evaltui-cache-writer", daemon=True)
        if cache is not None:
            self.thread.start()

    def put(self, key: str, value: Any) -> None:
        if self.cache is not None:
            self.items.put((key, value))

    def _drain(self) -> None:
        assert self.cache is not None
        while True:
            item = self.items.get()
            # A short pause gathers the answers arriving meanwhile into one transaction, instead
            # of waking this thread (and taking the interpreter lock from the event loop) per answer.
            time.sleep(GATHER)
            batch, done = [], item is None
            if item is not None:
                batch.append(item)
            while not done:
                try:
                    more = self.items.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            if batch:
                self.cache.put_many(self.fingerprint, batch)
            if done:
                return

    def close(self) -> None:
        if self.cache is not None:
            self.items.put(None)
            self.thread.join()


@dataclass
class CallPlan:
    """The cases one job sends: their requests and cache keys, and how to call."""

    model: Model
    todo: list[int]
    requests: Sequence[ChatRequest | None]
    keys: dict[int, str]
    concurrency: int
    seed: int = 0
    counters: CallCounts = field(default_factory=CallCounts)


async def call_all(
    plan: CallPlan,
    outputs: list[Any],
    errors: list[str | None],
    calls: CaseCalls,
    writer: ArrivalWriter,
    on_case: Callable[[int, bool], None],
    cancelled: Callable[[], bool],
) -> bool:
    """Send every request of `plan` (on the event loop of `event_loop()`); False when cancelled midway.

    `on_case(index, ok)` is called once per case as it settles (an answer or an error).
    """
    model, counters = plan.model, plan.counters
    provider = provider_for(model)
    budget = _BUDGETS.get(model.name)
    rng = random.Random(plan.seed)
    timeout = float(model.timeout or DEFAULT_TIMEOUT)
    out_budget = output_budget(model)
    pending = list(reversed(plan.todo))
    prefix = f"evaltui-{secrets.token_hex(8)}-"

    async def one(i: int, request: ChatRequest) -> None:
        attempt = 0
        expected = estimate_tokens(request) + out_budget if budget is not None else 0
        while True:
            attempt += 1
            if budget is not None:
                wait = budget.reserve(1, expected)
                if wait > 0:
                    await asyncio.sleep(wait)
            counters.in_flight += 1
            counters.requests += 1
            started = time.perf_counter()
            try:
                answer = await provider.send(request, timeout, prefix + str(i))
            except RetryableError as exc:
                if attempt > model.retries:
                    errors[i] = f"model: {exc} (gave up after {attempt} attempts)"
                    break
                counters.retries += 1
                counters.in_flight -= 1
                await asyncio.sleep(backoff(attempt, exc.retry_after, rng))
                continue
            except FatalError as exc:
                errors[i] = f"model: {exc}"
            except MalformedAnswer as exc:
                errors[i] = f"model: {exc}"
                calls.raw[i] = exc.raw[:RAW_KEEP]
            else:
                outputs[i] = answer.text
                writer.put(plan.keys[i], answer.text)
                calls.input_tokens[i], calls.output_tokens[i] = answer.input_tokens, answer.output_tokens
                counters.input_tokens += answer.input_tokens
                counters.output_tokens += answer.output_tokens
                counters.cost = cost_of(model, counters.input_tokens, counters.output_tokens)
                if budget is not None:
                    budget.settle(expected - answer.input_tokens - answer.output_tokens)
            break
        counters.in_flight -= 1
        calls.latency[i] = time.perf_counter() - started
        calls.attempts[i] = attempt

    async def worker() -> None:
        while pending:
            i = pending.pop()
            request = plan.requests[i]
            if request is not None:
                try:
                    await one(i, request)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    errors[i] = f"model: {type(exc).__name__}: {exc}"
                    counters.in_flight = max(0, counters.in_flight - 1)
            on_case(i, errors[i] is None)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, min(plan.concurrency, len(pending))))]
    finished = True
    waiting = set(tasks)
    while waiting:
        _, waiting = await asyncio.wait(waiting, timeout=0.1)
        if cancelled():
            finished = False
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
            break
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return finished

"""CircuitBreaker: stop calling a provider that keeps failing, then let one trial call decide.

After `failures` consecutive failures (outages, rate limits, timeouts: see
`falls_back_on`) the circuit opens and calls fail at once with
`CircuitOpenError` (HTTP 503 with Retry-After) without a request. After
`reset_after` seconds it is half-open: exactly one trial call goes through
(the others still fail fast); its success closes the circuit, its failure
opens it again. A 400 proves the provider is up, so it counts as a success.

State is per provider (name, model and base URL), in this process by
default or in Redis (`storage="redis://..."`) so every worker sees the same
circuit. The state machine lives in `_Rules`, once; each store only applies
it atomically (a lock here, WATCH/MULTI in Redis; Redis circuits use the
workers' wall clocks). Transitions this process causes are logged and given
to `on_change` as `CircuitStateChanged` events; `state()` reads the shared state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, Literal, TypeAlias, TypeVar

from ..errors import CircuitOpenError, ProviderError
from ..frozen import record
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from ..providers.fallback import falls_back_on
from .base import ProviderWrapper
from .redis_clients import RedisClients

__all__ = ["CircuitBreaker", "CircuitState", "CircuitStateChanged"]

logger = logging.getLogger("selectools.breaker")

CircuitState: TypeAlias = Literal["closed", "open", "half_open"]
T = TypeVar("T")


@record
class CircuitStateChanged:
    """A circuit went from `old` to `new` after `failures` consecutive failures."""

    circuit: str
    old: CircuitState
    new: CircuitState
    failures: int


@record
class _Record:
    failures: int = 0
    opened_at: float | None = None
    trial_until: float | None = None  # a trial call holds the half-open circuit until then


@record
class _Ticket:
    """What `acquire` decided for one call."""

    allowed: bool
    trial: bool
    retry_after: float
    failures: int


_Change: TypeAlias = "CircuitStateChanged | None"


class _Rules:
    """The state machine: pure functions from (record, now) to (new record, outcome)."""

    def __init__(self, failures: int, reset_after: float) -> None:
        self.failures = failures
        self.reset_after = reset_after

    def state(self, record: _Record, now: float) -> CircuitState:
        if record.opened_at is None:
            return "closed"
        return "open" if now < record.opened_at + self.reset_after else "half_open"

    def acquire(self, record: _Record, now: float) -> tuple[_Record, _Ticket]:
        state = self.state(record, now)
        if state == "closed":
            return record, _Ticket(True, False, 0.0, record.failures)
        if state == "open":
            assert record.opened_at is not None
            wait = record.opened_at + self.reset_after - now
            return record, _Ticket(False, False, wait, record.failures)
        if record.trial_until is not None and now < record.trial_until:  # a trial is out
            return record, _Ticket(False, False, record.trial_until - now, record.failures)
        trial = replace(record, trial_until=now + self.reset_after)
        return trial, _Ticket(True, True, 0.0, record.failures)

    def succeeded(self, key: str, record: _Record, ticket: _Ticket) -> tuple[_Record, _Change]:
        if ticket.trial and record.opened_at is not None:
            return _Record(), CircuitStateChanged(key, "half_open", "closed", record.failures)
        if record.opened_at is None and record.failures:
            return _Record(), None
        return record, None

    def failed(
        self, key: str, record: _Record, ticket: _Ticket, now: float
    ) -> tuple[_Record, _Change]:
        failures = record.failures + 1
        if ticket.trial:
            reopened = _Record(failures, opened_at=now)
            return reopened, CircuitStateChanged(key, "half_open", "open", failures)
        if record.opened_at is not None:  # opened meanwhile by other calls' failures
            return record, None
        if failures >= self.failures:
            return _Record(failures, opened_at=now), CircuitStateChanged(
                key, "closed", "open", failures
            )
        return _Record(failures), None

    def released(self, record: _Record, ticket: _Ticket) -> tuple[_Record, _Change]:
        """A call ended without a verdict (cancelled): free the trial slot it held."""
        if ticket.trial and record.trial_until is not None:
            return replace(record, trial_until=None), None
        return record, None


Update: TypeAlias = Callable[[_Record, float], tuple[_Record, T]]


class _MemoryCircuits:
    """Circuits of this process, behind one lock."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def update(self, key: str, change: Update[T]) -> T:
        with self._lock:
            record, outcome = change(self._records.get(key, _Record()), time.monotonic())
            if record == _Record():
                self._records.pop(key, None)
            else:
                self._records[key] = record
            return outcome

    async def aupdate(self, key: str, change: Update[T]) -> T:
        return self.update(key, change)  # a lock held for microseconds never blocks the loop

    def read(self, key: str) -> tuple[_Record, float]:
        with self._lock:
            return self._records.get(key, _Record()), time.monotonic()

    async def aread(self, key: str) -> tuple[_Record, float]:
        return self.read(key)


class _RedisCircuits:
    """Circuits in Redis hashes, changed with WATCH/MULTI so concurrent workers agree."""

    def __init__(self, url: str, prefix: str) -> None:
        self.clients = RedisClients(url, feature="CircuitBreaker")
        self.prefix = prefix

    def update(self, key: str, change: Update[T]) -> T:
        name = self.prefix + key
        old = _decode(self.clients.sync.hgetall(name))
        record, outcome = change(old, time.time())
        if record == old:  # nothing to write: the read was enough
            return outcome
        watch_error = _watch_error()
        with self.clients.sync.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    old = _decode(pipe.hgetall(name))
                    record, outcome = change(old, time.time())
                    pipe.multi()
                    _write(pipe, name, record)
                    pipe.execute()
                    return outcome
                except watch_error:
                    continue

    async def aupdate(self, key: str, change: Update[T]) -> T:
        name = self.prefix + key
        client = self.clients.current()
        old = _decode(await client.hgetall(name))
        record, outcome = change(old, time.time())
        if record == old:
            return outcome
        watch_error = _watch_error()
        async with client.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(name)
                    old = _decode(await pipe.hgetall(name))
                    record, outcome = change(old, time.time())
                    pipe.multi()
                    _write(pipe, name, record)
                    await pipe.execute()
                    return outcome
                except watch_error:
                    continue

    def read(self, key: str) -> tuple[_Record, float]:
        return _decode(self.clients.sync.hgetall(self.prefix + key)), time.time()

    async def aread(self, key: str) -> tuple[_Record, float]:
        return _decode(await self.clients.current().hgetall(self.prefix + key)), time.time()


def _watch_error() -> type[Exception]:
    from redis.exceptions import WatchError

    return WatchError


def _decode(raw: dict[bytes, bytes]) -> _Record:
    def number(field: bytes) -> float | None:
        value = raw.get(field)
        return float(value) if value is not None else None

    return _Record(
        failures=int(raw.get(b"failures", 0)),
        opened_at=number(b"opened_at"),
        trial_until=number(b"trial_until"),
    )


def _write(pipe: Any, name: str, record: _Record) -> None:
    pipe.delete(name)
    fields = {
        field: repr(value)
        for field, value in (
            ("failures", record.failures),
            ("opened_at", record.opened_at),
            ("trial_until", record.trial_until),
        )
        if value is not None and value != 0
    }
    if fields:
        pipe.hset(name, mapping=fields)
        pipe.expire(name, 86_400)  # a forgotten circuit closes by itself after a day


class CircuitBreaker:
    """Skip a provider after `failures` consecutive failures, for `reset_after` seconds.

    Args:
        failures: consecutive failures that open the circuit.
        reset_after: seconds an open circuit stays open before one trial call.
        storage: None (this process) or a Redis URL to share circuits between workers.
        prefix: Redis key prefix.
        on_change: called with a `CircuitStateChanged` for each transition made here.
    """

    def __init__(
        self,
        failures: int = 5,
        reset_after: float = 30.0,
        *,
        storage: str | None = None,
        prefix: str = "selectools:circuit:",
        on_change: Callable[[CircuitStateChanged], object] | None = None,
    ) -> None:
        if failures < 1 or reset_after <= 0:
            raise ValueError("CircuitBreaker needs failures >= 1 and reset_after > 0.")
        self.rules = _Rules(failures, reset_after)
        self.store: _MemoryCircuits | _RedisCircuits = (
            _MemoryCircuits() if storage is None else _RedisCircuits(storage, prefix)
        )
        self.on_change = on_change
        self.circuits: list[str] = []  # the circuits this breaker guards, in wrap order

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(failures={self.rules.failures}, "
            f"reset_after={self.rules.reset_after:g})"
        )

    def wrap(self, provider: Provider) -> Provider:
        guarded = _GuardedProvider(provider, self, circuit_key(provider))
        if guarded.circuit not in self.circuits:
            self.circuits.append(guarded.circuit)
        return guarded

    def state(self, circuit: Provider | str | None = None) -> CircuitState:
        """The circuit's state now: of `circuit` (a provider or its key), or of the only one."""
        record, now = self.store.read(self._key(circuit))
        return self.rules.state(record, now)

    async def astate(self, circuit: Provider | str | None = None) -> CircuitState:
        record, now = await self.store.aread(self._key(circuit))
        return self.rules.state(record, now)

    def reset(self, circuit: Provider | str | None = None) -> None:
        """Close a circuit by hand (after fixing the provider, say)."""
        self.store.update(self._key(circuit), lambda record, now: (_Record(), None))

    def _key(self, circuit: Provider | str | None) -> str:
        if isinstance(circuit, str):
            return circuit
        if circuit is not None:
            return getattr(circuit, "circuit", None) or circuit_key(circuit)
        if len(self.circuits) != 1:
            raise ValueError(
                f"This breaker guards {len(self.circuits)} circuits ({self.circuits}); "
                f"name one: breaker.state(provider)."
            )
        return self.circuits[0]

    # -- one call: acquire before, settle after ------------------------------------

    def acquire(self, circuit: str) -> _Ticket:
        return self._admitted(circuit, self.store.update(circuit, self.rules.acquire))

    async def aacquire(self, circuit: str) -> _Ticket:
        return self._admitted(circuit, await self.store.aupdate(circuit, self.rules.acquire))

    def settle(self, circuit: str, ticket: _Ticket, error: BaseException | None) -> None:
        self._announce(self.store.update(circuit, self._settlement(circuit, ticket, error)))

    async def asettle(self, circuit: str, ticket: _Ticket, error: BaseException | None) -> None:
        change = await self.store.aupdate(circuit, self._settlement(circuit, ticket, error))
        self._announce(change)

    def _admitted(self, circuit: str, ticket: _Ticket) -> _Ticket:
        if not ticket.allowed:
            raise CircuitOpenError(
                f"The model provider '{circuit}' failed {ticket.failures} times in a row, so "
                f"it is not being called for {ticket.retry_after:.1f} s more. Retry then, or "
                f"configure a FallbackProvider.",
                provider=circuit,
                retry_after=ticket.retry_after,
            )
        return ticket

    def _settlement(
        self, circuit: str, ticket: _Ticket, error: BaseException | None
    ) -> Update[_Change]:
        rules = self.rules
        if error is None or (isinstance(error, ProviderError) and not falls_back_on(error)):
            return lambda record, now: rules.succeeded(circuit, record, ticket)
        if falls_back_on(error):
            return lambda record, now: rules.failed(circuit, record, ticket, now)
        return lambda record, now: rules.released(record, ticket)

    def _announce(self, change: _Change) -> None:
        if change is None:
            return
        level = logging.WARNING if change.new == "open" else logging.INFO
        logger.log(
            level,
            "circuit %s: %s -> %s after %d consecutive failures",
            change.circuit,
            change.old,
            change.new,
            change.failures,
        )
        if self.on_change is not None:
            try:
                self.on_change(change)
            except Exception:
                logger.exception("circuit breaker on_change hook failed")


def circuit_key(provider: Provider) -> str:
    """The circuit of a provider: its name, model and base URL (the same in every worker)."""
    base_url = getattr(provider, "base_url", None) or ""
    return f"{provider.name}:{provider.model}:{base_url}"


class _GuardedProvider(ProviderWrapper):
    def __init__(self, inner: Provider, breaker: CircuitBreaker, circuit: str) -> None:
        super().__init__(inner)
        self.breaker = breaker
        self.circuit = circuit

    @property
    def circuit_state(self) -> CircuitState:
        return self.breaker.state(self.circuit)

    def complete(self, request: ModelRequest) -> ModelResponse:
        ticket = self.breaker.acquire(self.circuit)
        try:
            response = self.inner.complete(request)
        except BaseException as exc:
            self.breaker.settle(self.circuit, ticket, exc)
            raise
        self.breaker.settle(self.circuit, ticket, None)
        return response

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        ticket = await self.breaker.aacquire(self.circuit)
        try:
            response = await self.inner.acomplete(request)
        except BaseException as exc:
            await self.breaker.asettle(self.circuit, ticket, exc)
            raise
        await self.breaker.asettle(self.circuit, ticket, None)
        return response

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        ticket = self.breaker.acquire(self.circuit)
        items = self.inner.stream(request)
        outcome: BaseException | None = GeneratorExit()  # left early: no verdict
        try:
            for item in items:
                if isinstance(item, ModelResponse):
                    outcome = None
                yield item
        except BaseException as exc:
            outcome = exc
            raise
        finally:
            close_stream(items)
            self.breaker.settle(self.circuit, ticket, outcome)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        ticket = await self.breaker.aacquire(self.circuit)
        items = self.inner.astream(request)
        outcome: BaseException | None = GeneratorExit()
        try:
            async for item in items:
                if isinstance(item, ModelResponse):
                    outcome = None
                yield item
        except BaseException as exc:
            outcome = exc
            raise
        finally:
            await aclose_stream(items)
            await self.breaker.asettle(self.circuit, ticket, outcome)

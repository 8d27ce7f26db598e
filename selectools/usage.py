"""Token usage and its cost in USD, from the genai-prices table (loaded on first use)."""

from __future__ import annotations

import functools
import threading
from collections import deque

from .frozen import record

__all__ = ["NO_USAGE", "Usage", "UsageTotals", "estimate_cost"]


@record
class Usage:
    """Tokens one or more model calls used; `cost_usd` is None when any price is unknown.

    `requests` counts calls that reached a model; `cache_hits` counts answers a
    response cache gave instead (no tokens, no cost), `cache_misses` calls it
    had to pass on. `tokens_saved` estimates the input tokens prompt
    compression (`CompressPrompt`) kept from being sent.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cost_usd: float | None = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    tokens_saved: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Usage(  # positional: added up several times a run, keyword calls cost more
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.requests + other.requests,
            cost,
            self.cache_hits + other.cache_hits,
            self.cache_misses + other.cache_misses,
            self.tokens_saved + other.tokens_saved,
        )

    def to_dict(self) -> dict[str, int | float | None]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "requests": self.requests,
            "cost_usd": self.cost_usd,
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "tokens_saved": self.tokens_saved,
        }


NO_USAGE = Usage()
"""Zero usage, shared: a run starts from it and replaces it with its first model call's."""


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, *, provider_id: str | None = None
) -> float | None:
    """USD cost of one call, or None for a model the price table does not know."""
    if input_tokens == 0 and output_tokens == 0:
        return 0.0
    if (model, provider_id) in _unpriced:
        return None
    price = _price(model, provider_id, input_tokens, output_tokens)
    if price is None:
        _unpriced.add((model, provider_id))
    return price


_unpriced: set[tuple[str, str | None]] = set()  # models the table does not know: ask once


@functools.lru_cache(maxsize=4096)
def _price(
    model: str, provider_id: str | None, input_tokens: int, output_tokens: int
) -> float | None:
    if not model:
        return None
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    try:
        calc = calc_price(
            PriceUsage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref=model,
            provider_id=provider_id,
        )
    except LookupError:
        if provider_id is not None:  # e.g. an OpenAI-compatible server hosting another vendor
            return _price(model, None, input_tokens, output_tokens)
        import logging  # rare, and `import selectools` stays without logging

        logging.getLogger("selectools.usage").debug("no price known for model %r", model)
        return None
    return float(calc.total_price)


class UsageTotals:
    """Cumulative usage of one agent in this process (thread-safe).

    A finished run only appends its usage (`deque.append` is atomic); the sum
    is folded in when read, or every 1,024 runs, so runs do not queue on a lock.
    """

    _FOLD_EVERY = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        self._runs = 0
        self._unfolded: deque[Usage] = deque()

    def add(self, usage: Usage) -> None:
        self._unfolded.append(usage)
        if len(self._unfolded) >= self._FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        with self._lock:
            unfolded = self._unfolded
            while unfolded:
                self._usage = self._usage + unfolded.popleft()
                self._runs += 1

    @property
    def usage(self) -> Usage:
        self._fold()
        return self._usage

    @property
    def runs(self) -> int:
        self._fold()
        return self._runs

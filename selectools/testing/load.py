"""A load-test helper: N concurrent clients against a mounted agent, latency percentiles out.

`load_test(target, clients=20, requests=5)` sends `clients * requests`
requests to `{target}{path}` (a base URL of a running server, or an ASGI app
served in process) with `clients` in flight at once, and reports latencies
and failures. For benchmarks and smoke tests; never assert absolute speed in
unit tests.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from ..bridge import run_coroutine_sync
from ..frozen import record

__all__ = ["LoadReport", "load_test", "run_load_test"]


@record
class LoadReport:
    """Latencies in milliseconds of the requests that answered; statuses of all of them."""

    latencies_ms: tuple[float, ...]
    statuses: Mapping[int, int]
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    clients: int = 0
    samples: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    @property
    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100) of latency, in ms."""
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        cuts = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return cuts[max(0, min(98, round(q) - 1))] if q < 100 else max(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Requests answered per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "clients": self.clients,
            "ok": self.ok,
            "errors": len(self.errors),
            "p50_ms": round(self.percentile(50), 2),
            "p90_ms": round(self.percentile(90), 2),
            "p99_ms": round(self.percentile(99), 2),
            "throughput_rps": round(self.throughput, 1),
        }


async def load_test(
    target: str | Any,
    *,
    clients: int = 10,
    requests: int = 5,
    path: str = "/agent/invoke",
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    request_timeout: float = 60.0,
) -> LoadReport:
    """Drive `target` (a base URL or an ASGI app) with `clients` concurrent clients."""
    import httpx

    if clients < 1 or requests < 1:
        raise ValueError("load_test needs at least one client and one request per client.")
    body = json if json is not None else {"input": "Hello"}
    settings: dict[str, Any] = {"timeout": request_timeout, "headers": dict(headers or {})}
    if isinstance(target, str):
        client = httpx.AsyncClient(base_url=target, **settings)
    else:  # an ASGI app, served in this process
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=target), base_url="http://load", **settings
        )
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    samples: list[Any] = []

    async def one_client() -> None:
        for _ in range(requests):
            started = time.perf_counter()
            try:
                answer = await client.post(path, json=body)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if len(samples) < 3:
                samples.append(answer.text[:500])

    began = time.perf_counter()
    async with client:
        await asyncio.gather(*(one_client() for _ in range(clients)))
    return LoadReport(
        latencies_ms=tuple(latencies),
        statuses=statuses,
        errors=tuple(errors),
        seconds=time.perf_counter() - began,
        clients=clients,
        samples=tuple(samples),
    )


def run_load_test(target: str | Any, **options: Any) -> LoadReport:
    """`load_test` from sync code (a test, a script), even inside a running event loop."""
    result: LoadReport = run_coroutine_sync(load_test(target, **options))
    return result

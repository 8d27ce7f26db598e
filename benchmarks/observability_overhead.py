"""What tracing and analytics cost per run.

All variants drive the same ScriptedProvider (one tool call, then the answer)
in one process, so the differences are the policies' own work: the
OpenTelemetry policy with the SDK and an in-memory exporter (4 spans and 6
histogram points per run), with content capture, Analytics in memory, in
SQLite and in PostgreSQL when it runs on 127.0.0.1:5432 (one transaction per
run). Ratios against the bare agent measured in the same run.
Run: `python benchmarks/observability_overhead.py`.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from selectools import Agent, ScriptedProvider, call, tool
from selectools.analytics import Analytics, SQLAnalyticsStore
from selectools.telemetry import OpenTelemetry

RUNS = 300
REPEATS = 5


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def agent(*policies: object) -> Agent:
    model = ScriptedProvider([call("get_weather", city="Paris"), "Sunny."], cycle=True)
    return Agent([get_weather], model, policies=policies)


def per_run_us(run: Callable[[], object], runs: int = RUNS) -> float:
    """Median over REPEATS of the mean microseconds per run."""
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(runs):
            run()
        samples.append((time.perf_counter() - started) / runs * 1e6)
    return statistics.median(samples)


def tracing(capture: bool = False) -> OpenTelemetry:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return OpenTelemetry(
        tracer_provider=tracer_provider, meter_provider=meter_provider, capture_content=capture
    )


def main() -> None:
    folder = tempfile.mkdtemp(prefix="selectools-bench-")
    variants: dict[str, Agent] = {
        "bare agent": agent(),
        "OpenTelemetry() (SDK, in-memory export)": agent(tracing()),
        "OpenTelemetry(capture_content=True)": agent(tracing(capture=True)),
        "Analytics() in memory": agent(Analytics()),
        "Analytics(SQLAnalyticsStore(sqlite))": agent(
            Analytics(SQLAnalyticsStore(f"sqlite:///{folder}/analytics.db"))
        ),
    }
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    if port_open(5432):
        variants["Analytics(SQLAnalyticsStore(postgres))"] = agent(
            Analytics(SQLAnalyticsStore(postgres, prefix=prefix))
        )
    base = per_run_us(lambda: variants["bare agent"].run("Weather in Paris?"))
    print(f"{'variant':44} {'us/run':>9} {'x bare':>7}")
    for name, chosen in variants.items():
        if name == "bare agent":
            cost = base
        else:
            cost = per_run_us(lambda a=chosen: a.run("Weather in Paris?"))  # type: ignore[misc]
        print(f"{name:44} {cost:9.1f} {cost / base:7.2f}")
    report = variants["Analytics() in memory"].analytics()
    print(f"\nanalytics report over {report.runs} runs: ", end="")
    started = time.perf_counter()
    variants["Analytics() in memory"].analytics()
    print(f"{(time.perf_counter() - started) * 1000:.1f} ms to build")
    if port_open(5432):
        import sqlalchemy as sa

        engine = sa.create_engine(postgres)
        with engine.begin() as conn:
            for table in ("tools", "runs"):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {prefix}_{table}"))
        engine.dispose()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main()

"""Both job stores keep the same promises: first answer wins, one lease holder, ordered events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from selectools.jobs import (
    InMemoryJobStore,
    JobRecord,
    JobStore,
    RedisJobStore,
    SQLAlchemyJobStore,
)


@pytest.fixture(params=["memory", "redis", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, unique_name: str, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "memory":
        yield InMemoryJobStore()
        return
    if request.param == "sqlite":
        yield SQLAlchemyJobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
        return
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        sql_store = SQLAlchemyJobStore(url, table_prefix=f"{unique_name}_")
        yield sql_store
        with sql_store.engine.begin() as db:
            for table in ("jobs", "job_items", "job_events", "job_journal"):
                db.exec_driver_sql(f"DROP TABLE IF EXISTS {unique_name}_{table}")
        sql_store.engine.dispose()
        return
    redis_store = RedisJobStore(request.getfixturevalue("redis_url"), namespace=unique_name)
    yield redis_store
    for key in redis_store.client.scan_iter(match=f"{unique_name}:*"):
        redis_store.client.delete(key)


def test_a_job_round_trips_and_counts_each_item_once(store: JobStore) -> None:
    record = JobRecord(id="b" * 32, owner="ada", inputs=({"input": "x"}, {"input": "y"}))
    store.create(record)
    assert store.record(record.id) == record
    assert store.state(record.id).status == "queued"  # type: ignore[union-attr]
    assert store.finish_item(record.id, 1, {"index": 1, "status": 502}, ok=False)
    assert not store.finish_item(record.id, 1, {"index": 1, "status": 200}, ok=True)
    state = store.state(record.id)
    assert (state.done, state.failed) == (1, 1)  # type: ignore[union-attr]
    assert store.items(record.id) == {1: {"index": 1, "status": 502}}
    store.set_status(record.id, "succeeded")
    assert store.state(record.id).terminal  # type: ignore[union-attr]
    assert store.record("c" * 32) is None
    assert store.state("c" * 32) is None


def test_events_lease_cancel_and_journal(store: JobStore) -> None:
    record = JobRecord(id="d" * 32, owner=None, inputs=({"input": "x"},))
    store.create(record)
    numbers = [store.add_event(record.id, f"e{i}", {"i": i}) for i in range(3)]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    assert store.events(record.id, numbers[0]) == [
        (numbers[1], "e1", {"i": 1}),
        (numbers[2], "e2", {"i": 2}),
    ]
    assert [name for _, name, _ in store.events(record.id)] == ["e0", "e1", "e2"]
    assert store.claim(record.id, "w1", ttl=30)
    assert store.claim(record.id, "w1", ttl=30)  # renewing
    assert not store.claim(record.id, "w2", ttl=30)
    store.release(record.id, "w2")  # not the holder: nothing happens
    assert not store.claim(record.id, "w2", ttl=30)
    store.release(record.id, "w1")
    assert store.claim(record.id, "w2", ttl=0.05)
    assert not store.claim(record.id, "w3", ttl=30)
    time.sleep(0.1)  # the lease is a time: w2 died and its lease ran out
    assert store.claim(record.id, "w3", ttl=30)
    assert not store.state(record.id).cancel_requested  # type: ignore[union-attr]
    store.request_cancel(record.id)
    assert store.state(record.id).cancel_requested  # type: ignore[union-attr]
    assert store.journal_get(record.id, "0:t:k:1") is None
    store.journal_put(record.id, "0:t:k:1", "saved")
    assert store.journal_get(record.id, "0:t:k:1") == "saved"

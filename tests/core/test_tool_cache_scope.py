"""A cached tool result is only ever served to a call the same tool would answer the same way.

One `ToolCache` shared by per-tenant agents (a module-level cache beside an
agent factory, or one Redis cache for every worker) keyed results by the tool's
name and arguments only, so tenant B's `search("plan")` got tenant A's rows.
Each case here is how an app builds per-tenant tools: a toolkit instance per
tenant, a closure over the tenant, a context tool reading the tenant from the
run's metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from selectools import Agent, RunContext, ScriptedProvider, Tool, call, tool
from selectools.policies import ToolCache
from selectools.tools import method_tool

RECORDS = {"a": "A's merger closes Friday.", "b": "B has no news."}


class TenantNotes:
    """A toolkit scoped to one tenant, the way the connectors are."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.calls = 0

    def search_notes(self, query: str) -> str:
        """Search this tenant's notes."""
        self.calls += 1
        return f"{query}: {RECORDS[self.tenant]}"


class DeclaredScopeNotes(TenantNotes):
    """Says what its results depend on, so equal toolkits share results across workers."""

    def cache_scope(self) -> str:
        return f"tenant={self.tenant}"


def search_of(notes: TenantNotes) -> Tool:
    return method_tool(notes.search_notes)


def closure_search(tenant: str) -> Tool:
    def search_notes(query: str) -> str:
        """Search this tenant's notes."""
        return f"{query}: {RECORDS[tenant]}"

    return tool(search_notes)


def notes_of_the_caller(query: str, context: RunContext) -> str:
    """Search the calling tenant's notes."""
    return f"{query}: {RECORDS[context.metadata['tenant']]}"


def searched(tools: list[Tool], cache: ToolCache, **run: Any) -> str:
    model = ScriptedProvider([call("search_notes", query="plan"), "done"])
    result = Agent(tools, model, policies=[cache]).run("news?", **run)
    return result.tool_calls[0].output


@pytest.fixture(params=["memory", "redis"])
def shared_cache(request: pytest.FixtureRequest, unique_name: str) -> Iterator[ToolCache]:
    if request.param == "memory":
        yield ToolCache(60)
        return
    redis_url = request.getfixturevalue("redis_url")
    yield ToolCache(60, storage=redis_url, prefix=f"{unique_name}:tools:")
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{unique_name}:*"):
        client.delete(key)


def test_toolkit_instances_of_two_tenants_never_share_results(shared_cache: ToolCache) -> None:
    a, b = TenantNotes("a"), TenantNotes("b")
    assert "A's merger" in searched([search_of(a)], shared_cache)
    assert searched([search_of(b)], shared_cache) == "plan: B has no news."
    assert b.calls == 1


def test_one_toolkit_instance_still_hits_its_own_results(shared_cache: ToolCache) -> None:
    a = TenantNotes("a")
    searched([search_of(a)], shared_cache)
    searched([search_of(a)], shared_cache)
    assert a.calls == 1


def test_closures_over_two_tenants_never_share_results(shared_cache: ToolCache) -> None:
    assert "A's merger" in searched([closure_search("a")], shared_cache)
    assert searched([closure_search("b")], shared_cache) == "plan: B has no news."


def test_a_context_tool_is_keyed_by_the_run_metadata_too(shared_cache: ToolCache) -> None:
    lookup = tool(name="search_notes")(notes_of_the_caller)
    assert "A's merger" in searched([lookup], shared_cache, metadata={"tenant": "a"})
    assert searched([lookup], shared_cache, metadata={"tenant": "b"}) == "plan: B has no news."


def test_two_functions_with_one_tool_name_never_share_results(shared_cache: ToolCache) -> None:
    def first(query: str) -> str:
        """One search."""
        return "first"

    def second(query: str) -> str:
        """Another search."""
        return "second"

    assert searched([tool(name="search_notes")(first)], shared_cache) == "first"
    assert searched([tool(name="search_notes")(second)], shared_cache) == "second"


def test_toolkits_declaring_equal_scopes_share_results(shared_cache: ToolCache) -> None:
    """What another worker's toolkit with the same scope finds (a fresh instance here)."""
    first, other_worker, other_tenant = (
        DeclaredScopeNotes("a"),
        DeclaredScopeNotes("a"),
        DeclaredScopeNotes("b"),
    )
    searched([search_of(first)], shared_cache)
    assert "A's merger" in searched([search_of(other_worker)], shared_cache)
    assert searched([search_of(other_tenant)], shared_cache) == "plan: B has no news."
    assert (first.calls, other_worker.calls, other_tenant.calls) == (1, 0, 1)


def test_an_instance_token_is_never_reused_by_a_later_toolkit() -> None:
    """A freed toolkit's address may be reused; its cached results must not be."""
    cache = ToolCache(60)
    for tenant in ["a", "b"] * 20:
        notes = TenantNotes(tenant)
        assert searched([search_of(notes)], cache) == f"plan: {RECORDS[tenant]}"
        del notes

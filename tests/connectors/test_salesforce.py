"""SalesforceToolkit through the real simple-salesforce client against a local fake org."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selectools_salesforce import (
    SalesforceToolError,
    SalesforceToolkit,
    SOQLRefusedError,
    check_soql,
)
from simple_salesforce import Salesforce

from selectools import Agent, ScriptedProvider, call
from tests.fakes.salesforce_api import FakeSalesforce

ACCOUNT = "001000000000001AAA"
OPP = "006000000000001AAA"


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(tmp_path).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)  # requests trusts the fake's CA
    fake.add("Account", ACCOUNT, Name="Acme", Industry="Energy")
    for i in range(5):
        fake.add(
            "Contact",
            f"003000000000{i:03d}AAA",
            Name=f"Person {i}",
            LastName=f"P{i}",
            Email=f"p{i}@acme.com",
            AccountId=ACCOUNT,
        )
    fake.add("Opportunity", OPP, Name="Acme renewal", StageName="Prospecting", Amount=5000)
    yield fake
    fake.stop()


def toolkit(org: FakeSalesforce, **kwargs: object) -> SalesforceToolkit:
    return SalesforceToolkit(session_id="SESSION", instance_url=org.instance_url, **kwargs)  # type: ignore[arg-type]


def test_soql_pages_up_to_the_cap(org: FakeSalesforce) -> None:
    result = toolkit(org, max_records=3).soql_query("SELECT Id, Name FROM Contact")
    assert result["total_size"] == 5
    assert [r["Name"] for r in result["records"]] == [
        "Person 0",
        "Person 1",
        "Person 2",
        "Person 3",
    ][:3]
    assert "Only 3 of 5" in result["note"]
    assert "attributes" not in result["records"][0]
    everything = toolkit(org).soql_query("SELECT Id, Name FROM Contact")
    assert len(everything["records"]) == 5
    assert "note" not in everything
    # pages of 2: the capped call stops after 2 requests, the full one takes 3
    assert sum("/query/" in url for _, url in org.requests) == 2 + 3


@pytest.mark.parametrize(
    ("soql", "fragment"),
    [
        ("DELETE FROM Account", "Send one SOQL SELECT"),
        ("SELECT Id FROM Account; SELECT Id FROM User", "without ';'"),
        ("SELECT Id, Password__c FROM User", "Object 'User' is not available"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Secret__c", "Object 'Secret__c'"),
        ("SELECT Id FROM Account WHERE Name = 'x FROM User'", None),
        ("SELECT Id", "no FROM"),
    ],
)
def test_soql_is_checked_before_sending(soql: str, fragment: str | None) -> None:
    allowed = ("Account", "Contact")
    if fragment is None:
        assert check_soql(soql, allowed) == "Account"
        return
    with pytest.raises(SOQLRefusedError, match=fragment):
        check_soql(soql, allowed)


def test_refused_soql_never_reaches_salesforce(org: FakeSalesforce) -> None:
    with pytest.raises(SOQLRefusedError):
        toolkit(org).soql_query("SELECT Id FROM User")
    assert org.requests == []


def test_sosl_search_escapes_and_scopes(org: FakeSalesforce) -> None:
    found = toolkit(org).sosl_search("p3@acme.com", objects=["Contact"])
    assert [r["Name"] for r in found["records"]] == ["Person 3"]
    sent = org.requests[-1][1]
    assert "p3%40acme.com" in sent or "p3@acme.com" in sent
    assert "RETURNING+Contact" in sent or "RETURNING%20Contact" in sent
    assert "Account" not in sent
    with pytest.raises(SalesforceToolError, match="not available"):
        toolkit(org).sosl_search("x", objects=["User"])


def test_describe_and_get(org: FakeSalesforce) -> None:
    described = toolkit(org).describe_object("Opportunity")
    stage = next(f for f in described["fields"] if f["name"] == "StageName")
    assert stage["picklist"] == ["Prospecting", "Closed Won"]
    assert toolkit(org).get_record("Account", ACCOUNT)["Name"] == "Acme"
    with pytest.raises(SalesforceToolError, match="not a Salesforce id"):
        toolkit(org).get_record("Account", "1; DROP")


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        (lambda t: t.soql_query("SELECT bogus FROM Account"), "MALFORMED_QUERY"),
        (lambda t: t.get_record("Account", "001000000000999AAA"), "Not found"),
    ],
)
def test_errors_are_translated(org: FakeSalesforce, action: object, fragment: str) -> None:
    with pytest.raises(SalesforceToolError, match=fragment):
        action(toolkit(org))  # type: ignore[operator]


def test_expired_session_says_so(org: FakeSalesforce) -> None:
    org.expired = True
    with pytest.raises(SalesforceToolError, match=r"session has expired .* cannot log in again"):
        toolkit(org).soql_query("SELECT Id FROM Account")


def test_writes_only_on_listed_objects(org: FakeSalesforce) -> None:
    read_only = toolkit(org)
    assert "update_record" not in [t.name for t in read_only.tools()]
    writer = toolkit(org, writable_objects=["Opportunity", "Lead"])
    schema = next(t for t in writer.tools() if t.name == "update_record").parameters
    assert schema["properties"]["object_name"]["enum"] == ["Opportunity", "Lead"]
    writer.update_record("Opportunity", OPP, {"StageName": "Closed Won"})
    assert org.records["Opportunity"][OPP]["StageName"] == "Closed Won"
    created = writer.create_record("Lead", {"LastName": "Lovelace", "Company": "AE"})
    assert org.records["Lead"][created["id"]]["Company"] == "AE"
    with pytest.raises(SalesforceToolError, match="read-only here"):
        writer.update_record("Account", ACCOUNT, {"Name": "Evil"})
    with pytest.raises(SalesforceToolError, match="REQUIRED_FIELD_MISSING"):
        writer.create_record("Lead", {"Company": "NoName"})
    assert org.records["Account"][ACCOUNT]["Name"] == "Acme"


def test_from_an_existing_client(org: FakeSalesforce) -> None:
    sf = Salesforce(session_id="SESSION", instance_url=org.instance_url, session=org.session())
    assert SalesforceToolkit(sf).get_record("Account", ACCOUNT)["Industry"] == "Energy"


def test_agent_finds_a_contact_and_updates_the_deal(org: FakeSalesforce) -> None:
    tools = toolkit(org, writable_objects=["Opportunity"], require_approval=False)
    provider = ScriptedProvider(
        [
            call("sosl_search", text="p1@acme.com"),
            call(
                "soql_query", soql=f"SELECT Id, Name FROM Opportunity WHERE AccountId = '{ACCOUNT}'"
            ),
            call(
                "update_record",
                object_name="Opportunity",
                record_id=OPP,
                fields={"StageName": "Closed Won"},
            ),
            "Done.",
        ]
    )
    result = Agent(tools.tools(), provider).run("Person 1 signed: close their opportunity.")
    assert result.tool_calls[0].result["records"][0]["Name"] == "Person 1"
    assert result.tool_calls[2].error is None
    assert org.records["Opportunity"][OPP]["StageName"] == "Closed Won"

"""HubSpotToolkit through the real hubspot-api-client against a local fake HubSpot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot import HubSpot
from selectools_hubspot import HubSpotToolError, HubSpotToolkit, PropertyFilter

from selectools import Agent, ScriptedProvider, call
from tests.fakes.hubspot_server import Failure, FakeHubSpot


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot().start()
    fake.add("contacts", {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@ae.io"}, "1")
    fake.add("contacts", {"firstname": "Alan", "lastname": "Turing", "email": "alan@bp.uk"}, "2")
    fake.add(
        "contacts", {"firstname": "Grace", "lastname": "Hopper", "email": "grace@navy.mil"}, "3"
    )
    fake.add("companies", {"name": "Analytical Engines", "domain": "ae.io"}, "10")
    fake.add(
        "deals", {"dealname": "Engine order", "amount": "5000", "dealstage": "qualified"}, "20"
    )
    fake.link("contacts", "1", "companies", "10")
    fake.link("contacts", "1", "deals", "20")
    yield fake
    fake.stop()


def kit(hub: FakeHubSpot, token: str = "test-token", **kwargs: object) -> HubSpotToolkit:
    client = HubSpot(access_token=token, host=hub.url)
    return HubSpotToolkit(client=client, **kwargs)  # type: ignore[arg-type]


def test_search_by_text_filters_sort_and_paging(hub: FakeHubSpot) -> None:
    tools = kit(hub)
    assert [r["id"] for r in tools.search_records("contacts", query="lovelace")["results"]] == ["1"]
    filtered = tools.search_records(
        "contacts",
        filters=[PropertyFilter(property="email", operator="CONTAINS_TOKEN", value="*.uk")],
    )
    assert [r["properties"]["firstname"] for r in filtered["results"]] == ["Alan"]
    first = tools.search_records("contacts", sort_by="firstname", limit=2)
    assert [r["properties"]["firstname"] for r in first["results"]] == ["Ada", "Alan"]
    assert first["total"] == 3
    second = tools.search_records(
        "contacts", sort_by="firstname", limit=2, after=first["next_after"]
    )
    assert [r["properties"]["firstname"] for r in second["results"]] == ["Grace"]
    assert second["next_after"] is None
    body = hub.requests[-1][2]
    assert body["properties"] == ["firstname", "lastname", "email", "company", "phone"]
    assert body["sorts"] == [{"propertyName": "firstname", "direction": "ASCENDING"}]


def test_limit_is_capped(hub: FakeHubSpot) -> None:
    kit(hub, max_results=2).search_records("contacts", limit=500)
    assert hub.requests[-1][2]["limit"] == 2


def test_get_record_with_associations(hub: FakeHubSpot) -> None:
    record = kit(hub).get_record("contacts", "1")
    assert record["properties"]["email"] == "ada@ae.io"
    assert record["associations"] == {"companies": ["10"], "deals": ["20"]}


def test_unlisted_object_types_are_refused(hub: FakeHubSpot) -> None:
    tools = kit(hub, objects=("contacts",))
    with pytest.raises(HubSpotToolError, match="Object type 'deals' is not available"):
        tools.search_records("deals")
    schema = tools.tools()[0].parameters["properties"]["object_type"]
    assert schema["enum"] == ["contacts"]


def test_writes_are_refused_unless_allowed(hub: FakeHubSpot) -> None:
    read_only = kit(hub)
    assert [t.name for t in read_only.tools()] == ["search_records", "get_record"]
    with pytest.raises(HubSpotToolError, match="read-only"):
        read_only.update_record("deals", "20", {"dealstage": "closedwon"})
    assert hub.records["deals"]["20"]["properties"]["dealstage"] == "qualified"


def test_create_update_associate_and_note(hub: FakeHubSpot) -> None:
    tools = kit(hub, allow_writes=True)
    created = tools.create_record("contacts", {"email": "new@x.io", "firstname": "New"})
    assert hub.records["contacts"][created["id"]]["properties"]["firstname"] == "New"
    tools.update_record("deals", "20", {"dealstage": "closedwon"})
    assert hub.records["deals"]["20"]["properties"]["dealstage"] == "closedwon"
    tools.associate_records("contacts", created["id"], "companies", "10")
    assert ("contacts", created["id"], "companies", "10") in hub.links
    note = tools.add_note("deals", "20", "Signed today.")
    assert hub.records["notes"][note["note_id"]]["properties"]["hs_note_body"] == "Signed today."
    assert ("notes", note["note_id"], "deals", "20") in hub.links


@pytest.mark.parametrize(
    ("failure", "fragment"),
    [
        (Failure(403, "MISSING_SCOPES", "This app lacks crm.objects.deals.read"), "lacks a scope"),
        (Failure(500, "INTERNAL_ERROR", "boom"), "HTTP 500"),
        (
            Failure(400, "VALIDATION_ERROR", "Property 'x' does not exist"),
            "does not exist (VALIDATION_ERROR)",
        ),
    ],
)
def test_errors_become_clear_tool_errors(hub: FakeHubSpot, failure: Failure, fragment: str) -> None:
    hub.fail("search", failure)
    with pytest.raises(HubSpotToolError) as info:
        kit(hub).search_records("deals")
    assert fragment in str(info.value)
    assert info.value.status == failure.status


def test_bad_token_and_missing_record_and_duplicate(hub: FakeHubSpot) -> None:
    with pytest.raises(HubSpotToolError, match="rejected the access token"):
        kit(hub, token="wrong").search_records("contacts")
    with pytest.raises(HubSpotToolError, match=r"Not found .* Check the id"):
        kit(hub).get_record("deals", "999")
    with pytest.raises(HubSpotToolError, match="exists already; search for it"):
        kit(hub, allow_writes=True).create_record("contacts", {"email": "ada@ae.io"})


def test_rate_limits_are_retried_with_retry_after(hub: FakeHubSpot) -> None:
    hub.fail(
        "search",
        Failure(429, "RATE_LIMITS", "Ten secondly rolling limit", {"Retry-After": "0"}),
        times=2,
    )
    result = kit(hub).search_records("contacts", query="ada")
    assert result["total"] == 1
    assert sum(1 for r in hub.requests if r[1].endswith("/search")) == 3


def test_rate_limit_retries_are_bounded(hub: FakeHubSpot) -> None:
    hub.fail("search", Failure(429, "RATE_LIMITS", "limit", {"Retry-After": "0"}), times=5)
    with pytest.raises(HubSpotToolError, match="rate limiting") as info:
        kit(hub, max_retries=2).search_records("contacts")
    assert info.value.status == 429
    assert sum(1 for r in hub.requests if r[1].endswith("/search")) == 3


def test_connection_errors_are_translated() -> None:
    from urllib3.util.retry import Retry

    client = HubSpot(access_token="test-token", host="http://127.0.0.1:9", retry=Retry(0))
    with pytest.raises(HubSpotToolError, match="Could not reach HubSpot"):
        HubSpotToolkit(client=client).search_records("contacts")


def test_agent_finds_a_contact_and_updates_their_deal(hub: FakeHubSpot) -> None:
    tools = kit(hub, allow_writes=True, require_approval=False)
    provider = ScriptedProvider(
        [
            call("search_records", object_type="contacts", query="ada@ae.io"),
            call("get_record", object_type="contacts", record_id="1", associations=["deals"]),
            call(
                "update_record",
                object_type="deals",
                record_id="20",
                properties={"dealstage": "closedwon"},
            ),
            call("add_note", object_type="deals", record_id="20", body="Won via the agent."),
            "Ada's deal is now closed won.",
        ]
    )
    result = Agent(tools.tools(), provider).run("Mark Ada's deal as won.")
    assert all(r.error is None for r in result.tool_calls), [r.error for r in result.tool_calls]
    assert result.tool_calls[1].result["associations"] == {"deals": ["20"]}
    assert hub.records["deals"]["20"]["properties"]["dealstage"] == "closedwon"
    assert "test-token" not in "".join(r.output for r in result.tool_calls)

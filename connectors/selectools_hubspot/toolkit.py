"""HubSpotToolkit: search and read CRM records; create, update, associate and note on opt-in."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from selectools.tools import Tool, Toolkit, method_tool

from .errors import (
    HubSpotBadResponseError,
    HubSpotRefusedError,
    is_api_exception,
    rate_limited,
    retry_after,
    translate,
)

__all__ = ["HubSpotToolkit", "PropertyFilter"]

T = TypeVar("T")

DEFAULT_PROPERTIES = {
    "contacts": ["firstname", "lastname", "email", "company", "phone"],
    "companies": ["name", "domain", "industry", "city"],
    "deals": ["dealname", "amount", "dealstage", "closedate", "pipeline"],
}
# HubSpot-defined association type ids for note -> object.
_NOTE_ASSOCIATION = {"contacts": 202, "companies": 190, "deals": 214, "tickets": 228}
_WRITES = ("create_record", "update_record", "associate_records", "add_note")
_RECORD_ID = re.compile(r"^[0-9]{1,20}$")


class PropertyFilter(BaseModel):
    """One condition on a property."""

    property: str = Field(description="the property's internal name, e.g. 'email'")
    operator: Literal[
        "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"
    ] = "EQ"
    value: str | None = Field(default=None, description="compared value (omit for HAS_PROPERTY)")


class HubSpotToolkit(Toolkit):
    """Tools over a HubSpot account, read-only unless `allow_writes=True`.

    Exactly one layer retries: this one. The toolkit builds the SDK's API
    clients itself with urllib3's retries off (the SDK would otherwise retry
    429s under ours, and sleep for any Retry-After), so a call makes at most
    `max_retries + 1` requests, waits at most `max_backoff` between them and
    `max_retry_time` in all; a Retry-After beyond those bounds ends the call at
    once with a `HubSpotRateLimitError` that says when to try again.

    Args:
        access_token: a private-app token (or pass `client=HubSpot(...)`); never
            shown to the model.
        client: a `hubspot.HubSpot` client; its settings (token, host, ...) are
            copied, its own `retry` and `api_factory` are not used.
        host: the API host, e.g. "https://api-eu1.hubapi.com" for EU accounts.
        objects: the object types the tools may touch.
        allow_writes: adds create, update, associate and add-note tools (and
            lets the methods of the same names run at all).
        max_results: most records per search page.
        max_retries: retries of a 429 (so at most max_retries + 1 requests).
        max_backoff: the longest single wait between attempts, in seconds.
        max_retry_time: the most time spent waiting across one call's retries.
        timeout: seconds for each HTTP request (connect and read).
    """

    name = "hubspot"

    def __init__(
        self,
        access_token: str | None = None,
        *,
        client: Any = None,
        host: str | None = None,
        objects: Sequence[str] = ("contacts", "companies", "deals"),
        allow_writes: bool = False,
        max_results: int = 20,
        max_retries: int = 3,
        max_backoff: float = 30.0,
        max_retry_time: float = 60.0,
        timeout: float = 30.0,
        name_prefix: str = "",
        require_approval: bool = True,
    ) -> None:
        from hubspot import HubSpot

        if client is None and not access_token:
            raise ValueError("HubSpotToolkit needs access_token=... or client=HubSpot(...).")
        self._apis: dict[tuple[str, str], Any] = {}
        self._apis_lock = threading.Lock()
        settings = dict(client.config) if client is not None else {"access_token": access_token}
        if host:
            settings["host"] = host.rstrip("/")
        settings["retry"] = _no_retries()
        settings["api_factory"] = self._api_factory
        self.client = HubSpot(**settings)
        self.objects = tuple(objects)
        self.allow_writes = allow_writes
        self.require_approval = require_approval
        self.max_results = max_results
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self.max_retry_time = max_retry_time
        self.timeout = timeout
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        methods: list[Callable[..., Any]] = [self.search_records, self.get_record]
        if self.allow_writes:
            methods += [
                self.create_record,
                self.update_record,
                self.associate_records,
                self.add_note,
            ]
        return [self._tool(m) for m in methods]

    def close(self) -> None:
        """Close the connection pools of the API clients this toolkit made."""
        with self._apis_lock:
            apis, self._apis = list(self._apis.values()), {}
        for api in apis:
            api.api_client.rest_client.pool_manager.clear()
            api.api_client.close()

    def _tool(self, method: Callable[..., Any]) -> Tool:
        kinds = ("object_type", "from_object_type", "to_object_type")
        writes = getattr(method, "__name__", "") in _WRITES
        return method_tool(
            method,
            prefix=self.name_prefix,
            choices=dict.fromkeys(kinds, self.objects),
            writes=writes,
            requires_approval=writes and self.require_approval,
        )

    def _api_factory(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        """The SDK's own factory, once per API, with retries off and JSON bodies checked."""
        from hubspot.discovery.discovery_base import DiscoveryBase

        key = (package.__name__, api_name)
        with self._apis_lock:
            api = self._apis.get(key)
            if api is None:
                api = DiscoveryBase._default_api_factory(
                    package, api_name, {**config, "retry": _no_retries()}
                )
                api.api_client.deserialize = _json_objects_only(api.api_client.deserialize)
                self._apis[key] = api
        return api

    # -- reads -------------------------------------------------------------------

    def search_records(
        self,
        object_type: str,
        query: str | None = None,
        filters: Sequence[PropertyFilter] | None = None,
        sort_by: str | None = None,
        descending: bool = False,
        properties: Sequence[str] | None = None,
        limit: int = 10,
        after: str | None = None,
    ) -> dict[str, Any]:
        """Search records by free text and/or property filters, one page at a time.

        Args:
            object_type: which kind of record
            query: free text matched against the record's default searchable properties
            filters: conditions that must all hold
            sort_by: a property to sort by
            descending: sort from high to low
            properties: properties to return (defaults to the common ones)
            limit: records per page
            after: the `next_after` of the previous page
        """
        from hubspot.crm.objects import Filter, FilterGroup, PublicObjectSearchRequest

        kind = self._object(object_type)
        request = PublicObjectSearchRequest(
            query=query or None,
            limit=max(1, min(limit, self.max_results)),
            after=after or None,
            properties=list(properties) if properties else DEFAULT_PROPERTIES.get(kind),
            sorts=[
                {"propertyName": sort_by, "direction": "DESCENDING" if descending else "ASCENDING"}
            ]
            if sort_by
            else None,
            filter_groups=[
                FilterGroup(
                    filters=[
                        Filter(property_name=f.property, operator=f.operator, value=f.value)
                        for f in filters
                    ]
                )
            ]
            if filters
            else None,
        )
        page = self._call(
            f"search {kind}",
            lambda: self.client.crm.objects.search_api.do_search(
                kind, public_object_search_request=request, _request_timeout=self.timeout
            ),
        )
        following = page.paging.next.after if page.paging and page.paging.next else None
        return {
            "total": page.total,
            "results": [_record(r) for r in page.results],
            "next_after": following,
        }

    def get_record(
        self,
        object_type: str,
        record_id: str,
        properties: Sequence[str] | None = None,
        associations: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Get one record by id, with the ids of its associated records.

        Args:
            object_type: which kind of record
            record_id: the record's id
            properties: properties to return (defaults to the common ones)
            associations: object types whose associated ids to include, e.g. ["companies"]
        """
        kind = self._object(object_type)
        _check_id(record_id)
        linked = [self._object(a) for a in associations or [o for o in self.objects if o != kind]]
        found = self._call(
            f"read {kind} {record_id}",
            lambda: self.client.crm.objects.basic_api.get_by_id(
                kind,
                record_id,
                properties=list(properties) if properties else DEFAULT_PROPERTIES.get(kind),
                associations=linked,
                _request_timeout=self.timeout,
            ),
        )
        record = _record(found)
        record["associations"] = {
            name: [item.id for item in (group.results or [])]
            for name, group in (found.associations or {}).items()
        }
        return record

    # -- writes ------------------------------------------------------------------

    def create_record(self, object_type: str, properties: dict[str, str]) -> dict[str, Any]:
        """Create a record.

        Args:
            object_type: which kind of record
            properties: property values by internal name, e.g. {"email": "a@b.com"}
        """
        from hubspot.crm.objects import SimplePublicObjectInputForCreate

        kind = self._writable(object_type)
        created = self._call(
            f"create a {kind} record",
            lambda: self.client.crm.objects.basic_api.create(
                kind,
                simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                    properties=properties
                ),
                _request_timeout=self.timeout,
            ),
        )
        return _record(created)

    def update_record(
        self, object_type: str, record_id: str, properties: dict[str, str]
    ) -> dict[str, Any]:
        """Change properties of a record.

        Args:
            object_type: which kind of record
            record_id: the record's id
            properties: the new values by internal name
        """
        from hubspot.crm.objects import SimplePublicObjectInput

        kind = self._writable(object_type)
        _check_id(record_id)
        updated = self._call(
            f"update {kind} {record_id}",
            lambda: self.client.crm.objects.basic_api.update(
                kind,
                record_id,
                simple_public_object_input=SimplePublicObjectInput(properties=properties),
                _request_timeout=self.timeout,
            ),
        )
        return _record(updated)

    def associate_records(
        self, from_object_type: str, from_id: str, to_object_type: str, to_id: str
    ) -> dict[str, Any]:
        """Link two records with HubSpot's default association (e.g. a contact to a company).

        Args:
            from_object_type: the first record's kind
            from_id: the first record's id
            to_object_type: the second record's kind
            to_id: the second record's id
        """
        source, target = self._writable(from_object_type), self._writable(to_object_type)
        _check_id(from_id)
        _check_id(to_id)
        self._call(
            f"associate {source} {from_id} with {target} {to_id}",
            lambda: self.client.crm.associations.v4.basic_api.create_default(
                source, from_id, target, to_id, _request_timeout=self.timeout
            ),
        )
        return {"associated": [f"{source}/{from_id}", f"{target}/{to_id}"]}

    def add_note(self, object_type: str, record_id: str, body: str) -> dict[str, Any]:
        """Add a note to a record's timeline.

        Args:
            object_type: which kind of record
            record_id: the record's id
            body: the note's text
        """
        from hubspot.crm.objects import (
            AssociationSpec,
            PublicAssociationsForObject,
            PublicObjectId,
            SimplePublicObjectInputForCreate,
        )

        kind = self._writable(object_type)
        _check_id(record_id)
        if kind not in _NOTE_ASSOCIATION:
            raise HubSpotRefusedError(f"Notes can be added to {', '.join(_NOTE_ASSOCIATION)} only.")
        note = SimplePublicObjectInputForCreate(
            properties={"hs_note_body": body, "hs_timestamp": datetime.now(UTC).isoformat()},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=record_id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED",
                            association_type_id=_NOTE_ASSOCIATION[kind],
                        )
                    ],
                )
            ],
        )
        created = self._call(
            f"add a note to {kind} {record_id}",
            lambda: self.client.crm.objects.basic_api.create(
                "notes", simple_public_object_input_for_create=note, _request_timeout=self.timeout
            ),
        )
        return {"note_id": created.id, "attached_to": f"{kind}/{record_id}"}

    # -- plumbing ----------------------------------------------------------------

    def _object(self, object_type: str) -> str:
        kind = object_type.lower()
        if kind not in self.objects:
            choices = ", ".join(self.objects)
            raise HubSpotRefusedError(
                f"Object type '{object_type}' is not available. Use one of: {choices}."
            )
        return kind

    def _writable(self, object_type: str) -> str:
        if not self.allow_writes:
            raise HubSpotRefusedError("This HubSpot toolkit is read-only: writes are not enabled.")
        return self._object(object_type)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run one SDK call; retry a 429 within the count, backoff and total-time bounds."""
        from urllib3.exceptions import HTTPError

        deadline = time.monotonic() + self.max_retry_time
        for attempt in range(self.max_retries + 1):
            try:
                result = call()
            except HTTPError as exc:
                raise translate(exc, what) from None
            except Exception as exc:
                if not is_api_exception(exc):
                    raise
                if getattr(exc, "status", None) != 429:
                    raise translate(exc, what) from None
                asked = retry_after(exc)
                wait = asked if asked is not None else min(self.max_backoff, 0.5 * 2**attempt)
                if (
                    attempt == self.max_retries
                    or wait > self.max_backoff
                    or time.monotonic() + wait > deadline
                ):
                    raise rate_limited(what, max(wait, 1.0)) from None
                time.sleep(wait)
                continue
            if result is None:  # a status the SDK has no model for (a 200 where 201 is due)
                raise HubSpotBadResponseError(
                    f"HubSpot answered the request to {what} without the expected record, "
                    f"so nothing is known about its outcome. Check before trying again."
                )
            return result
        raise AssertionError("unreachable")  # pragma: no cover


def _no_retries() -> Any:
    """urllib3 retries off: one request per SDK call, no sleeping on Retry-After."""
    from urllib3.util.retry import Retry

    return Retry(total=0, redirect=False, respect_retry_after_header=False, raise_on_status=False)


def _json_objects_only(deserialize: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """The SDK reads a non-JSON 200 as an empty model; make it an error instead."""

    def strict(response: Any, response_type: Any) -> Any:
        try:
            body = json.loads(response.data)
        except (TypeError, ValueError):
            body = None
        if not isinstance(body, dict):
            raise HubSpotBadResponseError(
                f"HubSpot answered HTTP {response.status} with a body that is not a JSON "
                f"object ({response.getheader('content-type') or 'no content type'}), so "
                f"nothing was read. Try again later.",
                status=response.status,
            )
        return deserialize(response, response_type)

    return strict


def _check_id(record_id: str) -> None:
    if not _RECORD_ID.match(record_id):
        raise HubSpotRefusedError(
            f"'{record_id}' is not a HubSpot record id (digits only). Search for the record first."
        )


def _record(found: Any) -> dict[str, Any]:
    return {"id": found.id, "properties": {k: v for k, v in (found.properties or {}).items()}}

"""SalesforceToolkit: SOQL and SOSL reads, describe and get; creates and updates on opt-in."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from selectools.tools import Tool, Toolkit, method_tool

from .errors import SalesforceRefusedError, SalesforceUpstreamError
from .guard import check_soql

__all__ = ["SalesforceToolkit"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_RECORD_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_SOSL_RESERVED = re.compile(r'([?&|!{}\[\]()^~*:\\"\'+\-])')


class SalesforceToolkit(Toolkit):
    """Tools over one Salesforce org, read-only unless `writable_objects` is set.

    Every SOQL statement is parsed before it is sent, and every object it reaches
    (relationship fields, TYPEOF, child subqueries, semi-joins; relationship
    names resolved through describe, cached) must be in `objects`.

    Args:
        sf: a `simple_salesforce.Salesforce`; or `session_id` and `instance_url`
            (no login round-trip; a plain session id cannot re-login when it expires).
        objects: the sObjects the tools may touch.
        writable_objects: objects the create and update tools may change (enables them).
        max_records: most records one SOQL tool call returns (paged with query_more).
    """

    name = "salesforce"

    def __init__(
        self,
        sf: Any = None,
        *,
        session_id: str | None = None,
        instance_url: str | None = None,
        objects: Sequence[str] = ("Account", "Contact", "Opportunity", "Lead", "Case"),
        writable_objects: Sequence[str] = (),
        max_records: int = 200,
        name_prefix: str = "",
        require_approval: bool = True,
    ) -> None:
        self._owns_sf = sf is None
        if sf is None:
            if not (session_id and instance_url):
                raise ValueError("SalesforceToolkit needs sf=... or session_id and instance_url.")
            from simple_salesforce.api import Salesforce

            sf = Salesforce(session_id=session_id, instance_url=instance_url)
        self.sf = sf
        self._describes: dict[str, Mapping[str, Any]] = {}
        self._describes_lock = threading.Lock()
        self.objects = tuple(objects)
        self.writable_objects = tuple(o for o in writable_objects if o in self.objects)
        self.max_records = max_records
        self.name_prefix = name_prefix
        self.require_approval = require_approval

    def tools(self) -> list[Tool]:
        methods: list[Callable[..., Any]] = [
            self.soql_query,
            self.sosl_search,
            self.describe_object,
            self.get_record,
        ]
        if self.writable_objects:
            methods += [self.create_record, self.update_record]
        return [self._tool(m) for m in methods]

    def close(self) -> None:
        """Close the HTTP session if this toolkit made the client (a client you passed stays)."""
        if self._owns_sf:
            self.sf.session.close()

    def _tool(self, method: Callable[..., Any]) -> Tool:
        writes = method.__name__ in ("create_record", "update_record")
        allowed = self.writable_objects if writes else self.objects
        return method_tool(
            method,
            prefix=self.name_prefix,
            choices={"object_name": allowed},
            writes=writes,
            requires_approval=writes and self.require_approval,
        )

    # -- reads -------------------------------------------------------------------

    def soql_query(self, soql: str) -> dict[str, Any]:
        """Run a SOQL SELECT query, e.g. SELECT Id, Name FROM Account WHERE Industry = 'Energy'.

        Args:
            soql: one SOQL SELECT on an available object
        """
        check_soql(soql, self.objects, self._describe)
        page = self._call("run the SOQL query", lambda: self.sf.query(soql))
        records = list(page.get("records", []))
        while not page.get("done", True) and len(records) < self.max_records:
            page = self._call(
                "fetch more records",
                functools.partial(
                    self.sf.query_more, page["nextRecordsUrl"], identifier_is_url=True
                ),
            )
            records.extend(page.get("records", []))
        total = int(page.get("totalSize", len(records)))
        shown = [_clean(r) for r in records[: self.max_records]]
        result: dict[str, Any] = {"total_size": total, "records": shown}
        if total > len(shown):
            result["note"] = (
                f"Only {len(shown)} of {total} records are shown. Narrow the WHERE clause "
                f"or aggregate (COUNT, SUM) instead."
            )
        return result

    def sosl_search(self, text: str, objects: Sequence[str] | None = None) -> dict[str, Any]:
        """Search text across objects (SOSL), e.g. a person's name or an email address.

        Args:
            text: the words to find
            objects: which objects to search (default: all available)
        """
        chosen = [self._object(o) for o in objects] if objects else list(self.objects)
        escaped = _SOSL_RESERVED.sub(r"\\\1", text.strip())
        if not escaped:
            raise SalesforceRefusedError("Send some text to search for.")
        returning = ", ".join(
            f"{o}(Id, Name)" if o != "Case" else "Case(Id, Subject)" for o in chosen
        )
        sosl = f"FIND {{{escaped}}} IN ALL FIELDS RETURNING {returning} LIMIT {self.max_records}"
        found = self._call("search", lambda: self.sf.search(sosl))
        return {"records": [_clean(r) for r in found.get("searchRecords", [])]}

    def describe_object(self, object_name: str) -> dict[str, Any]:
        """The fields of an object: name, label, type, whether writable, picklist values.

        Args:
            object_name: the sObject, e.g. Account
        """
        described = self._describe(self._object(object_name))
        name = self._object(object_name)
        return {
            "name": described.get("name", name),
            "label": described.get("label"),
            "fields": [
                {
                    "name": f["name"],
                    "label": f.get("label"),
                    "type": f.get("type"),
                    "updateable": f.get("updateable"),
                    **(
                        {"picklist": [p["value"] for p in f["picklistValues"] if p.get("active")]}
                        if f.get("picklistValues")
                        else {}
                    ),
                }
                for f in described.get("fields", [])
            ],
        }

    def get_record(self, object_name: str, record_id: str) -> dict[str, Any]:
        """Get one record by its Salesforce id.

        Args:
            object_name: the sObject, e.g. Contact
            record_id: the 15- or 18-character id
        """
        name = self._object(object_name)
        self._check_id(record_id)
        found = self._call(
            f"read {name} {record_id}", lambda: getattr(self.sf, name).get(record_id)
        )
        return _clean(found)

    # -- writes ------------------------------------------------------------------

    def create_record(self, object_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a record.

        Args:
            object_name: the sObject, e.g. Lead
            fields: field values by API name, e.g. {"LastName": "Lovelace", "Company": "AE"}
        """
        name = self._writable(object_name)
        created = self._call(f"create a {name}", lambda: getattr(self.sf, name).create(fields))
        return {"id": created.get("id"), "success": created.get("success", True)}

    def update_record(
        self, object_name: str, record_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Change fields of a record.

        Args:
            object_name: the sObject, e.g. Opportunity
            record_id: the 15- or 18-character id
            fields: the new values by API name
        """
        name = self._writable(object_name)
        self._check_id(record_id)
        self._call(
            f"update {name} {record_id}", lambda: getattr(self.sf, name).update(record_id, fields)
        )
        return {"id": record_id, "updated": sorted(fields)}

    # -- plumbing ----------------------------------------------------------------

    def _describe(self, name: str) -> Mapping[str, Any]:
        """An allowed object's describe, fetched once per toolkit (metadata, not data)."""
        with self._describes_lock:
            cached = self._describes.get(name)
        if cached is None:
            cached = self._call(f"describe {name}", lambda: getattr(self.sf, name).describe())
            if not isinstance(cached, Mapping):
                raise SalesforceUpstreamError(f"Salesforce sent no describe for {name}.")
            with self._describes_lock:
                self._describes[name] = cached
        return cached

    def _object(self, object_name: str) -> str:
        allowed = {o.lower(): o for o in self.objects}
        if object_name.lower() not in allowed:
            raise SalesforceRefusedError(
                f"Object '{object_name}' is not available. Use one of: {', '.join(self.objects)}."
            )
        return allowed[object_name.lower()]

    def _writable(self, object_name: str) -> str:
        name = self._object(object_name)
        if name not in self.writable_objects:
            raise SalesforceRefusedError(
                f"'{name}' is read-only here. Writable objects: "
                f"{', '.join(self.writable_objects) or '(none)'}."
            )
        return name

    @staticmethod
    def _check_id(record_id: str) -> None:
        if not _RECORD_ID.match(record_id):
            raise SalesforceRefusedError(
                f"'{record_id}' is not a Salesforce id (15 or 18 letters and digits)."
            )

    def _call(self, what: str, call: Callable[[], T]) -> T:
        from simple_salesforce.exceptions import (
            SalesforceError,
            SalesforceExpiredSession,
            SalesforceMalformedRequest,
            SalesforceRefusedRequest,
            SalesforceResourceNotFound,
        )

        try:
            return call()
        except SalesforceExpiredSession:
            raise SalesforceUpstreamError(
                "The Salesforce session has expired (401), and a plain session id cannot log in "
                "again. The application must supply a fresh session."
            ) from None
        except SalesforceMalformedRequest as exc:  # about the model's own query or fields
            raise SalesforceUpstreamError(
                f"Salesforce rejected the request to {what}: {_detail(exc)}"
            ) from None
        except SalesforceResourceNotFound:
            raise SalesforceUpstreamError(
                f"Not found while trying to {what}. Check the id."
            ) from None
        except SalesforceRefusedRequest as exc:
            logger.info("Salesforce refused to %s: %s", what, _detail(exc))
            raise SalesforceUpstreamError(
                f"Salesforce refused to {what} (403): this user lacks the permission."
            ) from None
        except SalesforceError as exc:
            logger.warning("Salesforce failed to %s: %s", what, _detail(exc))
            raise SalesforceUpstreamError(
                f"Salesforce failed to {what}. Try again later."
            ) from None
        except (OSError, ValueError) as exc:  # requests' errors and bodies that are not JSON
            logger.warning("Salesforce unreachable or unreadable to %s: %r", what, exc)
            raise SalesforceUpstreamError(
                f"Could not get an answer from Salesforce to {what}. Try again later."
            ) from None


def _detail(exc: Any) -> str:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return f"{first.get('errorCode', '')}: {first.get('message', '')}".strip(": ")
    return str(content or exc)


def _clean(record: Any) -> dict[str, Any]:
    """Drop Salesforce's `attributes` blocks (type and URL noise) recursively."""
    if not isinstance(record, dict):
        return record  # type: ignore[no-any-return]
    return {
        k: (_clean(v) if isinstance(v, dict) else v) for k, v in record.items() if k != "attributes"
    }

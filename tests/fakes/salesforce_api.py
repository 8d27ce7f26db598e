"""Salesforce's REST API faked at the HTTP layer of simple-salesforce's requests session.

simple-salesforce hard-codes https://, so instead of a server the `responses`
library answers its requests; the real client builds every URL and parses every body.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import responses

INSTANCE = "acme.my.salesforce.com"
BASE = f"https://{INSTANCE}/services/data/v59.0/"


class FakeSalesforce:
    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.expired = False
        self.requests: list[tuple[str, str]] = []
        self.page_size = 2
        self._pages: dict[str, list[dict[str, Any]]] = {}
        rsps.add_callback(responses.GET, re.compile(rf"https://{INSTANCE}/.*"), self._get)
        rsps.add_callback(responses.POST, re.compile(rf"{BASE}sobjects/\w+/"), self._create)
        rsps.add_callback(responses.PATCH, re.compile(rf"{BASE}sobjects/\w+/\w+"), self._update)

    def add(self, sobject: str, record_id: str, **fields: Any) -> None:
        self.records.setdefault(sobject, {})[record_id] = {"Id": record_id, **fields}

    def _error(self, status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
        return (
            status,
            {"Content-Type": "application/json"},
            json.dumps([{"errorCode": code, "message": message}]),
        )

    def _ok(self, status: int, payload: Any) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": "application/json"}, json.dumps(payload)

    def _with_attributes(self, sobject: str, record: dict[str, Any]) -> dict[str, Any]:
        return {"attributes": {"type": sobject, "url": f"/x/{record['Id']}"}, **record}

    def _get(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlparse(request.url)
        self.requests.append(("GET", request.url))
        if self.expired:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        path = url.path.removeprefix("/services/data/v59.0/")
        if path.startswith("query/") and "/query/01g" not in url.path:
            return self._query(parse_qs(url.query)["q"][0])
        if "/query/01g" in url.path:
            token = url.path.rsplit("/", 1)[1]
            return self._page(token)
        if path.startswith("search/"):
            return self._search(parse_qs(url.query)["q"][0])
        if m := re.fullmatch(r"sobjects/(\w+)/describe/?", path):
            return self._ok(
                200,
                {
                    "name": m[1],
                    "label": m[1],
                    "fields": [
                        {
                            "name": "Id",
                            "label": "Record ID",
                            "type": "id",
                            "updateable": False,
                            "picklistValues": [],
                        },
                        {
                            "name": "StageName",
                            "label": "Stage",
                            "type": "picklist",
                            "updateable": True,
                            "picklistValues": [
                                {"value": "Prospecting", "active": True},
                                {"value": "Closed Won", "active": True},
                                {"value": "Old", "active": False},
                            ],
                        },
                    ],
                },
            )
        if m := re.fullmatch(r"sobjects/(\w+)/(\w+)", path):
            record = self.records.get(m[1], {}).get(m[2])
            if record is None:
                return self._error(404, "NOT_FOUND", "The requested resource does not exist")
            return self._ok(200, self._with_attributes(m[1], record))
        return self._error(404, "NOT_FOUND", f"no fake for {path}")

    def _query(self, soql: str) -> tuple[int, dict[str, str], str]:
        match = re.search(r"FROM\s+(\w+)(?:\s+WHERE\s+(\w+)\s*=\s*'([^']*)')?", soql, re.I)
        if not match or "bogus" in soql.lower():
            return self._error(400, "MALFORMED_QUERY", f"unexpected token in: {soql}")
        sobject, field, value = match[1], match[2], match[3]
        rows = [
            r
            for r in self.records.get(sobject, {}).values()
            if not field or str(r.get(field)) == value
        ]
        rows = [self._with_attributes(sobject, r) for r in rows]
        return self._first_page(rows)

    def _first_page(self, rows: list[dict[str, Any]]) -> tuple[int, dict[str, str], str]:
        token = f"01gFAKE{len(self._pages)}"
        self._pages[token] = rows
        return self._page(f"{token}-0")

    def _page(self, token: str) -> tuple[int, dict[str, str], str]:
        key, _, start_text = token.partition("-")
        rows = self._pages[key]
        start = int(start_text or 0)
        end = start + self.page_size
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": end >= len(rows),
            "records": rows[start:end],
        }
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v59.0/query/{key}-{end}"
        return self._ok(200, body)

    def _search(self, sosl: str) -> tuple[int, dict[str, str], str]:
        term = re.search(r"FIND \{(.*?)\} IN", sosl)
        text = re.sub(r"\\(.)", r"\1", term[1]).lower() if term else ""
        hits = [
            self._with_attributes(sobject, r)
            for sobject, rows in self.records.items()
            if f"{sobject}(" in sosl
            for r in rows.values()
            if any(text in str(v).lower() for v in r.values())
        ]
        return self._ok(200, {"searchRecords": hits})

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.expired:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        sobject = urlparse(request.url).path.rstrip("/").rsplit("/", 1)[1]
        fields = json.loads(request.body)
        if "LastName" not in fields and sobject in ("Lead", "Contact"):
            return self._error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]"
            )
        new_id = f"00Q{len(self.records.get(sobject, {})):015d}"
        self.add(sobject, new_id, **fields)
        return self._ok(201, {"id": new_id, "success": True, "errors": []})

    def _update(self, request: Any) -> tuple[int, dict[str, str], str]:
        _, sobject, record_id = urlparse(request.url).path.rsplit("/", 2)
        record = self.records.get(sobject, {}).get(record_id)
        if record is None:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        record.update(json.loads(request.body))
        return 204, {}, ""

"""A local HubSpot CRM API on 127.0.0.1, answering like the real one (paths, bodies,
paging, error bodies with `category`), so the real hubspot-api-client stays in the path."""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

STAMP = "2026-11-24T10:00:00.000Z"
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "notes": "0-46"}


@dataclass
class Failure:
    """An answer to send instead of the real one: an error body, or a raw `body` as is."""

    status: int
    category: str = "ERROR"
    message: str = "failure"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # sent verbatim (an HTML proxy page, say) with `content_type`
    content_type: str = "text/html; charset=utf-8"


class FakeHubSpot:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in TYPE_IDS}
        self.links: set[tuple[str, str, str, str]] = set()
        self.requests: list[tuple[str, str, Any]] = []
        self.failures: list[tuple[str, Failure]] = []  # (path regex, failure), used once each
        self.ids = itertools.count(100)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeHubSpot:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, kind: str, properties: dict[str, Any], record_id: str | None = None) -> str:
        with self.lock:
            rid = record_id or str(next(self.ids))
            self.records[kind][rid] = {"id": rid, "properties": dict(properties)}
            return rid

    def fail(self, path_pattern: str, failure: Failure, times: int = 1) -> None:
        self.failures.extend([(path_pattern, failure)] * times)

    def link(self, a: str, a_id: str, b: str, b_id: str) -> None:
        self.links.add((a, a_id, b, b_id))
        self.links.add((b, b_id, a, a_id))

    # -- behaviour ------------------------------------------------------------------

    def take_failure(self, path: str) -> Failure | None:
        with self.lock:
            for i, (pattern, failure) in enumerate(self.failures):
                if re.search(pattern, path):
                    del self.failures[i]
                    return failure
        return None

    def view(self, kind: str, rid: str, wanted: list[str] | None) -> dict[str, Any]:
        record = self.records[kind][rid]
        props = record["properties"]
        shown = {k: props.get(k) for k in wanted} if wanted else dict(props)
        shown["hs_object_id"] = rid
        return {
            "id": rid,
            "properties": shown,
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "archived": False,
        }

    def search(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        rows = list(self.records[kind].values())
        query = (body.get("query") or "").lower()
        if query:
            rows = [
                r for r in rows if any(query in str(v).lower() for v in r["properties"].values())
            ]
        for group in body.get("filterGroups") or []:
            for flt in group.get("filters") or []:
                rows = [r for r in rows if _matches(r["properties"], flt)]
        for sort in reversed(body.get("sorts") or []):
            name = sort["propertyName"] if isinstance(sort, dict) else sort
            rows.sort(
                key=lambda r, n=name: str(r["properties"].get(n) or ""),
                reverse=isinstance(sort, dict) and sort.get("direction") == "DESCENDING",
            )
        start = int(body.get("after") or 0)
        limit = int(body.get("limit") or 10)
        page = rows[start : start + limit]
        result: dict[str, Any] = {
            "total": len(rows),
            "results": [self.view(kind, r["id"], body.get("properties")) for r in page],
        }
        if start + limit < len(rows):
            result["paging"] = {"next": {"after": str(start + limit), "link": "x"}}
        return result


def _matches(props: dict[str, Any], flt: dict[str, Any]) -> bool:
    value = props.get(flt["propertyName"])
    target = flt.get("value")
    op = flt["operator"]
    if op == "EQ":
        return str(value).lower() == str(target).lower()
    if op == "NEQ":
        return str(value).lower() != str(target).lower()
    if op == "CONTAINS_TOKEN":
        return str(target).lower().strip("*") in str(value or "").lower()
    if op == "HAS_PROPERTY":
        return value not in (None, "")
    if op in ("GT", "GTE", "LT", "LTE"):
        a, b = float(value or 0), float(target or 0)
        return {"GT": a > b, "GTE": a >= b, "LT": a < b, "LTE": a <= b}[op]
    return False


def _handler(fake: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _raw(self, failure: Failure) -> None:
            data = (failure.body or "").encode()
            self.send_response(failure.status)
            self.send_header("Content-Type", failure.content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in failure.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(
            self, status: int, category: str, message: str, headers: dict[str, str] | None = None
        ) -> None:
            self._send(
                status,
                {
                    "status": "error",
                    "message": message,
                    "correlationId": "c0ffee",
                    "category": category,
                },
                headers,
            )

        def _handle(self, method: str) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((method, parsed.path, body))
            if self.headers.get("Authorization") != "Bearer test-token":
                self._error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
                return
            failure = fake.take_failure(f"{method} {parsed.path}")
            if failure and failure.body is not None:
                self._raw(failure)
                return
            if failure:
                self._error(failure.status, failure.category, failure.message, failure.headers)
                return
            self.route(method, parsed.path, parse_qs(parsed.query), body or {})

        def route(
            self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
        ) -> None:
            if m := re.fullmatch(r"/crm/v3/objects/(\w+)/search", path):
                self._send(200, fake.search(m[1], body))
            elif m := re.fullmatch(r"/crm/v3/objects/(\w+)/(\w+)", path):
                kind, rid = m[1], m[2]
                if rid not in fake.records.get(kind, {}):
                    self._error(
                        404, "OBJECT_NOT_FOUND", "Object not found. objectId are usually numeric."
                    )
                    return
                if method == "PATCH":
                    fake.records[kind][rid]["properties"].update(body.get("properties") or {})
                wanted = (
                    ",".join(query.get("properties", [])).split(",")
                    if query.get("properties")
                    else None
                )
                result = fake.view(kind, rid, wanted)
                names = (
                    ",".join(query.get("associations", [])).split(",")
                    if query.get("associations")
                    else []
                )
                linked = {
                    other: {
                        "results": [
                            {"id": oid, "type": f"{kind}_to_{other}"}
                            for (a, aid, b, oid) in sorted(fake.links)
                            if a == kind and aid == rid and b == other
                        ]
                    }
                    for other in names
                }
                if any(v["results"] for v in linked.values()):
                    result["associations"] = {k: v for k, v in linked.items() if v["results"]}
                self._send(200, result)
            elif m := re.fullmatch(r"/crm/v3/objects/(\w+)", path):
                kind = m[1]
                props = body.get("properties") or {}
                if (
                    kind == "contacts"
                    and any(
                        r["properties"].get("email") == props.get("email")
                        for r in fake.records[kind].values()
                    )
                    and props.get("email")
                ):
                    self._error(409, "CONFLICT", "Contact already exists. Existing ID: 1")
                    return
                rid = fake.add(kind, props)
                for assoc in body.get("associations") or []:
                    to_id = assoc["to"]["id"]
                    for kind_to in ("contacts", "companies", "deals"):
                        if to_id in fake.records[kind_to]:
                            fake.link(kind, rid, kind_to, to_id)
                self._send(201, fake.view(kind, rid, None))
            elif m := re.fullmatch(
                r"/crm/v4/objects/(\w+)/(\w+)/associations/default/(\w+)/(\w+)", path
            ):
                a, aid, b, bid = m[1], m[2], m[3], m[4]
                if aid not in fake.records.get(a, {}) or bid not in fake.records.get(b, {}):
                    self._error(404, "OBJECT_NOT_FOUND", "One of the objects does not exist.")
                    return
                fake.link(a, aid, b, bid)
                self._send(
                    200,
                    {
                        "status": "COMPLETE",
                        "startedAt": STAMP,
                        "completedAt": STAMP,
                        "results": [
                            {
                                "fromObjectTypeId": TYPE_IDS[a],
                                "fromObjectId": aid,
                                "toObjectTypeId": TYPE_IDS[b],
                                "toObjectId": bid,
                                "associationTypes": [
                                    {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}
                                ],
                            }
                        ],
                    },
                )
            else:
                self._error(404, "NOT_FOUND", f"No route {method} {path}")

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler

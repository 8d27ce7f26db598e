"""A local Salesforce REST API on 127.0.0.1, over TLS, for the real simple-salesforce client.

simple-salesforce always speaks https://, so the fake serves TLS with a test
certificate authority (trustme); clients trust it through `session()` or the
`REQUESTS_CA_BUNDLE` environment variable. It answers SOQL well enough to
show what a query reaches: top-level rows, `WHERE field = 'value'`, child
relationship subqueries and relationship fields (`Owner.Email`), using the
same schema its describe endpoint publishes.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

VERSION = "59.0"
PREFIX = f"/services/data/v{VERSION}/"

# object -> (reference fields: field -> (relationship name, [objects]),
#            child relationships: name -> (child object, its lookup field))
SCHEMA: dict[str, tuple[dict[str, tuple[str, list[str]]], dict[str, tuple[str, str]]]] = {
    "Account": (
        {"OwnerId": ("Owner", ["User"]), "ParentId": ("Parent", ["Account"])},
        {
            "Contacts": ("Contact", "AccountId"),
            "Opportunities": ("Opportunity", "AccountId"),
            "Cases": ("Case", "AccountId"),
            "Tasks": ("Task", "WhatId"),
            "Notes": ("Note", "ParentId"),
            "Attachments": ("Attachment", "ParentId"),
        },
    ),
    "Contact": (
        {"AccountId": ("Account", ["Account"]), "OwnerId": ("Owner", ["User"])},
        {"Tasks": ("Task", "WhoId"), "Notes": ("Note", "ParentId"), "Cases": ("Case", "ContactId")},
    ),
    "Opportunity": (
        {"AccountId": ("Account", ["Account"]), "OwnerId": ("Owner", ["User"])},
        {"Tasks": ("Task", "WhatId"), "Notes": ("Note", "ParentId")},
    ),
    "Case": (
        {
            "AccountId": ("Account", ["Account"]),
            "ContactId": ("Contact", ["Contact"]),
            "OwnerId": ("Owner", ["Group", "User"]),
        },
        {},
    ),
    "Lead": ({"OwnerId": ("Owner", ["Group", "User"])}, {}),
    "Task": (
        {
            "WhatId": ("What", ["Account", "Opportunity", "Case"]),
            "WhoId": ("Who", ["Contact", "Lead"]),
            "OwnerId": ("Owner", ["User"]),
        },
        {},
    ),
    "Note": ({"ParentId": ("Parent", ["Account", "Contact", "Opportunity"])}, {}),
    "Attachment": ({"ParentId": ("Parent", ["Account", "Contact", "Opportunity"])}, {}),
    "User": ({"ManagerId": ("Manager", ["User"])}, {}),
    "Group": ({}, {}),
}


class FakeSalesforce:
    """Records by object and id; `requests` lists (method, path-and-query) as received."""

    def __init__(self, cert_dir: Path) -> None:
        import trustme

        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.expired = False
        self.requests: list[tuple[str, str]] = []
        self.page_size = 2
        self._pages: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        authority = trustme.CA()
        self.ca_bundle = str(cert_dir / "salesforce-ca.pem")
        authority.cert_pem.write_to_path(self.ca_bundle)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeSalesforce:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def session(self) -> Any:
        """A requests session that trusts the fake's certificate authority."""
        import requests

        session = requests.Session()
        session.verify = self.ca_bundle
        return session

    def add(self, sobject: str, record_id: str, **fields: Any) -> None:
        self.records.setdefault(sobject, {})[record_id] = {"Id": record_id, **fields}

    def queries(self) -> list[str]:
        """The SOQL texts that reached the server."""
        return [
            parse_qs(urlparse(path).query)["q"][0]
            for method, path in self.requests
            if method == "GET" and "/query/" in path and "q=" in path
        ]

    # -- answers -------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        references, children = SCHEMA.get(sobject, ({}, {}))
        fields: list[dict[str, Any]] = [
            {"name": "Id", "label": "Record ID", "type": "id", "updateable": False},
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
        ]
        fields += [
            {
                "name": name,
                "label": name,
                "type": "reference",
                "updateable": True,
                "relationshipName": relationship,
                "referenceTo": targets,
            }
            for name, (relationship, targets) in references.items()
        ]
        return {
            "name": sobject,
            "label": sobject,
            "fields": fields,
            "childRelationships": [
                {"relationshipName": name, "childSObject": child, "field": lookup}
                for name, (child, lookup) in children.items()
            ],
        }

    def query(self, soql: str) -> tuple[int, Any]:
        top = _top_level(soql)
        match = re.search(r"\bFROM\s+(\w+)(?:\s+WHERE\s+(\w+)\s*=\s*'([^']*)')?", top, re.I)
        if not match or "bogus" in soql.lower():
            return 400, [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}]
        sobject, field, value = match[1], match[2], match[3]
        select_list = soql[: match.start()]  # `top` keeps every position of `soql`
        children = re.findall(r"\(\s*SELECT\s+.*?\bFROM\s+(\w+)", select_list, re.I | re.S)
        dotted = [
            (path.split(".")[-1], wanted)
            for path, wanted in re.findall(r"([\w.]+)\.(\w+)", _top_level(select_list))
        ]
        rows = [
            self.view(sobject, r, children, dotted)
            for r in self.records.get(sobject, {}).values()
            if not field or str(r.get(field)) == value
        ]
        token = f"01gFAKE{len(self._pages)}"
        with self._lock:
            self._pages[token] = rows
        return self.page(f"{token}-0")

    def view(
        self,
        sobject: str,
        record: dict[str, Any],
        children: list[str],
        dotted: list[tuple[str, str]],
    ) -> dict[str, Any]:
        references, relations = SCHEMA.get(sobject, ({}, {}))
        shown: dict[str, Any] = {"attributes": {"type": sobject, "url": f"/x/{record['Id']}"}}
        shown.update(record)
        for name in children:
            child, lookup = relations.get(name, ("", ""))
            found = [
                r for r in self.records.get(child, {}).values() if r.get(lookup) == record["Id"]
            ]
            shown[name] = {"totalSize": len(found), "done": True, "records": found}
        for relationship, wanted in dotted:
            for fk, (name, targets) in references.items():
                if name.lower() == relationship.lower() and record.get(fk):
                    parent = next(
                        (
                            self.records[t][record[fk]]
                            for t in targets
                            if record[fk] in self.records.get(t, {})
                        ),
                        None,
                    )
                    if parent is not None:
                        shown.setdefault(name, {})[wanted] = parent.get(wanted)
        return shown

    def page(self, token: str) -> tuple[int, Any]:
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
            body["nextRecordsUrl"] = f"{PREFIX}query/{key}-{end}"
        return 200, body

    def search(self, sosl: str) -> tuple[int, Any]:
        term = re.search(r"FIND \{(.*?)\} IN", sosl)
        text = re.sub(r"\\(.)", r"\1", term[1]).lower() if term else ""
        hits = [
            {"attributes": {"type": sobject, "url": f"/x/{r['Id']}"}, **r}
            for sobject, rows in self.records.items()
            if f"{sobject}(" in sosl
            for r in rows.values()
            if any(text in str(v).lower() for v in r.values())
        ]
        return 200, {"searchRecords": hits}

    def create(self, sobject: str, fields: dict[str, Any]) -> tuple[int, Any]:
        if "LastName" not in fields and sobject in ("Lead", "Contact"):
            return 400, [
                {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing"}
            ]
        new_id = f"00Q{len(self.records.get(sobject, {})):015d}"
        self.add(sobject, new_id, **fields)
        return 201, {"id": new_id, "success": True, "errors": []}


def _top_level(soql: str) -> str:
    """The statement with every parenthesised part blanked out."""
    out, depth = [], 0
    for char in soql:
        depth += char == "("
        out.append(char if depth == 0 else " ")
        depth -= char == ")" and depth > 0
    return "".join(out)


def _handler(fake: FakeSalesforce) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((method, self.path))
            if fake.expired or self.headers.get("Authorization") != "Bearer SESSION":
                self._send(401, [{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
                return
            self._send(*self.route(method, urlparse(self.path), body))

        def route(self, method: str, url: Any, body: Any) -> tuple[int, Any]:
            path = url.path.removeprefix(PREFIX)
            if method == "GET" and re.fullmatch(r"query/?", path):
                return fake.query(parse_qs(url.query)["q"][0])
            if method == "GET" and (m := re.fullmatch(r"query/(01g\w+-\d+)", path)):
                return fake.page(m[1])
            if method == "GET" and re.fullmatch(r"search/?", path):
                return fake.search(parse_qs(url.query)["q"][0])
            if method == "GET" and (m := re.fullmatch(r"sobjects/(\w+)/describe/?", path)):
                return 200, fake.describe(m[1])
            if method == "POST" and (m := re.fullmatch(r"sobjects/(\w+)/?", path)):
                return fake.create(m[1], body or {})
            if m := re.fullmatch(r"sobjects/(\w+)/(\w+)/?", path):
                record = fake.records.get(m[1], {}).get(m[2])
                if record is None:
                    return 404, [{"errorCode": "NOT_FOUND", "message": "no such record"}]
                if method == "PATCH":
                    record.update(body or {})
                    return 204, None
                return 200, {"attributes": {"type": m[1], "url": f"/x/{m[2]}"}, **record}
            return 404, [{"errorCode": "NOT_FOUND", "message": f"no fake for {method} {path}"}]

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler

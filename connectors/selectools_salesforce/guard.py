"""Check every object a SOQL statement reaches before it is sent.

SOQL cannot write, so the guard is about scope. A small tokenizer and a
recursive-descent parser find each way a statement reaches an object: the
top-level FROM, relationship fields (`Owner.Email`, `Account.Owner.Name`),
TYPEOF on polymorphic fields, child relationship subqueries
(`(SELECT Id FROM Tasks)`) and semi-/anti-joins (`WHERE Id IN (SELECT ...)`).
Relationship names become objects through describe (`relationshipName` ->
`referenceTo`, `childRelationships` -> `childSObject`); anything that does not
resolve to allowed objects is refused. Clauses with side effects (`FOR VIEW`,
`FOR REFERENCE`, `FOR UPDATE`, `UPDATE TRACKING`, `UPDATE VIEWSTAT`) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SOQLRefusedError

__all__ = ["SOQLRefusedError", "check_soql", "parse_soql"]

Describe = Callable[[str], Mapping[str, Any]]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),:;+-])
    """,
    re.VERBOSE,
)
_CLAUSES = {"WHERE", "WITH", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR", "UPDATE"}
_END_OF_FROM = _CLAUSES | {"USING"}
_COMPARISONS = {"=", "!=", "<>", "<", ">", "<=", ">=", "LIKE", "INCLUDES", "EXCLUDES"}
_FIELDS_ARGS = {"ALL", "STANDARD", "CUSTOM"}


@dataclass
class TypeOf:
    """`TYPEOF What WHEN Account THEN Name ... ELSE Name END`."""

    relationship: str
    branches: dict[str, list[str]]  # WHEN type -> its field paths
    else_fields: list[str] | None  # None: no ELSE


@dataclass
class Select:
    """One SELECT (top level, child subquery or semi-join) and what it reaches."""

    source: str  # the FROM: an object, or a child relationship name in a subquery
    alias: str | None = None
    paths: list[str] = field(default_factory=list)  # field paths, e.g. "Owner.Email"
    typeofs: list[TypeOf] = field(default_factory=list)
    children: list[Select] = field(default_factory=list)  # (SELECT ... FROM Tasks)
    semijoins: list[Select] = field(default_factory=list)  # IN (SELECT Id FROM User)


def check_soql(
    soql: str, allowed_objects: Collection[str], describe: Describe | None = None
) -> str:
    """Return the top-level object, or raise SOQLRefusedError saying what to fix.

    `describe(name)` returns an object's describe (fields with `relationshipName`
    and `referenceTo`, `childRelationships`); without it, statements that need
    one (relationships, subqueries) are refused.
    """
    query = parse_soql(soql)
    allowed = {o.lower(): o for o in allowed_objects}
    top = _allowed(query.source, allowed, "Object")
    _Scope(allowed, describe).check(query, top)
    return top


def parse_soql(soql: str) -> Select:
    """Parse one SOQL SELECT; SOQLRefusedError if it is not one, or not understood."""
    parser = _Parser(_tokenize(soql))
    if not parser.tokens or parser.peek_word() != "SELECT":
        raise SOQLRefusedError("Send one SOQL SELECT query, e.g. SELECT Id, Name FROM Account.")
    query = parser.query(depth=0)
    if parser.at_end():
        return query
    if parser.peek() == ";":
        raise SOQLRefusedError("Send exactly one SOQL query, without ';'.")
    raise SOQLRefusedError(f"Unexpected '{parser.peek()}' after the query. Send one SELECT.")


# -- tokens and parsing ----------------------------------------------------------


def _tokenize(soql: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(soql):
        match = _TOKEN.match(soql, position)
        if match is None:
            raise SOQLRefusedError(
                f"Unexpected character {soql[position]!r} at position {position} in the SOQL."
            )
        if match.lastgroup != "space":
            tokens.append(match.group())
        position = match.end()
    return tokens


def _is_name(token: str | None) -> bool:
    return token is not None and (token[0].isalpha() or token[0] == "_")


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, ahead: int = 0) -> str | None:
        at = self.index + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def peek_word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.upper() if _is_name(token) and token is not None else ""

    def at_end(self) -> bool:
        return self.index >= len(self.tokens)

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise SOQLRefusedError("The SOQL ends too early. Send a complete SELECT query.")
        self.index += 1
        return token

    def expect(self, word: str) -> None:
        token = self.take()
        if token.upper() != word:
            raise SOQLRefusedError(f"Expected {word} but found '{token}' in the SOQL.")

    def name(self, what: str) -> str:
        token = self.take()
        if not _is_name(token):
            raise SOQLRefusedError(f"Expected {what} but found '{token}' in the SOQL.")
        return token

    # SELECT items FROM source [alias] [USING SCOPE x] [WHERE c] [WITH ...] [GROUP BY ...]
    # [HAVING c] [ORDER BY ...] [LIMIT n] [OFFSET n]
    def query(self, depth: int) -> Select:
        self.expect("SELECT")
        paths: list[str] = []
        typeofs: list[TypeOf] = []
        children: list[Select] = []
        while True:
            if self.peek() == "(":
                if depth > 0:
                    raise SOQLRefusedError("Subqueries inside subqueries are not supported.")
                self.take()
                children.append(self.query(depth + 1))
                self.expect(")")
            elif self.peek_word() == "TYPEOF":
                typeofs.append(self.typeof())
            else:
                self.expression(paths)
                if _is_name(self.peek()) and self.peek_word() != "FROM":
                    self.take()  # an alias, e.g. COUNT(Id) total
            if self.peek() != ",":
                break
            self.take()
        if self.at_end():
            raise SOQLRefusedError("The query has no FROM clause. Add FROM <Object>.")
        self.expect("FROM")
        source = self.name("an object after FROM")
        alias = None
        if _is_name(self.peek()) and self.peek_word() not in _END_OF_FROM:
            alias = self.take()
        query = Select(source, alias, paths, typeofs, children)
        self.clauses(query, depth)
        return query

    def clauses(self, query: Select, depth: int) -> None:
        while not self.at_end() and self.peek() not in (")", ";"):
            word = self.peek_word()
            if word == "USING":
                self.take()
                self.expect("SCOPE")
                self.name("a scope")
            elif word in ("WHERE", "HAVING"):
                self.take()
                self.condition(query, depth)
            elif word == "WITH":
                self.with_clause()
            elif word in ("GROUP", "ORDER"):
                self.take()
                self.expect("BY")
                self.ordering(query.paths)
            elif word in ("LIMIT", "OFFSET"):
                self.take()
                if not (self.peek() or "").isdigit():
                    raise SOQLRefusedError(f"{word} takes a number.")
                self.take()
            elif word in ("FOR", "UPDATE"):
                raise SOQLRefusedError(
                    "FOR VIEW, FOR REFERENCE, FOR UPDATE and UPDATE TRACKING/VIEWSTAT change "
                    "records or lock them; send the SELECT without them."
                )
            else:
                raise SOQLRefusedError(f"Unexpected '{self.peek()}' in the SOQL.")

    def with_clause(self) -> None:
        """WITH SECURITY_ENFORCED / USER_MODE / DATA CATEGORY ...: names, never objects."""
        self.take()
        nesting = 0
        while not self.at_end() and self.peek() != ";":
            if nesting == 0 and (self.peek() == ")" or self.peek_word() in _CLAUSES - {"WITH"}):
                return
            if self.peek_word() == "SELECT":
                raise SOQLRefusedError("A WITH clause cannot hold a query.")
            token = self.take()
            nesting += {"(": 1, ")": -1}.get(token, 0)

    def ordering(self, paths: list[str]) -> None:
        while True:
            if self.peek_word() in ("ROLLUP", "CUBE") and self.peek(1) == "(":
                self.take()
                self.arguments(paths)
            else:
                self.expression(paths)
            while self.peek_word() in ("ASC", "DESC", "NULLS", "FIRST", "LAST"):
                self.take()
            if self.peek() != ",":
                return
            self.take()

    def expression(self, paths: list[str]) -> None:
        """A field path, or a function call over field paths and literals."""
        token = self.name("a field")
        if self.peek() == "(":
            if token.upper() == "FIELDS":
                self.take()
                if self.take().upper() not in _FIELDS_ARGS:
                    raise SOQLRefusedError("FIELDS() takes ALL, STANDARD or CUSTOM.")
                self.expect(")")
                return
            self.arguments(paths)
            return
        paths.append(token)

    def arguments(self, paths: list[str]) -> None:
        self.expect("(")
        while self.peek() != ")":
            token = self.peek()
            if token is None:
                raise SOQLRefusedError("A function call is not closed with ')'.")
            if _is_name(token):
                self.expression(paths)
            elif token[0] in "'0123456789" or token in ("-", "+"):
                self.take()
            else:
                raise SOQLRefusedError(f"Unexpected '{token}' in a function call.")
            if self.peek() == ",":
                self.take()
        self.take()

    def typeof(self) -> TypeOf:
        self.expect("TYPEOF")
        relationship = self.name("a polymorphic relationship after TYPEOF")
        branches: dict[str, list[str]] = {}
        else_fields: list[str] | None = None
        while self.peek_word() in ("WHEN", "ELSE"):
            if self.take().upper() == "WHEN":
                kind = self.name("an object after WHEN")
                self.expect("THEN")
                branches[kind] = self.field_list()
            else:
                else_fields = self.field_list()
        self.expect("END")
        if not branches:
            raise SOQLRefusedError("TYPEOF needs at least one WHEN <object> THEN <fields>.")
        return TypeOf(relationship, branches, else_fields)

    def field_list(self) -> list[str]:
        fields = [self.name("a field")]
        while self.peek() == "," and self.peek_word(1) not in ("WHEN", "ELSE", "END", ""):
            self.take()
            fields.append(self.name("a field"))
        return fields

    def condition(self, query: Select, depth: int) -> None:
        self.term(query, depth)
        while self.peek_word() in ("AND", "OR"):
            self.take()
            self.term(query, depth)

    def term(self, query: Select, depth: int) -> None:
        if self.peek_word() == "NOT":
            self.take()
            self.term(query, depth)
            return
        if self.peek() == "(":
            self.take()
            self.condition(query, depth)
            self.expect(")")
            return
        self.expression(query.paths)
        operator = self.take().upper()
        if operator == "NOT":
            operator = self.take().upper()
            if operator != "IN":
                raise SOQLRefusedError("NOT is followed by IN in a comparison.")
        if operator == "IN" or operator in ("INCLUDES", "EXCLUDES"):
            self.expect("(")
            if self.peek_word() == "SELECT":
                if operator != "IN" or depth > 0:
                    raise SOQLRefusedError("Semi-joins go only in a top-level WHERE ... IN.")
                query.semijoins.append(self.query(depth + 1))
            else:
                self.values(")")
            self.expect(")")
        elif operator in _COMPARISONS:
            self.value()
        else:
            raise SOQLRefusedError(f"Unexpected operator '{operator}' in the WHERE clause.")

    def values(self, closing: str) -> None:
        while self.peek() != closing:
            self.value()
            if self.peek() == ",":
                self.take()

    def value(self) -> None:
        """A literal: string, number, date, NULL/TRUE/FALSE, a date literal such as
        LAST_N_DAYS:30, or a currency amount such as USD5000 (never a field)."""
        token = self.take()
        if token in ("-", "+"):
            token = self.take()
        if token[0] == "'" or token[0].isdigit():
            return
        if _is_name(token) and "." not in token:
            if self.peek() == ":":
                self.take()
                if not (self.peek() or "").isdigit():
                    raise SOQLRefusedError(f"{token}: takes a number, e.g. LAST_N_DAYS:30.")
                self.take()
            return
        raise SOQLRefusedError(f"Expected a value but found '{token}' in the WHERE clause.")


# -- scope ------------------------------------------------------------------------


def _allowed(name: str, allowed: Mapping[str, str], what: str) -> str:
    found = allowed.get(name.lower())
    if found is None:
        raise SOQLRefusedError(
            f"{what} '{name}' is not available. Query only: {', '.join(sorted(allowed.values()))}."
        )
    return found


class _Scope:
    """Walk a parsed query, resolving every relationship through describe."""

    def __init__(self, allowed: Mapping[str, str], describe: Describe | None) -> None:
        self.allowed = allowed
        self.describe = describe

    def described(self, sobject: str) -> Mapping[str, Any]:
        if self.describe is None:
            raise SOQLRefusedError(
                "This query uses relationships or subqueries, which cannot be checked here."
            )
        return self.describe(sobject)

    def check(self, query: Select, sobject: str) -> None:
        for path in query.paths:
            self.path(sobject, path, query.alias)
        for typeof in query.typeofs:
            self.typeof(sobject, typeof)
        for child in query.children:
            self.check(child, self.child(sobject, child.source, query.alias))
        for semijoin in query.semijoins:
            self.check(semijoin, _allowed(semijoin.source, self.allowed, "Object"))

    def path(self, sobject: str, path: str, alias: str | None) -> None:
        segments = path.split(".")
        if len(segments) > 1 and alias and segments[0].lower() == alias.lower():
            segments = segments[1:]
        current = {sobject}
        for index, segment in enumerate(segments[:-1]):
            own_name = index == 0 and segment.lower() == sobject.lower()
            if own_name and not self.has_relationship(sobject, segment):
                continue  # the object's own name as a qualifier
            current = {t for o in sorted(current) for t in self.parents(o, segment, path)}

    def has_relationship(self, sobject: str, name: str) -> bool:
        return any(
            str(f.get("relationshipName") or "").lower() == name.lower()
            for f in self.described(sobject).get("fields", [])
        )

    def parents(self, sobject: str, relationship: str, path: str) -> list[str]:
        """The objects a relationship field leads to; all of them must be allowed."""
        for described in self.described(sobject).get("fields", []):
            if str(described.get("relationshipName") or "").lower() == relationship.lower():
                targets = [str(t) for t in described.get("referenceTo") or []]
                if not targets:
                    break
                for target in targets:
                    if target.lower() not in self.allowed:
                        raise SOQLRefusedError(
                            f"'{path}' reaches {target} through {sobject}.{relationship}, and "
                            f"{target} is not available. Query only: "
                            f"{', '.join(sorted(self.allowed.values()))}."
                        )
                return [self.allowed[t.lower()] for t in targets]
        raise SOQLRefusedError(
            f"'{relationship}' in '{path}' is not a relationship of {sobject}. Use "
            f"describe_object to see its fields."
        )

    def child(self, sobject: str, source: str, alias: str | None) -> str:
        """The object behind a child relationship name, e.g. Account's Contacts -> Contact."""
        name = source.split(".")[-1]
        for relation in self.described(sobject).get("childRelationships", []):
            if str(relation.get("relationshipName") or "").lower() == name.lower():
                child = str(relation.get("childSObject"))
                if child.lower() not in self.allowed:
                    raise SOQLRefusedError(
                        f"The subquery on {sobject}.{name} reads {child}, which is not "
                        f"available. Query only: {', '.join(sorted(self.allowed.values()))}."
                    )
                return self.allowed[child.lower()]
        raise SOQLRefusedError(
            f"'{name}' is not a child relationship of {sobject}; a subquery in the field list "
            f"reads a child relationship, e.g. (SELECT Id FROM Contacts) on Account."
        )

    def typeof(self, sobject: str, typeof: TypeOf) -> None:
        targets: list[str] = []
        for described in self.described(sobject).get("fields", []):
            if str(described.get("relationshipName") or "").lower() == typeof.relationship.lower():
                targets = [str(t) for t in described.get("referenceTo") or []]
        if not targets:
            raise SOQLRefusedError(
                f"'{typeof.relationship}' is not a relationship of {sobject} for TYPEOF."
            )
        for kind, paths in typeof.branches.items():
            checked = _allowed(kind, self.allowed, "Object")
            if checked.lower() not in {t.lower() for t in targets}:
                raise SOQLRefusedError(
                    f"{sobject}.{typeof.relationship} cannot be a {kind}; it can be: "
                    f"{', '.join(targets)}."
                )
            for path in paths:
                self.path(checked, path, None)
        if typeof.else_fields is not None:
            if any("." in f for f in typeof.else_fields):
                raise SOQLRefusedError("TYPEOF ... ELSE takes plain fields, not relationships.")
            for target in targets:
                _allowed(target, self.allowed, "TYPEOF ... ELSE reaches every type: object")

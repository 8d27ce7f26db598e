"""The parser layer: parse the model's statement with sqlglot and check all of it.

Regex checks (`^SELECT`) reject legitimate `WITH` queries and let stacked or
commented statements through; a parse tree does neither. A statement passes
only if it is one query (or one write, for the write tool), nothing in it
writes, every function it calls is on the allowlist (`functions.py`), and
every table it reaches is listed, including tables on the right of a bare
`IN` and tables shadowed by a CTE name only where the CTE is not in scope.
What runs is the SQL regenerated from the tree, without comments, and that
text is parsed and checked again: the parser's view is what the database gets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .errors import QueryRefusedError
from .functions import allowed_function_names, allowed_function_nodes

__all__ = ["CheckedStatement", "check_read_only", "check_write", "normalize_table_names"]

_QUERY_ROOTS = (exp.Select, exp.SetOperation)
_WRITE_ROOTS = (exp.Insert, exp.Update, exp.Delete)
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "TruncateTable",
        "Command",
        "Copy",
        "Pragma",
        "Attach",
        "Detach",
        "Into",
        "Set",
        "Transaction",
        "Commit",
        "Rollback",
        "Grant",
        "Revoke",
        "Lock",
        "Use",
        "LoadData",
        "Kill",
        "Analyze",
        "Execute",
        "Cache",
        "Uncache",
        "Refresh",
        "Describe",
        "Show",
    )
    if hasattr(exp, name)
)


@dataclass(frozen=True, slots=True)
class CheckedStatement:
    """A statement that passed the guard, as the SQL that will actually run."""

    sql: str
    tables: frozenset[str]


def check_read_only(
    sql: str, *, dialect: str, allowed_tables: Collection[str] | None = None
) -> CheckedStatement:
    """One SELECT/UNION/INTERSECT/EXCEPT (CTEs allowed) that changes nothing and stays in scope."""
    allowed = normalize_table_names(allowed_tables, dialect)
    tree = _parse_one(sql, dialect)
    tables = _check_query(tree, sql, dialect, allowed)
    regenerated = _regenerate(tree, dialect)
    _check_query(_reparse(regenerated, dialect), regenerated, dialect, allowed)
    return CheckedStatement(regenerated, tables)


def check_write(
    sql: str,
    *,
    dialect: str,
    writable_tables: Collection[str],
    readable_tables: Collection[str] | None,
) -> CheckedStatement:
    """One INSERT/UPDATE/DELETE whose target is a listed table; nothing else that writes."""
    writable = normalize_table_names(writable_tables, dialect) or frozenset()
    readable = normalize_table_names(readable_tables, dialect)
    tree = _parse_one(sql, dialect)
    tables = _check_write(tree, sql, dialect, writable, readable)
    regenerated = _regenerate(tree, dialect)
    _check_write(_reparse(regenerated, dialect), regenerated, dialect, writable, readable)
    return CheckedStatement(regenerated, tables)


def normalize_table_names(names: Collection[str] | None, dialect: str) -> frozenset[str] | None:
    """Table names as the database resolves them (`orders` and `ORDERS` are one table in
    PostgreSQL, `"Orders"` another; SQLite ignores case). Give names as you write them in SQL."""
    if names is None:
        return None
    normalized = set()
    for name in names:
        try:
            table = exp.to_table(name, dialect=dialect)
        except SqlglotError:
            raise ValueError(f"{name!r} is not a table name.") from None
        normalized.add(_qualified(normalize_identifiers(table, dialect=dialect)))
    return frozenset(normalized)


# -- the checks --------------------------------------------------------------------


def _check_query(
    tree: exp.Expr, sql: str, dialect: str, allowed: frozenset[str] | None
) -> frozenset[str]:
    if not isinstance(tree, _QUERY_ROOTS):
        raise QueryRefusedError(
            f"Only read-only queries are allowed (SELECT, WITH ... SELECT, UNION, ...); "
            f"this is a {tree.key.upper()} statement."
        )
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryRefusedError(
                f"The query contains {node.key.upper()}, which is not read-only. "
                f"Rewrite it as a plain SELECT."
            )
    _check_functions(tree, sql, dialect)
    tables = _tables(tree, dialect)
    _check_tables(tables, allowed, "reads")
    return tables


def _check_write(
    tree: exp.Expr,
    sql: str,
    dialect: str,
    writable: frozenset[str],
    readable: frozenset[str] | None,
) -> frozenset[str]:
    if not isinstance(tree, _WRITE_ROOTS):
        raise QueryRefusedError(
            f"The write tool runs one INSERT, UPDATE or DELETE; this is a "
            f"{tree.key.upper()} statement. Use the query tool to read."
        )
    target = tree.this if isinstance(tree, exp.Insert) else tree.find(exp.Table)
    if isinstance(target, exp.Schema):
        target = target.this
    if not isinstance(target, exp.Table) or isinstance(target.this, exp.Func):
        raise QueryRefusedError("The statement does not name a table to write to.")
    target_name = _qualified(normalize_identifiers(target.copy(), dialect=dialect))
    _check_tables(frozenset({target_name}), writable, "writes to")
    for node in tree.walk():
        if node is not tree and isinstance(node, _FORBIDDEN_NODES) and not _is_insert_target(node):
            raise QueryRefusedError(
                f"The statement contains {node.key.upper()}; send one plain write."
            )
    _check_functions(tree, sql, dialect)
    tables = _tables(tree, dialect)
    if readable is not None:
        _check_tables(tables - {target_name}, readable | writable, "reads")
    return tables


def _is_insert_target(node: exp.Expr) -> bool:
    return isinstance(node, exp.Into) and isinstance(node.parent, exp.Insert)


def _check_functions(tree: exp.Expr, sql: str, dialect: str) -> None:
    names = allowed_function_names(dialect)
    nodes = allowed_function_nodes(dialect)
    for func in tree.find_all(exp.Func):
        parent = func.parent
        if isinstance(parent, exp.Dot) and parent.expression is func:
            raise QueryRefusedError(
                f"The function {parent.sql(dialect=dialect).split('(')[0]}() is called with a "
                f"schema; call the side-effect-free functions this tool allows by their plain "
                f"names."
            )
        if isinstance(func, exp.Anonymous):
            if func.name.lower() in names:
                continue
            name = func.name.lower()
        elif type(func) in nodes:
            continue
        else:
            name = _written_name(func, sql)
        raise QueryRefusedError(
            f"The function {name}() is not allowed: queries may call only side-effect-free "
            f"functions (operators, casts, aggregates, window, string, date, math and JSON "
            f"functions). Rewrite the query without {name}()."
        )


def _written_name(func: exp.Func, sql: str) -> str:
    """The function's name as the statement wrote it (sqlglot's own name as a fallback)."""
    start, end = func.meta.get("start"), func.meta.get("end")
    if isinstance(start, int) and isinstance(end, int):
        written = sql[start : end + 1].strip('"').lower()
        if written.replace("_", "").isalnum():
            return written
    return func.sql_name().lower()


def _check_tables(tables: frozenset[str], allowed: frozenset[str] | None, verb: str) -> None:
    if allowed is None:
        return
    outside = sorted(t for t in tables if t not in allowed)
    if outside:
        raise QueryRefusedError(
            f"The statement {verb} {', '.join(outside)}, which this tool may not use. "
            f"Allowed tables: {', '.join(sorted(allowed)) or '(none)'}."
        )


# -- which tables a statement reaches -------------------------------------------------


def _tables(tree: exp.Expr, dialect: str) -> frozenset[str]:
    """Every real table the statement names: FROM/JOIN tables that are not a CTE in scope,
    and a bare table on the right of IN (SQLite's `x IN tablename`)."""
    normalized = normalize_identifiers(tree.copy(), dialect=dialect)
    names = {
        _qualified(table)
        for table in normalized.find_all(exp.Table)
        if not isinstance(table.this, exp.Func) and not _is_cte_in_scope(table)
    }
    for membership in normalized.find_all(exp.In):
        field = membership.args.get("field")
        if isinstance(field, exp.Column):
            names.add(".".join(part.name for part in field.parts))
        elif field is not None and not isinstance(field, exp.Func):
            raise QueryRefusedError(
                "The query uses IN with something that is not a list, a subquery or a table. "
                "Write IN (value, ...) or IN (SELECT ...)."
            )
    return frozenset(names)


def _qualified(table: exp.Table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)


def _is_cte_in_scope(table: exp.Table) -> bool:
    """True when an enclosing WITH defines this (unqualified) name where the table stands.

    Inside a CTE's own body only the CTEs before it are visible (and itself, when
    RECURSIVE); anything else with that name is the real table, and is checked.
    """
    if table.db or table.catalog:
        return False
    name = table.name
    child: exp.Expr = table
    for node in _ancestors(table):
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(node, exp.With):
            ctes = list(node.expressions)
            index = ctes.index(child) if child in ctes else len(ctes)
            visible = [c.alias_or_name for c in ctes[:index]]
            if node.args.get("recursive") and index < len(ctes):
                visible.append(ctes[index].alias_or_name)
            if name in visible:
                return True
        elif (
            isinstance(with_, exp.With)
            and child is not with_
            and name in (c.alias_or_name for c in with_.expressions)
        ):
            return True
        child = node
    return False


def _ancestors(node: exp.Expr) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


# -- parsing -------------------------------------------------------------------------


def _parse_one(sql: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise QueryRefusedError(
            f"The SQL could not be parsed ({first}). Send one valid {dialect} statement."
        ) from None
    except SqlglotError as exc:
        raise QueryRefusedError(
            f"The SQL could not be parsed ({exc}). Send one valid {dialect} statement."
        ) from None
    if len(statements) != 1:
        raise QueryRefusedError(
            f"Send exactly one SQL statement; got {len(statements)}. Stacked statements "
            f"(a ';' followed by more SQL) are refused."
        )
    return statements[0]


def _regenerate(tree: exp.Expr, dialect: str) -> str:
    try:
        return tree.sql(dialect=dialect, comments=False)
    except SqlglotError as exc:
        raise QueryRefusedError(
            f"The statement could not be checked ({exc}). Write it in plain {dialect} SQL."
        ) from None


def _reparse(sql: str, dialect: str) -> exp.Expr:
    """The regenerated SQL, parsed again: it is what runs, so it must pass the same checks."""
    try:
        return _parse_one(sql, dialect)
    except QueryRefusedError:
        raise QueryRefusedError(
            f"The statement could not be checked as it would run. Write it in plain {dialect} SQL."
        ) from None

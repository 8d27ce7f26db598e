"""The first safety layer: parse the statement with sqlglot and classify it.

Regex checks (`^SELECT`) reject legitimate `WITH` queries and let stacked or
commented statements through; a parse tree does neither. What runs is the
SQL regenerated from this tree, so the parser's view is the database's view.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from .errors import QueryRefusedError

_QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
_WRITE_ROOTS = (exp.Insert, exp.Update, exp.Delete)
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
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
        "Lock",
        "Use",
        "LoadData",
        "Kill",
        "Analyze",
        "Execute",
        "Cache",
        "Uncache",
        "Refresh",
    )
    if hasattr(exp, name)
)
# Functions that parse as an ordinary SELECT but act on the server or the file system.
SIDE_EFFECT_FUNCTIONS = frozenset(
    {
        "set_config",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "lo_export",
        "lo_import",
        "lo_unlink",
        "lo_create",
        "lo_from_bytea",
        "lo_put",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "pg_try_advisory_lock",
        "nextval",
        "setval",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "load_extension",
        "writefile",
        "readfile",
        "fts3_tokenizer",
        "sleep",
        "benchmark",
        "load_file",
        "sys_exec",
        "sys_eval",
        "xp_cmdshell",
    }
)


@dataclass(frozen=True, slots=True)
class CheckedStatement:
    """A statement that passed the guard, as the SQL that will actually run."""

    sql: str
    tables: frozenset[str]


def _parse_one(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise QueryRefusedError(
            f"The SQL could not be parsed ({first}). Send one valid {dialect} statement."
        ) from None
    if len(statements) != 1:
        raise QueryRefusedError(
            f"Send exactly one SQL statement; got {len(statements)}. Stacked statements "
            f"(a ';' followed by more SQL) are refused."
        )
    statement = statements[0]
    if not isinstance(statement, exp.Expression):
        raise QueryRefusedError("The SQL did not parse into a statement. Send one valid statement.")
    return statement


def _tables(tree: exp.Expression) -> frozenset[str]:
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names = set()
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if not name or (name in cte_names and not table.db):
            continue
        names.add(".".join(p for p in (table.db.lower(), name) if p))
    return frozenset(names)


def _check_tables(tables: frozenset[str], allowed: Collection[str] | None, verb: str) -> None:
    if allowed is None:
        return
    allowed_lower = {t.lower() for t in allowed}
    outside = sorted(t for t in tables if t not in allowed_lower)
    if outside:
        raise QueryRefusedError(
            f"The statement {verb} {', '.join(outside)}, which this tool may not use. "
            f"Allowed tables: {', '.join(sorted(allowed_lower)) or '(none)'}."
        )


def _check_functions(tree: exp.Expression) -> None:
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in SIDE_EFFECT_FUNCTIONS:
            raise QueryRefusedError(
                f"The function {name}() has side effects and is refused in read-only queries."
            )


def check_read_only(
    sql: str, *, dialect: str, allowed_tables: Collection[str] | None = None
) -> CheckedStatement:
    """One SELECT/UNION/INTERSECT/EXCEPT (CTEs allowed), nothing that writes anywhere in it."""
    tree = _parse_one(sql, dialect)
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
    _check_functions(tree)
    tables = _tables(tree)
    _check_tables(tables, allowed_tables, "reads")
    return CheckedStatement(tree.sql(dialect=dialect), tables)


def check_write(
    sql: str,
    *,
    dialect: str,
    writable_tables: Collection[str],
    readable_tables: Collection[str] | None,
) -> CheckedStatement:
    """One INSERT/UPDATE/DELETE whose target is a listed table; nothing else that writes."""
    tree = _parse_one(sql, dialect)
    if not isinstance(tree, _WRITE_ROOTS):
        raise QueryRefusedError(
            f"The write tool runs one INSERT, UPDATE or DELETE; this is a "
            f"{tree.key.upper()} statement. Use the query tool to read."
        )
    target = tree.this if isinstance(tree, exp.Insert) else tree.find(exp.Table)
    if isinstance(target, exp.Schema):
        target = target.this
    target_name = target.name.lower() if isinstance(target, exp.Table) else ""
    _check_tables(frozenset({target_name}), writable_tables, "writes to")
    for node in tree.walk():
        if (
            node is not tree
            and isinstance(node, _FORBIDDEN_NODES)
            and not isinstance(node, exp.Into)
        ):
            raise QueryRefusedError(
                f"The statement contains {node.key.upper()}; send one plain write."
            )
    _check_functions(tree)
    tables = _tables(tree)
    if readable_tables is not None:
        _check_tables(tables - {target_name}, readable_tables, "reads")
    return CheckedStatement(tree.sql(dialect=dialect), tables)

"""The role layer: what the database lets the toolkit's login do at all.

The parser and the read-only transaction stop what a model sends; the role
decides what a gap in them could reach. A superuser can create replication
slots, reset statistics and read server files; a role that may write to the
tables turns any gap into a write. So on PostgreSQL the toolkit checks its
role when it is built and refuses a privileged one unless told otherwise,
and `create_reader_role_sql` writes the recipe for a role that can only read
the listed tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .errors import PrivilegedRoleError

__all__ = ["check_role", "create_reader_role_sql"]

# Predefined roles that reach beyond reading the listed tables.
_RISKY_MEMBERSHIPS = (
    "pg_write_all_data",
    "pg_write_server_files",
    "pg_read_server_files",
    "pg_execute_server_program",
    "pg_signal_backend",
)
_ROLE_ATTRIBUTES = sa.text(
    "SELECT rolname, rolsuper, rolreplication, rolcreaterole FROM pg_roles "
    "WHERE rolname IN (current_user, session_user) ORDER BY rolname = current_user DESC"
)
_MEMBERSHIPS = sa.text(
    "SELECT rolname FROM pg_roles WHERE rolname = ANY(:names) "
    "AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname"
)
_USER_RELATIONS = (
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
)
_WRITABLE_RELATIONS = sa.text(
    "SELECT c.oid::regclass::text AS name FROM pg_class c "
    "WHERE c.oid = ANY(:oids) AND ("
    "has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER') "
    "OR has_any_column_privilege(c.oid, 'INSERT, UPDATE') "
    "OR pg_has_role(c.relowner, 'USAGE')) ORDER BY 1"
)


def create_reader_role_sql(
    tables: Iterable[str],
    *,
    role: str = "agent_reader",
    database: str | None = None,
    schema: str = "public",
    password: str | None = None,
    statement_timeout: float | None = 10.0,
) -> str:
    """SQL that creates a PostgreSQL login that can only read `tables`; run it as an admin.

    Table names are written as in SQL (`orders`, `sales.orders`, `"Orders"`);
    unqualified ones are in `schema`. Connect the toolkit as this role.
    """
    targets = [_table_identifier(name, schema) for name in tables]
    if not targets:
        raise ValueError("create_reader_role_sql needs at least one table to grant.")
    who = _quote(role)
    login = f"CREATE ROLE {who} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
    if password is not None:
        login += f" PASSWORD {_literal(password)}"
    lines = [
        f"-- A login that can only read {', '.join(t.sql('postgres') for t in targets)}.",
        login + ";",
        f"ALTER ROLE {who} SET default_transaction_read_only = on;",
    ]
    if statement_timeout is not None:
        lines.append(
            f"ALTER ROLE {who} SET statement_timeout = {max(1, int(statement_timeout * 1000))};"
        )
    if database is not None:
        lines.append(f"GRANT CONNECT ON DATABASE {_quote(database)} TO {who};")
    schemas = sorted({t.db for t in targets})
    lines += [f"GRANT USAGE ON SCHEMA {_quote(s)} TO {who};" for s in schemas]
    names = ", ".join(t.sql("postgres") for t in targets)
    lines.append(f"GRANT SELECT ON TABLE {names} TO {who};")
    lines.append(
        "-- Every role also has PUBLIC's rights: to lock them down for all roles, "
        "REVOKE TEMPORARY ON DATABASE ... FROM PUBLIC and REVOKE CREATE ON SCHEMA public "
        "FROM PUBLIC."
    )
    return "\n".join(lines) + "\n"


def check_role(
    engine: Engine,
    *,
    include_tables: Collection[str] | None,
    writable_tables: Collection[str] = (),
) -> None:
    """Refuse a superuser, a replication or role-creating role, membership in predefined
    roles that write or reach files, and write privileges on the tables the model reads."""
    with engine.connect() as conn:
        attributes = conn.execute(_ROLE_ATTRIBUTES).all()
        memberships = conn.execute(_MEMBERSHIPS, {"names": list(_RISKY_MEMBERSHIPS)}).scalars()
        reasons = [
            f"{row.rolname} is a {label}"
            for row in attributes
            for label, flag in (
                ("superuser", row.rolsuper),
                ("replication role", row.rolreplication),
                ("role that can create roles", row.rolcreaterole),
            )
            if flag
        ]
        reasons += [f"it is a member of {name}" for name in memberships]
        oids = _relation_oids(conn, include_tables, writable_tables)
        writable_here = conn.execute(_WRITABLE_RELATIONS, {"oids": oids}).scalars().all()
        conn.rollback()
    if writable_here:
        shown = ", ".join(writable_here[:5])
        more = f" and {len(writable_here) - 5} more" if len(writable_here) > 5 else ""
        reasons.append(f"it may write to {shown}{more}")
    if reasons:
        current = attributes[0].rolname if attributes else "?"
        raise PrivilegedRoleError(
            f"SQLToolkit connects as {current!r}, which can do more than read: "
            f"{'; '.join(reasons)}. A statement that slipped past the parser could then "
            f"change data, take locks or reach files. Connect as a reader role (print "
            f"SQLToolkit.create_reader_role_sql([...]) for the SQL), or pass "
            f"allow_privileged_role=True to accept the risk."
        )


def _relation_oids(
    conn: sa.Connection, include_tables: Collection[str] | None, writable: Collection[str]
) -> list[int]:
    """The relations the model reads: the listed ones, or every user relation."""
    if include_tables is None:
        oids = conn.execute(sa.text(_USER_RELATIONS)).scalars().all()
    else:
        names = [_quoted_name(t) for t in include_tables]
        oids = (
            conn.execute(
                sa.text(
                    "SELECT to_regclass(name)::oid FROM unnest(CAST(:names AS text[])) AS name"
                ),
                {"names": names},
            )
            .scalars()
            .all()
        )
    exempt = {
        oid
        for oid in conn.execute(
            sa.text("SELECT to_regclass(name)::oid FROM unnest(CAST(:names AS text[])) AS name"),
            {"names": [_quoted_name(t) for t in writable]},
        ).scalars()
        if oid is not None
    }
    return [int(oid) for oid in oids if oid is not None and oid not in exempt]


def _quoted_name(normalized: str) -> str:
    """A normalized `schema.table` name, quoted so to_regclass reads it exactly."""
    return ".".join(_quote(part) for part in normalized.split("."))


def _table_identifier(name: str, schema: str) -> exp.Table:
    table = normalize_identifiers(exp.to_table(name, dialect="postgres"), dialect="postgres")
    if not table.name:
        raise ValueError(f"{name!r} is not a table name.")
    return exp.table_(table.name, db=table.db or schema, catalog=table.catalog or None, quoted=True)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

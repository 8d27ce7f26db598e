"""`python -m selectools_sql reader-role orders customers --database shop`: print the SQL
for a PostgreSQL login that can only read those tables (run it as an admin)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .roles import create_reader_role_sql


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selectools_sql")
    commands = parser.add_subparsers(dest="command", required=True)
    reader = commands.add_parser(
        "reader-role", help="print SQL for a PostgreSQL role that can only read the tables"
    )
    reader.add_argument("tables", nargs="+", help="tables as written in SQL (orders, sales.orders)")
    reader.add_argument("--role", default="agent_reader", help="the login to create")
    reader.add_argument("--database", help="the database to grant CONNECT on")
    reader.add_argument("--schema", default="public", help="the schema of unqualified tables")
    reader.add_argument("--password", help="the login's password (omit to set it yourself)")
    reader.add_argument(
        "--statement-timeout", type=float, default=10.0, help="seconds per statement (role default)"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(
        create_reader_role_sql(
            args.tables,
            role=args.role,
            database=args.database,
            schema=args.schema,
            password=args.password,
            statement_timeout=args.statement_timeout,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

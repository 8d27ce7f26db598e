"""The functions a model's SQL may call: an allowlist of side-effect-free ones.

A denylist of "dangerous" functions is never complete (`ts_stat` runs SQL
text, `table_to_xml` reads any table, advisory locks outlive the call,
`nextval` survives a rollback). So every call in the parsed statement must be
one of these; anything else is refused by name. Nothing here executes SQL
text, reads a table named in a string, takes a lock, touches a sequence,
notifies, assigns a transaction id, reads or writes files, changes settings
or reaches another server.

sqlglot parses well-known functions into typed nodes (`UPPER` becomes
`exp.Upper`) and the rest into `exp.Anonymous`. The typed nodes allowed are
derived from the names below (and from the operator and special-syntax
samples), so the list is written once, in SQL, and follows sqlglot's
versions. The SQL that runs is regenerated from the tree and checked again.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError

__all__ = ["allowed_function_names", "allowed_function_nodes", "sqlite_authorizer_functions"]

_AGGREGATES = """
count sum avg min max every bool_and bool_or string_agg array_agg json_agg jsonb_agg
json_object_agg jsonb_object_agg stddev stddev_pop stddev_samp variance var_pop var_samp
corr covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope
regr_sxx regr_sxy regr_syy percentile_cont percentile_disc mode bit_and bit_or
"""
_WINDOWS = """
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
nth_value
"""
_MATH = """
abs ceil ceiling floor round trunc sign sqrt cbrt power pow exp ln log log10 mod div pi
degrees radians sin cos tan asin acos atan atan2 sinh cosh tanh greatest least
width_bucket gcd lcm factorial random scale
"""
_STRINGS = """
length char_length character_length octet_length bit_length lower upper initcap trim
btrim ltrim rtrim lpad rpad substr substring left right position strpos replace
translate reverse repeat concat concat_ws split_part starts_with format md5 sha224 sha256
sha384 sha512 encode decode ascii chr quote_ident quote_literal quote_nullable
regexp_replace regexp_match regexp_matches regexp_split_to_array regexp_split_to_table
regexp_like regexp_count regexp_instr regexp_substr string_to_array string_to_table
array_to_string overlay normalize to_char to_number to_date to_timestamp
"""
_DATES = """
now current_date current_time current_timestamp localtime localtimestamp
statement_timestamp transaction_timestamp date_trunc date_part extract age make_date
make_time make_timestamp make_timestamptz make_interval justify_days justify_hours
justify_interval date_bin isfinite timezone
"""
_CONDITIONALS = "coalesce nullif row all any num_nulls num_nonnulls"
_JSON_AND_ARRAYS = """
json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb
row_to_json array_to_json json_extract_path json_extract_path_text jsonb_extract_path
jsonb_extract_path_text json_array_length jsonb_array_length json_typeof jsonb_typeof
json_array_elements jsonb_array_elements json_array_elements_text
jsonb_array_elements_text json_each jsonb_each json_each_text jsonb_each_text
json_object_keys jsonb_object_keys jsonb_path_exists jsonb_path_match jsonb_path_query
jsonb_path_query_array jsonb_path_query_first jsonb_set jsonb_insert jsonb_strip_nulls
json_strip_nulls jsonb_pretty array_length cardinality array_position array_positions
array_append array_prepend array_cat array_remove array_replace array_lower array_upper
array_ndims array_dims unnest generate_series generate_subscripts
"""
_TEXT_SEARCH = """
to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank
ts_rank_cd ts_headline setweight strip numnode querytree
"""
_RANGES = "isempty lower_inc upper_inc lower_inf upper_inf range_merge"

_SQLITE_ONLY = """
total group_concat ifnull iif instr printf unicode char hex unhex typeof likely unlikely
likelihood julianday unixepoch strftime date time datetime timediff glob like json
json_array json_object json_extract json_type json_valid json_quote json_insert
json_replace json_set json_remove json_patch json_group_array json_group_object
jsonb jsonb_array jsonb_object jsonb_extract jsonb_insert jsonb_replace jsonb_set
jsonb_remove jsonb_patch jsonb_group_array jsonb_group_object log2 quote zeroblob
randomblob soundex
"""

_NAMES = {
    "postgres": " ".join(
        (
            _AGGREGATES,
            _WINDOWS,
            _MATH,
            _STRINGS,
            _DATES,
            _CONDITIONALS,
            _JSON_AND_ARRAYS,
            _TEXT_SEARCH,
            _RANGES,
        )
    ),
    "sqlite": " ".join((_AGGREGATES, _WINDOWS, _MATH, _STRINGS, _CONDITIONALS, _SQLITE_ONLY)),
}

# Operators and special forms (CASE, CAST, EXTRACT(... FROM ...), ->, @>, FILTER, OVER, ...)
# that sqlglot represents as function nodes.
_SYNTAX = {
    "postgres": [
        "a AND b OR NOT c",
        "a ~ 'x' OR a ~* 'x' OR a !~ 'x' OR a !~* 'x'",
        "CASE WHEN a THEN b ELSE c END",
        "CASE a WHEN 1 THEN 2 END",
        "CAST(a AS INT)",
        "a::text",
        "EXISTS (SELECT 1)",
        "a = ANY(ARRAY[1]) OR a = ALL(ARRAY[1])",
        "a -> 'k', a ->> 'k', a #> '{k}', a #>> '{k}', a #- '{k}', a @? '$.a'",
        "a @> b, a <@ b, a ? 'k', a ?| b, a ?& b, a && b, a @@ b",
        "a ^ 2, |/ a, ||/ a",
        "count(*) FILTER (WHERE a)",
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY a)",
        "row_number() OVER (PARTITION BY a ORDER BY b)",
        'a COLLATE "C"',
        "DATE '2024-01-01', TIMESTAMP '2024-01-01', INTERVAL '1 day'",
        "extract(year from a), date_part('year', a)",
        "position('a' in b), substring(a from 1 for 2), trim(both 'x' from a)",
        "overlay(a placing 'b' from 1)",
        "current_date, current_time, current_timestamp, localtime, localtimestamp",
        "1 FROM unnest(ARRAY[1]) AS u, generate_series(1, 2) AS g",
    ],
    "sqlite": [
        "a AND b OR NOT c",
        "CASE WHEN a THEN b ELSE c END",
        "CASE a WHEN 1 THEN 2 END",
        "CAST(a AS INTEGER)",
        "EXISTS (SELECT 1)",
        "a -> '$.a', a ->> '$.a'",
        "a GLOB 'x', a LIKE 'x' ESCAPE '!'",
        "count(*) FILTER (WHERE a)",
        "row_number() OVER (PARTITION BY a ORDER BY b)",
        "a COLLATE NOCASE",
        "current_date, current_time, current_timestamp",
    ],
}

# What SQLite's authorizer reports for operators the parser sees as syntax.
_SQLITE_OPERATOR_FUNCTIONS = frozenset({"like", "glob", "->", "->>"})

_ARGUMENT_SHAPES = ("()", "(a)", "(a, b)", "(a, b, c)", "(a, b, c, d)")


def allowed_function_names(dialect: str) -> frozenset[str]:
    """Lower-case names a query may call in this dialect (others fall back to PostgreSQL's)."""
    return frozenset(_NAMES.get(dialect, _NAMES["postgres"]).split())


@functools.cache
def allowed_function_nodes(dialect: str) -> frozenset[type[exp.Func]]:
    """The typed sqlglot function nodes that the allowed names and syntax parse into.

    Names with a plain builder are built directly (what the parser does for a
    call, without the cost of parsing); names with their own syntax and the
    operator samples are parsed. Computed once per dialect.
    """
    read = dialect if dialect in _NAMES else "postgres"
    sqlglot_dialect = Dialect.get_or_raise(read)
    parser = sqlglot_dialect.parser_class
    found: set[type[exp.Func]] = set()
    samples = list(_SYNTAX[read])
    for name in allowed_function_names(read):
        if name.upper() in parser.FUNCTION_PARSERS:
            samples += [f"{name}{shape}" for shape in _ARGUMENT_SHAPES]
            continue
        builder = parser.FUNCTIONS.get(name.upper())
        if builder is None:
            continue  # parsed as exp.Anonymous, allowed by its name
        for arity in range(len(_ARGUMENT_SHAPES)):
            node = _build(builder, [exp.column(c) for c in "abcd"[:arity]], sqlglot_dialect)
            if node is not None:
                found.update(type(n) for n in node.find_all(exp.Func))
    for sample in samples:
        try:
            tree = sqlglot.parse_one(f"SELECT {sample}", read=read)
        except (ParseError, ValueError, TypeError):
            continue  # that arity does not exist; another one does
        found.update(type(n) for n in tree.find_all(exp.Func))
    found.discard(exp.Anonymous)
    return frozenset(found)


def _build(builder: Any, args: list[exp.Expression], dialect: Dialect) -> exp.Expression | None:
    """Call a parser's function builder as sqlglot's parser does (some take the dialect)."""
    try:
        try:
            node = builder(args)
        except TypeError:
            node = builder(args, dialect=dialect)
    except Exception:
        return None
    return node if isinstance(node, exp.Expression) else None


def sqlite_authorizer_functions() -> frozenset[str]:
    """Function names SQLite's authorizer may see while a checked query runs."""
    return allowed_function_names("sqlite") | _SQLITE_OPERATOR_FUNCTIONS

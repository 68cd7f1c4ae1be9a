"""`ketscreen export sql`: the query, run on DuckDB and SQLite, says what `score()` says.

Every record goes into a table of text cells (as in CSV input), the exported query scores
the table, and each row must equal the library's result for the same answers: status,
band, lower bound, every score, top flag level (with not_assessed), flags and missing
items; an invalid record must be invalid there too, with an error naming the same
column. The records are generated like the batch property tests' (tests/
test_batch_property.py): skip logic followed in messy spellings, declined, blanks, and
now and then an unknown code, an answer that is not asked or a missing required one.
"""

from __future__ import annotations

import csv
import functools
import random
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from ketscreen import AnswerError, score
from ketscreen.core.conditions import Context
from ketscreen.core.model import DECLINED, Item, ItemType, Questionnaire
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.runner import Options
from ketscreen.io.sql import export_sql, output_columns
from tests.batch_helpers import csv_text, run_text
from tests.test_batch_property import (
    BLANKS,
    JUNK,
    QUESTIONNAIRES,
    answer_of,
    cells_for,
    response,
)

ENGINES = ("duckdb", "sqlite")
Records = list[dict[str, str]]
Engine = Any
"""Where a query runs: "duckdb" or "sqlite" (a fresh in-memory database each time), or a
SparkSession (tests/test_sql_spark.py), where the table is a temporary view."""


@functools.cache
def query(name: str, dialect: str) -> str:
    return export_sql(QUESTIONNAIRES[name], dialect)


def dialect_of(engine: Engine) -> str:
    return engine if isinstance(engine, str) else "spark"


def run_sql(name: str, engine: Engine, records: Records) -> list[dict[str, Any]]:
    """The exported query's rows for `records`, in a table of text cells named `responses`."""
    q = QUESTIONNAIRES[name]
    columns = ["respondent_id", *q.items]
    cells = [[f"r{n}", *(cells[i] for i in q.items)] for n, cells in enumerate(records)]
    sql = query(name, dialect_of(engine))
    if isinstance(engine, str):
        rows = _run_embedded(engine, sql, columns, cells)
    else:
        schema = ", ".join(f"`{c}` STRING" for c in columns)
        engine.createDataFrame(cells, schema=schema).createOrReplaceTempView("responses")
        rows = [row.asDict() for row in engine.sql(sql).collect()]
    assert [row["respondent_id"] for row in rows] == [f"r{n}" for n in range(len(records))]
    return rows


def _run_embedded(
    engine: str, sql: str, columns: list[str], cells: list[list[str]]
) -> list[dict[str, Any]]:
    connection: Any = duckdb.connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    try:
        connection.execute(
            "CREATE TABLE responses (" + ", ".join(f'"{c}" TEXT' for c in columns) + ")"
        )
        connection.executemany(
            f"INSERT INTO responses VALUES ({', '.join('?' * len(columns))})", cells
        )
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def library(q: Questionnaire, cells: dict[str, str]) -> dict[str, Any]:
    """What the row must say, from `score()` (cells in questionnaire order)."""
    try:
        result = score(q, {i: cells[i] for i in q.items})
    except AnswerError as exc:
        return {"status": "invalid", "column": exc.item}
    return {
        "status": "ok",
        "band": result.band,
        "lower_bound": result.lower_bound,
        "scores": tuple(result.scores.values()),
        "top_flag_level": result.top_level,
        "flags": [flag.id for flag in result.flags],
        "missing": list(result.missing),
    }


def from_sql(q: Questionnaire, row: dict[str, Any]) -> dict[str, Any]:
    """A row of the query in the shape of `library`."""
    scores = tuple(row[s.id] for s in q.scores)
    if row["status"] == "invalid":
        outcome = [row[c] for c in ("band", "lower_bound", "top_flag_level", "flags", "missing")]
        assert outcome == [None] * 5 and scores == (None,) * len(scores), row
        found = re.match(r"column (\w+): \S", row["error"])
        assert found, row["error"]
        return {"status": "invalid", "column": found[1]}
    assert row["status"] == "ok" and row["error"] is None, row
    assert (row["questionnaire"], row["questionnaire_version"]) == (q.id, q.version)
    assert row["questionnaire_sha256"] == q.sha256
    return {
        "status": "ok",
        "band": row["band"],
        "lower_bound": bool(row["lower_bound"]),
        "scores": scores,
        "top_flag_level": row["top_flag_level"],
        "flags": row["flags"].split(";") if row["flags"] else [],
        "missing": row["missing"].split(";") if row["missing"] else [],
    }


def compare(q: Questionnaire, records: Records, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row against `score()`; return the library's results (for coverage checks)."""
    expected = [library(q, cells) for cells in records]
    got = [from_sql(q, row) for row in rows]
    for cells, mine, theirs in zip(records, got, expected, strict=True):
        assert mine == theirs, cells
    return expected


def check(name: str, engine: Engine, records: Records) -> list[dict[str, Any]]:
    return compare(QUESTIONNAIRES[name], records, run_sql(name, engine, records))


# -- a fixed corpus that covers every band, flag, skip path and invalid kind --------------


def spelled(item: Item, rng: random.Random) -> str:
    """One valid cell for `item`, in one of the ways people write it."""
    return rng.choice([c for c in cells_for(item) if answer_of(item, c) not in (None, DECLINED)])


def record(q: Questionnaire, rng: random.Random, low: float) -> dict[str, str]:
    """A record following skip logic; `low`: how often to answer with the first code."""
    given_: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for item in q.items.values():
        if item.enable_when is not None and not item.enable_when.evaluate(Context(given_)):
            cells[item.id] = rng.choice(BLANKS)
            continue
        roll = rng.random()
        if item.required or roll < 0.75:
            if roll < low and item.type is not ItemType.MULTI:
                cells[item.id] = rng.choice([item.codes[0], item.codes[0].upper()])
            elif roll > 1 - low and item.type is not ItemType.MULTI:
                cells[item.id] = f" {item.codes[-1]} "
            else:
                cells[item.id] = spelled(item, rng)
        else:
            cells[item.id] = rng.choice(cells_for(item))
        answer = answer_of(item, cells[item.id])
        if answer is not None and answer != DECLINED:
            given_[item.id] = answer
    return cells


def mistakes(q: Questionnaire, rng: random.Random, cells: dict[str, str]) -> Records:
    """The record with one mistake of each kind (where the questionnaire allows it)."""
    items = list(q.items.values())
    out: Records = []
    for item in items:
        out.append({**cells, item.id: rng.choice(JUNK)})
        if item.type is ItemType.MULTI and item.allow_decline:
            out.append({**cells, item.id: f"{DECLINED};{item.codes[0]}"})
        if item.required:
            out.append({**cells, item.id: rng.choice(BLANKS)})
        if item.enable_when is not None:
            out.append({**cells, item.id: spelled(item, rng)})
    return out


def corpus(name: str) -> Records:
    q = QUESTIONNAIRES[name]
    rng = random.Random(15)
    records = [record(q, rng, low) for low in (0.0, 0.3, 0.45) for _ in range(300)]
    for example in q.examples:
        records.append(
            {
                i: ";".join(a) if isinstance(a := example.answers.get(i, ""), tuple) else a
                for i in q.items
            }
        )
    for cells in records[:40]:
        records.extend(mistakes(q, rng, cells))
    return records


def check_corpus(name: str, engine: Engine) -> list[dict[str, Any]]:
    """`corpus(name)` through the query, every row compared; the query's rows."""
    q = QUESTIONNAIRES[name]
    records = corpus(name)
    rows = run_sql(name, engine, records)
    results = compare(q, records, rows)
    ok = [r for r in results if r["status"] == "ok"]
    # The corpus is worth something only if it reaches every outcome.
    assert {r["band"] for r in ok} == {b.id for b in q.band_rule.bands}
    assert {f for r in ok for f in r["flags"]} == {rule.id for rule in q.flags}
    levels = {r["top_flag_level"] for r in ok}
    assert levels >= {rule.level.value for rule in q.flags}
    if any(not q.items[i].required for i in q.safety_items):
        assert NOT_ASSESSED in levels
    assert any(r["lower_bound"] for r in ok) == (q.band_rule.max_missing > 0)
    assert {r["column"] for r in results if r["status"] == "invalid"} == set(q.items)
    # Every item that may be left out is missing somewhere, and skipped somewhere if
    # skip logic can pass it by.
    optional = {i.id for i in q.items.values() if not i.required}
    assert {m for r in ok for m in r["missing"]} == optional
    assert error_kinds(rows) == kinds_of_error(q)
    return rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_every_row_equals_score(name: str, engine: str) -> None:
    check_corpus(name, engine)


NOT_ALLOWED = "not an allowed answer"
NOT_ASKED = "answered, but skip logic does not ask it: leave it empty"
REQUIRED = "is required"
COMBINED = "'declined' cannot be combined with other answers"


def error_kinds(rows: list[dict[str, Any]]) -> set[str]:
    return {re.sub(r"^column \w+: ", "", r["error"]).split(";")[0] for r in rows if r["error"]}


def kinds_of_error(q: Questionnaire) -> set[str]:
    """The errors `corpus` makes for `q`: each kind its items allow."""
    items = q.items.values()
    kinds = {NOT_ALLOWED}
    if any(i.enable_when is not None for i in items):
        kinds.add(NOT_ASKED)
    if any(i.required for i in items):
        kinds.add(REQUIRED)
    if any(i.type is ItemType.MULTI and i.allow_decline for i in items):
        kinds.add(COMBINED)
    return kinds


def test_the_errors_say_what_is_wrong() -> None:
    rows = run_sql("ketamine", "duckdb", corpus("ketamine"))
    assert error_kinds(rows) == {
        "not an allowed answer",
        "answered, but skip logic does not ask it: leave it empty",
        "is required",
        "'declined' cannot be combined with other answers",
    }


# -- a property test: any records the batch property tests make ---------------------------

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_property_sql_equals_score(name: str, engine: str) -> None:
    @SETTINGS
    @given(st.lists(response(name), min_size=1, max_size=12))
    def prop(records: Records) -> None:
        check(name, engine, records)

    prop()


# -- the same cells as `ketscreen score` writes them -----------------------------------------


def as_csv_cells(row: dict[str, Any], names: Sequence[str]) -> list[str]:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return [cell(row[n]) for n in names]


def test_rows_equal_the_batch_csv_output() -> None:
    """Cell by cell, all but `source` (the SQL has no file and line) and the wording of
    `error` (shorter in SQL; it names the same column)."""
    q = QUESTIONNAIRES["ketamine"]
    records = corpus("ketamine")
    header = ["respondent_id", *q.items]
    text = csv_text(header, [[f"r{n}", *r.values()] for n, r in enumerate(records)])
    out, _ = run_text(q, text, InputFormat.CSV, Options(output=OutputFormat.CSV))
    batch = list(csv.reader(out.splitlines()))
    names = [c for c in batch[0] if c not in ("source", "error")]
    keep = [batch[0].index(n) for n in names]
    rows = run_sql("ketamine", "duckdb", records)
    assert [[line[k] for k in keep] for line in batch[1:]] == [as_csv_cells(r, names) for r in rows]


# -- the other dialects ------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["postgres", "spark", "bigquery"])
@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_other_dialects_parse_back_with_the_same_columns(name: str, dialect: str) -> None:
    q = QUESTIONNAIRES[name]
    sql = export_sql(q, dialect, table="lake.responses", view="lake.scored")
    parsed = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(parsed, exp.Create)
    assert [part.name for part in parsed.this.parts] == ["lake", "scored"]
    select = parsed.expression
    assert isinstance(select, exp.Select)
    assert [e.alias_or_name for e in select.selects] == list(output_columns(q))
    tables = {tuple(p.name for p in table.parts) for table in parsed.find_all(exp.Table)}
    assert ("lake", "responses") in tables
    # Nothing of DuckDB's own is left: the text reads the same through the dialect.
    assert sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0] + ";\n" == sql


@pytest.mark.parametrize("engine", ENGINES)
def test_a_view_scores_a_named_table(engine: str) -> None:
    q = QUESTIONNAIRES["sds"]
    sql = export_sql(q, engine, table="raw_answers", view="sds_scored")
    connection: Any = duckdb.connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    columns = ", ".join(f'"{c}" TEXT' for c in ["respondent_id", *q.items])
    connection.execute(f"CREATE TABLE raw_answers ({columns})")
    connection.execute(sql.rstrip().rstrip(";"))
    cells = ["a1", "never", " Often", "sometimes", "declined", ""]
    connection.execute(f"INSERT INTO raw_answers VALUES ({', '.join('?' * 6)})", cells)
    status, missing = connection.execute("SELECT status, missing FROM sds_scored").fetchone()
    connection.close()
    assert (status, missing) == ("ok", "sds_wish_stop;sds_difficulty")


BAD_NAMES = ["x y", "", "a;b", "1table", "a.b.c.d", 'x"y']


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_a_name_that_is_not_one_sql_name_is_refused(bad: str) -> None:
    from ketscreen.io.batch.formats import UsageProblem

    with pytest.raises(UsageProblem, match="is not a SQL name"):
        export_sql(QUESTIONNAIRES["sds"], "duckdb", table=bad)

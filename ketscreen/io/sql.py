"""The scoring rules of a questionnaire as one SQL query (`ketscreen export sql`).

The query is written once, in DuckDB's dialect, from the questionnaire model (its items,
skip logic, scores, bands and flags, and the answer spellings of `core.normalize`), and
translated to the other dialects with sqlglot, a maintained SQL transpiler: no string
templates per dialect. It reads a table with `respondent_id` and one text column per item
id (the cells as in CSV input) and gives one row per record with the columns of
`ketscreen score` except `source` (DESIGN.md "Response records").

Stages, one common table expression each: `cleaned` (lower case, spaces trimmed; for a
multi-select, `;` or `|` separated codes as `;a;b;`), `normal` (each item's code, or its
codes in questionnaire order, or `declined`, or NULL; and whether the cell is allowed),
`asked` (skip logic), `scored` (scores, flags, missing items, the first error) and the
final select (band, lower bound, status).

Differences from the Python path, documented in the README: the error of an invalid
record is shorter (`column ITEM: ...`, no "did you mean", no respondent); only spaces
around codes are ignored (runs of up to 32 in a multi-select cell), and SQLite
lower-cases ASCII letters only.
"""

from __future__ import annotations

import re

from ketscreen.core.conditions import AllOf, AnyOf, Condition, ItemCondition
from ketscreen.core.model import DECLINED, Item, ItemType, Questionnaire
from ketscreen.core.normalize import NO_SPELLINGS, YES_SPELLINGS
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.batch.formats import RESPONDENT, SqlDialect, UsageProblem

DEFAULT_TABLE = "responses"
_SPACE_PASSES = 5
"""Passes that halve runs of spaces in a multi-select cell (32 spaces become one)."""


def output_columns(q: Questionnaire) -> tuple[str, ...]:
    """The columns of the query's result, in order: `ketscreen score`'s except `source`."""
    from ketscreen.io.batch.writers import columns

    return tuple(c for c in columns(q) if c != "source")


def lit(text: str) -> str:
    """A string literal (DuckDB)."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted identifier (DuckDB)."""
    return '"' + name.replace('"', '""') + '"'


def _texts(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(map(lit, values))


def _cleaned(item: Item) -> str:
    """The cell as text, lower case, spaces trimmed; a multi-select as `;a;b;`."""
    cell = f"lower(trim(CAST({ident(item.id)} AS VARCHAR)))"
    if item.type is not ItemType.MULTI:
        return cell
    text = f"replace({cell}, '|', ';')"
    for _ in range(_SPACE_PASSES):
        text = f"replace({text}, '  ', ' ')"
    text = f"replace(replace({text}, ' ;', ';'), '; ', ';')"
    return f"';' || {text} || ';'"


def _has(column: str, code: str) -> str:
    return f"instr({column}, {lit(';' + code + ';')}) > 0"


def _normal(item: Item) -> tuple[str, str]:
    """The item's normalised value (NULL: unanswered) and its problem (NULL: none)."""
    column = ident(item.id)
    allowed = _texts(item.allowed_codes)
    unknown = lit(
        f"column {item.id}: not an allowed answer; allowed: {', '.join(item.allowed_codes)}"
    )
    if item.type is not ItemType.MULTI:
        value = f"CASE WHEN {column} = '' THEN NULL"
        if item.type is ItemType.YES_NO:
            value += (
                f" WHEN {column} IN ({_texts(YES_SPELLINGS)}) THEN 'yes'"
                f" WHEN {column} IN ({_texts(NO_SPELLINGS)}) THEN 'no'"
            )
        value += f" ELSE {column} END"
        return value, f"CASE WHEN {value} NOT IN ({allowed}) THEN {unknown} END"
    # What is left when every allowed code is taken out must be separators only. A code
    # written twice in a row shares a separator: one pass takes out every other repeat,
    # and (each replaced by two separators) a second pass takes out the rest.
    rest = column
    for code in item.allowed_codes:
        token = lit(f";{code};")
        rest = f"replace(replace({rest}, {token}, ';;'), {token}, ';;')"
    chosen = " || ".join(
        f"CASE WHEN {_has(column, c)} THEN {lit(c + ';')} ELSE '' END" for c in item.codes
    )
    any_code = " OR ".join(_has(column, c) for c in item.codes)
    declined = _has(column, DECLINED) if item.allow_decline else "FALSE"
    value = f"CASE WHEN {any_code} THEN ';' || {chosen} WHEN {declined} THEN {lit(DECLINED)} END"
    combined = lit(f"column {item.id}: {DECLINED!r} cannot be combined with other answers")
    problem = (
        f"CASE WHEN replace({rest}, ';', '') <> '' THEN {unknown}"
        f" WHEN {declined} AND ({any_code}) THEN {combined} END"
    )
    return value, problem


def _given(item_id: str) -> str:
    """Answered with a code (declined counts as unanswered)."""
    column = ident(item_id)
    return f"({column} IS NOT NULL AND {column} <> {lit(DECLINED)})"


def condition_sql(cond: Condition, q: Questionnaire) -> str:
    """A condition on the normalised answers, as a boolean that is never NULL."""
    if isinstance(cond, AllOf | AnyOf):
        joiner = " AND " if isinstance(cond, AllOf) else " OR "
        return "(" + joiner.join(condition_sql(part, q) for part in cond.parts) + ")"
    if not isinstance(cond, ItemCondition):
        raise ValueError(f"not a condition on answers: {cond}")
    given = _given(cond.item)
    column = ident(cond.item)
    multi = q.items[cond.item].type is ItemType.MULTI
    if cond.op == "answered":
        return given if cond.answered else f"(NOT {given})"
    if cond.op == "contains":
        return f"({given} AND {_has(column, cond.values[0])})"
    if cond.op in ("equals", "in"):
        # A multi-select answer is a set of codes: it never equals one code.
        return "FALSE" if multi else f"({given} AND {column} IN ({_texts(cond.values)}))"
    return given if multi else f"({given} AND {column} NOT IN ({_texts(cond.values)}))"


def _asked(item_id: str) -> str:
    return ident(f"{item_id}__asked")


def _problem(item_id: str) -> str:
    return ident(f"{item_id}__problem")


def scoring_sql(q: Questionnaire, table: str = DEFAULT_TABLE) -> str:
    """The query (DuckDB dialect) that scores every row of `table`."""
    items = list(q.items.values())

    def cond(condition: Condition) -> str:
        return condition_sql(condition, q)

    cleaned = ", ".join(f"{_cleaned(i)} AS {ident(i.id)}" for i in items)
    normal_cols = []
    for item in items:
        value, problem = _normal(item)
        normal_cols.append(f"{value} AS {ident(item.id)}, {problem} AS {_problem(item.id)}")
    asked_cols = ", ".join(
        f"{'TRUE' if i.enable_when is None else cond(i.enable_when)} AS {_asked(i.id)}"
        for i in items
    )

    def unanswered(item_id: str) -> str:
        return f"({_asked(item_id)} AND NOT {_given(item_id)})"

    scores = []
    for sc in q.scores:
        for member in sc.items:
            if q.items[member].type is ItemType.MULTI:
                raise ValueError(f"score {sc.id}: multi-select item {member} has no weights")
        parts = []
        for member in sc.items:
            weights = " ".join(
                f"WHEN {lit(code)} THEN {w}" for code, w in q.items[member].weights.items()
            )
            parts.append(
                f"CASE WHEN {_asked(member)} THEN CASE {ident(member)} {weights} ELSE 0 END "
                "ELSE 0 END"
            )
        if len(sc.items) == 1:
            present = f"({_asked(sc.items[0])} AND {_given(sc.items[0])})"
        else:
            present = "(" + " OR ".join(_asked(m) for m in sc.items) + ")"
        scores.append(f"CASE WHEN {present} THEN {' + '.join(parts)} END AS {ident(sc.id)}")

    rules = sorted(q.flags, key=lambda rule: rule.level.rank)
    flags = " || ".join(
        [f"CASE WHEN {cond(r.when)} THEN {lit(';' + r.id)} ELSE '' END" for r in rules] or ["''"]
    )
    safety = [f"({_asked(i)} AND {ident(i)} IS NULL)" for i in q.safety_items]
    levels = [f"WHEN {cond(r.when)} THEN {lit(r.level.value)}" for r in rules]
    if safety:
        levels.append(f"WHEN {' OR '.join(safety)} THEN {lit(NOT_ASSESSED)}")
    top = f"CASE {' '.join(levels)} END" if levels else "CAST(NULL AS VARCHAR)"
    missing = " || ".join(
        f"CASE WHEN {unanswered(i.id)} THEN {lit(';' + i.id)} ELSE '' END" for i in items
    )
    # The first problem, in the order the Python path finds them: every cell's spelling,
    # then, item by item, an answer that skip logic does not ask and a required answer.
    errors = [f"WHEN {_problem(i.id)} IS NOT NULL THEN {_problem(i.id)}" for i in items]
    for item in items:
        errors.append(
            f"WHEN {ident(item.id)} IS NOT NULL AND NOT {_asked(item.id)} THEN "
            + lit(f"column {item.id}: answered, but skip logic does not ask it: leave it empty")
        )
        if item.required:
            errors.append(
                f"WHEN {_asked(item.id)} AND NOT {_given(item.id)} THEN "
                + lit(f"column {item.id}: is required; allowed: {', '.join(item.allowed_codes)}")
            )
    rule = q.band_rule
    band_items = next(s.items for s in q.scores if s.id == rule.score)
    count = " + ".join(f"CASE WHEN {unanswered(m)} THEN 1 ELSE 0 END" for m in band_items)
    fixed = " ".join(f"WHEN {cond(b.when)} THEN {lit(b.id)}" for b in rule.bands if b.when)
    fixed_band = f"CASE {fixed} END" if fixed else "CAST(NULL AS VARCHAR)"
    incomplete = lit(next(b.id for b in rule.bands if b.incomplete))
    ranged = " ".join(
        f"WHEN {ident(rule.score)} BETWEEN {b.low} AND {b.high} THEN {lit(b.id)}"
        for b in rule.bands
        if b.low is not None and b.high is not None
    )
    ok = "error IS NULL"

    def if_ok(expr: str) -> str:
        return f"CASE WHEN {ok} THEN {expr} END"

    score_ids = [ident(s.id) for s in q.scores]
    final = [
        RESPONDENT,
        f"CASE WHEN {ok} THEN 'ok' ELSE 'invalid' END AS status",
        if_ok(
            f"coalesce(fixed_band, CASE WHEN {ident(rule.score)} IS NULL OR unanswered > "
            f"{rule.max_missing} THEN {incomplete} {ranged} ELSE {incomplete} END)"
        )
        + " AS band",
        if_ok(
            f"fixed_band IS NULL AND {ident(rule.score)} IS NOT NULL AND unanswered BETWEEN 1 "
            f"AND {rule.max_missing} AND CASE {ranged} END IS NOT NULL"
            if ranged
            else "FALSE"
        )
        + " AS lower_bound",
        *(f"{if_ok(s)} AS {s}" for s in score_ids),
        f"{if_ok('top_flag_level')} AS top_flag_level",
        f"{if_ok('substring(flags, 2)')} AS flags",
        f"{if_ok('substring(missing, 2)')} AS missing",
        "error",
        f"{lit(q.id)} AS questionnaire",
        f"{lit(q.version)} AS questionnaire_version",
        f"{lit(q.sha256)} AS questionnaire_sha256",
    ]
    return f"""
WITH cleaned AS (
  SELECT {RESPONDENT}, {cleaned}
  FROM {table}
),
normal AS (
  SELECT {RESPONDENT}, {", ".join(normal_cols)}
  FROM cleaned
),
asked AS (
  SELECT *, {asked_cols}
  FROM normal
),
scored AS (
  SELECT {RESPONDENT}, {", ".join(scores)},
    {count} AS unanswered, {fixed_band} AS fixed_band,
    {flags} AS flags, {top} AS top_flag_level, {missing} AS missing,
    CASE {" ".join(errors)} END AS error
  FROM asked
)
SELECT {", ".join(final)}
FROM scored
"""


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*){0,2}$")


def _name(name: str, what: str) -> str:
    """`name` (maybe `schema.table` or `project.dataset.table`) quoted, part by part."""
    if not _NAME.match(name):
        raise UsageProblem(
            f"{what} name {name[:80]!r} is not a SQL name: letters, digits, _ and -, "
            "and up to two dots (schema.table)"
        )
    return ".".join(ident(part) for part in name.split("."))


def export_sql(
    q: Questionnaire,
    dialect: SqlDialect | str,
    *,
    table: str = DEFAULT_TABLE,
    view: str | None = None,
    pretty: bool = True,
) -> str:
    """The scoring query for `dialect` (or `CREATE VIEW view AS` it), ending with `;`."""
    import sqlglot

    dialect = SqlDialect(dialect)
    sql = scoring_sql(q, _name(table, "table"))
    if view is not None:
        sql = f"CREATE VIEW {_name(view, 'view')} AS {sql}"
    (out,) = sqlglot.transpile(sql, read="duckdb", write=dialect.value, pretty=pretty)
    return out + ";\n"

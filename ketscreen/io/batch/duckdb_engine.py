"""`ketscreen score --engine duckdb`: DuckDB scores the records with the exported query.

The output is the default engine's, byte for byte. DuckDB reads the file itself and
streams results in input order (a query of projections over one table keeps insertion
order, on every thread: DuckDB's order preservation), so each row's number is its place
in the results, added in Python (a row number in SQL is a window that runs on one
thread). Each result row is either formatted by the SQL around its number, for a
plainly valid record, or marked for the Python path: a record the SQL finds invalid, a
row of the wrong width, a blank one, one with text outside printable ASCII, a respondent
id that CSV or JSON would quote or guard. Those rows are scored by the batch `Processor`
from their own text, with their own line numbers, so their rows and messages are the
default engine's.

CSV and TSV: DuckDB reads each line as one text column and splits it at the delimiter,
so a record's line number is its row number plus one (the header). A file where that is
not so, or that the line reader could get wrong, is scored by the default engine instead:
a `"` anywhere after the header (quoting, and cells with line breaks), a carriage return
that is not part of CRLF, a NUL or \\x01 byte, bytes that are not UTF-8, a line that may
be 2 MiB or more (a full 1 MiB block with no line break); also standard input, a file
name that CSV output would quote, and JSON Lines input (same output, the default
engine's speed). Parquet: read by DuckDB too, each row numbered by its position;
a file with columns the default reader converts differently (floats, lists) is scored by
the default engine.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import groupby
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

from ketscreen.core.safe_text import json_safe
from ketscreen.io.batch.formats import (
    DUCKDB_MISSING,
    InputError,
    InputFormat,
    MissingExtra,
    OutputFormat,
    UsageProblem,
)
from ketscreen.io.batch.jobs import PROBLEMS_KEPT, CsvJob, CsvPlan, Job, JobResult, Processor
from ketscreen.io.batch.readers import BLOCK, BOM, MAX_RECORD, Source, plan_header
from ketscreen.io.batch.runner import Options
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.batch.writers import CsvWriter, Writer, writer_for
from ketscreen.io.sql import ident, lit, scoring_sql

if TYPE_CHECKING:
    from ketscreen.io.batch.parquet import ParquetRows

FETCH_ROWS = 32 * 1024
"""Result rows fetched at a time (one JobResult each)."""
WRITES = (OutputFormat.CSV, OutputFormat.JSONL, OutputFormat.PARQUET)
READS = (InputFormat.CSV, InputFormat.TSV, InputFormat.JSONL, InputFormat.PARQUET)
LINE_LIMIT = 2 * BLOCK + 1024
"""DuckDB's max_line_size for CSV, about its default: DuckDB sizes its read buffer from it
(at 64 MiB it read a whole file into one buffer: no parallel reading, and memory that
grew with the file). `_lines_only` sends a file with longer lines to the default engine."""
LONG_LINE = 100_000
"""Longer lines go to the Python path (it refuses cells over the csv module's limit)."""
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.\-]+")
"""Questionnaire, item, flag and band ids that the SQL writes into JSON unescaped."""
_DROP = "drop --engine duckdb"


def check_usable(options: Options, sources: Sequence[Source], *, jobs: int) -> None:
    """UsageProblem for what the SQL path cannot give exactly; MissingExtra without DuckDB."""
    if options.output not in WRITES:
        raise UsageProblem(
            f"--engine duckdb writes csv, jsonl or parquet, not --format {options.output.value}; "
            f"choose one of those, or {_DROP}"
        )
    if options.errors is not None and options.errors not in WRITES:
        raise UsageProblem(
            f"--engine duckdb writes --errors as csv, jsonl or parquet, not "
            f"{options.errors.value}; name the file .csv, .jsonl or .parquet, or {_DROP}"
        )
    for flag, used in (
        ("--explain", options.explain),
        ("--verify", options.verify),
        ("--accept-unversioned", options.accept_unversioned),
    ):
        if used:
            raise UsageProblem(f"{flag} is not available with --engine duckdb; {_DROP}")
    for source in sources:
        if source.format not in (*READS, None):
            fmt = source.format.value if source.format else "?"
            raise UsageProblem(
                f"{source.name}: --engine duckdb reads csv, tsv, jsonl and parquet, not {fmt}; "
                f"{_DROP}"
            )
    duckdb_module()


def duckdb_module() -> ModuleType:
    try:
        import duckdb
    except ImportError:
        raise MissingExtra(DUCKDB_MISSING) from None
    return duckdb


def duckdb_results(
    versions: VersionSet,
    sources: Sequence[Source],
    options: Options,
    items: Mapping[str, int],
    fallback: Callable[[Source], Iterator[JobResult]],
    *,
    warn: Callable[[str], None],
    advance: Callable[[int], None],
    hint: Callable[[Job], None],
    started: Callable[[Source], None],
) -> Iterator[JobResult]:
    """The results of every source, in order: DuckDB's where it is exact, else `fallback`."""
    duckdb = duckdb_module()
    connection = duckdb.connect(config=_config(options))
    processor = Processor(versions, options.output, errors=options.errors, raw_csv=options.raw_csv)
    writer = writer_for(options.output, versions, raw_csv=options.raw_csv)
    try:
        for source in sources:
            started(source)
            query = _query(source, versions, items, writer, warn)
            if query is None:
                yield from fallback(source)
                continue
            try:
                if query.plan.version is None and query.rows_follow:
                    hint(CsvJob(source.label, query.plan, 2, b""))
                results = _run(connection, query, processor, options.output)
                try:
                    first = next(results, None)
                except duckdb.Error:
                    first = None  # nothing written yet: the default engine reads it
                    query.close()
                    yield from fallback(source)
                    continue
                if first is not None:
                    yield first
                    yield from _stopped_cleanly(duckdb, results, source.label)
            finally:
                query.close()
            advance(query.size)
    finally:
        connection.close()


def _config(options: Options) -> dict[str, Any]:
    """DuckDB's settings: `--jobs N` as its threads; and the scoring's IN lists kept as
    expressions. DuckDB's in_clause optimiser makes a long IN list a join, and the query
    must stay projections over one table, whose row order DuckDB keeps (a join's it does
    not promise; a row number over a join was a blocking window that held the whole
    result, about 900 MB at a million rows)."""
    config: dict[str, Any] = {"disabled_optimizers": "in_clause"}
    if options.jobs:
        config["threads"] = options.jobs
    return config


def _stopped_cleanly(
    duckdb: ModuleType, results: Iterator[JobResult], label: str
) -> Iterator[JobResult]:
    """The results, with an error DuckDB raises midway (a line longer than it reads, a
    damaged page) as one message: the rows before it are written already."""
    try:
        yield from results
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "an error"
        raise InputError(
            f"{label}: DuckDB stopped reading it ({reason}); score it without --engine duckdb"
        ) from None


class _Query:
    """One source's SQL and what is needed to finish its rows."""

    def __init__(
        self,
        label: str,
        plan: CsvPlan,
        sql: str,
        rows_follow: bool,
        parquet: ParquetRows | None = None,
        size: int = 0,
    ) -> None:
        self.label = label
        self.plan = plan
        self.sql = sql
        self.rows_follow = rows_follow
        self.parquet = parquet
        """Parquet input: the default reader, for the cells of the rows Python scores."""
        self.size = size
        self.numbered_from = 1 if parquet else 2
        """The number of the first row in its `source` cell: its line, or its row."""
        self._batches = parquet.batches(lambda _: None) if parquet else iter(())
        self._first = 1
        self._batch: Any = None
        self._texts: list[tuple[str, ...]] | None = None

    def parquet_rows(self, number: int, count: int) -> list[tuple[str, ...]]:
        """The cells of rows number.. number+count-1 as the default reader gives them,
        read alongside DuckDB's results (both go through the file in order)."""
        assert self.parquet is not None
        out: list[tuple[str, ...]] = []
        while count:
            if self._batch is None or number >= self._first + self._batch.num_rows:
                self._first, self._batch = next(self._batches)
                self._texts = None
                continue
            if self._texts is None:
                self._texts = self.parquet.texts(self._batch)
            taken = self._texts[number - self._first : number - self._first + count]
            out += taken
            number += len(taken)
            count -= len(taken)
        return out

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()


def _query(
    source: Source,
    versions: VersionSet,
    items: Mapping[str, int],
    writer: Writer,
    warn: Callable[[str], None],
) -> _Query | None:
    """The source's query, or None when the default engine must score it."""
    if source.path is None or source.format not in (
        InputFormat.CSV,
        InputFormat.TSV,
        InputFormat.PARQUET,
    ):
        return None
    if not _plain_ids(versions) or _needs_care(writer, source.label):
        return None
    if source.format is InputFormat.PARQUET:
        return _parquet_query(source, versions, items, writer, warn)
    with source.path.open("rb") as stream:
        header = _lines_only(stream)
        size = stream.tell()
    if header is None:
        return None
    text, rows_follow = header
    delimiter = "\t" if source.format is InputFormat.TSV else None
    plan = _plan(source.label, text, delimiter, items, warn)
    d = lit(plan.delimiter)
    table = (
        f"SELECT line, string_split(line, {d}) AS c FROM read_csv({lit(str(source.path))}, "
        "columns = {'line': 'VARCHAR'}, header = false, skip = 1, delim = '\x01', "
        "quote = '', escape = '', auto_detect = false, "
        f"max_line_size = {LINE_LIMIT})"
    )
    sql = _select(
        versions,
        plan,
        writer,
        source.label,
        table=table,
        cells=[f"c[{k + 1}]" for k in range(plan.width)],
        line="line",
    )
    return _Query(source.label, plan, sql, rows_follow, size=size)


def _plan(
    label: str, header: str, delimiter: str | None, items: Mapping[str, int], warn: Any
) -> CsvPlan:
    from ketscreen.io.batch.readers import _guess_delimiter

    if delimiter is None:
        delimiter = _guess_delimiter(header, items)
    return plan_header(label, header, delimiter, items, warn)


def _lines_only(stream: BinaryIO) -> tuple[str, bool] | None:
    """The header line, and whether anything follows it, when every record after it is
    one line of UTF-8 text with no quote, shorter than LINE_LIMIT; else None (the default
    engine reads it). Every full block holding a line break bounds each line: a line of
    2 * BLOCK bytes or more would hold a whole block."""
    first = stream.readline(MAX_RECORD)
    if not first.endswith(b"\n") or len(first) >= LINE_LIMIT:
        return None  # a header alone (or a very long one): the default engine says so
    try:
        header = first.removeprefix(BOM).decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    if not header.strip():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    follows = False
    last = b""
    while True:
        block = stream.read(BLOCK)
        if not block:
            break
        follows = True
        if b'"' in block or b"\x00" in block or b"\x01" in block:
            return None
        if len(block) == BLOCK and b"\n" not in block:
            return None  # a line that may be longer than DuckDB is told to read
        if b"\r" in block or last == b"\r":
            joined = last + block
            if joined.count(b"\r") != joined.count(b"\r\n") + (joined[-1:] == b"\r"):
                return None
        last = block[-1:]
        if not block.isascii() or decoder.getstate()[0]:
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return None
    if last == b"\r":
        return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return header, follows


def _parquet_query(
    source: Source,
    versions: VersionSet,
    items: Mapping[str, int],
    writer: Writer,
    warn: Callable[[str], None],
) -> _Query | None:
    from ketscreen.io.batch.formats import RESPONDENT
    from ketscreen.io.batch.parquet import ParquetRows, pyarrow
    from ketscreen.io.batch.versions import VERSION_KEY

    pa, pq = pyarrow()
    assert source.path is not None
    try:
        with pq.ParquetFile(source.path) as file:
            arrow = file.schema_arrow
    except (pa.ArrowException, OSError, ValueError):
        return None  # the default engine gives its message
    types = pa.types
    names = list(arrow.names)
    if not all(names):
        return None  # a column with no name: SQL cannot name it
    wanted = (*items, RESPONDENT, VERSION_KEY)
    texts = []
    for k, name in enumerate(names):
        kind = arrow.field(k).type
        if types.is_dictionary(kind):
            kind = kind.value_type
        text = types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind)
        column = ident(name)
        if name.strip().lower() in wanted:
            if not (text or types.is_boolean(kind) or types.is_integer(kind)):
                return None  # converted otherwise by the default reader (or refused there)
            texts.append(f"coalesce(CAST({column} AS VARCHAR), '')")
        elif text:
            texts.append(f"coalesce({column}, '')")
        else:
            texts.append(f"CASE WHEN {column} IS NULL THEN '' ELSE 'x' END")
    stream = source.path.open("rb")
    try:
        rows = ParquetRows(source.label, stream, items, warn=warn)
    except BaseException:
        stream.close()
        raise
    cells = [ident(f"__cell{k}") for k in range(len(names))]
    table = (
        "SELECT "
        + ", ".join(f"{t} AS {c}" for t, c in zip(texts, cells, strict=True))
        + f" FROM read_parquet({lit(str(source.path))})"
    )
    sql = _select(versions, rows.plan, writer, source.label, table=table, cells=cells)
    return _Query(source.label, rows.plan, sql, True, parquet=rows, size=rows.size)


def _plain_ids(versions: VersionSet) -> bool:
    q = versions.default
    ids = [q.id, q.version, q.sha256, *q.items, *(f.id for f in q.flags)]
    ids += [b.id for b in q.band_rule.bands] + list(versions.score_ids)
    return all(_PLAIN_ID.fullmatch(i) for i in ids)


def _needs_care(writer: Writer, label: str) -> bool:
    """Whether CSV output would quote or guard this source's `source` cells."""
    probe = CsvWriter(writer.versions, raw=getattr(writer, "raw", False))
    return probe._careful("", f"{label}:1")


def _select(
    versions: VersionSet,
    plan: CsvPlan,
    writer: Writer,
    label: str,
    *,
    table: str,
    cells: Sequence[str],
    line: str | None = None,
) -> str:
    """The query: each row's cells -> the exported scoring -> the output (text, or typed
    columns for Parquet), with `py`: whether the Python path must score the row.

    `line` (CSV) is the raw line, carried through the scoring in `respondent_id` behind
    a one-letter mark of the checks made before scoring (P: Python, F: fast).
    """
    q = versions.default
    union = versions.union_items()
    by_item = {union[u]: position for position, u in plan.columns}
    answers = ", ".join(
        f"{cells[by_item[i]] if i in by_item else 'NULL'} AS {ident(i)}" for i in q.items
    )
    rid_cell = cells[plan.respondent] if plan.respondent is not None else None
    rid = f"trim({rid_cell})" if rid_cell else "''"
    # A CSV row's checks read its line: the cells and their delimiters, which costs DuckDB
    # less than joining the cells again (a line over LONG_LINE with short cells goes to
    # Python too, which is exact, only slower).
    whole = line if line is not None else "(" + " || ".join(cells) + ")"
    pre = [
        f"strlen({whole}) <> length({whole})",
        f"strlen({whole}) > {LONG_LINE}",
        f"trim({whole}, {lit(' ' + chr(9) + plan.delimiter)}) = ''",
    ]
    if line is not None:
        pre = [f"{line} IS NULL", f"len(c) <> {plan.width}", *pre]
    if rid_cell:
        pre.append(
            f"regexp_matches({rid_cell}, '[\\x00-\\x1f\\x7f,\"\\\\]')"
            f" OR left({rid}, 1) IN ('=', '+', '-', '@')"
        )
    if plan.version is not None:
        pre.append(f"{cells[plan.version]} NOT IN ('', {lit(q.version)})")
    own = set(q.items)
    pre += [f"{cells[p]} <> ''" for p, u in plan.columns if union[u] not in own]
    mark = "CASE WHEN " + " OR ".join(f"({p})" for p in pre) + " THEN 'P' ELSE 'F' END"
    carried = f"coalesce({line}, '')" if line is not None else rid
    inner = f"SELECT {mark} || {carried} AS respondent_id, {answers} FROM ({table})"
    scored = scoring_sql(q, f"({inner})")
    after = "substr(respondent_id, 2)"
    if line is None:
        final_rid = "rid"
    elif plan.respondent is not None:
        final_rid = f"trim(split_part(carried, {lit(plan.delimiter)}, {plan.respondent + 1}))"
    else:
        final_rid = "''"
    if writer.binary:
        output = _typed(versions, label, final_rid)
    else:
        line_parts = _csv_line if isinstance(writer, CsvWriter) else _json_line
        head, tail = line_parts(writer, label, final_rid)
        output = ", ".join(
            f"CASE WHEN NOT py THEN {part} END AS {name}"
            for part, name in ((head, "head"), (tail, "tail"))
        )
    raw = "CASE WHEN py THEN carried END AS line" if line is not None else "NULL AS line"
    rid_column = f"{after} AS rid, " if line is None else ""
    return (
        f"SELECT py, {raw}, band, top_flag_level, {output} FROM ("
        f"SELECT (status <> 'ok' OR left(respondent_id, 1) = 'P') "
        f"AS py, {after} AS carried, {rid_column}* FROM ({scored}))"
    )


def _scores(versions: VersionSet, empty: str, between: str, keys: bool) -> str:
    parts = []
    for score_id in versions.score_ids:
        value = f"coalesce(CAST({ident(score_id)} AS VARCHAR), {lit(empty)})"
        parts.append(f"{lit(json.dumps(score_id) + ': ')} || {value}" if keys else value)
    return f" || {lit(between)} || ".join(parts)


def _csv_line(writer: Writer, label: str, rid: str) -> tuple[str, str]:
    """A CSV row as the text before its line number and the text after it."""
    assert isinstance(writer, CsvWriter)
    tail = writer.tails[None]
    scores = _scores(writer.versions, "", ",", keys=False)
    scores = f"{scores} || ','" if writer.versions.score_ids else "''"
    return f"{rid} || ',' || {lit(label + ':')}", (
        "',ok,' || band || ',' || "
        "CASE WHEN lower_bound THEN 'true' ELSE 'false' END || ',' || "
        f"{scores} || coalesce(top_flag_level, '') || ',' || flags || ',' || missing || "
        f"',,' || {lit(tail)} || chr(10)"
    )


def _json_list(column: str) -> str:
    listed = f"""'["' || replace({column}, ';', '", "') || '"]'"""
    return f"CASE WHEN {column} = '' THEN '[]' ELSE {listed} END"


def _json_line(writer: Writer, label: str, rid: str) -> tuple[str, str]:
    """A JSON line as the text before its line number and the text after it."""
    versions = writer.versions
    q = versions.default
    source = json_safe(json.dumps(label + ":", ensure_ascii=False))[:-1]
    scores = _scores(versions, "null", ", ", keys=True)
    scores = f"{scores} || ', '" if versions.score_ids else "''"
    stamp = (
        f', "error": null, "questionnaire": {json.dumps(q.id)}, '
        f'"questionnaire_version": {json.dumps(q.version)}, '
        f'"questionnaire_sha256": {json.dumps(q.sha256)}}}\n'
    )
    return f"""'{{"respondent_id": "' || {rid} || '", "source": ' || {lit(source)}""", (
        """'", "status": "ok", "band": "' || band || '", "lower_bound": ' || """
        "CASE WHEN lower_bound THEN 'true' ELSE 'false' END || ', ' || "
        f"""{scores} || '"top_flag_level": ' || coalesce('"' || top_flag_level || '"', 'null') """
        f"""|| ', "flags": ' || {_json_list("flags")} || ', "missing": ' || """
        f"{_json_list('missing')} || {lit(stamp)}"
    )


def _typed(versions: VersionSet, label: str, rid: str) -> str:
    """Parquet's columns; `source` without its row number, which Python adds."""
    q = versions.default
    scores = "".join(f"CAST({ident(s)} AS BIGINT) AS {ident(s)}, " for s in versions.score_ids)
    return (
        f"{rid} AS respondent_id, {lit(label + ':')} AS source, status, "
        f"lower_bound, {scores}flags, missing, error, {lit(q.id)} AS questionnaire, "
        f"{lit(q.version)} AS questionnaire_version, {lit(q.sha256)} AS questionnaire_sha256"
    )


# -- running the query --------------------------------------------------------------------


def _run(
    connection: Any, query: _Query, processor: Processor, output: OutputFormat
) -> Iterator[JobResult]:
    """JobResults of FETCH_ROWS rows each, the Python path's rows merged in."""
    parquet_out = output is OutputFormat.PARQUET
    before = 0  # rows in the blocks before this one
    for columns, batch in _fetch(connection, query.sql, arrow=parquet_out):
        py = columns["py"]
        n = len(py)
        first = query.numbered_from + before
        if not any(py):
            yield _fast(columns, batch, 0, n, processor, first)
            before += n
            continue
        parts = []
        for is_py, run in groupby(range(n), key=py.__getitem__):
            indexes = list(run)
            start, stop = indexes[0], indexes[-1] + 1
            if not is_py:
                parts.append(_fast(columns, batch, start, stop, processor, first + start))
                continue
            for job in _python_jobs(query, columns, before + start + 1, start, stop):
                parts.append(processor.run(job))
        yield _joined(parts, processor)
        before += n


def _fetch(connection: Any, sql: str, *, arrow: bool) -> Iterator[tuple[dict[str, list[Any]], Any]]:
    """(columns as lists, the Arrow batch or None) for each block of result rows; with
    the batch, its output columns are read from it instead."""
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        if arrow:
            raise
        result = connection.execute(sql)
        names = [d[0] for d in result.description]
        while rows := result.fetchmany(FETCH_ROWS):
            yield dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)), None
        return
    for batch in _batches(connection.sql(sql).to_arrow_reader(FETCH_ROWS)):
        if not batch.num_rows:
            continue
        py = batch.column("py").to_pylist()
        lines = batch.column("line").to_pylist() if any(py) else []
        yield {"py": py, "line": lines}, batch


def _batches(reader: Iterable[Any]) -> Iterator[Any]:
    """The reader's batches. An error DuckDB meets while it streams them (out of memory,
    say) comes through Arrow as an OSError: it is raised as the DuckDB error it is, so
    that it ends the input with one message, not as a crash."""
    import duckdb

    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except OSError as exc:
            raise duckdb.Error(str(exc)) from None
        yield batch


def _fast(
    columns: dict[str, list[Any]],
    batch: Any,
    start: int,
    stop: int,
    processor: Processor,
    number: int,
) -> JobResult:
    """The rows start:stop, formatted by the SQL around their numbers (from `number`)."""
    count = stop - start
    if batch is None:
        bands = Counter(columns["band"][start:stop])
        levels = _none_named(Counter(columns["top_flag_level"][start:stop]))
        heads, tails = columns["head"][start:stop], columns["tail"][start:stop]
        numbers = range(number, number + count)
        text = "".join(map("{}{}{}".format, heads, numbers, tails)).encode()
    else:
        from ketscreen.io.batch.parquet import ipc_bytes, pyarrow

        pa, _ = pyarrow()
        part = batch.slice(start, count)
        bands = _counts(part.column("band"))
        levels = _none_named(_counts(part.column("top_flag_level")))
        if processor.writer.binary:
            schema = processor.writer.schema  # type: ignore[attr-defined]
            where = part.schema.get_field_index("source")
            part = part.set_column(where, "source", _numbered(pa, part, "source", number))
            table = pa.Table.from_batches([part.select(schema.names)]).cast(schema)
            text = ipc_bytes(pa, table.combine_chunks().to_batches()[0])
        else:
            text = _text(pa, _numbered(pa, part, "head", number, "tail"))
    return JobResult(text, b"", count, 0, bands, levels, [])


def _none_named(levels: Counter[Any]) -> Counter[str]:
    """Top flag levels, no flag (None) counted as "none"."""
    if None in levels:
        levels["none"] = levels.pop(None)
    return levels


def _counts(column: Any) -> Counter[Any]:
    """How often each value (None for null) is in an Arrow column."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    return Counter({e["values"]: e["counts"] for e in pc.value_counts(column).to_pylist()})


def _numbered(pa: ModuleType, part: Any, head: str, number: int, tail: str | None = None) -> Any:
    """Column `head`, the rows' numbers (from `number`) and column `tail`, joined per row."""
    import pyarrow.compute as pc

    numbers = pc.cast(pa.array(range(number, number + part.num_rows), pa.int64()), pa.string())
    texts = [pc.cast(part.column(head), pa.string()), numbers]
    if tail is not None:
        texts.append(pc.cast(part.column(tail), pa.string()))
    return pc.binary_join_element_wise(*texts, "")


def _text(pa: ModuleType, texts: Any) -> bytes:
    """The UTF-8 text of a string array with no nulls, joined: its data buffer's span."""
    offsets = pa.Array.from_buffers(
        pa.int32(), len(texts) + 1, [None, texts.buffers()[1]], offset=texts.offset
    )
    return bytes(texts.buffers()[2][offsets[0].as_py() : offsets[len(texts)].as_py()])


def _python_jobs(
    query: _Query, columns: dict[str, list[Any]], number: int, start: int, stop: int
) -> Iterator[CsvJob]:
    """The jobs that score rows start:stop (row numbers from `number`) in Python."""
    if query.parquet is None:
        lines = columns["line"][start:stop]
        data = "".join(f"{line}\n" for line in lines).encode()
        yield CsvJob(query.label, query.plan, number + 1, data)
        return
    from ketscreen.io.batch.parquet import row_jobs

    rows = query.parquet_rows(number, stop - start)
    yield from row_jobs(query.label, query.plan, number, rows)


def _joined(parts: Sequence[JobResult], processor: Processor) -> JobResult:
    """One result from consecutive ones (their rows in order)."""
    binary = processor.writer.binary
    errors_binary = processor.errors_writer is not None and processor.errors_writer.binary
    bands: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    problems: list[str] = []
    for part in parts:
        bands.update(part.bands)
        levels.update(part.levels)
        problems.extend(part.problems)
    return JobResult(
        text=_concat([p.text for p in parts], binary),
        errors_text=_concat([p.errors_text for p in parts], errors_binary),
        records=sum(p.records for p in parts),
        invalid=sum(p.invalid for p in parts),
        bands=bands,
        levels=+levels,
        problems=problems[:PROBLEMS_KEPT],
    )


def _concat(blocks: Sequence[bytes], binary: bool) -> bytes:
    blocks = [b for b in blocks if b]
    if not binary or len(blocks) < 2:
        return b"".join(blocks)
    from ketscreen.io.batch.parquet import ipc_bytes, pyarrow

    pa, _ = pyarrow()
    tables = [pa.ipc.open_stream(b).read_all() for b in blocks]
    return ipc_bytes(pa, pa.concat_tables(tables).combine_chunks().to_batches()[0])

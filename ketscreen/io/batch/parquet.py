"""Apache Parquet in and out of `ketscreen score` (with pyarrow, the `parquet` extra).

Reading: the file is read a batch of rows at a time (`iter_batches`, so memory stays flat)
and each batch becomes the same CSV job a CSV file with those columns would give, cells
as text: a column is matched by name as a CSV header is, a whole number is read as its
digits (a float with no fraction too, as pandas stores whole numbers with gaps), true and
false as `true`/`false` (so a boolean column answers a yes/no item), a list of codes as a
multi-select cell, and a null as an empty cell. A record's `source` is `file:N`, N its row
number counting from 1.

Writing: the columns of CSV output, typed (`schema`): text columns as strings, the scores
as nullable int64, `lower_bound` as a nullable boolean, `flags` and `missing` as text
joined with `;` (as in CSV and the exported SQL); the result columns of an invalid record
are null. Rows are written in row groups of `ROW_GROUP_ROWS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import IO, Any, BinaryIO

from ketscreen.core.compiled import STATUS_OK, Row, field_name
from ketscreen.core.model import Questionnaire
from ketscreen.io.batch.formats import PYARROW_MISSING, InputError, MissingExtra
from ketscreen.io.batch.jobs import CsvJob, CsvPlan
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.batch.writers import Writer

BATCH_ROWS = 4096
"""Rows read at a time (one job each)."""
ROW_GROUP_ROWS = 64 * 1024
"""Rows per written row group: large enough for fast scans, small enough to hold."""


def pyarrow() -> tuple[ModuleType, ModuleType]:
    """pyarrow and pyarrow.parquet, or MissingExtra saying what to install."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise MissingExtra(PYARROW_MISSING) from None
    return pa, pq


def damaged(label: str, exc: Exception) -> InputError:
    """One message for a file that pyarrow cannot read as Parquet."""
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return InputError(
        f"{label}: cannot be read as Parquet ({reason}); check that the file is whole "
        "and is a Parquet file"
    )


# -- reading ----------------------------------------------------------------------------


def parquet_jobs(
    label: str,
    stream: BinaryIO,
    items: Mapping[str, int],
    *,
    warn: Callable[[str], None],
    advance: Callable[[int], None],
) -> Iterator[CsvJob]:
    """The CSV jobs of a Parquet file, BATCH_ROWS rows each (fewer around a cell that
    holds a line break, so that every job's line numbers are row numbers)."""
    reader = ParquetRows(label, stream, items, warn=warn)
    try:
        for first, batch in reader.batches(advance):
            data = reader.csv(batch)
            if data is None:
                yield from row_jobs(label, reader.plan, first, reader.texts(batch))
            else:
                yield CsvJob(label, reader.plan, first, data)
    finally:
        reader.close()


class ParquetRows:
    """A Parquet file's plan (from its column names) and its rows as cell text."""

    def __init__(
        self,
        label: str,
        stream: BinaryIO,
        items: Mapping[str, int],
        *,
        warn: Callable[[str], None],
    ) -> None:
        self.pa, pq = pyarrow()
        self.label = label
        self.stream = stream
        if not stream.seekable():
            raise InputError(f"{label}: Parquet cannot be read from a pipe; give the file's name")
        self.size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        try:
            self.file = pq.ParquetFile(stream)
            schema = self.file.schema_arrow
            self.total = self.file.metadata.num_rows
        except (self.pa.ArrowException, OSError, ValueError) as exc:
            raise damaged(label, exc) from None
        names = list(schema.names)
        self.plan = header_plan(label, names, items, warn)
        used = _used(self.plan)
        self.kinds = [
            _Kind.of(self.pa, schema.field(k).type, k in used, label, names[k])
            for k in range(len(names))
        ]

    def close(self) -> None:
        self.file.close()
        self.stream.close()

    def batches(self, advance: Callable[[int], None]) -> Iterator[tuple[int, Any]]:
        """(number of the first row, a record batch), in file order."""
        row = 1
        batches = self.file.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (self.pa.ArrowException, OSError, ValueError) as exc:
                raise damaged(self.label, exc) from None
            if self.total:
                advance(self.size * batch.num_rows // self.total)
            yield row, batch
            row += batch.num_rows

    def texts(self, batch: Any) -> list[tuple[str, ...]]:
        """A batch's rows as cell text, every column."""
        texts = [kind.texts(batch.column(k)) for k, kind in enumerate(self.kinds)]
        return list(zip(*texts, strict=True)) if texts else [()] * batch.num_rows

    def csv(self, batch: Any) -> bytes | None:
        """A batch's rows as CSV lines, made by Arrow, when no cell needs quoting (nearly
        always); None otherwise (`texts` and the csv module then do it). The lines read
        as the cells of `self.texts(batch)`: each cell as it is, with a comma between
        cells (two columns at least, as a line with no comma would be a blank line)."""
        if len(self.kinds) < 2:
            return None
        pa = self.pa
        import pyarrow.csv as arrow_csv  # type: ignore[import-untyped]

        arrays = [kind.arrow(pa, batch.column(k)) for k, kind in enumerate(self.kinds)]
        sink = pa.BufferOutputStream()
        try:
            arrow_csv.write_csv(
                pa.Table.from_arrays(arrays, names=[str(k) for k in range(len(arrays))]),
                sink,
                arrow_csv.WriteOptions(include_header=False, quoting_style="none"),
            )
        except pa.ArrowInvalid:  # a cell with a comma, a quote or a line break
            return None
        data: bytes = sink.getvalue().to_pybytes()
        return data


def header_plan(
    label: str, names: Sequence[str], items: Mapping[str, int], warn: Callable[[str], None]
) -> CsvPlan:
    """The CSV plan for these column names, read as a CSV header would be (the same
    matching, warnings and errors)."""
    from ketscreen.io.batch.formats import RESPONDENT
    from ketscreen.io.batch.readers import plan_header

    # A column with no name is named by its place, so that it is not taken for the empty
    # cells that end a CSV header (those are left out).
    names = [str(n) if str(n).strip() else f"column {k + 1}" for k, n in enumerate(names)]
    if not any(str(name).strip().lower() in items for name in names):
        shown = ", ".join(field_name(str(n)) for n in names[:10]) or "none"
        raise InputError(
            f"{label}: no column is an item id (the columns: {shown}); name the columns "
            f"by item id, plus {RESPONDENT} (see `ketscreen template`)"
        )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(names)
    return plan_header(label, buffer.getvalue().rstrip("\n"), ",", items, warn)


def _used(plan: CsvPlan) -> set[int]:
    used = {position for position, _ in plan.columns}
    used.update(p for p in (plan.respondent, plan.version) if p is not None)
    return used


def row_jobs(
    label: str, plan: CsvPlan, first: int, rows: Sequence[tuple[str, ...]]
) -> Iterator[CsvJob]:
    """Rows as CSV jobs; a row with a line break in a cell is a job of its own."""
    data = _csv(rows)
    if b"\r" not in data and data.count(b"\n") == len(rows):
        # No line break within a cell (the csv module writes one only there and at
        # the end of each row): one job.
        if rows:
            yield CsvJob(label, plan, first, data)
        return
    start = 0
    for k, cells in enumerate(rows):
        if any("\n" in cell or "\r" in cell for cell in cells):
            if k > start:
                yield CsvJob(label, plan, first + start, _csv(rows[start:k]))
            yield CsvJob(label, plan, first + k, _csv(rows[k : k + 1]))
            start = k + 1
    if start < len(rows):
        yield CsvJob(label, plan, first + start, _csv(rows[start:]))


def _csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    # Every cell quoted: the csv module's minimal quoting leaves a carriage return bare
    # (it quotes only the characters of the line terminator), which reads as a line end.
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogateescape")


class _Kind:
    """How one column's values become cell text."""

    def __init__(
        self, convert: Callable[[Any], list[str]], arrow: Callable[[Any], Any] | None = None
    ) -> None:
        self.texts = convert
        self._arrow = arrow

    def arrow(self, pa: ModuleType, column: Any) -> Any:
        """The column's cell text as an Arrow string array (the same text as `texts`)."""
        if self._arrow is not None:
            return self._arrow(column)
        return pa.array(self.texts(column), pa.string())

    @classmethod
    def of(cls, pa: ModuleType, kind: Any, used: bool, label: str, name: str) -> _Kind:
        import pyarrow.compute as compute  # type: ignore[import-untyped]

        types = pa.types
        if types.is_dictionary(kind):
            inner = cls.of(pa, kind.value_type, used, label, name)
            return cls(
                lambda column: inner.texts(column.dictionary_decode()),
                lambda column: inner.arrow(pa, column.dictionary_decode()),
            )
        if types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind):
            return cls(
                lambda column: column.cast(pa.string()).fill_null("").to_pylist(),
                lambda column: column.cast(pa.string()).fill_null(""),
            )
        if types.is_null(kind):  # a column with no value at all
            return cls(
                lambda column: [""] * len(column),
                lambda column: pa.nulls(len(column), pa.string()).fill_null(""),
            )
        if not used:
            # Only whether such a cell is empty matters (a record of empty cells is
            # skipped), so the values are never converted (a nanosecond time could not be).
            return cls(
                lambda column: ["" if v else "x" for v in column.is_null().to_pylist()],
                lambda column: compute.if_else(column.is_null(), "", "x"),
            )
        if types.is_boolean(kind) or types.is_integer(kind):
            # Arrow writes whole numbers as their digits and booleans as true/false.
            return cls(
                lambda column: [_text(v) for v in column.to_pylist()],
                lambda column: column.cast(pa.string()).fill_null(""),
            )
        if types.is_floating(kind):
            return cls(lambda column: [_float_text(v) for v in column.to_pylist()])
        if types.is_list(kind) or types.is_large_list(kind):
            return cls(lambda column: [_list_text(v) for v in column.to_pylist()])
        raise InputError(
            f"{label}: column {name} holds {kind} values; ketscreen reads text, whole "
            "numbers, true/false and lists of codes: convert the column, or leave it out"
        )


def _text(value: object) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _float_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def _list_text(values: list[Any] | None) -> str:
    if not values:
        return ""
    return ";".join(_text(v) for v in values if v is not None)


# -- writing ------------------------------------------------------------------------------


def schema(versions: VersionSet) -> Any:
    """The Parquet columns: `ketscreen score`'s CSV columns, typed."""
    pa, _ = pyarrow()
    from ketscreen.io.batch.writers import columns

    typed = {"lower_bound": pa.bool_(), **dict.fromkeys(versions.score_ids, pa.int64())}
    return pa.schema([pa.field(name, typed.get(name, pa.string())) for name in columns(versions)])


class ParquetWriter(Writer):
    """Formats blocks of rows as Arrow IPC streams (picklable bytes, so workers can do
    it); `ParquetSink` writes them to the file as Parquet row groups."""

    binary = True

    def __init__(self, versions: VersionSet | Questionnaire) -> None:
        super().__init__(versions)
        self.schema = schema(self.versions)

    def rows(self, rows: Sequence[Row]) -> str:
        raise TypeError("Parquet is binary: use encoded()")

    def encoded(self, rows: Sequence[Row]) -> bytes:
        if not rows:
            return b""
        pa, _ = pyarrow()
        ok = [row.status == STATUS_OK for row in rows]
        stamps = [self.stamp_of(row) for row in rows]
        scores = list(zip(*(self.scores_of(row) for row in rows), strict=True))
        values: list[list[Any]] = [
            [row.respondent_id for row in rows],
            [row.source for row in rows],
            [row.status for row in rows],
            [row.band for row in rows],
            [row.lower_bound for row in rows],
            *map(list, scores),
            [row.top_flag_level for row in rows],
            [";".join(row.flags) if good else None for row, good in zip(rows, ok, strict=True)],
            [";".join(row.missing) if good else None for row, good in zip(rows, ok, strict=True)],
            [row.error for row in rows],
            [stamp[0] for stamp in stamps],
            [stamp[1] for stamp in stamps],
            [stamp[2] for stamp in stamps],
        ]
        arrays = [
            _array(pa, column, field.type)
            for column, field in zip(values, self.schema, strict=True)
        ]
        return ipc_bytes(pa, pa.RecordBatch.from_arrays(arrays, schema=self.schema))


def _array(pa: ModuleType, values: list[Any], kind: Any) -> Any:
    try:
        return pa.array(values, kind)
    except (UnicodeEncodeError, pa.ArrowException):
        # A lone surrogate (an undecodable byte kept from JSON input) is written as its
        # escape, as the text writers write it.
        safe = [
            v.encode("utf-8", "backslashreplace").decode() if isinstance(v, str) else v
            for v in values
        ]
        return pa.array(safe, kind)


def ipc_bytes(pa: ModuleType, batch: Any) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as stream:
        stream.write_batch(batch)
    return bytes(sink.getvalue())


class ParquetSink:
    """Writes the IPC blocks of a `ParquetWriter` to a binary stream as Parquet."""

    def __init__(self, stream: IO[str], writer: ParquetWriter) -> None:
        self.pa, self.pq = pyarrow()
        raw = getattr(stream, "buffer", None)
        assert raw is not None, "Parquet is written only to files"
        self.raw: BinaryIO = raw
        self.schema = writer.schema
        self.held: list[Any] = []
        self.rows = 0
        self.out: Any = None

    @property
    def wrote_header(self) -> bool:
        return self.out is not None or bool(self.held)

    def block(self, data: bytes, records: int) -> None:
        if not data:
            return
        table = self.pa.ipc.open_stream(data).read_all()
        self.add(table)

    def add(self, table: Any) -> None:
        """A table with this sink's schema (the DuckDB engine adds its batches here)."""
        if not table.num_rows:
            return
        self.held.append(table)
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.out is None:
            self.out = self.pq.ParquetWriter(self.raw, self.schema)
        if self.held:
            self.out.write_table(self.pa.concat_tables(self.held), row_group_size=ROW_GROUP_ROWS)
        self.held, self.rows = [], 0

    def abort(self) -> None:
        """The batch stops: nothing more is written (the output is then discarded)."""

    def close(self) -> None:
        self._flush()
        self.out.close()
        self.raw.flush()

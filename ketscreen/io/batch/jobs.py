"""Units of batch work and the code that does them, in this process or in a worker.

The runner cuts inputs into jobs (a block of CSV or JSON Lines text, or some parsed
records); a `Processor` turns a job into formatted output text and counts. Jobs and
results are plain picklable data, so the same code runs with or without workers.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from ketscreen.core.compiled import (
    CACHE_LIMIT,
    STATUS_OK,
    Row,
    Scorer,
    answer_error_row,
    field_name,
    invalid_row,
    quote,
    who,
)
from ketscreen.core.conditions import Answer
from ketscreen.core.model import Item, ItemType, Questionnaire
from ketscreen.core.normalize import normalize_answer, normalize_answers
from ketscreen.errors import AnswerError
from ketscreen.io.batch.formats import RESPONDENT, InputError, OutputFormat
from ketscreen.io.batch.json_records import Broken, RecordDecoder, json_reason
from ketscreen.io.batch.versions import META_KEYS, VERSION_KEY, VersionSet
from ketscreen.io.batch.writers import writer_for
from ketscreen.io.fhir import responses_from_fhir, verify_scores
from ketscreen.io.fhir.read import FhirRecord, responses_from_entries

PROBLEMS_KEPT = 10
"""Invalid records quoted per job (the summary shows the first ones)."""
CELL_LIMIT = csv.field_size_limit()
"""The longest CSV cell read (the csv module's limit, 128 KB): a record with a longer
one is invalid, as it is most often a stray quote that runs on over the next lines."""
NOT_UTF8 = "is not UTF-8 text; save the file as UTF-8 (in a spreadsheet: CSV UTF-8) and try again"
UNDECODED = re.compile("[\udc80-\udcff]")
"""What `surrogateescape` decoding leaves for a byte that is not UTF-8."""
_BAND = Row._fields.index("band")
_LEVEL = Row._fields.index("top_flag_level")
# What a JSON record's key is, for the quick road (`Processor._quick`): an item's index
# (0 and up), or one of these.
_RESPONDENT_KEY = -1
_META_KEY = -2
_VERSION_KEY = -3
_UNKNOWN_KEY = -4
_EXACT_KEY = -5
"""A key only the exact road reads: `answers`, or a known name spelled otherwise."""


@dataclass(frozen=True)
class CsvPlan:
    """How to read the rows of one CSV/TSV file, decided from its header."""

    delimiter: str
    width: int
    columns: tuple[tuple[int, int], ...]
    """(cell position, item index) for every column that is an item (an index into the
    items of every version the batch knows: the default version's come first)."""
    respondent: int | None
    version: int | None = None
    """The position of a `questionnaire_version` column, if the file has one."""


@dataclass(frozen=True)
class CsvJob:
    source: str
    plan: CsvPlan
    first_line: int
    data: bytes
    """Whole records (UTF-8), each ending with a line break except maybe the file's last."""


@dataclass(frozen=True)
class JsonLinesJob:
    source: str
    first_line: int
    data: bytes


@dataclass(frozen=True)
class RecordsJob:
    """Parsed JSON records, each with its source and line."""

    records: tuple[tuple[str, int, object], ...]


@dataclass(frozen=True)
class SessionsJob:
    """Saved session files: (name, text or the reason it could not be read)."""

    sessions: tuple[tuple[str, str, bool], ...]
    """(name, text, readable); when not readable, text is the reason."""


@dataclass(frozen=True)
class FhirJob:
    """A parsed FHIR document: one QuestionnaireResponse, or a Bundle of them."""

    source: str
    document: object


@dataclass(frozen=True)
class FhirEntriesJob:
    """Entries of a streamed FHIR Bundle, numbered from `first`: their JSON text (`e1,e2`),
    which is all that crosses to a worker process, and the reader's parsed value of it
    for this process (dropped when pickled; a worker parses the text again)."""

    source: str
    first: int
    text: str
    exact: bool
    """The text must be read by `RecordDecoder` (orjson's value may differ)."""
    parsed: list[object] | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "parsed": None}


Job = CsvJob | JsonLinesJob | RecordsJob | SessionsJob | FhirJob | FhirEntriesJob


@dataclass
class JobResult:
    text: bytes
    """The formatted rows, UTF-8 (encoded here, so that workers share that work too)."""
    errors_text: bytes
    records: int
    invalid: int
    bands: Counter[str]
    levels: Counter[str]
    problems: list[str]
    unknown: dict[str, set[str]] = field(default_factory=dict)
    """Keys that are not items, per input (JSON records), for one warning each."""
    notes: list[str] = field(default_factory=list)
    """Records read in a way they did not say exactly (FHIR), the first PROBLEMS_KEPT."""
    noted: int = 0
    """How many such records."""
    unstored: Counter[str] = field(default_factory=Counter)
    """--verify: how many responses do not store each result key (recomputed)."""
    verified: int = 0
    """--verify: how many responses were compared."""


COLLECT_EVERY = 100_000
"""Records scored between two runs of the cycle collector while a batch runs."""


class BatchCollector:
    """The cycle collector for a whole batch: off from here until `close`, so that what
    a block parses (a FHIR Bundle's entries: thousands of objects) is freed by reference
    counting instead of being walked by the collector again and again; it runs in full
    every COLLECT_EVERY records instead (scoring makes few cycles and keeps none)."""

    def __init__(self) -> None:
        self.since = 0
        self.enabled = gc.isenabled()
        gc.disable()

    def tick(self, records: int) -> None:
        self.since += records
        if self.since >= COLLECT_EVERY:
            self.since = 0
            gc.collect()

    def close(self) -> None:
        if self.enabled:
            gc.enable()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Scoring makes many small acyclic objects; the cycle collector only slows it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode(data: bytes, source: str, first_line: int) -> str:
    """Text that must be UTF-8 as a whole (a header line): InputError when it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise InputError(f"{source}:{line}: {NOT_UTF8}") from None


def decode_records(data: bytes) -> tuple[str, bool]:
    """A block of records as text, and whether some bytes were not UTF-8. Those are
    kept as lone surrogates (`surrogateescape`), so that only the records holding them
    are invalid; line breaks, quotes and delimiters are ASCII, so they stay in place."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), True


def _never_closed(lines: list[str], delimiter: str) -> bool:
    """Whether the CSV record in `lines` (the last of a block) opens a quoted cell that
    is still open at the end: the csv module then takes all the rest as that cell."""
    if sum(line.count('"') for line in lines) % 2 == 0:
        return False  # balanced quotes cannot leave a cell open
    try:
        for _ in csv.reader(iter(lines), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False


def _cell(answer: Answer | None) -> str:
    if answer is None:
        return ""
    return ";".join(answer) if isinstance(answer, tuple) else answer


class _KeyPlan(NamedTuple):
    """How `Processor._quick` reads the records that have one tuple of keys."""

    scalar: Callable[[tuple[object, ...]], tuple[object, ...]]
    """The values of single-choice items, from the record's values."""
    tables: tuple[dict[str | None, str], ...]
    """Their cells by spelling (`Processor._texts`), in the same order."""
    multi: tuple[tuple[int, int], ...]
    """(value position, item index) of multi-select items, read one by one."""
    respondent: int | None
    version: int | None
    unknown: tuple[str, ...]
    gather: Callable[[list[str]], Sequence[str]]
    """The cells in item order from [single-choice..., multi-select..., ""]."""


_NO_PLAN: Any = object()


class _LinePlan(NamedTuple):
    """How `Processor._plain_values` reads the records that have one set of keys."""

    getter: Callable[[dict[Any, Any]], tuple[object, ...]]
    """The values, keys sorted (KeyError when a key is missing)."""
    size: int
    """How many keys."""
    blank: tuple[None, ...]
    """The values of a line that is not plain."""
    items: tuple[tuple[int, int], ...]
    """(value position, item index) of each item."""
    respondent: int | None
    """The value position of the respondent id, if the records have one."""


def _loads_or_none(line: str) -> object:
    """The JSON value of a line, or None when orjson cannot read it."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None


def _getter(positions: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """`itemgetter`, always giving a tuple."""
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    if not positions:
        return lambda values: ()
    return itemgetter(*positions)


def _multi(item: Item) -> bool:
    return item.type is ItemType.MULTI


class RecordProblem(Exception):
    """Why a JSON record cannot be read (internal; becomes an invalid row)."""


class Processor:
    """Does jobs for one instrument (its versions) and output format."""

    def __init__(
        self,
        questionnaire: Questionnaire | VersionSet,
        output: OutputFormat,
        *,
        explain: bool = False,
        errors: OutputFormat | None = None,
        verify: bool = False,
        raw_csv: bool = False,
        accept_unversioned: bool = False,
    ) -> None:
        versions = (
            questionnaire if isinstance(questionnaire, VersionSet) else VersionSet(questionnaire)
        )
        self.versions = versions
        self.questionnaire = versions.default
        self.verify = verify
        self.accept_unversioned = accept_unversioned
        self._notes: list[str] = []
        self._noted = 0
        self._unstored: Counter[str] = Counter()
        self._verified_count = 0
        # FHIR output writes each record's answers, which only the explained rows carry
        # (`Row.details`: kept by the compiled path, so each record is scored once).
        self._explain = explain or output is OutputFormat.FHIR
        self.scorer = Scorer(self.questionnaire, explain=self._explain)
        self._scorers = {self.questionnaire.version: self.scorer}
        self.writer = writer_for(output, versions, raw_csv=raw_csv)
        self.errors_writer = (
            writer_for(errors, versions, raw_csv=raw_csv) if errors is not None else None
        )
        self.json = RecordDecoder()
        self.identity = tuple((i, i) for i in range(len(self.scorer.items)))
        self.union = versions.union_items()
        self._union_set = frozenset(self.union)
        self._key_kinds: dict[str, int] = {}
        self._blank = [""] * len(self.scorer.items)
        self._texts: list[dict[str | None, str]] = [{None: ""} for _ in self.scorer.items]
        self._lists: list[dict[tuple[object, ...], str]] = [{} for _ in self.scorer.items]
        self._key_plans: dict[tuple[str, ...], _KeyPlan | None] = {}
        self._line_plans: dict[tuple[str, ...], _LinePlan | None] = {}

    def scorer_for(self, questionnaire: Questionnaire) -> Scorer:
        scorer = self._scorers.get(questionnaire.version)
        if scorer is None:
            scorer = self._scorers[questionnaire.version] = Scorer(
                questionnaire, explain=self._explain
            )
        return scorer

    def _unknown_version(self, rid: str, where: str, version: str) -> Row:
        return invalid_row(
            rid,
            where,
            f"{who(rid)}: {VERSION_KEY} {quote(version)} {self.versions.why_unknown(version)}",
        )

    def run(self, job: Job) -> JobResult:
        unknown: dict[str, set[str]] = {}
        with gc_paused():
            if isinstance(job, CsvJob):
                rows = self.csv_rows(job)
            elif isinstance(job, JsonLinesJob):
                rows = self.json_lines_rows(job, unknown)
            elif isinstance(job, RecordsJob):
                rows = self._plain_records(job.records, unknown)
            elif isinstance(job, FhirJob):
                rows = self.fhir_rows(job)
            elif isinstance(job, FhirEntriesJob):
                rows = self.fhir_entry_rows(job)
            else:
                rows = self.session_rows(job, unknown)
            if self.verify and not isinstance(job, (FhirJob, FhirEntriesJob)):
                rows = [_unverifiable(row) for row in rows]
            result = self.result(rows, unknown)
        result.notes, result.noted, result.unstored, result.verified = (
            self._notes,
            self._noted,
            self._unstored,
            self._verified_count,
        )
        self._notes, self._noted, self._unstored, self._verified_count = [], 0, Counter(), 0
        return result

    def result(self, rows: list[Row], unknown: dict[str, set[str]]) -> JobResult:
        bands = Counter(map(itemgetter(_BAND), rows))
        invalid = bands.pop(None, 0)
        levels = Counter(map(itemgetter(_LEVEL), rows))
        bad: list[Row] = []
        if invalid:
            levels[None] -= invalid
            bad = [row for row in rows if row.status is not STATUS_OK]
        levels["none"] = levels.pop(None, 0)
        # Writers escape what cannot be encoded, but for CSV cells written raw (--raw-csv):
        # there a lone surrogate from a JSON string is written as its escape.
        return JobResult(
            text=self.writer.encoded(rows),
            errors_text=self.errors_writer.encoded(bad) if self.errors_writer and bad else b"",
            records=len(rows),
            invalid=invalid,
            bands=bands,
            levels=+levels,
            problems=[f"{row.source}: {row.error}" for row in bad[:PROBLEMS_KEPT]],
            unknown=unknown,
        )

    # -- CSV and TSV ---------------------------------------------------------------------

    def _versioned(self, plan: CsvPlan) -> bool:
        """True when rows may need another version than the default's fast path."""
        n = len(self.scorer.items)
        return plan.version is not None or any(i >= n for _, i in plan.columns)

    def csv_rows(self, job: CsvJob) -> list[Row]:
        text, damaged = decode_records(job.data)
        plan = job.plan
        broken: dict[int, Row] = {}
        if self._versioned(plan):
            return self._irregular(job, *self._csv_records(job, text, damaged, broken), broken)
        if (
            not damaged
            and '"' not in text
            and text.count("\r") == text.count("\r\n")
            and (len(text) <= CELL_LIMIT or max(map(len, text.split("\n"))) <= CELL_LIMIT)
        ):
            # No quoting: every line is one record, and splitting is exact.
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            numbers: Sequence[int] = range(job.first_line, job.first_line + len(lines))
            blank = "" in map(str.strip, lines, repeat(f"{plan.delimiter} \t"))
            if not blank:
                scored = self.scorer.score_lines(
                    plan.columns,
                    plan.width,
                    plan.delimiter,
                    plan.respondent,
                    lines,
                    self._sources(job.source, numbers),
                )
                if scored is not None:
                    return scored
            rows = [line.split(plan.delimiter) for line in lines]
        else:
            rows, numbers = self._csv_records(job, text, damaged, broken)
            blank = True
        if blank or broken or any(width != plan.width for width in set(map(len, rows))):
            return self._irregular(job, rows, numbers, broken)
        return self._score_cells(job.source, plan, rows, numbers)

    @staticmethod
    def _csv_records(
        job: CsvJob, text: str, damaged: bool, broken: dict[int, Row]
    ) -> tuple[list[list[str]], list[int]]:
        """The rows of a block and the line each starts on.

        A record that cannot be read goes into `broken` as an invalid row, and reading
        goes on at the line after the one it starts on: a cell over CELL_LIMIT, bytes
        that are not UTF-8, or a quote that opens a cell and is never closed (which
        would otherwise swallow every record after it into one).
        """
        lines = io.StringIO(text, newline="").readlines()
        delimiter = job.plan.delimiter
        rows: list[list[str]] = []
        numbers: list[int] = []
        done = 0  # lines read by earlier readers
        while True:
            reader = csv.reader(iter(lines[done:]), delimiter=delimiter)
            start = last = job.first_line + done
            try:
                for row in reader:
                    last = start
                    if damaged and UNDECODED.search("".join(row)):
                        broken[start] = invalid_row(
                            "", f"{job.source}:{start}", f"the record {NOT_UTF8}"
                        )
                    else:
                        rows.append(row)
                        numbers.append(start)
                    start = job.first_line + done + reader.line_num
            except csv.Error as exc:
                why = (
                    f"a cell is longer than {CELL_LIMIT:,} characters"
                    if "field limit" in str(exc)
                    else f"it cannot be read as CSV ({exc})"
                )
                broken[start] = invalid_row(
                    "", f"{job.source}:{start}", f'{why}; check the quoting (a stray ")'
                )
                done = start - job.first_line + 1
                continue
            tail = lines[last - job.first_line :]
            if not _never_closed(tail, delimiter):
                return rows, numbers
            if numbers and numbers[-1] == last:
                rows.pop()
                numbers.pop()
            broken[last] = invalid_row(
                "",
                f"{job.source}:{last}",
                'a cell opens with a quote (") that is never closed, so it runs to the end '
                "of the file; check the quoting",
            )
            done = last - job.first_line + 1

    def _irregular(
        self,
        job: CsvJob,
        rows: list[list[str]],
        numbers: Sequence[int],
        broken: Mapping[int, Row],
    ) -> list[Row]:
        """Skip blank rows, and make short or long rows invalid records, keeping order;
        `broken` are records already known to be invalid, by line."""
        plan = job.plan
        width = plan.width
        regular: list[list[str]] = []
        regular_numbers: list[int] = []
        extra: dict[int, Row] = dict(broken)
        for number, row in zip(numbers, rows, strict=True):
            if not "".join(row).strip():
                continue
            if len(row) > width and not "".join(row[width:]).strip():
                row = row[:width]  # trailing empty cells, as spreadsheets write them
            if len(row) == width:
                regular.append(row)
                regular_numbers.append(number)
                continue
            rid = row[plan.respondent].strip() if plan.respondent is not None else ""
            if plan.respondent is not None and plan.respondent >= len(row):
                rid = ""
            kind = "short" if len(row) < width else "long"
            extra[number] = invalid_row(
                rid,
                f"{job.source}:{number}",
                f"{who(rid)}: the row is {kind}: {len(row)} cells, but the header has "
                f"{width} columns; check the delimiter and quoting",
            )
        scored = self._score_cells(job.source, plan, regular, regular_numbers)
        return _merge(scored, regular_numbers, extra)

    def _score_cells(
        self, source: str, plan: CsvPlan, rows: list[list[str]], numbers: Sequence[int]
    ) -> list[Row]:
        if plan.respondent is None:
            ids: Sequence[str] = [""] * len(rows)
        else:
            ids = list(map(str.strip, map(itemgetter(plan.respondent), rows)))
        sources = self._sources(source, numbers)
        if not self._versioned(plan):
            return self.scorer.score_rows(plan.columns, rows, ids, sources)
        return self._score_by_version(plan, rows, ids, sources)

    def _score_by_version(
        self,
        plan: CsvPlan,
        rows: list[list[str]],
        ids: Sequence[str],
        sources: Sequence[str],
    ) -> list[Row]:
        """Rows that name their version (or have columns of another version's items):
        each group of rows is scored with its own version, in input order."""
        groups: dict[str, list[int]] = {}
        for k, row in enumerate(rows):
            named = row[plan.version].strip() if plan.version is not None else ""
            groups.setdefault(named, []).append(k)
        out: dict[int, Row] = {}
        for named, keys in groups.items():
            q = self.versions.get(named)
            if q is None:
                for k in keys:
                    out[k] = self._unknown_version(ids[k], sources[k], named)
                continue
            scorer = self.scorer_for(q)
            names = [(position, self.union[u]) for position, u in plan.columns]
            columns = [(pos, scorer.index[name]) for pos, name in names if name in scorer.index]
            others = [(pos, name) for pos, name in names if name not in scorer.index]
            kept = []
            for k in keys:
                extra = next((name for pos, name in others if rows[k][pos].strip()), None)
                if extra is None:
                    kept.append(k)
                    continue
                out[k] = invalid_row(
                    ids[k],
                    sources[k],
                    f"{who(ids[k])}: column {extra} is not an item of questionnaire {q.id} "
                    f"{q.version}; leave it empty, or name the version it belongs to",
                    q.version,
                )
            scored = scorer.score_rows(
                columns, [rows[k] for k in kept], [ids[k] for k in kept], [sources[k] for k in kept]
            )
            out.update(zip(kept, scored, strict=True))
        return [out[k] for k in range(len(rows))]

    @staticmethod
    def _sources(source: str, numbers: Sequence[int]) -> list[str]:
        """`file:line` for each record."""
        where = source.replace("{", "{{").replace("}", "}}") + ":{}"
        return list(map(where.format, numbers))

    # -- JSON records ------------------------------------------------------------------

    def json_lines_rows(self, job: JsonLinesJob, unknown: dict[str, set[str]]) -> list[Row]:
        text, damaged = decode_records(job.data)
        lines = text.split("\n")
        plain = None if damaged else self._plain_lines(job, lines, text.count(":"))
        if plain is None:
            return self._lines_rows(job, enumerate(lines), damaged, unknown)[0]
        rows, kept, slow = plain
        if not slow:
            return rows
        others, numbers = self._lines_rows(job, [(k, lines[k]) for k in slow], damaged, unknown)
        first = job.first_line
        return _merge(rows, [first + k for k in kept], dict(zip(numbers, others, strict=True)))

    def _plain_lines(
        self, job: JsonLinesJob, lines: list[str], colons_in_all: int
    ) -> tuple[list[Row], list[int], list[int]] | None:
        """The rows of the plain lines of a block (`_plain_values`), their offsets, and
        the offsets of the other lines, which only the road line by line (`_lines_rows`)
        reads; None when the keys of the block's first object are not plain (that road
        reads every line).

        A line is plain when orjson reads it as a plain record (`_plain_values`) and it
        has as many `:` as the record has keys: each key ends with one, so no key is
        repeated (orjson would keep the last) and no colon is in a string. When every
        line is an object and the block (`colons_in_all`) holds as many `:` as all the
        records have keys, each line does (none has fewer), so lines are not counted.
        """
        if lines and lines[-1] == "":
            lines = lines[:-1]
        try:
            values: list[object] = list(map(orjson.loads, lines))
        except orjson.JSONDecodeError:
            values = list(map(_loads_or_none, lines))
        colons: list[int] | None = None
        if set(map(type, values)) != {dict} or colons_in_all != sum(map(len, values)):  # type: ignore[arg-type]
            colons = list(map(str.count, lines, repeat(":")))
        first = job.first_line
        return self._plain_values(
            values, colons, lambda kept: self._sources(job.source, [first + k for k in kept])
        )

    def _plain_records(
        self, records: Sequence[tuple[str, int, object]], unknown: dict[str, set[str]]
    ) -> list[Row]:
        """The rows of parsed records: the plain ones a column at a time
        (`_plain_values`), the others by `record_rows`, in order."""
        plain = self._plain_values(
            [value for _, _, value in records],
            None,
            lambda kept: [f"{records[k][0]}:{records[k][1]}" for k in kept],
        )
        if plain is None:
            return self.record_rows(records, unknown)
        rows, kept, slow = plain
        if not slow:
            return rows
        others = self.record_rows([records[k] for k in slow], unknown)
        return _merge(rows, kept, dict(zip(slow, others, strict=True)))

    def _plain_values(
        self,
        values: Sequence[object],
        colons: Sequence[int] | None,
        sources: Callable[[list[int]], list[str]],
    ) -> tuple[list[Row], list[int], list[int]] | None:
        """The rows of the plain records among `values`, read a column at a time (C-level
        passes instead of a loop per record), their offsets, and the offsets of the
        others; None when the keys of the first object are not plain. `colons`: how many
        `:` the text of each value holds (a record is plain only with one per key), or
        None when the values are known to be the exact decoder's; `sources` gives the
        source of each record by offset.

        Plain: a JSON object with the first object's keys, each an item id of the
        default version or `respondent_id` spelled exactly (one item at least); a
        single-choice answer as text or null, a multi-select answer as text, null or a
        list of texts, each one that normalises without an error; a respondent id as
        `_quick` reads one. The cells are the very ones `_quick` gives (the same
        per-item memos), so the rows are the same.
        """
        plan = next((self._line_plan(v) for v in values if type(v) is dict), None)
        if plan is None:
            return None
        getter, size, blank = plan.getter, plan.size, plan.blank
        slow: set[int] = set()
        got: list[tuple[object, ...]] = []
        sizes = [size] * len(values)
        if (
            set(map(type, values)) == {dict}
            and list(map(len, values)) == sizes  # type: ignore[arg-type]
            and (colons is None or colons == sizes)
        ):
            with contextlib.suppress(KeyError):  # then record by record, below
                got = list(map(getter, values))  # type: ignore[arg-type]
        if not got:
            append = got.append
            for k, value in enumerate(values):
                if (
                    type(value) is dict
                    and len(value) == size
                    and (colons is None or colons[k] == size)
                ):
                    try:
                        append(getter(value))
                        continue
                    except KeyError:
                        pass
                slow.add(k)
                append(blank)
        columns = list(zip(*got, strict=True))
        cells: list[Iterable[str]] = [repeat("")] * len(self.scorer.items)
        for position, i in plan.items:
            cells[i] = self._column_cells(i, columns[position], slow)
        if plan.respondent is None:
            ids: list[str | None] = [""] * len(got)
        else:
            ids = list(map(_plain_respondent, columns[plan.respondent]))
        if None in ids:
            slow.update(k for k, rid in enumerate(ids) if rid is None)
        rows = list(zip(*cells, strict=False))  # the items without a key repeat ""
        if slow:
            kept = [k for k in range(len(rows)) if k not in slow]
            rows = [rows[k] for k in kept]
            ids = [ids[k] for k in kept]
        else:
            kept = list(range(len(rows)))
        scored = self.scorer.score_rows(
            self.identity,
            rows,
            ids,  # type: ignore[arg-type]  # no None left
            sources(kept),
            column_word="item",
        )
        return scored, kept, sorted(slow)

    def _line_plan(self, record: dict[Any, Any]) -> _LinePlan | None:
        """How `_plain_values` reads records with this record's keys (None: it does not)."""
        keys = tuple(sorted(record, key=str))
        if keys in self._line_plans:
            return self._line_plans[keys]
        kinds = [self._key_kind(key) for key in keys]
        plan = None
        if any(kind >= 0 for kind in kinds) and all(
            kind >= 0 or kind == _RESPONDENT_KEY for kind in kinds
        ):
            plan = _LinePlan(
                getter=itemgetter(*keys) if len(keys) > 1 else lambda record: (record[keys[0]],),
                size=len(keys),
                blank=(None,) * len(keys),
                items=tuple((p, kind) for p, kind in enumerate(kinds) if kind >= 0),
                respondent=kinds.index(_RESPONDENT_KEY) if _RESPONDENT_KEY in kinds else None,
            )
        if len(self._line_plans) < 64:
            self._line_plans[keys] = plan
        return plan

    def _column_cells(self, i: int, values: Sequence[object], slow: set[int]) -> list[str]:
        """The cells of item `i` from its values, as `_quick` makes them; a value it
        would not read puts its line in `slow` (its cell is then never used)."""
        multi = _multi(self.scorer.items[i])
        found: list[str | None] = [None]
        if not multi:
            try:
                found = list(map(self._texts[i].get, values))  # type: ignore[arg-type]
            except TypeError:  # a list or an object: looked up one by one, below
                found = [None]
        elif set(map(type, values)) == {list}:
            with contextlib.suppress(TypeError):  # a list that holds a list or an object
                found = list(map(self._lists[i].get, map(tuple, values)))  # type: ignore[arg-type]
        if None not in found:
            return found  # type: ignore[return-value]
        if len(found) != len(values):
            found = [None] * len(values)
        out: list[str] = []
        for k, (value, cell) in enumerate(zip(values, found, strict=True)):
            if cell is None:
                cell = self._one_cell(i, value, multi)
            if cell is None:
                slow.add(k)
                cell = ""
            out.append(cell)
        return out

    def _one_cell(self, i: int, value: object, multi: bool) -> str | None:
        """The cell of one value of item `i` as `_quick` reads it (an answer not seen yet
        is learnt), or None when only the exact road reads it."""
        memo: dict[Any, str]
        spelled: Any
        if value is None:
            return ""
        if type(value) is str:
            memo, spelled = self._texts[i], value
        elif multi and type(value) is list and all(type(part) is str for part in value):
            memo, spelled = self._lists[i], tuple(value)
        else:
            return None
        cell = memo.get(spelled)
        return cell if cell is not None else self._learn(i, value, spelled, memo)

    def _lines_rows(
        self,
        job: JsonLinesJob,
        lines: Iterable[tuple[int, str]],
        damaged: bool,
        unknown: dict[str, set[str]],
    ) -> tuple[list[Row], list[int]]:
        """The rows of the given lines of a block (by offset), read one by one, and the
        line number of each."""
        records: list[tuple[str, int, object]] = []
        problems: dict[int, Row] = {}
        loads = self.json.quick_loads
        for offset, line in lines:
            if not line.strip():
                continue
            number = job.first_line + offset
            where = f"{job.source}:{number}"
            if damaged and UNDECODED.search(line):
                problems[number] = invalid_row("", where, f"the line {NOT_UTF8}")
                continue
            try:
                records.append((job.source, number, loads(line)))
            except (ValueError, RecursionError) as exc:
                problems[number] = invalid_row(
                    "", where, f"the line is not valid JSON ({json_reason(exc)})"
                )
        rows = self.record_rows(records, unknown)
        numbers = [line for _, line, _ in records]
        if problems:
            return _merge(rows, numbers, problems), sorted([*numbers, *problems])
        return rows, numbers

    def record_rows(
        self, records: Sequence[tuple[str, int, object]], unknown: dict[str, set[str]]
    ) -> list[Row]:
        """Normalise each record with the shared normaliser, with the version it names
        (else the default), then score each version's records together."""
        groups: dict[str, tuple[Questionnaire, list[tuple[int, Sequence[str], str, str]]]] = {}
        extra: dict[int, Row] = {}
        quick = self._quick
        default = self.questionnaire
        plain: list[tuple[int, Sequence[str], str, str]] = []
        for position, (name, line, value) in enumerate(records):
            where = f"{name}:{line}"
            read = quick(value, name, unknown)
            if read is not None:
                if not plain:
                    plain = groups.setdefault(default.version, (default, []))[1]
                plain.append((position, read[0], read[1], where))
                continue
            rid = ""
            q = self.questionnaire
            try:
                if isinstance(value, Broken):
                    raise RecordProblem(value.reason)
                rid = _respondent(value)
                named = _version_of(value)  # type: ignore[arg-type]
                found = self.versions.get(named)
                if found is None:
                    assert named is not None
                    extra[position] = self._unknown_version(rid, where, named)
                    continue
                q = found
                answers = self._answers(value, name, unknown, q)  # type: ignore[arg-type]
                normal = normalize_answers(q, answers)
            except RecordProblem as exc:
                extra[position] = invalid_row(rid, where, f"{who(rid)}: {exc}", q.version)
                continue
            except AnswerError as exc:
                extra[position] = answer_error_row(rid, where, exc, "item", q.version)
                continue
            cells = [_cell(normal.get(item)) for item in q.items]
            groups.setdefault(q.version, (q, []))[1].append((position, cells, rid, where))
        if not extra and list(groups) in ([], [self.questionnaire.version]):
            entries = groups[self.questionnaire.version][1] if groups else []
            return self.scorer.score_rows(
                self.identity,
                [e[1] for e in entries],
                [e[2] for e in entries],
                [e[3] for e in entries],
                column_word="item",
            )
        out: dict[int, Row] = dict(extra)
        for q, entries in groups.values():
            scorer = self.scorer_for(q)
            identity = tuple((i, i) for i in range(len(scorer.items)))
            scored = scorer.score_rows(
                identity,
                [e[1] for e in entries],
                [e[2] for e in entries],
                [e[3] for e in entries],
                column_word="item",
            )
            out.update(zip([e[0] for e in entries], scored, strict=True))
        return [out[k] for k in sorted(out)]

    def _quick(
        self, record: object, name: str, unknown: dict[str, set[str]]
    ) -> tuple[Sequence[str], str] | None:
        """The cells and respondent id of a plain record of the default version, or None
        when only the exact road (below) can read it.

        Plain: every key spelled exactly as an item id, `respondent_id` or a meta key
        (else not a known name at all), no `answers` object, no version but the
        default's, and every answer one that normalises without an error. Each answer
        is normalised once per item and spelling (`_texts`, `_lists`), so that the
        cells are exactly the ones `normalize_answers` gives, at a dictionary look-up
        each. Records with the same keys in the same order (most files) share a
        `_KeyPlan`, which looks the single-choice answers up in one C-level pass.
        """
        if type(record) is not dict:
            return None
        keys = tuple(record)
        plan = self._key_plans.get(keys, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = self._key_plan(keys)
        if plan is None:
            return None
        values = tuple(record.values())
        try:
            found = list(map(dict.get, plan.tables, plan.scalar(values)))
        except TypeError:  # a list (or an object) for a single-choice item
            return None
        if None in found:  # an answer not seen yet: the loop learns it (or says no)
            return self._quick_loop(record, name, unknown)
        for position, i in plan.multi:
            value = values[position]
            if type(value) is str:
                memo: dict[Any, str] = self._texts[i]
                spelled: Any = value
            elif type(value) is list:
                memo = self._lists[i]
                spelled = tuple(value)
            elif value is None:
                found.append("")
                continue
            else:
                return None
            try:
                cell = memo.get(spelled)
            except TypeError:  # a list holding a list or an object
                return None
            if cell is None:
                cell = self._learn(i, value, spelled, memo)
                if cell is None:
                    return None
            found.append(cell)
        rid = ""
        if plan.respondent is not None:
            found_rid = _plain_respondent(values[plan.respondent])
            if found_rid is None:
                return None
            rid = found_rid
        if plan.version is not None and not self._default_version(values[plan.version]):
            return None
        if plan.unknown:
            unknown.setdefault(name, set()).update(plan.unknown)
        found.append("")
        return plan.gather(found), rid

    def _default_version(self, value: object) -> bool:
        """Whether a record's `questionnaire_version` value names the default version."""
        if value is None or value == "":
            return True
        return type(value) is str and self.versions.get(value.strip()) is self.questionnaire

    def _key_plan(self, keys: tuple[str, ...]) -> _KeyPlan | None:
        """How `_quick` reads records with these keys (None: never; remembered)."""
        kinds = [self._key_kind(key) for key in keys]
        plan: _KeyPlan | None = None
        if _EXACT_KEY not in kinds and "answers" not in keys:
            items = self.scorer.items
            scalar = [(p, i) for p, i in enumerate(kinds) if i >= 0 and not _multi(items[i])]
            multi = tuple((p, i) for p, i in enumerate(kinds) if i >= 0 and _multi(items[i]))
            at = {i: k for k, (_, i) in enumerate([*scalar, *multi])}
            missing = len(scalar) + len(multi)  # the "" appended after the cells
            plan = _KeyPlan(
                scalar=_getter([p for p, _ in scalar]),
                tables=tuple(self._texts[i] for _, i in scalar),
                multi=multi,
                respondent=kinds.index(_RESPONDENT_KEY) if _RESPONDENT_KEY in kinds else None,
                version=kinds.index(_VERSION_KEY) if _VERSION_KEY in kinds else None,
                unknown=tuple(
                    k for k, kind in zip(keys, kinds, strict=True) if kind == _UNKNOWN_KEY
                ),
                gather=_getter([at.get(i, missing) for i in range(len(items))]),
            )
        if len(self._key_plans) < 64:
            self._key_plans[keys] = plan
        return plan

    def _quick_loop(
        self, record: dict[Any, Any], name: str, unknown: dict[str, set[str]]
    ) -> tuple[Sequence[str], str] | None:
        """`_quick` key by key, learning the answers it has not seen yet."""
        kinds = self._key_kinds
        texts = self._texts
        cells = self._blank[:]
        rid = ""
        others: list[str] | None = None
        for key, value in record.items():
            kind = kinds.get(key)
            if kind is None:
                kind = self._key_kind(key)
            if kind >= 0:
                if type(value) is str:
                    cell = texts[kind].get(value)
                    if cell is None:
                        cell = self._learn(kind, value, value, texts[kind])
                elif value is None:
                    continue
                elif type(value) is list:
                    try:
                        spelled = tuple(value)
                        cell = self._lists[kind].get(spelled)
                    except TypeError:  # a list holding a list or an object
                        return None
                    if cell is None:
                        cell = self._learn(kind, value, spelled, self._lists[kind])
                else:
                    return None  # numbers and true/false: rare, read exactly
                if cell is None:
                    return None
                cells[kind] = cell
            elif kind == _RESPONDENT_KEY:
                found_rid = _plain_respondent(value)
                if found_rid is None:
                    return None
                rid = found_rid
            elif kind == _UNKNOWN_KEY:
                if others is None:
                    others = []
                others.append(key)
            elif kind == _VERSION_KEY:
                if not self._default_version(value):
                    return None
            elif kind == _EXACT_KEY:
                return None
        if others:
            unknown.setdefault(name, set()).update(others)
        return cells, rid

    def _key_kind(self, key: str) -> int:
        """What a key of a JSON record is, for `_quick` (remembered)."""
        plain = key.strip().lower() if isinstance(key, str) else None
        if plain is None or key == "answers":
            kind = _EXACT_KEY
        elif plain != key:
            known = plain in self._union_set or plain == RESPONDENT or plain in META_KEYS
            kind = _EXACT_KEY if known else _UNKNOWN_KEY
        elif key == RESPONDENT:
            kind = _RESPONDENT_KEY
        elif key == VERSION_KEY:
            kind = _VERSION_KEY
        elif key in META_KEYS:
            kind = _META_KEY
        elif key in self.scorer.index:
            kind = self.scorer.index[key]
        else:
            kind = _EXACT_KEY if key in self._union_set else _UNKNOWN_KEY
        if len(self._key_kinds) < CACHE_LIMIT:
            self._key_kinds[key] = kind
        return kind

    def _learn(self, i: int, value: object, spelled: Any, memo: dict[Any, str]) -> str | None:
        """The cell of one answer to item `i` (normalised as `normalize_answers` does),
        remembered under its spelling; None when it is not a valid answer. A list is
        remembered only when it holds text alone (a tuple with `True` equals one with 1)."""
        try:
            cell = _cell(normalize_answer(self.scorer.items[i], value))
        except AnswerError:
            return None
        if len(memo) < CACHE_LIMIT and (
            type(value) is not list or all(type(part) is str for part in value)
        ):
            memo[spelled] = cell
        return cell

    def _answers(
        self,
        record: dict[Any, Any],
        name: str,
        unknown: dict[str, set[str]],
        questionnaire: Questionnaire,
    ) -> dict[Any, object]:
        """The answers to known items; other keys are noted for one warning per input.

        A key that is an item of another version, but not of this record's, is refused.
        """
        others: list[object] = []
        if "answers" in record:
            answers = record["answers"]
            if not isinstance(answers, dict):
                raise RecordProblem("'answers' is not a JSON object")
            others = [
                k for k in record if k != "answers" and not _is_respondent(k) and not _is_meta(k)
            ]
            outside = [k for k in others if str(k).strip().lower() in self.union]
            if outside:
                more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
                raise RecordProblem(
                    f"item {', '.join(field_name(str(k)) for k in outside[:3])}{more} "
                    "outside 'answers'; put every answer inside 'answers'"
                )
        else:
            answers = {k: v for k, v in record.items() if not _is_respondent(k) and not _is_meta(k)}
        items = questionnaire.items
        union = self.union
        known = {}
        for key, answer in answers.items():
            plain = str(key).strip().lower()
            if plain in items:
                known[key] = answer
            elif plain in union:
                raise RecordProblem(
                    f"{plain} is not an item of questionnaire {questionnaire.id} "
                    f"{questionnaire.version}; leave it out, or name the version it belongs to"
                )
            else:
                others.append(key)
        if others:
            unknown.setdefault(name, set()).update(str(k) for k in others)
        return known

    # -- saved sessions ----------------------------------------------------------------

    def session_rows(self, job: SessionsJob, unknown: dict[str, set[str]]) -> list[Row]:
        """Saved sessions (ketscreen-session/1): one record each, the client as respondent."""
        from ketscreen.io.sessions import FormatProblem, SessionError, check_questionnaire
        from ketscreen.io.sessions import parse_document as parse_session

        records: list[tuple[str, int, object]] = []
        extra: dict[int, Row] = {}
        for position, (name, text, readable) in enumerate(job.sessions):
            client = ""
            try:
                if not readable:
                    raise FormatProblem(text)
                doc = parse_session(text, kept=False)
                client = doc["client"]
                recorded = doc["questionnaire"]
                q = self.versions.get(recorded["version"])
                if recorded["id"] != self.questionnaire.id or q is None:
                    q = self.questionnaire  # names both in its message
                check_questionnaire(doc, q)
            except FormatProblem as exc:
                extra[position] = invalid_row("", f"{name}:1", f"not a usable session: {exc}")
                continue
            except SessionError as exc:
                extra[position] = invalid_row(client, f"{name}:1", f"{who(client)}: {exc}")
                continue
            answers = doc["answers"]
            if q is self.questionnaire and all(map(q.items.__contains__, answers)):
                # The same record without its `answers` object (every key an item of the
                # default version): the quick road reads it, with the same cells.
                records.append((name, 1, {RESPONDENT: client, **answers}))
            else:
                records.append(
                    (name, 1, {RESPONDENT: client, VERSION_KEY: q.version, "answers": answers})
                )
        rows = self.record_rows(records, unknown)
        if not extra:
            return rows
        kept = [p for p in range(len(job.sessions)) if p not in extra]
        return _merge(rows, kept, extra)

    # -- FHIR QuestionnaireResponses ------------------------------------------------------

    def fhir_rows(self, job: FhirJob) -> list[Row]:
        """A whole FHIR document (one response, or a Bundle that is not streamed)."""
        responses = responses_from_fhir(
            self.questionnaire,
            job.document,
            job.source,
            versions=self.versions.all,
            accept_unversioned=self.accept_unversioned,
        )
        return self._response_rows(responses)

    def fhir_entry_rows(self, job: FhirEntriesJob) -> list[Row]:
        """Entries of a streamed Bundle (parsed here when the job came from another process)."""
        entries = job.parsed
        if entries is None:
            whole = f"[{job.text}]"
            entries = self.json.loads(whole) if job.exact else orjson.loads(whole)  # type: ignore[assignment]
        responses = responses_from_entries(
            self.questionnaire,
            entries,  # type: ignore[arg-type]
            job.source,
            job.first,
            versions=self.versions.all,
            accept_unversioned=self.accept_unversioned,
        )
        return self._response_rows(responses)

    def _response_rows(self, responses: Iterable[FhirRecord]) -> list[Row]:
        """Map each response's answers back and score them; with `verify`, a response whose
        stored scores disagree with the recomputed ones is invalid, naming every difference."""
        groups: dict[str, tuple[Questionnaire, list[Any]]] = {}
        extra: dict[int, Row] = {}
        for position, record in enumerate(responses):
            rid = record.respondent_id or ""
            if record.error is not None:
                extra[position] = invalid_row(rid, record.source, f"{who(rid)}: {record.error}")
                continue
            if record.warnings:
                self._noted += 1
                if len(self._notes) < PROBLEMS_KEPT:
                    self._notes.append(f"{record.source}: {who(rid)}: {'; '.join(record.warnings)}")
            q = self.versions.get(record.version) or self.questionnaire
            groups.setdefault(q.version, (q, []))[1].append((position, record))
        out: dict[int, Row] = dict(extra)
        for q, entries in groups.values():
            scorer = self.scorer_for(q)
            identity = tuple((i, i) for i in range(len(scorer.items)))
            cells = [[_cell(r.answers.get(item.id)) for item in scorer.items] for _, r in entries]
            scored = scorer.score_rows(
                identity,
                cells,
                [r.respondent_id or "" for _, r in entries],
                [r.source for _, r in entries],
                column_word="item",
            )
            if self.verify:
                scored = [
                    self._verified(row, r.stored)
                    for row, (_, r) in zip(scored, entries, strict=True)
                ]
            out.update(zip([p for p, _ in entries], scored, strict=True))
        return [out[k] for k in sorted(out)]

    def _verified(self, row: Row, stored: dict[str, Any]) -> Row:
        """The row, or an invalid one naming every way the stored scores differ from it.
        What the response does not store is recomputed and counted in `_unstored`."""
        if row.status is not STATUS_OK:
            return row
        recomputed: dict[str, object] = {
            **dict(zip(self.versions.score_ids, row.scores, strict=True)),
            "band": row.band,
            "lower_bound": row.lower_bound,
            "top_flag_level": row.top_flag_level,
            "flags": row.flags,
        }
        problems, unstored = verify_scores(recomputed, stored)
        self._verified_count += 1
        self._unstored.update(unstored)
        if not problems:
            return row
        return invalid_row(
            row.respondent_id,
            row.source,
            f"{who(row.respondent_id)}: stored scores disagree with ketscreen's: "
            + "; ".join(problems),
        )


def _unverifiable(row: Row) -> Row:
    if row.status is not STATUS_OK:
        return row
    return invalid_row(
        row.respondent_id,
        row.source,
        f"{who(row.respondent_id)}: --verify: not a FHIR QuestionnaireResponse, so there "
        "are no stored scores to compare",
    )


def _is_meta(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() in META_KEYS


def _version_of(record: dict[Any, Any]) -> str | None:
    """The version a JSON record names in `questionnaire_version`, or None."""
    value = next(
        (v for k, v in record.items() if _is_meta(k) and k.strip().lower() == VERSION_KEY), None
    )
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordProblem(f'{VERSION_KEY} must be text, such as "1.0.0"')
    return value.strip()


def _is_respondent(key: object) -> bool:
    return isinstance(key, str) and key.strip().lower() == RESPONDENT


def _respondent(record: object) -> str:
    """The record's respondent id ("" when it has none); the record must be an object."""
    if not isinstance(record, dict):
        raise RecordProblem("the record is not a JSON object")
    value = next((v for k, v in record.items() if _is_respondent(k)), None)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordProblem("respondent_id must be text or a whole number")
    return str(value).strip()


def _plain_respondent(value: object) -> str | None:
    """A respondent id as the quick path reads it (text trimmed, a whole number as its
    digits, none as ""), or None for anything the exact path must judge."""
    if type(value) is str:
        return value.strip()
    if type(value) is int:
        return str(value)
    return "" if value is None else None


def _merge(scored: list[Row], keys: Sequence[int], extra: Mapping[int, Row]) -> list[Row]:
    """Put scored rows (with their sort keys) and the extra rows back in input order."""
    merged = [*zip(keys, scored, strict=True), *extra.items()]
    merged.sort(key=itemgetter(0))
    return [row for _, row in merged]

"""Batch inputs: find them, tell their format, read headers, and cut them into jobs.

Everything here streams: a file is read in blocks of `BLOCK` bytes and cut at record
boundaries, so memory does not grow with the number of records. The records themselves
are parsed and scored by `jobs.Processor`, possibly in worker processes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import orjson

from ketscreen.core.compiled import field_name
from ketscreen.io.batch.formats import (
    RESPONDENT,
    InputError,
    InputFormat,
    UsageProblem,
    assert_never,
)
from ketscreen.io.batch.jobs import (
    NOT_UTF8,
    UNDECODED,
    CsvJob,
    CsvPlan,
    FhirEntriesJob,
    FhirJob,
    Job,
    JsonLinesJob,
    RecordsJob,
    SessionsJob,
    decode,
    gc_paused,
)
from ketscreen.io.batch.json_records import Broken, RecordDecoder, json_reason, quick_array
from ketscreen.io.batch.versions import META_KEYS, VERSION_KEY
from ketscreen.io.fhir import FhirError, is_fhir

BLOCK = 1 << 20
"""Bytes read at a time; also about the size of one job."""
MAX_RECORD = 64 << 20
"""The longest single record (or JSON document, or session file) read."""
RECORDS_PER_JOB = 2000
SESSION_SUFFIX = ".json"
BOM = b"\xef\xbb\xbf"
STDIN = "-"
_CANDIDATES = (",", "\t", ";", "|")
_SESSION_TAG = "ketscreen-session/"
_SPACE = re.compile(r"[ \t\r\n]*")
_FHIR_START = re.compile(rb'\{\s*"resourceType"\s*:')
_BUNDLE_START = re.compile(rb'\{\s*"resourceType"\s*:\s*"Bundle"\s*[,}]')
_ENTRY_END = re.compile(
    r'\}(?=[ \t\r\n]*,[ \t\r\n]*\{[ \t\r\n]*"(?:fullUrl|link|resource|search|request|response)"'
    r"[ \t\r\n]*:)"
)
"""The end of a Bundle entry that another entry follows (its keys are FHIR's)."""
_LINE_END = re.compile(r"\}[ \t\r]*,[ \t\r]*\n")
"""The end of a record of a JSON array, one record a line, that another record follows."""
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})
ENTRIES_PER_JOB = 200
"""Entries of a Bundle read one at a time (the exact road) that make one job."""
ENTRY_BLOCK = 1 << 18
"""Characters of a Bundle's entries read by orjson in one go: the entries of a block are
alive together, and a block much larger than the processor's cache reads two to three
times slower an entry (measured: 26 us an entry alone, 33 in 256 KB, 86 in 12 MB)."""

Warn = Callable[[str], None]
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Source:
    """One input as named on the command line."""

    name: str
    """As given; `-` for standard input."""
    format: InputFormat | None
    """None until sniffed (standard input without --input-format)."""
    path: Path | None

    @property
    def label(self) -> str:
        """How records from this input are located in output and messages."""
        return "stdin" if self.path is None else self.name

    @property
    def size(self) -> int | None:
        if self.path is None:
            return None
        if self.path.is_dir():
            return _session_bytes(self.path)
        return self.path.stat().st_size


def resolve(names: Sequence[str], forced: InputFormat | None) -> list[Source]:
    """Check every input before any work: it exists, and its format is known."""
    if list(names).count(STDIN) > 1:
        raise UsageProblem("standard input (-) can be read only once")
    sources = []
    for name in names:
        if name == STDIN:
            sources.append(Source(name, forced, None))
            continue
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file or folder; check the path")
        if path.is_dir():
            if forced not in (None, InputFormat.SESSION):
                raise UsageProblem(f"{name} is a folder; only session folders can be read")
            sources.append(Source(name, InputFormat.SESSION, path))
            continue
        fmt = forced or InputFormat.for_name(name)
        if fmt is None:
            raise UsageProblem(
                f"cannot tell the format of {name} from its name; "
                "use --input-format csv, tsv, jsonl, json, session, fhir or parquet"
            )
        sources.append(Source(name, fmt, path))
    return sources


def read_jobs(
    source: Source,
    stream: BinaryIO | None,
    items: Mapping[str, int],
    *,
    delimiter: str | None,
    warn: Warn,
    advance: Advance,
) -> Iterator[Job]:
    """The jobs of one input. `stream` is the open input (None for a session folder)."""
    if stream is None:
        assert source.path is not None
        yield from _session_folder(source, source.path, advance)
        return
    if not hasattr(stream, "peek"):
        stream = io.BufferedReader(stream)  # type: ignore[type-var]
    fmt = source.format or _sniff(stream)
    match fmt:
        case InputFormat.CSV | InputFormat.TSV:
            yield from _csv_jobs(source, stream, fmt, items, delimiter, warn, advance)
        case InputFormat.JSONL:
            for first, data in _blocks(source, stream, advance, quoted=False, first_line=1):
                yield JsonLinesJob(source.label, first, data)
        case InputFormat.JSON | InputFormat.SESSION | InputFormat.FHIR:
            yield from _json_document(source, stream, advance)
        case InputFormat.PARQUET:
            from ketscreen.io.batch.parquet import parquet_jobs

            yield from parquet_jobs(source.label, stream, items, warn=warn, advance=advance)
        case _:
            assert_never(fmt)


def _sniff(stream: BinaryIO) -> InputFormat:
    """Standard input without --input-format: `[` means JSON, `{` JSON Lines (or FHIR, when
    a `resourceType` comes first), else CSV."""
    head = stream.peek(64)  # type: ignore[attr-defined]
    text = head.removeprefix(BOM).lstrip()
    if text.startswith(b"["):
        return InputFormat.JSON
    if text.startswith(b"{"):
        if _FHIR_START.match(text):
            return InputFormat.FHIR
        return InputFormat.JSONL
    return InputFormat.CSV


# -- cutting a stream into blocks of whole records --------------------------------------


def _read(stream: BinaryIO, advance: Advance, first: bool) -> bytes:
    """The next block; the first one without its byte-order mark."""
    data = stream.read(BLOCK)
    advance(len(data))
    return data.removeprefix(BOM) if first else data


def _blocks(
    source: Source, stream: BinaryIO, advance: Advance, *, quoted: bool, first_line: int
) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) blocks that end at a record boundary.

    A line break ends a record unless it is inside a quoted CSV field: with `quoted`,
    a block is only cut where the number of `"` before the cut is even.
    """
    carry = b""
    line = first_line
    start = True
    while True:
        block = _read(stream, advance, start)
        start = False
        if not block:
            if carry:
                yield line, carry
            return
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if quoted and cut and data.find(b'"', 0, cut) >= 0:
            parity = data.count(b'"', 0, cut) & 1
            while cut and parity:
                earlier = data.rfind(b"\n", 0, cut - 1) + 1
                parity ^= data.count(b'"', earlier, cut) & 1
                cut = earlier
        if not cut:
            if len(data) > MAX_RECORD:
                cut = data.rfind(b"\n") + 1  # an unbalanced quote: let the CSV reader judge
                if not cut:
                    raise InputError(
                        f"{source.label}:{line}: a record longer than {MAX_RECORD >> 20} MB; "
                        "is this the right file?"
                    )
            else:
                carry = data
                continue
        yield line, data[:cut]
        line += data.count(b"\n", 0, cut)
        carry = data[cut:]


# -- CSV and TSV --------------------------------------------------------------------------


def _csv_jobs(
    source: Source,
    stream: BinaryIO,
    fmt: InputFormat,
    items: Mapping[str, int],
    delimiter: str | None,
    warn: Warn,
    advance: Advance,
) -> Iterator[CsvJob]:
    raw = stream.readline(MAX_RECORD)
    advance(len(raw))
    header = decode(raw.removeprefix(BOM), source.label, 1).rstrip("\r\n")
    if not header.strip():
        raise InputError(
            f"{source.label}: the first line is empty; a CSV file starts with a header row "
            "of item ids (see `ketscreen template`)"
        )
    try:
        if delimiter is None:
            delimiter = "\t" if fmt is InputFormat.TSV else _guess_delimiter(header, items)
        plan = _plan(source.label, header, delimiter, items, warn)
    except csv.Error as exc:
        raise InputError(
            f"{source.label}:1: the header row cannot be read as CSV ({exc}); check its quoting"
        ) from None
    for first, data in _blocks(source, stream, advance, quoted=True, first_line=2):
        yield CsvJob(source.label, plan, first, data)


def _split_header(header: str, delimiter: str) -> list[str]:
    """The header's cells. A header is read whatever the length of its cells (a long
    one is an unknown column, named by its length), unlike a record's cells."""
    limit = csv.field_size_limit(MAX_RECORD)
    try:
        return next(csv.reader([header], delimiter=delimiter))
    finally:
        csv.field_size_limit(limit)


def _guess_delimiter(header: str, items: Mapping[str, int]) -> str:
    """The delimiter that splits the header into the most known column names."""

    def known(delimiter: str) -> int:
        names = (cell.strip().lower() for cell in _split_header(header, delimiter))
        return sum(1 for name in names if name in items or name == RESPONDENT)

    return max(_CANDIDATES, key=known)  # ties: the earlier candidate (comma first)


def plan_header(
    label: str, header: str, delimiter: str, items: Mapping[str, int], warn: Warn
) -> CsvPlan:
    """How to read the rows under this header line (also for Parquet column names)."""
    return _plan(label, header, delimiter, items, warn)


def _plan(label: str, header: str, delimiter: str, items: Mapping[str, int], warn: Warn) -> CsvPlan:
    cells = _split_header(header, delimiter)
    while cells and not cells[-1].strip():
        cells.pop()  # a trailing delimiter: rows may have that empty cell, or not
    columns: list[tuple[int, int]] = []
    respondent: int | None = None
    version: int | None = None
    seen: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(cells):
        name = cell.strip().lower()
        if not name:
            continue
        if name in seen:
            raise InputError(
                f"{label}:1: columns {seen[name] + 1} and {position + 1} are both {name}; "
                "remove one"
            )
        seen[name] = position
        if name == RESPONDENT:
            respondent = position
        elif name == VERSION_KEY:
            version = position
        elif name in META_KEYS:
            continue  # the questionnaire's id and hash, as batch output writes them
        elif name in items:
            columns.append((position, items[name]))
        else:
            unknown.append(field_name(cell.strip()))
    if not columns:
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        raise InputError(
            f"{label}:1: no column of the header is an item id (read with delimiter {shown}); "
            "check the header row and --delimiter, or see `ketscreen template`"
        )
    if unknown:
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        warn(f"{label}: ignoring unknown columns: {', '.join(unknown[:10])}{more}")
    return CsvPlan(delimiter, len(cells), tuple(columns), respondent, version)


# -- JSON documents and saved sessions -------------------------------------------------------


def _json_document(source: Source, stream: BinaryIO, advance: Advance) -> Iterator[Job]:
    """A JSON array of records (streamed), or one object: a session or a single record."""
    head = stream.peek(64)  # type: ignore[attr-defined]
    if head.removeprefix(BOM).lstrip().startswith(b"["):
        if source.format is InputFormat.FHIR:
            raise InputError(
                f"{source.label}: FHIR input is one QuestionnaireResponse or a Bundle of them, "
                "not a JSON array"
            )
        yield from _json_array(source, stream, advance)
        return
    if source.format is not InputFormat.SESSION and _BUNDLE_START.match(
        head.removeprefix(BOM).lstrip()
    ):
        yield from _fhir_bundle(source, stream, advance)
        return
    data = stream.read(MAX_RECORD + 1)
    advance(len(data))
    if len(data) > MAX_RECORD:
        raise InputError(f"{source.label}: larger than {MAX_RECORD >> 20} MB; is it a JSON array?")
    text = decode(data.removeprefix(BOM), source.label, 1)
    try:
        value = RecordDecoder().loads(text)
    except (ValueError, RecursionError) as exc:
        where = (
            f" at line {exc.lineno}, column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise InputError(f"{source.label}: not valid JSON{where} ({json_reason(exc)})") from None
    if isinstance(value, dict) and str(value.get("format", "")).startswith(_SESSION_TAG):
        yield SessionsJob(((source.label, text, True),))
    elif source.format is InputFormat.SESSION:
        yield SessionsJob(((source.label, "the file is not a session", False),))
    elif isinstance(value, Broken) and source.format is InputFormat.FHIR:
        raise InputError(f"{source.label}: {value.reason}")
    elif source.format is InputFormat.FHIR or is_fhir(value):
        yield FhirJob(source.label, value)
    else:
        yield RecordsJob(((source.label, 1, value),))


class _TextStream:
    """A JSON text read block by block: a window of decoded text (`buffer`, from `pos`),
    the line `pos` is on, and whether some bytes were not UTF-8 (kept as lone
    surrogates, so that only what holds them is refused)."""

    def __init__(self, source: Source, stream: BinaryIO, advance: Advance) -> None:
        self.label = source.label
        self.stream = stream
        self.advance = advance
        self.buffer = ""
        self.pos = 0
        self.dropped = 0
        """Characters read and dropped from the front of `buffer`."""
        self.line = 1
        self.eof = False
        self.start = True
        self.damaged = False
        self.fill()

    def fill(self) -> bool:
        """Read one more block; False at the end of the input."""
        if self.eof:
            return False
        data = _read(self.stream, self.advance, self.start)
        self.start = False
        if not data:
            self.eof = True
            return False
        data += self.stream.read(_cut_short(data))  # do not cut a character in two
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "surrogateescape")
            self.damaged = True
        self.buffer = self.buffer[self.pos :] + text
        self.dropped += self.pos
        self.pos = 0
        return True

    def ahead(self, size: int) -> None:
        """Read on until `size` characters are ahead of `pos`, or the input ends."""
        while len(self.buffer) - self.pos < size and self.fill():
            pass

    def skip_space(self) -> str:
        """Move past whitespace (counting lines); the next character, or "" at the end."""
        while True:
            end = _SPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
            self.line += self.buffer.count("\n", self.pos, end)
            self.pos = end
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.fill():
                return ""

    def move(self, end: int) -> None:
        """Move `pos` to `end`, counting lines."""
        self.line += self.buffer.count("\n", self.pos, end)
        self.pos = end

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.label}:{self.line}: {message}")

    def value(
        self, decode: Callable[[str, int], tuple[object, int]], what: str = "a record"
    ) -> tuple[object, int]:
        """The JSON value at `pos` and where it ends, reading on for a long one (up to
        MAX_RECORD characters; `what` it is, for the message when it is longer)."""
        while True:
            try:
                with gc_paused():
                    return decode(self.buffer, self.pos)
            except (ValueError, RecursionError) as exc:
                if len(self.buffer) - self.pos < MAX_RECORD and self.fill():
                    continue  # a long value: read on
                if len(self.buffer) - self.pos >= MAX_RECORD:
                    raise self.fail(
                        f"{what} longer than {MAX_RECORD >> 20} MB (or not valid JSON: "
                        f"{json_reason(exc)}); is this the right file?"
                    ) from None
                raise self.fail(f"not valid JSON ({json_reason(exc)})") from None

    def elements(self) -> Iterator[str]:
        """Step through a JSON array from its `[`: stop before each element (returning
        its first character), then after the `]`. The caller moves past each element."""
        self.pos += 1
        first = True
        while True:
            char = self.skip_space()
            if char == "]":
                self.pos += 1
                return
            if not first:
                if char != ",":
                    raise self.fail("expected ',' or ']' between records")
                self.pos += 1
                char = self.skip_space()
            first = False
            yield char


def _json_array(source: Source, stream: BinaryIO, advance: Advance) -> Iterator[RecordsJob]:
    """Stream the elements of a top-level JSON array, with the line each starts on.

    An element with bytes that are not UTF-8, a repeated key or an overlong number is
    an invalid record; the others are read on."""
    decoder = RecordDecoder()
    label = source.label
    text = _TextStream(source, stream, advance)
    if text.skip_space() != "[":
        raise text.fail("expected a JSON array of records")
    batch: list[tuple[str, int, object]] = []
    exact_until = 0  # up to here (counted from the start) records are read one by one
    for _ in text.elements():
        text.ahead(BLOCK)  # enough text ahead for any ordinary record
        if text.dropped + text.pos >= exact_until:
            block = _record_lines(text)
            if isinstance(block, int):
                exact_until = text.dropped + block
            else:
                if batch:
                    yield RecordsJob(tuple(batch))
                    batch = []
                values, end = block
                yield RecordsJob(
                    tuple((label, text.line + k, value) for k, value in enumerate(values))
                )
                text.move(end)
                continue
        value, end = text.value(decoder.quick_raw_decode)
        if text.damaged and UNDECODED.search(text.buffer, text.pos, end):
            value = Broken(f"the record {NOT_UTF8}")
        batch.append((label, text.line, value))
        text.move(end)
        if len(batch) >= RECORDS_PER_JOB:
            yield RecordsJob(tuple(batch))
            batch = []
    if text.skip_space():
        raise text.fail("unexpected text after the end of the JSON array")
    if batch:
        yield RecordsJob(tuple(batch))


def _fhir_bundle(source: Source, stream: BinaryIO, advance: Advance) -> Iterator[Job]:
    """Stream a FHIR Bundle (one that starts with its resourceType): its entries, a block
    of them at a time, so that no Bundle is too large and memory stays flat.

    The other members are read and left, as the whole-document reader leaves them. A
    repeated key, an overlong number or bytes that are not UTF-8 anywhere stop the
    input, as they do for a whole document; an entry longer than MAX_RECORD as well.
    """
    decoder = RecordDecoder()
    label = source.label
    text = _TextStream(source, stream, advance)
    text.skip_space()
    text.pos += 1  # the "{" that _BUNDLE_START saw
    seen: set[str] = set()
    first = True
    while True:
        char = text.skip_space()
        if char == "}":
            text.pos += 1
            break
        if not first:
            if char != ",":
                raise _not_json(text, "expected ',' or '}' after a member of the Bundle")
            text.pos += 1
            char = text.skip_space()
        first = False
        if char != '"':
            raise _not_json(text, "expected the name of a member of the Bundle")
        key, end = text.value(decoder.raw_decode)
        text.move(end)
        if text.skip_space() != ":":
            raise _not_json(text, "expected ':' after a name")
        text.pos += 1
        char = text.skip_space()
        assert isinstance(key, str)
        if key in seen:
            raise InputError(f"{label}: the key {field_name(key)} appears twice; keep one")
        seen.add(key)
        if key == "entry" and char == "[":
            yield from _bundle_entries(text, decoder)
            continue
        text.ahead(BLOCK)
        value, end = text.value(decoder.raw_decode)
        _check_damage(text, end)
        if isinstance(value, Broken):
            raise InputError(f"{label}: {value.reason}")
        if key == "entry":
            raise FhirError(f"{label}: Bundle.entry must be a list")
        text.move(end)
    if text.skip_space():
        raise _not_json(text, "unexpected text after the end of the Bundle")


def _bundle_entries(text: _TextStream, decoder: RecordDecoder) -> Iterator[FhirEntriesJob]:
    """The entries of `Bundle.entry`: a block of whole entries at a time, read by orjson
    when that is provably exact (`quick_array`), else entry by entry by `RecordDecoder`."""
    label = text.label
    number = 1
    exact: list[str] = []
    values: list[object] = []

    def flush() -> Iterator[FhirEntriesJob]:
        nonlocal number
        if exact:
            yield FhirEntriesJob(label, number, ",".join(exact), True, list(values))
            number += len(exact)
            exact.clear()
            values.clear()

    for _ in text.elements():
        text.ahead(min(BLOCK, 2 * ENTRY_BLOCK))  # less is copied as the window moves
        block = _entry_block(text)
        if block is not None:
            yield from flush()
            entries, end = block
            _check_damage(text, end)
            yield FhirEntriesJob(label, number, text.buffer[text.pos : end], False, entries)
            number += len(entries)
            text.move(end)
            continue
        value, end = text.value(decoder.raw_decode, f"entry {number + len(exact)}")
        _check_damage(text, end)
        if isinstance(value, Broken):
            raise InputError(f"{label}: {value.reason}")
        exact.append(text.buffer[text.pos : end])
        values.append(value)
        text.move(end)
        if len(exact) >= ENTRIES_PER_JOB:
            yield from flush()
    yield from flush()


def _entry_block(text: _TextStream) -> tuple[list[object], int] | None:
    """Whole entries from `pos` up to the last entry end in the text read (orjson's
    value of them, and where they end), or None when that is not sure to be exact.

    A candidate end may lie inside a string; then the text up to it is not JSON and
    orjson says so. When orjson reads it as a list of values, they are the entries."""
    buffer, pos = text.buffer, text.pos
    if not buffer.startswith("{", pos):
        return None
    limit = min(len(buffer), pos + ENTRY_BLOCK)
    window = max(pos, limit - (1 << 16))
    ends = list(_ENTRY_END.finditer(buffer, window, limit))
    if not ends and window > pos:
        ends = list(_ENTRY_END.finditer(buffer, pos))
    if not ends:
        return None
    end = ends[-1].end()
    if end - pos > MAX_RECORD:
        return None
    with gc_paused():  # many objects, no cycles: collecting would double the time
        entries = quick_array(buffer[pos:end])
    return None if entries is None else (entries, end)


def _record_lines(text: _TextStream) -> tuple[list[object], int] | int:
    """Whole records of a JSON array from `pos`, one a line (as `ketscreen score --format
    json` writes them), read by orjson in one go: their values and where they end; or,
    when that is not sure to be exact, where to stop reading them one by one.

    The text is cut after the last `},` that ends a line. It is one record a line when
    every line starts with `{` and holds the only `{` of its record: as many `{` as
    lines, and as many records, each an object (so a record's line is the line it
    starts on). The values are the exact decoder's when no key is repeated (as many
    `:` as keys: each key ends with one) and no value is a float (orjson reads a long
    integer as one) nor a list that holds one.
    """
    buffer, pos = text.buffer, text.pos
    window = max(pos, len(buffer) - (1 << 16))
    ends = list(_LINE_END.finditer(buffer, window))
    if not ends and window > pos:
        ends = list(_LINE_END.finditer(buffer, pos))
    if not ends:
        return len(buffer)
    end = ends[-1].start() + 1
    chunk = buffer[pos:end]
    lines = chunk.count("\n") + 1
    if (
        chunk.count("{") != lines
        or chunk.count("\n{") != lines - 1
        or (text.damaged and UNDECODED.search(chunk) is not None)
    ):
        return end
    try:
        with gc_paused():
            values = orjson.loads("[" + chunk + "]")
    except orjson.JSONDecodeError:
        return end
    if len(values) != lines or set(map(type, values)) != {dict}:  # pragma: no cover
        return end  # implied by the count of `{` (kept in case that reasoning is wrong)
    if chunk.count(":") != sum(map(len, values)):
        return end
    kinds = set(map(type, chain.from_iterable(map(dict.values, values))))
    if not kinds <= _PLAIN_TYPES | {list}:
        return end
    if list in kinds:
        lists = filter(_is_list, chain.from_iterable(map(dict.values, values)))
        if not set(map(type, chain.from_iterable(lists))) <= _PLAIN_TYPES:
            return end
    return values, end


_is_list = list.__instancecheck__


def _check_damage(text: _TextStream, end: int) -> None:
    """Stop at bytes that are not UTF-8 (a whole FHIR document must be UTF-8)."""
    if text.damaged:
        found = UNDECODED.search(text.buffer, text.pos, end)
        if found is not None:
            line = text.line + text.buffer.count("\n", text.pos, found.start())
            raise InputError(f"{text.label}:{line}: {NOT_UTF8}")


def _not_json(text: _TextStream, why: str) -> InputError:
    return InputError(f"{text.label}: not valid JSON at line {text.line} ({why})")


def _cut_short(data: bytes) -> int:
    """How many bytes the UTF-8 character that `data` ends with still lacks."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # the first byte of a character (or ASCII)
            length = 2 if 0xC0 <= byte < 0xE0 else 3 if 0xE0 <= byte < 0xF0 else 4
            return max(0, length - back) if byte >= 0xC0 else 0
    return 0


def _session_files(folder: Path) -> list[str]:
    """The names of the folder's `*.json` files, sorted (names only: a folder may hold a
    million)."""
    with os.scandir(folder) as found:
        return sorted(entry.name for entry in _sessions_in(found))


def _session_bytes(folder: Path) -> int:
    with os.scandir(folder) as found:
        return sum(entry.stat().st_size for entry in _sessions_in(found))


def _sessions_in(entries: Iterable[os.DirEntry[str]]) -> Iterator[os.DirEntry[str]]:
    """The `*.json` files among a folder's entries (".json" itself has no suffix); an
    entry knows whether it is a file without another system call."""
    for entry in entries:
        name = entry.name
        if name.endswith(SESSION_SUFFIX) and name != SESSION_SUFFIX and entry.is_file():
            yield entry


def _session_folder(source: Source, folder: Path, advance: Advance) -> Iterator[SessionsJob]:
    """Every `*.json` file in the folder, sorted by name; one record each."""
    batch: list[tuple[str, str, bool]] = []
    prefix = str(Path(source.name) / "x")[:-1]  # as `Path(source.name) / name` shows it
    where = str(folder)
    for file_name in _session_files(folder):
        name = prefix + file_name
        try:
            data = _small_file(os.path.join(where, file_name))
        except OSError as exc:
            batch.append((name, f"cannot be read ({exc.strerror})", False))
            continue
        advance(len(data))
        try:
            batch.append((name, data.removeprefix(BOM).decode("utf-8"), True))
        except UnicodeDecodeError:
            batch.append((name, "the file is not UTF-8 text", False))
        if len(batch) >= RECORDS_PER_JOB // 10:
            yield SessionsJob(tuple(batch))
            batch = []
    if batch:
        yield SessionsJob(tuple(batch))


def _small_file(path: str) -> bytes:
    """A file's bytes, up to MAX_RECORD (OSError beyond), read with the system calls
    alone: a folder of sessions is a file a record, so the file objects `open` builds
    would cost more than the reading (14 us a file here, against 23)."""
    too_large = OSError(0, f"larger than {MAX_RECORD >> 20} MB")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if size > MAX_RECORD:
            raise too_large
        data = os.read(fd, size + 1)
        while len(data) <= MAX_RECORD:  # to the end: a file may grow as it is read
            more = os.read(fd, 1 << 16)  # at the end: no more, and no 1 MB buffer for it
            if not more:
                return data
            data += more
        raise too_large
    finally:
        os.close(fd)

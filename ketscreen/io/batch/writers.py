"""Writers for scored records: CSV, JSON Lines, JSON and FHIR, each chosen by `OutputFormat`.

A writer turns a block of `Row`s into text; the runner adds `header()`, `separator`
between non-empty blocks, and `footer()`. Blocks can be formatted in worker processes,
so a writer holds only plain data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from ketscreen.core.compiled import CACHE_LIMIT, STATUS_OK, Row
from ketscreen.core.model import Questionnaire
from ketscreen.core.safe_text import CONTROL, json_safe, visible
from ketscreen.core.scoring import score
from ketscreen.io.batch.formats import OutputFormat, assert_never
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.fhir import bundle, response_to_fhir
from ketscreen.io.fhir.common import narrative

BEFORE_SCORES = ("respondent_id", "source", "status", "band", "lower_bound")
AFTER_SCORES = (
    "top_flag_level",
    "flags",
    "missing",
    "error",
    "questionnaire",
    "questionnaire_version",
    "questionnaire_sha256",
)
"""The common output columns, before and after the questionnaire's score columns."""


def columns(questionnaire: Questionnaire | VersionSet) -> tuple[str, ...]:
    """The output columns, in order (DESIGN.md "Response records"): the common ones with
    the questionnaire's score ids, in its `scores:` order, after `lower_bound`."""
    versions = questionnaire if isinstance(questionnaire, VersionSet) else VersionSet(questionnaire)
    return (*BEFORE_SCORES, *versions.score_ids, *AFTER_SCORES)


_SPECIAL = frozenset(',"\r\n')
_NEEDS_QUOTES = re.compile('[,"\r\n]')
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula when a cell starts with it (OWASP, "CSV
Injection"); such a cell is written with a single quote before it."""
_NEEDS_CARE = re.compile(f'[,"\r\n]|{CONTROL.pattern}')
"""What the fast path cannot write as it is (besides a formula start)."""


def guarded(cell: str) -> str:
    """A cell safe to open in a spreadsheet and to show on a terminal: a single quote
    before a formula start, control characters written visibly (`\\x1b`)."""
    cell = visible(cell)
    return "'" + cell if cell.startswith(FORMULA_START) else cell


class Writer:
    """Formats rows; subclasses say how."""

    separator = ""
    single_differs = False
    binary = False
    """True for a writer whose `encoded` blocks are not text (Parquet): written by its own sink."""
    """True when one record alone is written differently (`alone`) from several."""

    def __init__(self, versions: VersionSet | Questionnaire) -> None:
        if not isinstance(versions, VersionSet):
            versions = VersionSet(versions)
        self.versions = versions
        q = versions.default
        self.stamp = (q.id, q.version, q.sha256)
        self.stamps: dict[str | None, tuple[str, str, str]] = {None: self.stamp}
        for other in versions.all:
            self.stamps[other.version] = (other.id, other.version, other.sha256)
        self.score_ids = versions.score_ids
        self.columns = columns(versions)
        self.no_scores: tuple[None, ...] = (None,) * len(self.score_ids)
        """The score cells of an invalid row (which has no scores)."""

    def scores_of(self, row: Row) -> tuple[int | None, ...]:
        return row.scores or self.no_scores

    def stamp_of(self, row: Row) -> tuple[str, str, str]:
        """The questionnaire columns of a row: the version that scored it."""
        return self.stamps.get(row.questionnaire_version, self.stamp)

    def header(self) -> str:
        return ""

    def rows(self, rows: Sequence[Row]) -> str:
        raise NotImplementedError

    def footer(self, wrote_rows: bool) -> str:
        return ""

    def encoded(self, rows: Sequence[Row]) -> bytes:
        """`rows` as the bytes the runner's sink writes (UTF-8 for the text formats)."""
        return self.rows(rows).encode("utf-8", "backslashreplace")

    def alone(self, text: str) -> str:
        """The whole output when `text` is the only record (for `single_differs`)."""
        raise NotImplementedError

    def empty(self) -> str:
        """The whole output when there is no record (for `single_differs`)."""
        raise NotImplementedError


class CsvWriter(Writer):
    """Comma-separated, LF line ends, minimal quoting; lists joined with `;`.

    Cells are `guarded` (formula starts neutralized, control characters shown) unless
    `raw`. Rows that are ok and whose respondent id and source need neither quoting nor
    guarding (nearly all) are formatted directly; the others go through the csv module.
    """

    def __init__(self, versions: VersionSet | Questionnaire, *, raw: bool = False) -> None:
        super().__init__(versions)
        self.raw = raw
        self.tails = {
            key: self._line(self._guard(stamp)).rstrip("\n") for key, stamp in self.stamps.items()
        }
        self.score_text: _ScoreText = _ScoreText()
        """The score cells of a row, joined with commas, by its scores."""

    def _guard(self, cells: Sequence[object]) -> list[object]:
        if self.raw:
            return list(cells)
        return [guarded(cell) if isinstance(cell, str) else cell for cell in cells]

    @staticmethod
    def _line(cells: Sequence[object]) -> str:
        # The csv module quotes a cell holding a character of the line terminator: ask
        # for CRLF so that a lone CR is quoted too, then end the line with LF.
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(cells)
        return buffer.getvalue()[:-2] + "\n"

    def header(self) -> str:
        return self._line(self.columns)

    def _slow(self, row: Row) -> str:
        return self._line(self._guard([*self._cells(row), *self.stamp_of(row)]))

    def _cells(self, row: Row) -> list[object]:
        return [
            row.respondent_id,
            row.source,
            row.status,
            row.band,
            None if row.lower_bound is None else ("true" if row.lower_bound else "false"),
            *self.scores_of(row),
            row.top_flag_level,
            ";".join(row.flags),
            ";".join(row.missing),
            row.error,
        ]

    def rows(self, rows: Sequence[Row]) -> str:
        # One scan of the whole block decides whether any row needs the careful path.
        cells = [*map(itemgetter(0), rows), *map(itemgetter(1), rows)]
        if self.raw:
            plain = not _NEEDS_QUOTES.search("".join(cells))
        else:
            plain = not _NEEDS_CARE.search("".join(cells)) and not any(
                map(str.startswith, cells, repeat(FORMULA_START))
            )
        careful = self._careful
        tails = self.tails
        default = tails[None]
        join = ";".join
        scores = self.score_text
        empty = ""
        return empty.join(
            [
                f"{r[0]},{r[1]},ok,{r[3]},{'true' if r[4] else 'false'},{scores[r[5]]}"
                f"{r[6] or empty},{join(r[7])},{join(r[8])},,{tails.get(r[11], default)}\n"
                if r[2] is STATUS_OK and (plain or not careful(r[0], r[1]))
                else self._slow(r)
                for r in rows
            ]
        )

    def _careful(self, respondent_id: str, source: str) -> bool:
        """Whether a row's id or source needs quoting or guarding."""
        if not _SPECIAL.isdisjoint(respondent_id + source):
            return True
        if self.raw:
            return False
        return (
            respondent_id.startswith(FORMULA_START)
            or source.startswith(FORMULA_START)
            or CONTROL.search(respondent_id + source) is not None
        )


class _ScoreText(dict[tuple[int | None, ...], str]):
    """Score cells as CSV text, each followed by a comma ("1,3,," for (1, 3, None)):
    computed once per distinct combination of scores, so a row costs one lookup."""

    def __missing__(self, scores: tuple[int | None, ...]) -> str:
        text = "".join("," if value is None else f"{value}," for value in scores)
        if len(self) < CACHE_LIMIT:
            self[scores] = text
        return text


class _JsonWriter(Writer):
    def record(self, row: Row) -> dict[str, Any]:
        data: dict[str, Any] = {
            "respondent_id": row.respondent_id,
            "source": row.source,
            "status": row.status,
            "band": row.band,
            "lower_bound": row.lower_bound,
            **dict(zip(self.score_ids, self.scores_of(row), strict=True)),
            "top_flag_level": row.top_flag_level,
            "flags": list(row.flags),
            "missing": list(row.missing),
            "error": row.error,
        }
        stamp = self.stamp_of(row)
        data["questionnaire"] = stamp[0]
        data["questionnaire_version"] = stamp[1]
        data["questionnaire_sha256"] = stamp[2]
        if row.details is not None:
            data.update(row.details)
        return data

    def dumps(self, row: Row) -> str:
        return json_safe(json.dumps(self.record(row), ensure_ascii=False))


class JsonLinesWriter(_JsonWriter):
    """One JSON object per line."""

    def rows(self, rows: Sequence[Row]) -> str:
        return "".join(f"{self.dumps(row)}\n" for row in rows)


class JsonWriter(_JsonWriter):
    """One JSON array, one record per line, so that it streams like the others."""

    separator = ",\n"

    def header(self) -> str:
        return "[\n"

    def rows(self, rows: Sequence[Row]) -> str:
        return ",\n".join(map(self.dumps, rows))

    def footer(self, wrote_rows: bool) -> str:
        return "\n]\n" if wrote_rows else "]\n"


class FhirWriter(Writer):
    """HL7 FHIR R4: a QuestionnaireResponse per record (an OperationOutcome for an invalid
    one, so that output stays one per input record), one resource per line; a collection
    Bundle of them when there are several.

    `rows` writes bare resources; `header`, `separator` and `footer` make them Bundle
    entries, so a lone record can be written bare (`alone`).
    """

    separator = '},\n{"resource": '
    single_differs = True

    def __init__(self, versions: VersionSet | Questionnaire) -> None:
        super().__init__(versions)
        self.questionnaire = self.versions.default

    def header(self) -> str:
        return '{"resourceType": "Bundle", "type": "collection", "entry": [\n{"resource": '

    def footer(self, wrote_rows: bool) -> str:
        return "}\n]}\n"

    def alone(self, text: str) -> str:
        return text + "\n"

    def empty(self) -> str:
        return json.dumps(bundle([])) + "\n"

    def resource(self, row: Row) -> dict[str, Any]:
        if row.status is not STATUS_OK:
            where = f"{row.source}: {row.error}"
            issue = {"severity": "error", "code": "invalid", "diagnostics": where}
            return {
                "resourceType": "OperationOutcome",
                "text": narrative([f"Not scored: {where}"]),
                "issue": [issue],
            }
        assert row.details is not None, "FHIR output needs the explained rows"
        q = self.versions.get(row.questionnaire_version) or self.questionnaire
        result = score(q, row.details["answers"])  # type: ignore[arg-type]
        return response_to_fhir(q, result, respondent_id=row.respondent_id)

    def rows(self, rows: Sequence[Row]) -> str:
        dumps = json.dumps
        text = self.separator.join(dumps(self.resource(row), ensure_ascii=False) for row in rows)
        return json_safe(text)


def writer_for(
    fmt: OutputFormat, questionnaire: Questionnaire | VersionSet, *, raw_csv: bool = False
) -> Writer:
    """The writer for `fmt`; `raw_csv` writes CSV cells exactly as they are (no guard)."""
    versions = questionnaire if isinstance(questionnaire, VersionSet) else VersionSet(questionnaire)
    match fmt:
        case OutputFormat.CSV:
            return CsvWriter(versions, raw=raw_csv)
        case OutputFormat.JSONL:
            return JsonLinesWriter(versions)
        case OutputFormat.JSON:
            return JsonWriter(versions)
        case OutputFormat.FHIR:
            return FhirWriter(versions)
        case OutputFormat.PARQUET:
            from ketscreen.io.batch.parquet import ParquetWriter

            return ParquetWriter(versions)
        case _:
            assert_never(fmt)

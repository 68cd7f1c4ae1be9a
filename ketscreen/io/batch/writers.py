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
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from ketscreen.core.compiled import CACHE_LIMIT, STATUS_OK, Explained, Row
from ketscreen.core.conditions import Answer
from ketscreen.core.model import DECLINED, Item, Questionnaire
from ketscreen.core.safe_text import CONTROL, json_safe, visible
from ketscreen.core.scoring import utc_now
from ketscreen.io.batch.formats import OutputFormat, assert_never
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.fhir import bundle
from ketscreen.io.fhir.common import narrative
from ketscreen.io.fhir.response import ResponseText, tuple_getter

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
    """True when one record alone is written differently (`alone`) from several."""
    binary = False
    """True for a writer whose `encoded` blocks are not text (Parquet): written by its own sink."""

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
    """JSON records as `json.dumps(record, ensure_ascii=False)` writes them (then
    `json_safe`). A valid record whose respondent id and source need no escape (nearly
    all) is joined from cached parts; the others are dumped (`_dumps`)."""

    def __init__(self, versions: VersionSet | Questionnaire) -> None:
        super().__init__(versions)
        self._explainers: dict[str | None, _ExplainText] = {}
        self._parts = _JsonParts(self.score_ids)
        self._tails = {
            key: _json(dict(zip(AFTER_SCORES[-3:], stamp, strict=True)))[1:-1]
            for key, stamp in self.stamps.items()
        }

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
        return data

    def _explainer(self, version: str | None) -> _ExplainText:
        explainer = self._explainers.get(version)
        if explainer is None:
            q = self.versions.get(version) or self.versions.default
            explainer = self._explainers[version] = _ExplainText(q)
        return explainer

    def _dumps(self, row: Row) -> str:
        """One record, the reference way (every row can be written so)."""
        text = _json(self.record(row))
        if row.details is not None:
            text = text[:-1] + self._explainer(row.questionnaire_version).text(row.details)
        return text

    def texts(self, rows: Sequence[Row]) -> list[str]:
        """Each row's JSON text."""
        # One scan of the block decides whether some id or source needs escaping.
        plain = not _JSON_CARE.search(
            "".join([*map(itemgetter(0), rows), *map(itemgetter(1), rows)])
        )
        parts = self._parts
        heads, scores, levels, flags, missing = (
            parts.heads,
            parts.scores,
            parts.levels,
            parts.lists,
            parts.lists,
        )
        tails = self._tails
        default = tails[None]
        out: list[str] = []
        append = out.append
        for r in rows:
            if r[2] is not STATUS_OK or not plain:
                append(self._dumps(r))
                continue
            # One f-string a record: each part is copied once.
            if r[10] is None:
                append(
                    f'{{"respondent_id": "{r[0]}", "source": "{r[1]}", {heads[r[3], r[4]]}'
                    f'{scores[r[5]]}"top_flag_level": {levels[r[6]]}, "flags": {flags[r[7]]}, '
                    f'"missing": {missing[r[8]]}, "error": null, {tails.get(r[11], default)}}}'
                )
                continue
            given, contributions = self._explainer(r[11]).parts(r[10])
            append(
                f'{{"respondent_id": "{r[0]}", "source": "{r[1]}", {heads[r[3], r[4]]}'
                f'{scores[r[5]]}"top_flag_level": {levels[r[6]]}, "flags": {flags[r[7]]}, '
                f'"missing": {missing[r[8]]}, "error": null, {tails.get(r[11], default)}'
                f', "answers": {{{given}}}, "contributions": [{contributions}]}}'
            )
        return out


_JSON_CARE = re.compile(r'["\\\x00-\x1f]|' + CONTROL.pattern + r"|[\ud800-\udfff]")
"""What `json.dumps` escapes in a string, or `json_safe` after it."""


def _json(data: object) -> str:
    return json_safe(json.dumps(data, ensure_ascii=False))


class _Parts(dict[Any, str]):
    """JSON text by value, computed once per distinct value while the memo is small."""

    def __init__(self, compute: Callable[[Any], str]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> str:
        text = self._compute(key)
        if len(self) < CACHE_LIMIT:
            self[key] = text
        return text


class _JsonParts:
    """The parts of a valid record's JSON text that `_JsonWriter.texts` joins."""

    def __init__(self, score_ids: Sequence[str]) -> None:
        self.heads = _Parts(
            lambda key: (
                _json({"status": STATUS_OK, "band": key[0], "lower_bound": key[1]})[1:-1] + ", "
            )
        )
        """`"status": "ok", "band": ..., "lower_bound": ..., ` by (band, lower bound)."""
        self.scores = _Parts(
            lambda values: (
                _json(dict(zip(score_ids, values, strict=True)))[1:-1] + ", " if score_ids else ""
            )
        )
        """`"<score id>": <value>, ` for every score, by the scores."""
        self.levels = _Parts(_json)
        """A JSON string (or null) by value: levels, flag and item ids."""
        self.lists = _Parts(lambda values: f"[{', '.join(map(self.levels.__getitem__, values))}]")
        """A JSON list of ids by the ids (flags, missing items); many combinations of
        flags are seen once only, so a miss is cheap: each id is cached."""


class _ExplainText:
    """The --explain keys of a record (`Result.to_dict(explain=True)`'s "answers" and
    "contributions"), joined from each item's parts, each written once per answer."""

    def __init__(self, q: Questionnaire) -> None:
        self.q = q
        items = list(q.items.values())
        self.answers = [_Parts(partial(self._answer, item)) for item in items]
        """`"<item>": <answer>` by answer ("" for None)."""
        self.contributions = [
            _Parts(
                partial(self._contribution, item, [sc.id for sc in q.scores if item.id in sc.items])
            )
            for item in items
        ]
        """The item's contribution (when it is asked) by answer."""
        self._plans: dict[tuple[tuple[int, ...], int], _ExplainPlan] = {}

    @staticmethod
    def _plain(answer: Answer | None) -> object:
        return list(answer) if isinstance(answer, tuple) else answer

    def _answer(self, item: Item, answer: Answer | None) -> str:
        if answer is None:
            return ""
        return _json({item.id: self._plain(answer)})[1:-1]

    def _contribution(self, item: Item, counted_in: list[str], answer: Answer | None) -> str:
        """As `score()` makes it: an item with a given answer (not declined) counts in
        each score it is a member of (each exists, as the item is asked)."""
        counted = counted_in if answer is not None and answer != DECLINED else []
        data = {
            "item": item.id,
            "answer": self._plain(answer),
            "points": item.weights.get(answer) if counted else None,  # type: ignore[arg-type]
            "counted_in": counted,
        }
        return _json(data)

    def _plan(self, order: tuple[int, ...], asked: int) -> _ExplainPlan:
        """How to read the parts of records that give items in `order` and ask `asked`."""
        plan = self._plans.get((order, asked))
        if plan is None:
            items = tuple(i for i in range(len(self.answers)) if asked >> i & 1)
            by_order, by_asked = tuple_getter(order), tuple_getter(items)
            plan = _ExplainPlan(
                by_order,
                tuple(by_order(self.answers)),
                by_asked,
                tuple(by_asked(self.contributions)),
            )
            if len(self._plans) < CACHE_LIMIT:
                self._plans[order, asked] = plan
        return plan

    def parts(self, details: Explained) -> tuple[str, str]:
        """The text inside the "answers" object and inside the "contributions" list."""
        answers = details.answers
        plan = self._plan(details.order, details.asked)
        getitem = dict.__getitem__
        given = ", ".join(filter(None, map(getitem, plan.answers, plan.given(answers))))
        contributions = ", ".join(map(getitem, plan.contributions, plan.asked(answers)))
        return given, contributions

    def text(self, details: Explained) -> str:
        """The keys the record's JSON object ends with, and its closing brace."""
        given, contributions = self.parts(details)
        return f', "answers": {{{given}}}, "contributions": [{contributions}]}}'


class _ExplainPlan(NamedTuple):
    given: Callable[[Sequence[Any]], tuple[Any, ...]]
    """The answers, in the record's order."""
    answers: tuple[dict[Any, str], ...]
    """Their parts, in that order."""
    asked: Callable[[Sequence[Any]], tuple[Any, ...]]
    """The answers of the asked items."""
    contributions: tuple[dict[Any, str], ...]
    """Their contributions' parts."""


class JsonLinesWriter(_JsonWriter):
    """One JSON object per line."""

    def rows(self, rows: Sequence[Row]) -> str:
        texts = self.texts(rows)
        if texts:
            texts.append("")
        return "\n".join(texts)


class JsonWriter(_JsonWriter):
    """One JSON array, one record per line, so that it streams like the others."""

    separator = ",\n"

    def header(self) -> str:
        return "[\n"

    def rows(self, rows: Sequence[Row]) -> str:
        return ",\n".join(self.texts(rows))

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

    def header(self) -> str:
        return '{"resourceType": "Bundle", "type": "collection", "entry": [\n{"resource": '

    def footer(self, wrote_rows: bool) -> str:
        return "}\n]}\n"

    def alone(self, text: str) -> str:
        return text + "\n"

    def empty(self) -> str:
        return json.dumps(bundle([])) + "\n"

    clock: Callable[[], str] = staticmethod(utc_now)
    """When a block is scored: each response's `authored` and `scoredAt`."""

    def __init__(self, versions: VersionSet | Questionnaire) -> None:
        super().__init__(versions)
        self.questionnaire = self.versions.default
        self._texts: dict[str | None, ResponseText] = {}

    @staticmethod
    def outcome(row: Row) -> dict[str, Any]:
        """The OperationOutcome of an invalid record."""
        where = f"{row.source}: {row.error}"
        issue = {"severity": "error", "code": "invalid", "diagnostics": where}
        return {
            "resourceType": "OperationOutcome",
            "text": narrative([f"Not scored: {where}"]),
            "issue": [issue],
        }

    def _text_for(self, version: str | None) -> ResponseText:
        texts = self._texts.get(version)
        if texts is None:
            q = self.versions.get(version) or self.questionnaire
            texts = self._texts[version] = ResponseText(q)
        return texts

    def text(self, row: Row, scored_at: str) -> str:
        """One record as JSON text: its QuestionnaireResponse, built from cached parts
        (`ResponseText`) out of the answers the scorer kept (`Row.details`)."""
        if row.status is not STATUS_OK:
            return json_safe(json.dumps(self.outcome(row), ensure_ascii=False))
        details = row.details
        assert details is not None, "FHIR output needs the explained rows"
        assert row.band is not None and row.lower_bound is not None
        return self._text_for(row.questionnaire_version).text(
            row.respondent_id,
            row.band,
            row.lower_bound,
            row.scores,
            row.flags,
            details.answers,
            details.asked,
            scored_at,
        )

    def rows(self, rows: Sequence[Row]) -> str:
        # Each part of the text is already `json_safe` (it escapes character by character).
        scored_at = self.clock()
        return self.separator.join([self.text(row, scored_at) for row in rows])


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

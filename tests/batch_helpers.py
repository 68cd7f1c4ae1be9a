"""Shared helpers for the batch tests: run a batch in memory, and the library's answer."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ketscreen import AnswerError, score
from ketscreen.core.compiled import answer_error_row, row_from_result
from ketscreen.core.model import Questionnaire
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.readers import Source
from ketscreen.io.batch.runner import Options, Summary, run_batch

ASSETS = Path(__file__).parent / "assets" / "batch"


def run_text(
    questionnaire: Questionnaire,
    data: str | bytes,
    fmt: InputFormat | None,
    options: Options | None = None,
    warnings: list[str] | None = None,
) -> tuple[str, Summary]:
    """Score `data` given as standard input; the output text and the summary."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    out = io.StringIO()
    summary = run_batch(
        questionnaire,
        [Source("-", fmt, None)],
        options or Options(output=OutputFormat.JSONL),
        out,
        None,
        stdin=io.BytesIO(raw),
        warn=(warnings if warnings is not None else []).append,
    )
    return out.getvalue(), summary


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def library_record(
    questionnaire: Questionnaire,
    answers: Mapping[str, object],
    respondent_id: str,
    source: str,
    column: str = "column",
) -> dict[str, Any]:
    """What batch output must say for one record, computed by the library's `score()`."""
    try:
        result = score(questionnaire, answers)
    except AnswerError as exc:
        row = answer_error_row(respondent_id, source, exc, column)
    else:
        row = row_from_result(respondent_id, source, result)
    return {
        "respondent_id": row.respondent_id,
        "source": row.source,
        "status": row.status,
        "band": row.band,
        "lower_bound": row.lower_bound,
        **{
            sc.id: row.scores[k] if row.scores else None
            for k, sc in enumerate(questionnaire.scores)
        },
        "top_flag_level": row.top_flag_level,
        "flags": list(row.flags),
        "missing": list(row.missing),
        "error": row.error,
        "questionnaire": questionnaire.id,
        "questionnaire_version": questionnaire.version,
        "questionnaire_sha256": questionnaire.sha256,
    }


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()

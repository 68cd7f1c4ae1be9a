"""FHIR output and --explain, written from the compiled path's cached parts, are exactly
what the reference code writes for the same records: `score()` on each record, then
`response_to_fhir` (FHIR) or `Result.to_dict(explain=True)` (--explain), dumped with
`json.dumps`. The output is compared byte for byte (so also as parsed JSON).

Records are tests/test_batch_property.py's messy ones (every band, flag, skip path and
invalid kind), for every instrument (SDS too), and for both ketamine versions in one file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketscreen import load_questionnaire, score
from ketscreen.core.compiled import Scorer
from ketscreen.core.conditions import Answer, Context
from ketscreen.core.model import DECLINED, Questionnaire
from ketscreen.core.safe_text import json_safe
from ketscreen.io.batch import writers
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.readers import RESPONDENT
from ketscreen.io.batch.runner import Options
from ketscreen.io.batch.versions import VERSION_KEY, VersionSet
from ketscreen.io.fhir import response as fhir_response
from ketscreen.io.fhir import response_to_fhir
from tests.batch_helpers import csv_text, records, run_text
from tests.test_batch_property import BLANKS, JUNK, QUESTIONNAIRES, answer_of, cells_for

WHEN = "2026-12-03T09:00:00Z"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NEW = load_questionnaire()
OLD = load_questionnaire(version="1.0.0")
IDS = ["r", "", 'a "quoted", id', "é 日本", "x\x1by\x85", "=1+2", "line\nbreak"]
"""Respondent ids that need quoting or escaping somewhere (plus the plain and none)."""


@st.composite
def response(draw: st.DrawFn, q: Questionnaire) -> dict[str, str]:
    """A record of `q` that follows skip logic, in messy spellings; now and then one
    mistake (as tests/test_batch_property.py's `response`)."""
    items = list(q.items.values())
    given_answers: dict[str, Answer] = {}
    cells: dict[str, str] = {}
    for item in items:
        if item.enable_when is not None and not item.enable_when.evaluate(Context(given_answers)):
            cells[item.id] = draw(st.sampled_from(BLANKS))
            continue
        options = cells_for(item)
        if item.required:
            options = [c for c in options if answer_of(item, c) not in (None, DECLINED)]
        cells[item.id] = draw(st.sampled_from(options))
        answer = answer_of(item, cells[item.id])
        if answer is not None and answer != DECLINED:
            given_answers[item.id] = answer
    mistake = draw(st.sampled_from(["none", "none", "none", "junk", "not asked", "required"]))
    target = draw(st.sampled_from(items))
    if mistake == "junk":
        cells[target.id] = draw(st.sampled_from(JUNK))
    elif mistake == "not asked":
        cells[target.id] = draw(st.sampled_from(cells_for(target)))
    elif mistake == "required":
        cells[items[0].id] = draw(st.sampled_from(BLANKS))
    return cells


Record = tuple[str, Questionnaire, dict[str, str]]
"""Respondent id, the version it answers, its cells by item id."""


def batch(versions: Sequence[Questionnaire]) -> st.SearchStrategy[list[Record]]:
    one = st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(list(versions)),
    ).flatmap(lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), response(pair[1])))
    return st.lists(one, min_size=1, max_size=8)


def as_csv(records_: list[Record], versioned: bool) -> tuple[str, list[str]]:
    """The records as a CSV file (with a version column when `versioned`); the order of
    the item columns."""
    items = list(dict.fromkeys(i for _, q, _ in records_ for i in q.items))
    items = [*items[1::2], *items[::2]]  # not in questionnaire order
    header = [RESPONDENT, *([VERSION_KEY] if versioned else []), *items]
    rows = [
        [f"{rid}{n}" if rid else "", *([q.version] if versioned else [])]
        + [cells.get(item, "") for item in items]
        for n, (rid, q, cells) in enumerate(records_)
    ]
    return csv_text(header, rows), items


def run(
    versions: Questionnaire | VersionSet, text: str, output: OutputFormat, explain: bool = False
) -> str:
    return run_text(versions, text, InputFormat.CSV, Options(output=output, explain=explain))[0]  # type: ignore[arg-type]


def answers_of(q: Questionnaire, cells: dict[str, str], order: list[str]) -> dict[str, str]:
    """A record's answers as the batch passes them to `score()`: in column order."""
    return {item: cells[item] for item in order if item in q.items}


def outcome(row: dict[str, Any]) -> dict[str, Any]:
    """The reference OperationOutcome of an invalid record (FhirWriter.outcome)."""
    return writers.FhirWriter.outcome(
        writers.Row(
            row["respondent_id"],
            row["source"],
            "invalid",
            None,
            None,
            (),
            None,
            (),
            (),
            row["error"],
        )
    )


def expected_fhir(records_: list[Record], plain: list[dict[str, Any]], order: list[str]) -> str:
    """The FHIR output the reference code writes: a resource per record (invalid ones as
    the plain run says), one a line, in a Bundle when there are several."""
    texts = []
    for (_, q, cells), row in zip(records_, plain, strict=True):
        if row["status"] == "invalid":
            resource = outcome(row)
        else:
            result = score(q, answers_of(q, cells, order), scored_at=WHEN)
            resource = response_to_fhir(q, result, respondent_id=row["respondent_id"])
        texts.append(json_safe(json.dumps(resource, ensure_ascii=False)))
    if len(texts) == 1:
        return texts[0] + "\n"
    return (
        '{"resourceType": "Bundle", "type": "collection", "entry": [\n{"resource": '
        + '},\n{"resource": '.join(texts)
        + "}\n]}\n"
    )


def expected_explained(
    records_: list[Record], plain: list[dict[str, Any]], order: list[str]
) -> list[str]:
    """The --explain lines the reference code writes: each plain record, and for a valid
    one the answers and contributions of `score()`."""
    lines = []
    for (_, q, cells), row in zip(records_, plain, strict=True):
        if row["status"] == "ok":
            data = score(q, answers_of(q, cells, order), scored_at="").to_dict(explain=True)
            row = {**row, "answers": data["answers"], "contributions": data["contributions"]}
        lines.append(json_safe(json.dumps(row, ensure_ascii=False)))
    return lines


def check(versions: Questionnaire | VersionSet, records_: list[Record]) -> None:
    text, order = as_csv(records_, isinstance(versions, VersionSet))
    plain_text = run(versions, text, OutputFormat.JSONL)
    for line in plain_text.splitlines():  # exactly as `json.dumps` writes the record
        assert line == json_safe(json.dumps(json.loads(line), ensure_ascii=False))
    plain = records(plain_text)
    assert run(versions, text, OutputFormat.FHIR) == expected_fhir(records_, plain, order)
    explained = run(versions, text, OutputFormat.JSONL, explain=True)
    assert explained.splitlines() == expected_explained(records_, plain, order)
    in_array = run(versions, text, OutputFormat.JSON, explain=True)
    assert json.loads(in_array) == [json.loads(line) for line in explained.splitlines()]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers.FhirWriter, "clock", staticmethod(lambda: WHEN))


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_fhir_and_explain_equal_the_reference(name: str) -> None:
    q = QUESTIONNAIRES[name]

    @SETTINGS
    @given(batch([q]))
    def run_check(records_: list[Record]) -> None:
        check(q, records_)

    run_check()


def test_both_versions_in_one_file_equal_the_reference() -> None:
    @SETTINGS
    @given(batch([NEW, OLD]))
    def run_check(records_: list[Record]) -> None:
        check(VersionSet(NEW, (OLD,)), records_)

    run_check()


def test_full_caches_give_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Part memos that stop growing (huge inputs) change speed, never the text."""
    monkeypatch.setattr(fhir_response.ResponseText, "LIMIT", 1)
    monkeypatch.setattr(writers, "CACHE_LIMIT", 1)

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batch([NEW]))
    def run_check(records_: list[Record]) -> None:
        check(NEW, records_)

    run_check()


def test_a_record_without_respondent_is_a_response_without_subject() -> None:
    cells = {"use_12m": "no", "self_harm": "no"}
    text, _ = as_csv([("", NEW, cells)], versioned=False)
    resource = json.loads(run(NEW, text, OutputFormat.FHIR))
    assert resource["resourceType"] == "QuestionnaireResponse" and "subject" not in resource
    assert resource["authored"] == WHEN


@pytest.mark.parametrize("name", QUESTIONNAIRES)
@pytest.mark.parametrize("explain", [False, True])
def test_json_records_joined_from_parts_equal_json_dumps(name: str, explain: bool) -> None:
    q = QUESTIONNAIRES[name]
    scorer = Scorer(q, explain=explain)
    columns = [(k, i) for k, i in enumerate(range(len(scorer.items)))]

    @SETTINGS
    @given(batch([q]), st.sampled_from(IDS))
    def run_check(records_: list[Record], source: str) -> None:
        rows = scorer.score_rows(
            columns,
            [[cells[item.id] for item in scorer.items] for _, _, cells in records_],
            [rid for rid, _, _ in records_],
            [f"{source}:{n}" for n in range(len(records_))],
        )
        for writer in (writers.JsonLinesWriter(q), writers.JsonWriter(q)):
            assert writer.texts(rows) == [writer._dumps(row) for row in rows]

    run_check()


def test_explain_with_some_item_columns_only_equals_the_reference() -> None:
    """Lines without quotes (read by one pattern, each group's answers memoised), with
    the columns in another order than the items and some items without a column."""
    items = [i for i in NEW.items if i not in ("craving", "routes", "k_hole")][::-1]
    rows = []
    for n in range(40):
        cells = {item: draw_plain(NEW, item, n) for item in items}
        rows.append([f"r{n}", *(cells[item] for item in items)])
    text = csv_text([RESPONDENT, *items], rows)
    assert '"' not in text
    explained = records(run(NEW, text, OutputFormat.JSONL, explain=True))
    assert len(explained) == 40
    for row, line in zip(rows, explained, strict=True):
        answers = dict(zip(items, row[1:], strict=True))
        if line["status"] != "ok":
            continue
        reference = score(NEW, answers, scored_at="").to_dict(explain=True)
        assert line["answers"] == reference["answers"]
        assert line["contributions"] == reference["contributions"]
    assert sum(line["status"] == "ok" for line in explained) >= 30


def draw_plain(q: Questionnaire, item_id: str, n: int) -> str:
    """A varied answer without quotes or commas: a code as spelt, in capitals, or none."""
    item = q.items[item_id]
    if item.required:
        return ["yes", "Yes ", "YES"][n % 3]
    codes = list(item.codes)
    return [*codes, codes[0].upper(), ""][n % (len(codes) + 2)]

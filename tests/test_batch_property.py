"""Batch scoring equals library scoring, record by record (STYLE.md item 11).

Records are messy on purpose: codes in any case with spaces around them, yes/no
spellings, multi-select answers in any order with `;` or `|`, declined, blanks, unknown
codes and answers to items that skip logic does not ask. Columns come in any order and
any case. Every output record must equal what `score()` says about the same answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketscreen import AnswerError, load_questionnaire
from ketscreen.core import compiled as engine
from ketscreen.core.conditions import Answer, Context
from ketscreen.core.model import DECLINED, Item, ItemType, Questionnaire
from ketscreen.core.normalize import normalize_answer
from ketscreen.io.batch.formats import InputFormat
from ketscreen.io.batch.readers import RESPONDENT
from ketscreen.io.questionnaires import parse_questionnaire
from tests.batch_helpers import ASSETS, csv_text, library_record, records, run_text

KETAMINE = load_questionnaire()
GENERIC = load_questionnaire(ASSETS / "generic.yaml")
NEGATIVE = parse_questionnaire(
    (ASSETS / "generic.yaml").read_bytes().replace(b"weight: 0}", b"weight: -1}"), "negative"
)
SDS = load_questionnaire(instrument="sds")
QUESTIONNAIRES = {"ketamine": KETAMINE, "generic": GENERIC, "negative": NEGATIVE, "sds": SDS}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spellings_of(code: str) -> list[str]:
    """A code as people type it: any case, spaces around it."""
    return [code, code.upper(), code.title(), f" {code}", f"{code}  ", f" {code.upper()} "]


JUNK = ["maybe", "x" * 60, "yes;no", "2", "?", "declined;yes"]
BLANKS = ["", " "]


_CELLS: dict[tuple[str, str], list[str]] = {}


def cells_for(item: Item) -> list[str]:
    """Raw cells for `item`, mostly valid: one draw picks one of them."""
    key = (item.section, item.id)
    if key not in _CELLS:
        _CELLS[key] = _cells(item)
    return _CELLS[key]


def _cells(item: Item) -> list[str]:
    if item.type is ItemType.MULTI:
        codes = item.codes
        valid = [
            f"{a}{sep}{b}"
            for a in codes
            for b in codes
            for sep in (";", "|", " ; ")
            if a <= b or sep == ";"
        ]
        valid += [code.upper() for code in codes] + [";".join(reversed(codes)), f"{codes[0]}|"]
    elif item.type is ItemType.YES_NO:
        valid = [
            s
            for code in ("yes", "no", "y", "n", "true", "false", "1", "0")
            for s in spellings_of(code)
        ]
    else:
        valid = [s for code in item.codes for s in spellings_of(code)]
    others = BLANKS + spellings_of(DECLINED)[:3]
    return valid + others * max(1, len(valid) // (4 * len(others)))


def answer_of(item: Item, cell: str) -> Answer | None:
    try:
        return normalize_answer(item, cell)
    except AnswerError:
        return None


@st.composite
def response(draw: st.DrawFn, name: str) -> dict[str, str]:
    """A record that follows skip logic, in messy spellings; now and then one mistake."""
    items = list(QUESTIONNAIRES[name].items.values())
    given: dict[str, Answer] = {}
    cells: dict[str, str] = {}
    for item in items:
        if item.enable_when is not None and not item.enable_when.evaluate(Context(given)):
            cells[item.id] = draw(st.sampled_from(BLANKS))
            continue
        options = cells_for(item)
        if item.required:
            options = [c for c in options if answer_of(item, c) not in (None, DECLINED)]
        cells[item.id] = draw(st.sampled_from(options))
        answer = answer_of(item, cells[item.id])
        if answer is not None and answer != DECLINED:
            given[item.id] = answer
    mistake = draw(st.sampled_from(["none", "none", "junk", "not asked", "required"]))
    target = draw(st.sampled_from(items))
    if mistake == "junk":
        cells[target.id] = draw(st.sampled_from(JUNK))
    elif mistake == "not asked":
        cells[target.id] = draw(st.sampled_from(cells_for(target)))
    elif mistake == "required":
        cells[items[0].id] = draw(st.sampled_from(BLANKS))
    return cells


def batches(name: str) -> st.SearchStrategy[tuple[list[dict[str, str]], list[str]]]:
    """Records for questionnaire `name`, and a column order for them."""
    return st.tuples(
        st.lists(response(name), min_size=1, max_size=8),
        st.permutations([RESPONDENT, *QUESTIONNAIRES[name].items]),
    )


def expected(
    questionnaire: Questionnaire, rows: list[dict[str, Any]], column: str, line: int = 2
) -> list[dict[str, Any]]:
    return [
        library_record(questionnaire, answers, f"r{n}", f"stdin:{n + line}", column)
        for n, answers in enumerate(rows)
    ]


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_csv_batch_equals_library(name: str) -> None:
    questionnaire = QUESTIONNAIRES[name]

    @SETTINGS
    @given(batches(name), st.sampled_from([",", ";", "\t"]), st.booleans())
    def check(batch: tuple[list[dict[str, str]], list[str]], delimiter: str, crlf: bool) -> None:
        rows, order = batch
        check_csv(questionnaire, rows, order, delimiter, crlf)

    check()


def check_csv(
    questionnaire: Questionnaire,
    rows: list[dict[str, str]],
    order: list[str],
    delimiter: str = ",",
    crlf: bool = False,
) -> None:
    header = [name.upper() if n % 2 else f" {name} " for n, name in enumerate(order)]
    cells = [
        [f"r{n}" if name == RESPONDENT else answers[name] for name in order]
        for n, answers in enumerate(rows)
    ]
    text = csv_text(header, cells, delimiter)
    if crlf:
        text = text.replace("\n", "\r\n")
    out, summary = run_text(questionnaire, text, InputFormat.CSV)
    # The library sees each row as a mapping in column order, as csv.DictReader gives it.
    in_order = [{name: answers[name] for name in order if name != RESPONDENT} for answers in rows]
    assert records(out) == expected(questionnaire, in_order, "column")
    assert summary.records == len(rows)


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_json_lines_batch_equals_library(name: str) -> None:
    questionnaire = QUESTIONNAIRES[name]

    @SETTINGS
    @given(batches(name))
    def check(batch: tuple[list[dict[str, str]], list[str]]) -> None:
        rows, _ = batch
        lines = [json.dumps({RESPONDENT: f"r{n}", **answers}) for n, answers in enumerate(rows)]
        out, _ = run_text(questionnaire, "\n".join(lines) + "\n", InputFormat.JSONL)
        assert records(out) == expected(questionnaire, rows, "item", line=1)

    check()


@pytest.mark.parametrize("limit", [1, 3])
def test_tiny_caches_give_the_same_results(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Memo tables that stop growing (huge inputs) change speed, never results."""
    monkeypatch.setattr(engine, "CACHE_LIMIT", limit)
    monkeypatch.setattr(engine, "GROUP_LIMIT", 1)

    for name, questionnaire in QUESTIONNAIRES.items():

        @SETTINGS
        @given(batches(name))
        def check(batch: tuple[list[dict[str, str]], list[str]]) -> None:
            check_csv(questionnaire, *batch)  # noqa: B023  (run at once, in this loop)

        check()

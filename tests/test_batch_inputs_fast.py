"""The quick roads for JSON, FHIR and session input give exactly what the exact ones give.

JSON records are read with orjson and plain records go straight to the compiled scorer;
these tests compare that, record by record, with the same batch read the exact way (the
stdlib decoder and `normalize_answers` per record), on records chosen to be awkward.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ketscreen import load_questionnaire
from ketscreen.core.model import Questionnaire
from ketscreen.io.batch import jobs, json_records
from ketscreen.io.batch.formats import InputFormat
from ketscreen.io.batch.json_records import UNSURE, RecordDecoder, quick
from tests.batch_helpers import records, run_text

Q = load_questionnaire()

AWKWARD = [
    '{"respondent_id": "a1", "use_12m": "yes", "freq_3m": "weekly", "self_harm": "no"}',
    '{"respondent_id":"a2","use_12m":"YES ","freq_3m":" Weekly","routes":["snort","snort"]}',
    '{"respondent_id":"a3","use_12m":"yes","routes":"snort;inject","craving":true}',
    '{"respondent_id":"a4","use_12m":"yes","use_12m":"no"}',
    '{"respondent_id" :"a5","use_12m" :"yes","use_12m" :"no","note":"\\":"}',
    '{"respondent_id":"a6","use_12m":"yes","freq_3m":123456789012345678901234567890}',
    '{"respondent_id":12345678901234567890123,"use_12m":"yes"}',
    '{"respondent_id":17,"use_12m":"no"}',
    '{"respondent_id":true,"use_12m":"no"}',
    '{"Respondent_ID":"a7","USE_12M":"yes","use_12m":"no"}',
    '{"respondent_id":"a8","answers":{"use_12m":"yes","use_12m":"no"}}',
    '{"respondent_id":"a9","answers":{"use_12m":"yes"},"freq_3m":"weekly"}',
    '{"respondent_id":"b1","use_12m":"yes","questionnaire_version":"9.9"}',
    '{"respondent_id":"b2","use_12m":"yes","questionnaire_version":""}',
    '{"respondent_id":"b3","use_12m":"yes","questionnaire_version":3}',
    '{"respondent_id":"b4","use_12m":"maybe","freq_3m":"wekly"}',
    '{"respondent_id":"b5","use_12m":"yes","routes":[["snort"]],"shoe_size":44}',
    '{"respondent_id":"b6","use_12m":"yes","routes":[1.5],"colour":{"a":1,"a":2}}',
    '{"respondent_id":"b7","use_12m":"yes","routes":["snort",null],"freq_3m":null}',
    '{"respondent_id":"b8","use_12m":1,"freq_3m":"daily","tolerance":0}',
    '{"respondent_id":"b9","use_12m":"yes","freq_3m":1e400}',
    '{"respondent_id":"c1","use_12m":"yes","freq_3m":NaN}',
    '{"respondent_id":"c2","use_12m":"yes","freq_3m":"\\ud800"}',
    '[{"respondent_id":"c3"}]',
    '"just text"',
    "12345678901234567890123456789",
    '{"respondent_id":"c4","use_12m":"yes","self_harm":"past_month","routes":[]}',
    '{"respondent_id":"c5","shoe size":"44","use_12m":"yes","questionnaire_sha256":"x"}',
]


def test_quick_gives_the_exact_decoders_value_or_steps_aside() -> None:
    exact = RecordDecoder()
    for line in AWKWARD:
        value = quick(line)
        if value is UNSURE:
            continue
        assert value == exact.loads(line), line
        assert json.dumps(value) == json.dumps(exact.loads(line)), line  # types too


@pytest.mark.parametrize(
    "line",
    [
        '{"a":1,"a":2}',
        '{"a" :1,"a" :2,"b":"\\":"}',  # spaces hide a key from a naive count of '":'
        '{"a":1,\n"a":2}',
        '{"a":{"b":1,"b":2}}',
        '[{"a":1,"a":2}]',
    ],
)
def test_a_text_that_could_repeat_a_key_goes_to_the_exact_decoder(line: str) -> None:
    assert quick(line) is UNSURE
    assert "appears twice" in str(RecordDecoder().quick_loads(line))


def _exact_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every record the exact way (the stdlib decoder, `normalize_answers`)."""
    monkeypatch.setattr(json_records, "quick", lambda text: UNSURE)
    monkeypatch.setattr(jobs.Processor, "_quick", lambda self, record, name, unknown: None)


def _both(
    monkeypatch: pytest.MonkeyPatch, data: str, fmt: InputFormat, q: Questionnaire = Q
) -> Iterator[tuple[str, list[str]]]:
    warnings: list[str] = []
    yield run_text(q, data, fmt, warnings=warnings)[0], warnings
    with monkeypatch.context() as patch:
        _exact_only(patch)
        warnings = []
        yield run_text(q, data, fmt, warnings=warnings)[0], warnings


def test_json_lines_read_quickly_are_the_same_rows_and_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = "\n".join(AWKWARD * 3) + "\n"
    (quick_out, quick_warn), (exact_out, exact_warn) = _both(monkeypatch, data, InputFormat.JSONL)
    assert quick_out == exact_out
    assert quick_warn == exact_warn
    rows = records(quick_out)
    assert len(rows) == 3 * len(AWKWARD)
    assert "appears twice" in rows[3]["error"] and "appears twice" in rows[4]["error"]
    assert [row["status"] for row in rows[:3]] == ["ok", "ok", "ok"]
    assert any("'shoe size'" in warning for warning in quick_warn)


def test_a_json_array_read_quickly_is_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    usable = [line for line in AWKWARD if "NaN" not in line]  # NaN: not JSON, stops the file
    data = "[\n" + ",\n".join(usable * 2) + "\n]\n"
    (quick_out, quick_warn), (exact_out, exact_warn) = _both(monkeypatch, data, InputFormat.JSON)
    assert quick_out == exact_out
    assert quick_warn == exact_warn
    assert [r["source"] for r in records(quick_out)][:3] == ["stdin:2", "stdin:3", "stdin:4"]


def test_the_same_spelling_is_normalised_once_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = jobs.normalize_answer

    def counting(item: object, value: object, table: object = None) -> object:
        calls.append(value)
        return real(item, value, table)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "normalize_answer", counting)
    line = '{"respondent_id":"r%d","use_12m":"yes","freq_3m":"weekly","routes":["snort"]}'
    data = "\n".join(line % n for n in range(500)) + "\n"
    out, _ = run_text(Q, data, InputFormat.JSONL)
    assert len(records(out)) == 500
    assert len(calls) == 3  # once per item, not once per record

"""The quick roads for JSON, FHIR and session input give exactly what the exact ones give.

JSON records are read with orjson and plain records go straight to the compiled scorer;
these tests compare that, record by record, with the same batch read the exact way (the
stdlib decoder and `normalize_answers` per record), on records chosen to be awkward.
"""

from __future__ import annotations

import io
import itertools
import json
import pickle
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from ketscreen import load_questionnaire, score
from ketscreen.core.model import ItemType, Questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.io.batch import jobs, json_records, readers
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.json_records import UNSURE, RecordDecoder, quick
from ketscreen.io.fhir import bundle, response_to_fhir
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
    monkeypatch.setattr(jobs.Processor, "_plain_values", lambda self, *args: None)
    monkeypatch.setattr(readers, "_record_lines", lambda text: len(text.buffer))


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


def _plain_record(rng: random.Random, n: int) -> dict[str, object]:
    record: dict[str, object] = {"respondent_id": f"r{n}"}
    for item in Q.items.values():
        if item.required:
            record[item.id] = rng.choice(["yes", "Yes ", "YES"])
        elif item.type is ItemType.MULTI:
            record[item.id] = rng.sample(item.codes, rng.randint(0, 2))
        else:
            record[item.id] = rng.choice([*item.codes, item.codes[0].upper() + " ", None, ""])
    return record


def _odd_line(rng: random.Random, record: dict[str, object]) -> str:
    """A record with the plain records' keys, made awkward in one of many ways."""
    odd = dict(record)
    single = rng.choice([i.id for i in Q.items.values() if i.type is not ItemType.MULTI])
    multi = next(i.id for i in Q.items.values() if i.type is ItemType.MULTI)
    kind = rng.randrange(18)
    if kind == 0:
        odd[single] = 1
    elif kind == 1:
        odd[single] = ["yes"]
    elif kind == 2:
        odd[single] = {"a": 1}
    elif kind == 3:
        odd[single] = "maybe"  # not an answer: invalid
    elif kind == 4:
        odd["respondent_id"] = 12345678901234567890123  # beyond 64 bits
    elif kind == 5:
        odd["respondent_id"] = "2026-12-07T10:00"  # a colon in a string
    elif kind == 6:
        odd["respondent_id"] = 17
    elif kind == 7:
        odd[multi] = "snort;inject"
    elif kind == 8:
        odd[multi] = ["snort", None]
    elif kind == 9:
        odd[multi] = [["snort"]]
    elif kind == 10:
        odd["shoe_size"] = 44  # a key that is not an item
    elif kind == 11:
        del odd[single]  # fewer keys
    elif kind == 12:
        odd = dict(reversed(list(odd.items())))  # the same keys in another order
    elif kind == 15:
        odd["respondent_id"] = rng.choice([True, 1.5, None])
    elif kind == 16:
        odd[multi] = None  # unanswered: still plain
    elif kind == 13:  # spaces around a colon: still plain
        return json.dumps(odd).replace(f'"{single}":', f'"{single}" :', 1)
    elif kind == 14:
        return json.dumps(odd)[:-1] + f', "{single}": "no"}}'  # a key twice
    else:
        return rng.choice(["", "   ", "not json", "[1, 2]", "null", json.dumps(odd) + "\r"])
    return json.dumps(odd, separators=(",", ":"))


@pytest.mark.parametrize("seed", range(4))
def test_json_lines_read_a_column_at_a_time_are_the_same_rows(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Plain records (the road that reads a block a column at a time) among every kind of
    awkward one: the same rows, in order, and warnings as the exact road gives."""
    rng = random.Random(seed)
    lines = []
    for n in range(600):
        record = _plain_record(rng, n)
        if seed == 3:
            del record["respondent_id"]
        plain = rng.random() < 0.8
        lines.append(json.dumps(record, separators=(",", ":")) if plain else _odd_line(rng, record))
    data = "\n".join(lines) + "\n"
    monkeypatch.setattr(readers, "BLOCK", 1 << 14)  # many blocks, each a mix
    (quick_out, quick_warn), (exact_out, exact_warn) = _both(monkeypatch, data, InputFormat.JSONL)
    assert quick_out == exact_out
    assert quick_warn == exact_warn
    rows = records(quick_out)
    assert len(rows) == sum(1 for line in lines if line.strip())
    assert sum(row["status"] == "ok" for row in rows) > 400


def test_plain_json_lines_take_the_column_road(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records as programs write them are never read one by one."""
    rng = random.Random(7)
    data = "".join(json.dumps(_plain_record(rng, n)) + "\n" for n in range(300))
    one_by_one: list[object] = []
    real = jobs.Processor._lines_rows

    def counting(self: jobs.Processor, job: Any, lines: Any, *args: Any) -> Any:
        lines = list(lines)
        one_by_one.extend(lines)
        return real(self, job, lines, *args)

    monkeypatch.setattr(jobs.Processor, "_lines_rows", counting)
    out, _ = run_text(Q, data, InputFormat.JSONL)
    assert len(records(out)) == 300
    assert one_by_one == []


def _odd_element(rng: random.Random, record: dict[str, object]) -> str:
    """An element of a JSON array, one a line, made awkward for the block road."""
    line = _odd_line(rng, record)
    if not line.strip() or line.strip() in ("not json", "[1, 2]", "null"):
        return rng.choice(
            [
                json.dumps(record, indent=1),  # over several lines
                json.dumps(record) + ", " + json.dumps(record),  # two on a line
                # two records on a line, the second ending on the next line
                json.dumps(record) + ", " + json.dumps(record)[:-1] + ',\n"zz": 1}',
                "  " + json.dumps(record),  # a space before the record
                json.dumps({**record, "respondent_id": 1.5}),
                json.dumps({**record, "nested": {"a": 1}}),
                json.dumps({**record, "respondent_id": "a{b"}),
                '{"respondent_id": 123456789012345678901234567890, "use_12m": "no"}',
                '{"respondent_id": "big", "use_12m": "no", "x": 1e400}',  # orjson refuses
            ]
        )
    return line.rstrip("\r")


@pytest.mark.parametrize("seed", range(4))
def test_a_json_array_one_record_a_line_reads_as_the_exact_road(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Records one a line (as `--format json` writes them) are read a block at a time;
    among awkward ones (records over several lines, two on a line, repeated keys,
    floats, nested objects) the rows, their lines and the warnings are the exact road's."""
    rng = random.Random(seed)
    elements = []
    for n in range(600):
        record = _plain_record(rng, n)
        plain = rng.random() < 0.9
        elements.append(
            json.dumps(record, separators=(",", ":")) if plain else _odd_element(rng, record)
        )
    newline = "\r\n" if seed == 1 else "\n"
    data = "[" + newline + ("," + newline).join(elements) + newline + "]" + newline
    monkeypatch.setattr(readers, "BLOCK", 1 << 14)
    (quick_out, quick_warn), (exact_out, exact_warn) = _both(monkeypatch, data, InputFormat.JSON)
    assert quick_out == exact_out
    assert quick_warn == exact_warn
    assert len(records(quick_out)) == 600 + sum(e.count('"respondent_id"') - 1 for e in elements)


def _calls(monkeypatch: pytest.MonkeyPatch, data: str) -> tuple[int, int]:
    """How often the block road is tried, and how many records are read one by one."""
    tried: list[int] = []
    one: list[int] = []
    block = readers._record_lines
    single = json_records.RecordDecoder.quick_raw_decode

    def trying(text: Any) -> Any:
        tried.append(1)
        return block(text)

    def counting(self: Any, text: str, pos: int) -> Any:
        one.append(1)
        return single(self, text, pos)

    monkeypatch.setattr(readers, "_record_lines", trying)
    monkeypatch.setattr(json_records.RecordDecoder, "quick_raw_decode", counting)
    out, _ = run_text(Q, data, InputFormat.JSON)
    assert len(records(out)) == 3000
    return len(tried), len(one)


def test_records_one_a_line_are_read_a_block_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    rows = [json.dumps(_plain_record(rng, n)) for n in range(3000)]
    tried, one = _calls(monkeypatch, "[\n" + ",\n".join(rows) + "\n]\n")
    assert one <= 3  # the last record of each read, at most, and the array's last
    assert tried < 10


@pytest.mark.parametrize("layout", ["one line", "indented"])
def test_other_layouts_do_not_try_the_block_road_for_every_record(
    monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    rng = random.Random(4)
    records_ = [_plain_record(rng, n) for n in range(3000)]
    data = json.dumps(records_) if layout == "one line" else json.dumps(records_, indent=2)
    tried, one = _calls(monkeypatch, data)
    assert one == 3000
    assert tried < 50  # once per window of text, not once per record


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


# -- FHIR Bundles, streamed ----------------------------------------------------------------


def _answers(n: int, q: Questionnaire = Q) -> dict[str, object]:
    """Full records (every item answered), as benchmarks/batch.py generates them."""
    rng = random.Random(n)
    answers: dict[str, object] = {}
    for item in q.items.values():
        if item.required:
            answers[item.id] = "yes"
        elif item.type is ItemType.MULTI:
            answers[item.id] = rng.sample(item.codes, rng.randint(1, 2))
        else:
            answers[item.id] = rng.choice(item.codes)
    return answers


def _responses(count: int) -> list[dict[str, object]]:
    return [
        response_to_fhir(Q, score(Q, _answers(n), scored_at=""), respondent_id=f"r{n}")
        for n in range(count)
    ]


def _bundle_text(resources: list[dict[str, object]], *, pretty: bool = False) -> str:
    data = bundle(resources)
    return json.dumps(data, indent=2) if pretty else json.dumps(data, separators=(",", ":"))


def _whole_document_rows(text: str) -> str:
    """What the whole-document reader (before streaming) gives for `text`."""
    processor = jobs.Processor(Q, OutputFormat.JSONL)
    result = processor.run(jobs.FhirJob("stdin", RecordDecoder().loads(text)))
    return result.text.decode("utf-8")


@pytest.mark.parametrize("block", [1 << 10, 1 << 15, 1 << 20])
@pytest.mark.parametrize("pretty", [False, True])
@pytest.mark.parametrize("entry_block", [1 << 10, 1 << 18])  # smaller than an entry, or not
def test_a_bundle_bigger_than_the_caps_streams_and_scores_as_a_whole_document(
    monkeypatch: pytest.MonkeyPatch, block: int, pretty: bool, entry_block: int
) -> None:
    resources = _responses(40)
    text = _bundle_text(resources, pretty=pretty)
    expected = _whole_document_rows(text)
    monkeypatch.setattr(readers, "BLOCK", block)
    monkeypatch.setattr(readers, "ENTRY_BLOCK", entry_block)
    monkeypatch.setattr(readers, "MAX_RECORD", 1 << 16)
    assert len(text) > 4 * readers.MAX_RECORD  # refused whole ("larger than ...") before
    out, summary = run_text(Q, text, InputFormat.FHIR)
    assert out == expected
    assert summary.records == 40 and summary.invalid == 0
    rows = records(out)
    assert [row["source"] for row in rows] == [f"stdin:entry {n}" for n in range(1, 41)]
    assert rows[7]["respondent_id"] == "r7"


def test_a_bundle_streams_whatever_its_other_members_and_their_order() -> None:
    resources = _responses(3)
    entries = json.dumps(
        [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)]
    )
    text = (
        '{"resourceType": "Bundle", "id": "b1", "meta": {"tag": [{"code": "x"}]},\n'
        f'"entry": {entries}, "type": "collection", "total": 3}}'
    )
    out, summary = run_text(Q, text, InputFormat.FHIR)
    assert out == _whole_document_rows(text)
    assert summary.records == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace('"status":"completed"', '"status":"completed","status":"x"', 1),
            "stdin: the key 'status' appears twice; keep one",
        ),
        (
            lambda t: t.replace('"type":"collection"', '"type":"collection","type":"x"'),
            "stdin: the key 'type' appears twice; keep one",
        ),
        (
            lambda t: t.replace('"entry":[', '"entry":{"a":[').removesuffix("]}") + "]}}",
            "stdin: Bundle.entry must be a list",
        ),
        (lambda t: t[:-1] + "}}", "stdin: not valid JSON at line 1"),
        (lambda t: t.replace("]}", "]", 1)[:-1] + ",", "stdin:1: not valid JSON"),
    ],
)
def test_a_broken_bundle_stops_the_input_with_the_whole_documents_reason(
    monkeypatch: pytest.MonkeyPatch, change: object, message: str
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 14)
    text = change(_bundle_text(_responses(6)))  # type: ignore[operator]
    with pytest.raises(KetscreenError) as caught:
        run_text(Q, text, InputFormat.FHIR)
    assert str(caught.value).startswith(message)


def test_one_absurd_entry_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    monkeypatch.setattr(readers, "MAX_RECORD", 1 << 16)
    resources = _responses(2)
    resources[1]["text"] = {"status": "generated", "div": "x" * (1 << 17)}
    with pytest.raises(KetscreenError, match=r"stdin:1: entry 2 longer than 0 MB"):
        run_text(Q, _bundle_text(resources), InputFormat.FHIR)


def test_bundle_entries_cross_to_workers_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _bundle_text(_responses(5))
    source = readers.Source("-", InputFormat.FHIR, None)
    found = list(
        readers.read_jobs(
            source, io.BytesIO(text.encode()), {}, delimiter=None, warn=print, advance=_ignore
        )
    )
    # The entries that another follows are one block read by orjson; the last, the
    # exact decoder reads (nothing after it shows where it ends).
    assert [(type(job), job.first, job.exact) for job in found] == [  # type: ignore[union-attr]
        (jobs.FhirEntriesJob, 1, False),
        (jobs.FhirEntriesJob, 5, True),
    ]
    processor = jobs.Processor(Q, OutputFormat.JSONL)
    for job in found:
        assert isinstance(job, jobs.FhirEntriesJob) and job.parsed is not None
        shipped = pickle.loads(pickle.dumps(job))
        assert shipped.parsed is None and shipped.text == job.text
        assert processor.run(shipped).text == processor.run(job).text


class _Endless(io.RawIOBase):
    """A compact Bundle of `count` copies of one entry, made as it is read."""

    def __init__(self, entry: bytes, count: int) -> None:
        self.parts = itertools.chain(
            [b'{"resourceType":"Bundle","type":"collection","entry":['],
            itertools.islice(itertools.cycle([entry, b","]), 2 * count - 1),
            [b"]}"],
        )
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while len(self.pending) < len(target):
            part = next(self.parts, None)
            if part is None:
                break
            self.pending += part
        size = min(len(target), len(self.pending))
        target[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _peak(count: int) -> int:
    result = score(Q, {"use_12m": "no"}, scored_at="")
    resource = response_to_fhir(Q, result, respondent_id="r1")
    entry = json.dumps({"resource": resource}, separators=(",", ":")).encode()
    processor = jobs.Processor(Q, OutputFormat.CSV)
    source = readers.Source("-", InputFormat.FHIR, None)
    scored = 0
    tracemalloc.start()
    try:
        stream = io.BufferedReader(_Endless(entry, count))
        for job in readers.read_jobs(
            source, stream, {}, delimiter=None, warn=print, advance=_ignore
        ):
            scored += processor.run(job).records
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert scored == count
    return peak


def test_memory_does_not_grow_with_the_entries_of_a_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 16)
    small, large = _peak(400), _peak(4000)
    assert large < 1.3 * small


def _ignore(size: int) -> None:
    """Progress, not shown here."""


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"n": 12345678901234567890}',
        '{"x": NaN}',
        '{"s": "caf\\u00e9", "l": [1.5, null, true]}',
    ],
)
def test_a_session_file_reads_as_the_standard_decoder_reads_it(text: str) -> None:
    from ketscreen.io.sessions import _loads

    # repr, because NaN is not equal to itself
    assert repr(_loads(text, exact=True)) == repr(json.loads(text))


@pytest.mark.parametrize("number", ["12345678901234567890123", "7"])
def test_a_number_where_a_session_holds_text_is_refused_alike_in_a_batch(number: str) -> None:
    from ketscreen.io.sessions import FormatProblem, parse_document

    text = '{"format": "ketscreen-session/1", "id": ' + number + "}"
    reasons = []
    for kept in (True, False):
        with pytest.raises(FormatProblem) as caught:
            parse_document(text, kept=kept)
        reasons.append(str(caught.value))
    assert reasons[0] == reasons[1] == "id: wrong type (number)"


@pytest.mark.parametrize(
    ("at", "good"),
    [
        ("2024-02-29T23:59:59.123456Z", True),
        ("2026-11-21T00:00:00Z", True),
        ("2026-11-21T24:00:00Z", False),
        ("2026-11-21T10:60:00Z", False),
        ("2026-11-21T10:00:60Z", False),
        ("2026-02-29T10:00:00Z", False),
        ("2026-13-01T10:00:00Z", False),
        ("0000-01-01T00:00:00Z", False),
        ("2026-11-21 10:00:00Z", False),
        ("2026-11-21T10:00:00", False),
    ],
)
def test_a_session_time_is_a_real_utc_time(at: str, good: bool) -> None:
    """Dates found on the calendar are remembered; each time is still checked whole, so
    a bad hour on a date seen before is refused."""
    from ketscreen.io.sessions import FormatProblem, Session, parse_document

    session = Session.start("20261121-120000-abcde", Q, "C-1", at="2026-11-21T12:00:00Z")
    doc = json.loads(session.to_json())
    parse_document(json.dumps(doc))  # remembers 2026-11-21
    doc["events"][0]["at"] = at
    if good:
        assert parse_document(json.dumps(doc))["events"][0]["at"] == at
    else:
        with pytest.raises(FormatProblem, match=r"events\[0\]\.at: not a UTC time"):
            parse_document(json.dumps(doc))

"""Fuzzing every reader with hostile input (issue #11, "How it is checked").

Each reader (CSV, TSV, JSON Lines, JSON, saved sessions, FHIR, questionnaire YAML) is
fed valid files mutated at random places with hostile pieces (escape sequences, NUL,
stray quotes, bytes that are not UTF-8, repeated keys, huge numbers, markup, YAML
tags), and input generated from nothing. Whatever comes in, the command answers with
a result or one of our own errors and a named exit code: never a traceback, never the
"unexpected problem" notice, and never a character a terminal would act on in what it
prints (stdout or stderr). A last test checks that memory stays bounded on large
hostile inputs.

The runs are deterministic (the suite's Hypothesis profile: derandomized, no example
database), so CI sees the same examples every time, and short, a second or two per
reader. A longer hunt: KETSCREEN_FUZZ_EXAMPLES=2000, with HYPOTHESIS_PROFILE=explore for
random examples.
"""

from __future__ import annotations

import io
import json
import os
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.errors import ExitCode, KetscreenError
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.readers import Source
from ketscreen.io.batch.runner import Options, run_batch
from ketscreen.io.fhir import bundle, response_to_fhir
from ketscreen.io.session_store import SessionStore

EXAMPLES = int(os.environ.get("KETSCREEN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""The suite's profile (conftest: derandomized, no database, no deadline), fewer examples."""
cli = CliRunner()
Q = load_questionnaire()
QUESTIONNAIRE_YAML = (
    Path(__file__).parent.parent / "questions" / "ketamine-1.1.0.yaml"
).read_bytes()
CODES = sorted(Q.items)

TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal acts on (tab and line feed are text); none may be printed."""

HOSTILE = [
    b"\x1b[31m",
    b"\x1b]0;owned\x07",
    b"\x1b[2J",
    b"\x9b6n",
    "\u202e".encode(),
    b"\x00",
    b"\r",
    b"\n",
    b'"',
    b",",
    b"\t",
    b";",
    b"|",
    b"[/x]",
    b"[red]",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\\u001b",
    b"\\ud800",
    b"9" * 5000,
    b"-1e999",
    b'{"a": 1, "a": 2}',
    b"{",
    b"[",
    b"}",
    b"]",
    b":",
    b"null",
    b"=cmd|' /C calc'!A0",
    b"@SUM(1)",
    b"&anchor",
    b"*anchor",
    b"!!python/object/apply:os.system ['true']",
    b"<<: *a",
    b"- ",
    b"    ",
    b"declined",
    b"yes",
    b"respondent_id",
    b"answers",
    b"resourceType",
]


def mutations() -> st.SearchStrategy[list[tuple[str, int, int, bytes]]]:
    """Edits to make to a file: what, where (any int, taken modulo the length), how
    long a span, and what to put there."""
    piece = st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=12))
    kind = st.sampled_from(["insert", "delete", "replace", "repeat"])
    return st.lists(st.tuples(kind, st.integers(0, 1 << 20), st.integers(0, 80), piece), max_size=6)


def mutate(data: bytes, edits: list[tuple[str, int, int, bytes]]) -> bytes:
    for kind, where, span, piece in edits:
        at = where % (len(data) + 1)
        end = min(len(data), at + span)
        if kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[end:]
        elif kind == "replace":
            data = data[:at] + piece + data[end:]
        else:
            data = data[:at] + data[at:end] * 3 + data[end:]
    return data


def check(result: Result) -> None:
    """A result or our own error, a named exit code, nothing a terminal would obey."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash: let pytest show it
    shown = result.stdout + result.stderr
    assert result.exit_code in set(ExitCode), shown[-500:]
    assert "Traceback" not in shown and "unexpected problem" not in shown, shown[-500:]
    found = TERMINAL_CONTROL.search(shown)
    assert found is None, (
        f"printed {found.group()!r}: {shown[max(0, found.start() - 80) :][:200]!r}"
    )


def score_stdin(data: bytes, fmt: str, out: str = "csv") -> Result:
    return cli.invoke(app, ["score", "-", "--input-format", fmt, "-f", out], input=data)


# -- seeds: a valid file of each kind ------------------------------------------------------

CSV_SEED = (
    b"respondent_id,use_12m,freq_3m,routes,craving,self_harm,notes\r\n"
    b"r1,yes,weekly,snort;swallow,yes,no,fine\r\n"
    b'"r 2",no,,,,past_month,"two\nlines, quoted"\r\n'
    b"r3,yes,daily,inject|smoke,declined,now,\r\n"
)
TSV_SEED = CSV_SEED.replace(b",", b"\t")
RECORDS = [
    {"respondent_id": "r1", "use_12m": "yes", "freq_3m": "weekly", "routes": ["snort"]},
    {"respondent_id": 7, "answers": {"use_12m": "no", "self_harm": "now"}},
    {"use_12m": "prescribed_only", "self_harm": "declined", "memory_problems": True},
]
JSONL_SEED = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)
JSON_SEED = json.dumps(RECORDS, indent=1).encode()


def fhir_seed() -> dict[str, Any]:
    responses = [
        response_to_fhir(Q, score(Q, {"use_12m": "no", "self_harm": "no"}), respondent_id="a"),
        response_to_fhir(
            Q,
            score(
                Q, {"use_12m": "yes", "freq_3m": "daily", "routes": ["inject"], "craving": "yes"}
            ),
            respondent_id="b",
        ),
    ]
    return bundle(responses)


def session_seed() -> bytes:
    store = SessionStore()
    session = store.create(Q, "C-1", "Sam", at="2026-11-19T09:00:00Z")
    interview = session.interview()
    interview.answer("yes")
    interview.answer("weekly")
    session.record_answers(interview.answers, at="2026-11-19T09:01:00Z")
    return session.to_json().encode()


# -- generated JSON ---------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=16),
    st.sampled_from([p.decode("utf-8", "replace") for p in HOSTILE]),
    st.sampled_from(CODES),
    st.sampled_from(["\x1b[31mx", "\ud800", "a\u202eb", "[/x]", "=1+1", "\r", "x" * 300]),
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        hostile_text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=20,
)


def nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside `value`, itself first."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += nodes(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += nodes(inner, (*path, index))
    return found


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = replaced(doc[head], rest, value)
    return copy


@st.composite
def tampered(draw: st.DrawFn, seed: Any) -> Any:
    """`seed` with a few of its values (any depth) replaced by generated ones."""
    doc = seed
    for _ in range(draw(st.integers(1, 3))):
        paths = nodes(doc)
        doc = replaced(doc, draw(st.sampled_from(paths)), draw(json_values))
    return doc


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# -- the readers --------------------------------------------------------------------------------


@FUZZ
@given(edits=mutations(), out=st.sampled_from(["csv", "jsonl"]))
def test_csv_reader(edits: list[tuple[str, int, int, bytes]], out: str) -> None:
    check(score_stdin(mutate(CSV_SEED, edits), "csv", out))


@FUZZ
@given(edits=mutations())
def test_tsv_reader(edits: list[tuple[str, int, int, bytes]]) -> None:
    check(score_stdin(mutate(TSV_SEED, edits), "tsv"))


@FUZZ
@given(edits=mutations(), out=st.sampled_from(["csv", "json", "fhir"]))
def test_jsonl_reader(edits: list[tuple[str, int, int, bytes]], out: str) -> None:
    check(score_stdin(mutate(JSONL_SEED, edits), "jsonl", out))


@FUZZ
@given(records=st.lists(json_values, max_size=4), out=st.sampled_from(["csv", "jsonl"]))
def test_jsonl_reader_generated(records: list[Any], out: str) -> None:
    check(score_stdin(b"\n".join(map(dumps, records)), "jsonl", out))


@FUZZ
@given(edits=mutations(), out=st.sampled_from(["csv", "jsonl", "json"]))
def test_json_reader(edits: list[tuple[str, int, int, bytes]], out: str) -> None:
    check(score_stdin(mutate(JSON_SEED, edits), "json", out))


@FUZZ
@given(doc=tampered(RECORDS))
def test_json_reader_structure(doc: Any) -> None:
    check(score_stdin(dumps(doc), "json", "jsonl"))


@FUZZ
@given(data=st.data())
def test_session_reader(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    seed = session_seed()
    if data.draw(st.booleans()):
        text = mutate(seed, data.draw(mutations()))
    else:
        text = dumps(data.draw(tampered(json.loads(seed))))
    check(score_stdin(text, "session"))
    path = tmp_path_factory.mktemp("fuzz") / "s.json"
    path.write_bytes(text)
    check(cli.invoke(app, ["report", str(path)]))


@FUZZ
@given(data=st.data(), out=st.sampled_from(["csv", "fhir"]))
def test_fhir_reader(data: st.DataObject, out: str) -> None:
    seed = fhir_seed()
    if data.draw(st.booleans()):
        text = mutate(dumps(seed), data.draw(mutations()))
    else:
        text = dumps(data.draw(tampered(seed)))
    check(score_stdin(text, "fhir", out))


def check_questionnaire(data: bytes, folder: Path) -> None:
    path = folder / "q.yaml"
    path.write_bytes(data)
    check(cli.invoke(app, ["validate", str(path)]))
    check(cli.invoke(app, ["show", str(path)], env={"COLUMNS": "80"}))


@FUZZ
@given(edits=mutations())
def test_questionnaire_reader(
    edits: list[tuple[str, int, int, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_questionnaire(mutate(QUESTIONNAIRE_YAML, edits), tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(data=st.data())
def test_questionnaire_reader_structure(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    doc = data.draw(tampered(yaml.safe_load(QUESTIONNAIRE_YAML)))
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")
    check_questionnaire(text, tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from(list(InputFormat)))
def test_any_bytes_in_any_format(data: bytes, fmt: InputFormat) -> None:
    check(score_stdin(data, fmt.value))


# -- memory -----------------------------------------------------------------------------------

MB = 1 << 20


def peak_while(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
    except KetscreenError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def in_memory(data: bytes, fmt: InputFormat) -> Callable[[], object]:
    return lambda: run_batch(
        Q,
        [Source("-", fmt, None)],
        Options(output=OutputFormat.CSV),
        io.StringIO(),
        None,
        stdin=io.BytesIO(data),
        warn=lambda _: None,
    )


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"respondent_id,use_12m\n" + b'"' + b"x" * (4 * MB), InputFormat.CSV),  # never closed
        (b"respondent_id,use_12m\n" + (b"r," + b"y" * 300_000 + b"\n") * 12, InputFormat.CSV),
        (b"[" * (2 * MB), InputFormat.JSON),
        ((b'{"respondent_id": ' + b"9" * 4400 + b"}\n") * 800, InputFormat.JSONL),
        (
            b"[" + b",".join([b'{"use_12m": "no", "use_12m": "no"}'] * 10_000) + b"]",
            InputFormat.JSON,
        ),
        (b"\xff" * (4 * MB), InputFormat.JSONL),
    ],
    ids=["runaway quote", "long cells", "deep array", "huge numbers", "repeated keys", "not UTF-8"],
)
def test_memory_stays_within_a_few_times_the_input(data: bytes, fmt: InputFormat) -> None:
    peak = peak_while(in_memory(data, fmt))
    assert peak < 12 * len(data) + 16 * MB, f"{peak / MB:.0f} MB for {len(data) / MB:.1f} MB"


def _set_condition_item(doc: dict[str, Any], value: Any) -> None:
    doc["sections"][0]["items"][1]["enable_when"]["item"] = value


def _set_flag_item(doc: dict[str, Any], value: Any) -> None:
    doc["flags"][0]["item"] = value


def _set_band_id(doc: dict[str, Any], value: Any) -> None:
    doc["bands"]["list"][0]["id"] = value


def _set_readiness_item(doc: dict[str, Any], value: Any) -> None:
    doc["guidance"]["readiness"]["item"] = value


@pytest.mark.parametrize(
    "change", [_set_condition_item, _set_flag_item, _set_band_id, _set_readiness_item]
)
@pytest.mark.parametrize("value", [["use_12m"], {"id": "use_12m"}])
def test_questionnaire_ids_that_are_lists_or_mappings_are_problems_not_crashes(
    change: Callable[[dict[str, Any], Any], None], value: Any, tmp_path: Path
) -> None:
    """What the structure fuzzing found: a TypeError (unhashable) in the schema check."""
    doc = yaml.safe_load(QUESTIONNAIRE_YAML)
    change(doc, value)
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = cli.invoke(app, ["validate", str(path)])
    check(result)
    assert result.exit_code == ExitCode.ERROR
    assert f"{path}:" in result.stderr

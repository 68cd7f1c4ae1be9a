"""JSON Lines, JSON arrays and saved session files as batch input."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from ketscreen import load_questionnaire
from ketscreen.core.normalize import normalize_answers
from ketscreen.io.batch import readers
from ketscreen.io.batch.formats import InputError, InputFormat, OutputFormat
from ketscreen.io.batch.runner import Options, run_batch
from ketscreen.io.sessions import Session
from tests.batch_helpers import library_record, records, run_text
from tests.conftest import full_answers

Q = load_questionnaire()


def jsonl(*objects: object) -> str:
    return "".join(json.dumps(obj) + "\n" for obj in objects)


def test_json_lines_flat_and_nested_records() -> None:
    warnings: list[str] = []
    text = jsonl(
        {"respondent_id": "a", **full_answers(craving=True, routes=["snort", "inject"])},
        {"Respondent_ID ": 7, "answers": {"USE_12M": "No", "self_harm": "no"}, "visit": 2},
        {"respondent_id": "c", "use_12m": "no", "self_harm": "no", "mood": "ok", "Mood": 1},
    )
    out, summary = run_text(Q, "\n" + text, InputFormat.JSONL, warnings=warnings)
    first, second, third = records(out)
    expected = library_record(
        Q, full_answers(craving="yes", routes="snort;inject"), "a", "stdin:2", "item"
    )
    assert first == expected
    assert (second["respondent_id"], second["band"], second["source"]) == (
        "7",
        "no_recent_use",
        "stdin:3",
    )
    assert third["status"] == "ok"
    assert warnings == ["stdin: ignoring unknown keys: 'Mood', 'mood', 'visit'"]
    assert summary.invalid == 0


@pytest.mark.parametrize("fmt", [InputFormat.JSONL, InputFormat.JSON])
def test_one_warning_names_the_unknown_keys_of_the_whole_input(
    monkeypatch: pytest.MonkeyPatch, fmt: InputFormat
) -> None:
    """Keys that first appear deep in a big file are named too, in the one warning."""
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    monkeypatch.setattr(readers, "RECORDS_PER_JOB", 20)
    rows = [{"respondent_id": f"r{n}", "use_12m": "no", "self_harm": "no"} for n in range(600)]
    rows[3]["site"] = "north"
    rows[590]["visit"] = 2
    text = jsonl(*rows)
    if fmt is InputFormat.JSON:
        text = "[\n" + ",\n".join(text.splitlines()) + "\n]\n"
    warnings: list[str] = []
    out, summary = run_text(Q, text, fmt, warnings=warnings)
    assert len(records(out)) == 600 and summary.invalid == 0
    assert warnings == ["stdin: ignoring unknown keys: 'site', 'visit'"]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{"use_12m": "no",', "the line is not valid JSON ("),
        ("[1, 2]", "record without respondent_id: the record is not a JSON object"),
        ('{"respondent_id": true, "use_12m": "no"}', "respondent_id must be text or a whole"),
        ('{"respondent_id": "x", "answers": [1]}', "respondent 'x': 'answers' is not a JSON"),
        ('{"respondent_id": "x", "use_12m": {"a": 1}}', "item use_12m: expected a code, got dict"),
        ('{"use_12m": "no", "USE_12M": "no"}', "use_12m: is answered twice"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON (too deeply nested)"),
    ],
)
def test_bad_json_lines_are_invalid_records_and_the_rest_is_scored(line: str, error: str) -> None:
    text = (
        jsonl({"respondent_id": "ok1", "use_12m": "no"})
        + line
        + "\n"
        + jsonl({"respondent_id": "ok2", "use_12m": "no"})
    )
    out, summary = run_text(Q, text, InputFormat.JSONL)
    got = records(out)
    assert [r["status"] for r in got] == ["ok", "invalid", "ok"]
    assert got[1]["source"] == "stdin:2"
    assert error in got[1]["error"]
    assert summary.invalid == 1


def test_json_array_streams_records_with_their_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK", 8)
    monkeypatch.setattr(readers, "RECORDS_PER_JOB", 2)
    items = [{"respondent_id": f"r{n}", "use_12m": "no", "self_harm": "no"} for n in range(5)]
    text = "\ufeff[\n" + ",\n".join(json.dumps(item, indent=1) for item in items) + "\n]\n"
    out, summary = run_text(Q, text.encode(), InputFormat.JSON)
    got = records(out)
    assert [r["respondent_id"] for r in got] == [f"r{n}" for n in range(5)]
    assert [r["source"] for r in got] == [f"stdin:{2 + 5 * n}" for n in range(5)]
    assert summary.records == 5


def test_an_empty_json_array_is_no_records() -> None:
    out, summary = run_text(Q, " [ ] ", InputFormat.JSON)
    assert (out, summary.records) == ("", 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"use_12m": "no"},]', "stdin:1: not valid JSON"),
        ('[{"use_12m": "no"} {"use_12m": "no"}]', "expected ',' or ']' between records"),
        ('[{"use_12m": "no"}] extra', "unexpected text after the end of the JSON array"),
        ('[{"use_12m": "no"}', "expected ',' or ']'"),
        ('{"use_12m": ', "stdin: not valid JSON at line 1, column 13"),
        ("[" + "[" * 100_000, "too deeply nested"),
    ],
)
def test_a_broken_json_document_stops_the_file(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run_text(Q, text, InputFormat.JSON)


def test_a_json_array_record_that_is_not_utf8_is_invalid_and_the_others_are_read() -> None:
    data = b'[{"respondent_id": "\xe9"},\n{"respondent_id": "r2", "use_12m": "no"}]'
    out, summary = run_text(Q, data, InputFormat.JSON)
    first, second = records(out)
    assert first["status"] == "invalid" and "is not UTF-8 text" in first["error"]
    assert (second["respondent_id"], second["source"], second["status"]) == ("r2", "stdin:2", "ok")
    assert summary.invalid == 1


def test_json_array_keeps_multibyte_characters_across_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 3)
    out, _ = run_text(Q, '[{"respondent_id": "Zoë-ü", "use_12m": "no"}]'.encode(), None)
    assert records(out)[0]["respondent_id"] == "Zoë-ü"


def test_a_json_file_with_one_object_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"respondent_id": "solo", "use_12m": "no"}))
    got = records(score_paths([path])[0])
    assert [(r["respondent_id"], r["source"]) for r in got] == [("solo", f"{path}:1")]


# -- saved sessions --------------------------------------------------------------------------


def session_text(client: str, answers: dict[str, Any], **questionnaire: str) -> str:
    session = Session.start("20261121-120000-abcde", Q, client, "Sam", at="2026-11-21T12:00:00Z")
    session.record_answers(normalize_answers(Q, answers), at="2026-11-21T12:01:00Z")
    document = json.loads(session.to_json())
    document["questionnaire"].update(questionnaire)
    return json.dumps(document)


def score_paths(paths: list[Path], fmt: InputFormat | None = None) -> tuple[str, Any]:
    out = io.StringIO()
    sources = readers.resolve([str(p) for p in paths], fmt)
    summary = run_batch(
        Q, sources, Options(OutputFormat.JSONL), out, None, stdin=io.BytesIO(), warn=print
    )
    return out.getvalue(), summary


def test_a_folder_of_sessions_is_one_record_per_file_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    answers = full_answers(craving="yes", tolerance="declined", self_harm="past_month")
    (folder / "b.json").write_text(session_text("C-0002", answers))
    (folder / "a.json").write_text(session_text("C-0001", {"use_12m": "no", "self_harm": "no"}))
    (folder / "c.json").write_text(session_text("C-0003", answers, version="0.9"))
    (folder / "d.json").write_text('{"format": "ketscreen-session/1"}')
    (folder / "e.json").write_bytes(b"\xff\xfe")
    (folder / "notes.txt").write_text("not a session")
    out, summary = score_paths([folder])
    got = records(out)
    assert [r["respondent_id"] for r in got] == ["C-0001", "C-0002", "C-0003", "", ""]
    assert [r["source"] for r in got] == [f"{folder / n}.json:1" for n in "abcde"]
    assert got[1] == library_record(Q, answers, "C-0002", f"{folder}/b.json:1", "item")
    assert got[1]["top_flag_level"] == "crisis" and got[1]["missing"] == ["tolerance"]
    assert "recorded with questionnaire ketamine 0.9" in got[2]["error"]
    assert got[3]["error"].startswith("not a usable session: ")
    assert got[4]["error"] == "not a usable session: the file is not UTF-8 text"
    assert (summary.records, summary.invalid) == (5, 3)


def test_sessions_with_any_answers_score_as_the_library_scores_them(tmp_path: Path) -> None:
    """Sessions of the default version are read by the same quick road as flat JSON
    records; each row must still be what `score()` gives for the session's answers,
    whatever was answered, skipped or declined, and whoever the client is."""
    rng = random.Random(15)
    folder = tmp_path / "sessions"
    folder.mkdir()
    clients = ["C-1", "O'Brien, J", 'say "hi"', " padded ", "Zoë"]
    expected = {}
    for n in range(60):
        answers: dict[str, object] = {}
        for item in Q.items.values():
            if rng.random() < 0.15:
                continue  # not reached, or skipped
            codes = list(item.codes)
            if item.type.value == "multi":
                answers[item.id] = rng.sample(codes, rng.randint(1, 2))
            else:
                answers[item.id] = rng.choice(codes)
        client = clients[n % len(clients)]
        name = f"s{n:03d}.json"
        (folder / name).write_text(session_text(client, answers))
        expected[name] = library_record(
            Q, normalize_answers(Q, answers), client.strip(), f"{folder / name}:1", "item"
        )
    (folder / ".json").write_text(session_text("hidden", {"use_12m": "no"}))  # no suffix
    got = records(score_paths([folder])[0])
    assert got == [expected[name] for name in sorted(expected)]


def test_one_session_file_and_a_changed_questionnaire(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(session_text("C-1", {"use_12m": "no", "self_harm": "now"}))
    changed = tmp_path / "changed.json"
    changed.write_text(session_text("C-2", {"use_12m": "no"}, sha256="0" * 64))
    got = records(score_paths([good, changed])[0])
    assert got[0]["top_flag_level"] == "emergency"
    assert got[1]["respondent_id"] == "C-2" and "different content" in got[1]["error"]


def test_session_input_format_refuses_other_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"use_12m": "no"}')
    got = records(score_paths([path], InputFormat.SESSION)[0])
    assert got[0]["error"] == "not a usable session: the file is not a session"


def test_session_files_that_cannot_be_read_are_invalid_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "big.json").write_text("{}")
    monkeypatch.setattr(readers, "MAX_RECORD", 1)
    got = records(score_paths([tmp_path])[0])
    assert got[0]["error"] == "not a usable session: cannot be read (larger than 0 MB)"


def test_standard_input_is_recognised_by_its_first_character() -> None:
    for text, fmt in (
        ('[{"use_12m": "no"}]', "json"),
        ('{"use_12m": "no"}\n', "jsonl"),
        ("use_12m\nno\n", "csv"),
    ):
        assert records(run_text(Q, text, None)[0])[0]["band"] == "no_recent_use", fmt


def test_a_session_file_is_read_to_its_end_whatever_its_size_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size the system gives when the file is opened only sizes the first read: a
    file that grew meanwhile is read whole, and one that grew past the limit is refused;
    an empty file is read as empty (and is then not a usable session)."""
    import os

    (tmp_path / "a.json").write_text(session_text("C-1", {"use_12m": "no", "self_harm": "no"}))
    (tmp_path / "b.json").write_text("")
    real = os.fstat

    class Small:
        def __init__(self, fd: int) -> None:
            self.st_size = min(real(fd).st_size, 3)

    monkeypatch.setattr(readers.os, "fstat", Small)
    got = records(score_paths([tmp_path])[0])
    assert (got[0]["respondent_id"], got[0]["band"]) == ("C-1", "no_recent_use")
    assert got[1]["error"] == "not a usable session: the file is empty (truncated)"
    monkeypatch.setattr(readers, "MAX_RECORD", 100)
    got = records(score_paths([tmp_path])[0])
    assert got[0]["error"] == "not a usable session: cannot be read (larger than 0 MB)"

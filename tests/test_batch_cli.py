"""`ketscreen score` end to end: streams, files, exit codes, the summary, Ctrl-C, workers."""

from __future__ import annotations

import csv
import io
import json
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.cli import score as score_cli
from ketscreen.errors import ExitCode
from ketscreen.io.batch import jobs, readers, runner
from tests.batch_helpers import ASSETS

cli = CliRunner()
MESSY = str(ASSETS / "messy.csv")
GOOD = "respondent_id,use_12m,self_harm\nr1,no,no\nr2,no,now\n"
BAD = GOOD + "r3,maybe,no\n"


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = cli.invoke(app, ["score", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_good_file_to_stdout_exits_0_with_a_summary_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    code, out, err = invoke(str(path))
    assert code == ExitCode.OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["respondent_id"], r["band"], r["top_flag_level"]) for r in rows] == [
        ("r1", "no_recent_use", ""),
        ("r2", "no_recent_use", "emergency"),
    ]
    lines = err.splitlines()
    assert lines[0].startswith("Scored 2 records in ") and lines[0].endswith(": 2 ok, 0 invalid.")
    assert lines[1:] == [
        "Bands: no_recent_use 2, prescribed_only 0, incomplete 0, low 0, mild 0, moderate 0, "
        "severe 0",
        "Top flag level: emergency 1, crisis 0, urgent 0, see_doctor 0, harm_reduction 0, "
        "not_assessed 0, none 1",
        "Some records carry crisis or emergency flags: review those first.",
        "These are screening results, not diagnoses.",
    ]


def test_invalid_records_exit_3_and_are_listed(tmp_path: Path) -> None:
    errors = tmp_path / "bad.csv"
    code, out, err = invoke(MESSY, "--errors", str(errors))
    assert code == ExitCode.INVALID_RECORDS
    assert len(list(csv.DictReader(io.StringIO(out)))) == 9
    assert "Scored 9 records" in err and "5 ok, 4 invalid." in err
    assert "Warning: " in err and "'Clinic Notes'" in err
    assert f"\nInvalid records:\n  {MESSY}:7: respondent 'r4': the row is short" in err
    bad = list(csv.DictReader(io.StringIO(errors.read_text())))
    assert [(r["respondent_id"], r["source"]) for r in bad] == [
        ("r4", f"{MESSY}:7"),
        ("r5", f"{MESSY}:8"),
        ("r8", f"{MESSY}:11"),
        ("r9", f"{MESSY}:12"),
    ]
    assert all(r["status"] == "invalid" and r["error"] for r in bad)
    assert stat.S_IMODE(errors.stat().st_mode) == 0o600


def test_the_summary_shows_the_first_ten_invalid_records(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("use_12m\n" + "maybe\n" * 12)
    code, _, err = invoke(str(path))
    assert code == ExitCode.INVALID_RECORDS
    assert "Invalid records (first 10; every one has status invalid" in err
    assert err.count("is not an allowed answer") == 10


def test_standard_input_csv_and_json_lines() -> None:
    code, out, _ = invoke("-", stdin=GOOD)
    assert code == 0 and "stdin:3" in out
    code, out, _ = invoke("-", "--format", "jsonl", stdin='{"use_12m": "no"}\n')
    assert code == 0 and json.loads(out)["band"] == "no_recent_use"


def test_several_inputs_in_one_call_keep_their_order(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"respondent_id": "j1", "use_12m": "no"}\n')
    code, out, _ = invoke(str(path), "-", MESSY, "-f", "json", stdin=GOOD)
    assert code == ExitCode.INVALID_RECORDS
    got = json.loads(out)
    assert [r["respondent_id"] for r in got][:4] == ["j1", "r1", "r2", "r1"]
    assert len(got) == 12


def test_strict_stops_at_the_first_invalid_record_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, err = invoke("-", "--strict", "-o", str(target), stdin=BAD)
    assert (code, out) == (ExitCode.ERROR, "")
    assert err == (
        "Error: stdin:4: respondent 'r3', column use_12m: 'maybe' is not an allowed answer; "
        "allowed: yes, prescribed_only, no (--strict: stopped here; nothing was written)\n"
    )
    assert list(tmp_path.iterdir()) == []
    code, out, _ = invoke("-", "--strict", stdin=BAD)
    assert (code, out) == (ExitCode.ERROR, "")


def test_strict_with_valid_records_writes_everything_to_stdout() -> None:
    code, out, _ = invoke("-", "--strict", "-o", "-", stdin=GOOD)
    assert code == 0 and len(out.splitlines()) == 3


def test_existing_output_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("keep me")
    code, out, err = invoke("-", "-o", str(target), stdin=GOOD)
    assert code == ExitCode.ERROR and out == ""
    assert err == f"Error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text() == "keep me"
    code, _, _ = invoke("-", "-o", str(target), "--force", stdin=GOOD)
    assert code == 0
    lines = target.read_text().splitlines()
    assert json.loads(lines[1])["respondent_id"] == "r2"  # format from the file name
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_explain_adds_contributions_to_json_formats() -> None:
    code, out, _ = invoke("-", "--explain", "-f", "jsonl", stdin=GOOD)
    record = json.loads(out.splitlines()[0])
    assert code == 0
    assert record["answers"] == {"use_12m": "no", "self_harm": "no"}
    assert record["contributions"][0] == {
        "item": "use_12m",
        "answer": "no",
        "points": None,
        "counted_in": [],
    }
    code, _, err = invoke("-", "--explain", stdin=GOOD)
    assert code == ExitCode.USAGE and "use it with --format jsonl or json" in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nowhere.csv"], ExitCode.ERROR, "nowhere.csv: no such file or folder"),
        (["-", "-"], ExitCode.USAGE, "standard input (-) can be read only once"),
        (["-", "--delimiter", "x"], ExitCode.USAGE, "--delimiter must be one of"),
        (["-", "--format", "xml"], ExitCode.USAGE, "xml"),
        (["-", "-o", "same.csv", "--errors", "same.csv"], ExitCode.USAGE, "name the same file"),
    ],
)
def test_usage_and_missing_files(
    args: list[str], code: int, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got, _, err = invoke(*args, stdin=GOOD)
    assert got == code
    assert message in err


def test_format_of_a_file_must_be_known(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text(GOOD)
    code, _, err = invoke(str(path))
    assert code == ExitCode.USAGE and "use --input-format" in err
    assert invoke(str(path), "--input-format", "csv")[0] == 0
    code, _, err = invoke(str(tmp_path), "--input-format", "csv")
    assert code == ExitCode.USAGE and "only session folders" in err


def test_delimiter_option_spellings(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(GOOD.replace(",", "\t"))
    assert invoke(str(path), "--delimiter", "tab")[0] == 0


def test_unreadable_input_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.csv"
    path.write_text(GOOD)
    real_open = Path.open

    def locked(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", locked)
    code, _, err = invoke(str(path))
    assert (code, err) == (ExitCode.ERROR, f"Error: {path}: cannot be read (Permission denied)\n")


def test_ctrl_c_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = jobs.Processor.run
    calls = 0

    def interrupted(self: jobs.Processor, job: jobs.Job) -> jobs.JobResult:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return real(self, job)

    monkeypatch.setattr(jobs.Processor, "run", interrupted)
    monkeypatch.setattr(readers, "BLOCK", 64)
    target = tmp_path / "out.csv"
    code, _, err = invoke(MESSY, "-o", str(target), "--errors", str(tmp_path / "e.csv"))
    assert code == ExitCode.INTERRUPTED
    assert "Interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_two_worker_processes_give_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 256)
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    assert invoke(MESSY, "-o", str(one), "-j", "1")[0] == ExitCode.INVALID_RECORDS
    code, _, err = invoke(MESSY, "-o", str(two), "-j", "2")
    assert code == ExitCode.INVALID_RECORDS, err
    assert one.read_text() == two.read_text()


def test_worker_count_follows_input_size(monkeypatch: pytest.MonkeyPatch) -> None:
    small = readers.resolve([MESSY], None)
    assert runner.worker_count(runner.Options(), small) == 1
    assert runner.worker_count(runner.Options(jobs=3), small) == 3
    assert runner.worker_count(runner.Options(), readers.resolve(["-"], None)) == 1
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 1)
    assert runner.worker_count(runner.Options(), small) == min(
        runner.available_cpus(), runner.MAX_AUTO_WORKERS
    )


def test_progress_bar_only_for_a_terminal_and_a_large_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with score_cli._progress(1 << 30) as advance:
        advance(10)
    assert stream.getvalue() == ""
    monkeypatch.setattr(stream, "isatty", lambda: True, raising=False)
    with score_cli._progress(10) as advance:
        advance(10)
    assert stream.getvalue() == ""
    with score_cli._progress(score_cli.PROGRESS_MIN_BYTES) as advance:
        advance(score_cli.PROGRESS_MIN_BYTES)
    assert "Scoring" in stream.getvalue()


def test_errors_file_format_follows_its_name(tmp_path: Path) -> None:
    errors = tmp_path / "bad.jsonl"
    assert invoke("-", "--errors", str(errors), stdin=BAD)[0] == ExitCode.INVALID_RECORDS
    (bad,) = [json.loads(line) for line in errors.read_text().splitlines()]
    assert bad["respondent_id"] == "r3"
    empty = tmp_path / "none.json"
    assert invoke("-", "--errors", str(empty), stdin=GOOD)[0] == 0
    assert json.loads(empty.read_text()) == []


class BrokenDisk(io.BytesIO):
    """An input whose header reads fine and whose body then fails, as a dying disk does."""

    def peek(self, size: int = 0) -> bytes:
        return self.getvalue()[:64]

    def read(self, size: int | None = -1) -> bytes:
        raise OSError(5, "Input/output error")


def test_a_read_error_is_the_inputs_not_the_output_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(GOOD)
    monkeypatch.setattr(runner, "_open", lambda source: BrokenDisk(GOOD.encode()))
    code, _, err = invoke(str(path), "-o", str(tmp_path / "out.csv"))
    assert (code, err) == (ExitCode.ERROR, f"Error: {path}: cannot be read (Input/output error)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_workers_that_cannot_start_suggest_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoProcesses:
        def Pool(self, *args: object, **kwargs: object) -> None:  # noqa: N802  (the real name)
            raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(runner.multiprocessing, "get_context", lambda method: NoProcesses())
    code, _, err = invoke(MESSY, "-j", "2")
    assert code == ExitCode.ERROR
    assert err == (
        "Error: cannot start worker processes (Resource temporarily unavailable); try --jobs 1\n"
    )


def test_a_closed_stdout_stops_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(runner, "score_files", closed)
    assert invoke("-", stdin=GOOD) == (ExitCode.ERROR, "", "")


def test_summary_asks_for_crisis_review_only_when_there_is_one(tmp_path: Path) -> None:
    path = tmp_path / "calm.csv"
    path.write_text("respondent_id,use_12m,self_harm\nr1,no,no\n")
    code, _, err = invoke(str(path))
    assert code == ExitCode.OK
    assert "review those first" not in err
    assert err.splitlines()[-1] == "These are screening results, not diagnoses."

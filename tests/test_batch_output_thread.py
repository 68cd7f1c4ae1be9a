"""Batch output is written from a thread of its own (`runner._Writes`), so that writing
overlaps with scoring: what reaches the file is the same, in order; a write that fails
stops the batch with that error; a stopped batch leaves no thread behind; a big file is
synced as it grows, not only at the end."""

from __future__ import annotations

import errno
import io
import os
import threading
from pathlib import Path

import pytest

from ketscreen import load_questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.io.batch import readers, runner
from ketscreen.io.batch.formats import OutputFormat
from ketscreen.io.batch.readers import Source
from ketscreen.io.batch.runner import Options, run_batch
from tests.batch_helpers import csv_text

Q = load_questionnaire()


def many_rows(count: int) -> str:
    rows = [[f"r{n}", "yes", ["daily", "weekly"][n % 2], "no"] for n in range(count)]
    return csv_text(["respondent_id", "use_12m", "freq_3m", "self_harm"], rows)


def threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "ketscreen-output"]


def score_to(out: io.TextIOBase, data: str, output: OutputFormat = OutputFormat.CSV) -> None:
    run_batch(
        Q,
        [Source("-", None, None)],
        Options(output=output, jobs=1),
        out,  # type: ignore[arg-type]
        None,
        stdin=io.BytesIO(data.encode()),
        warn=lambda _: None,
    )


def test_blocks_reach_the_file_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)  # many blocks
    data = many_rows(3000)
    target = tmp_path / "out.csv"
    with target.open("w", encoding="utf-8", newline="") as out:
        score_to(out, data)
    lines = target.read_text().splitlines()
    assert len(lines) == 3001
    assert [line.split(",")[0] for line in lines[1:]] == [f"r{n}" for n in range(3000)]
    assert [line.split(",")[1] for line in lines[1:]] == [f"stdin:{n}" for n in range(2, 3002)]
    assert threads() == []


def test_a_big_file_is_synced_as_it_grows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    monkeypatch.setattr(runner._Writes, "SYNC_BYTES", 1 << 14)
    synced: list[int] = []
    real = getattr(os, "fdatasync", os.fsync)

    def counting(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting, raising=False)
    monkeypatch.setattr(os, "fsync", counting)
    with (tmp_path / "out.jsonl").open("w", encoding="utf-8") as out:
        score_to(out, many_rows(3000), OutputFormat.JSONL)
    assert (tmp_path / "out.jsonl").stat().st_size > 2_000_000
    assert len(synced) > 10  # a sync after every block of more than 16 KB, not one at the end


class FullDisk(io.BufferedIOBase):
    """A binary layer that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.kept = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        if len(self.kept) + len(chunk) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.kept += chunk
        return len(chunk)


class Text(io.StringIO):
    def __init__(self, buffer: FullDisk) -> None:
        super().__init__()
        self.buffer = buffer  # type: ignore[misc,assignment]


def test_a_write_that_fails_stops_the_batch_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    disk = FullDisk(room=20_000)
    with pytest.raises(OSError) as raised:
        score_to(Text(disk), many_rows(3000))
    assert raised.value.errno == errno.ENOSPC
    assert 0 < len(disk.kept) <= 20_000
    assert disk.kept.decode().count("\n") < 3000  # stopped, not written on
    assert threads() == []


def test_a_batch_stopped_while_writing_leaves_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (here: any exception from scoring) while blocks wait to be written."""
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    real = runner._Sink.block
    calls = 0

    def interrupted(self: runner._Sink, data: bytes, records: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise KeyboardInterrupt
        real(self, data, records)

    monkeypatch.setattr(runner._Sink, "block", interrupted)
    disk = FullDisk(room=1 << 30)
    with pytest.raises(KeyboardInterrupt):
        score_to(Text(disk), many_rows(3000))
    assert threads() == []
    assert disk.kept.decode().count("\n") < 3000


class Unwritable(KetscreenError):
    """What the CLI's guarded stdout raises when it cannot be written."""


class Refusing(io.BufferedIOBase):
    """A standard output that cannot be written at all."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise Unwritable("standard output cannot be written")


def test_an_output_that_cannot_be_written_is_not_said_to_end_with_a_stop_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The write fails in the output thread while scoring goes on: the batch stops with
    that error, not with "the output ends with a record saying where it stopped" (it
    could not be written either)."""
    monkeypatch.setattr(readers, "BLOCK", 1 << 12)
    with pytest.raises(KetscreenError) as raised:
        score_to(Text(Refusing()), many_rows(3000))  # type: ignore[arg-type]
    assert isinstance(raised.value, Unwritable)
    assert "record saying where it stopped" not in str(raised.value)
    assert threads() == []

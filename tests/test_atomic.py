"""Files appear whole or not at all, private, and never overwritten by accident."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from ketscreen.io.atomic import OutputError, atomic_write, ensure_private_dir, write_text_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_file_is_private_and_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert mode(target) == 0o600
    assert list(tmp_path.iterdir()) == [target]


def test_existing_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("keep")
    with pytest.raises(OutputError, match="already exists; use --force to overwrite it"):
        write_text_atomic(target, "new")
    assert target.read_text() == "keep"
    write_text_atomic(target, "new", force=True)
    assert target.read_text() == "new"


def test_failure_midway_leaves_no_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, force=True) as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_file_that_appears_while_writing_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(OutputError, match="appeared while writing"), atomic_write(target) as handle:
        handle.write("mine")
        target.write_text("theirs")
    assert target.read_text() == "theirs"


def test_full_disk_is_one_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "out.txt"
    with pytest.raises(OutputError, match="the disk is full; free some space and try again"):
        write_text_atomic(target, "data")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_folder_target(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no such folder"):
        write_text_atomic(tmp_path / "nope" / "out.txt", "x")
    with pytest.raises(OutputError, match="is a folder"):
        write_text_atomic(tmp_path, "x", force=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_folder(tmp_path: Path) -> None:  # pragma: no cover - depends on the user
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="permission denied"):
        write_text_atomic(folder / "out.txt", "x")


def test_private_dir(tmp_path: Path) -> None:
    folder = ensure_private_dir(tmp_path / "a" / "b")
    assert mode(folder) == 0o700
    folder.chmod(0o755)
    ensure_private_dir(folder)
    assert mode(folder) == 0o755  # not created here: left as it is (the caller warns)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        ensure_private_dir(tmp_path / "file" / "sub")


def test_callers_own_os_error_is_not_reported_as_an_output_problem(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(FileNotFoundError), atomic_write(target) as handle:
        handle.write("partial")
        raise FileNotFoundError(errno.ENOENT, "input vanished")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x" * 300, "bad\x00name"])
def test_unusable_file_names_are_one_clear_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError, match="cannot be used here"):
        write_text_atomic(tmp_path / name, "x")
    assert list(tmp_path.iterdir()) == []


def test_screener_save_prompt_asks_again_after_an_unusable_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ketscreen.cli import app

    monkeypatch.chdir(tmp_path)
    typed = ["", "3", "1", "", "t", "y" * 300, "mine.txt", ""]  # asked again for a name
    result = CliRunner().invoke(
        app, ["run", "--region", "UK"], input="\n".join(typed) + "\n", env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    assert "Could not save: a file name of 300 characters cannot be used here" in result.stdout
    assert "Saved a copy to" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    assert mode(tmp_path / "mine.txt") == 0o600

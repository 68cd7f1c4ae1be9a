"""Write files so that nobody ever sees half of one.

Everything ketscreen writes goes through `atomic_write`: the content goes to a private
temporary file beside the target (mode 0600), is flushed and fsynced, then renamed over
the target in one step, and the folder is fsynced. If anything fails, or the person
presses Ctrl-C, the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ketscreen.errors import KetscreenError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class OutputError(KetscreenError):
    """An output file or folder that cannot be written."""


def _os_message(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full; free some space and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here (permission denied or read-only); choose another place"
    if exc.errno == errno.ENOENT:
        return f"{path.parent}: no such folder; create it first or choose another path"
    return f"{path}: cannot be written ({exc.strerror or exc})"


def path_kind(path: Path) -> str:
    """ "missing", "folder" or "file"; OutputError for a name no file can have
    (too long, a NUL byte), which would otherwise surface as a crash."""
    try:
        if "\x00" in str(path):
            raise ValueError("NUL in a file name")  # pathlib would quietly say "missing"
        if path.is_dir():
            return "folder"
        return "file" if path.exists() else "missing"
    except (OSError, ValueError):
        raise OutputError(
            f"a file name of {len(str(path))} characters cannot be used here "
            "(too long, or with characters a file name cannot have); choose another name"
        ) from None


def check_writable_target(path: Path, *, force: bool) -> None:
    """Fail early, before any work, if `path` exists and `force` is not set."""
    kind = path_kind(path)
    if kind == "folder":
        raise OutputError(f"{path} is a folder; give a file name")
    if kind == "file" and not force:
        raise OutputError(f"{path} already exists; use --force to overwrite it")


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed; the folder itself gets mode 0700."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        if path.stat().st_mode & 0o777 != PRIVATE_DIR:
            path.chmod(PRIVATE_DIR)
    except OSError as exc:
        raise OutputError(_os_message(path, exc)) from None
    return path


class _OutputText(io.TextIOWrapper):
    """A UTF-8 text file whose own write failures (disk full, ...) are OutputErrors.

    So a caller's OSError (say, from reading its input) is never mistaken for a
    problem with the output, and the output's problems always read as one.
    """

    def __init__(self, target: Path, raw: io.BufferedWriter, newline: str | None) -> None:
        super().__init__(raw, encoding="utf-8", newline=newline)
        self._target = target

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError as exc:
            raise OutputError(_os_message(self._target, exc)) from None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_prefix(name: str, pid: int | None = None) -> str:
    """Temporary files are named `.<name>.ketscreen-<pid>-<random>.tmp`: hidden, beside the
    target, and naming the process that writes them."""
    return f".{name}.ketscreen-{os.getpid() if pid is None else pid}-"


def remove_abandoned(folder: Path, name: str) -> list[Path]:
    """Remove the temporary files that a killed ketscreen left for `name` in `folder`.

    A process killed outright (SIGKILL, a power cut) cannot remove its temporary file,
    which may hold answers. The next write to the same target removes each one whose
    process is gone (and that belongs to this user); one of a live process is left
    alone. Returns what was removed.
    """
    removed: list[Path] = []
    prefix = f".{name}.ketscreen-"
    try:
        candidates = [entry for entry in os.scandir(folder) if entry.name.startswith(prefix)]
    except OSError:
        return removed
    for entry in candidates:
        pid_text = entry.name[len(prefix) :].partition("-")[0]
        if not (pid_text.isdigit() and entry.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            if not entry.is_file(follow_symlinks=False) or _process_alive(int(pid_text)):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


@contextlib.contextmanager
def atomic_write(
    path: Path,
    *,
    force: bool = False,
    mode: int = PRIVATE_FILE,
    newline: str | None = None,
) -> Iterator[IO[str]]:
    """Yield a text handle; on normal exit the file appears at `path`, whole, with `mode`.

    `force=False` refuses to replace an existing file (checked again just before the
    rename, so a file created meanwhile is not overwritten either).
    """
    path = Path(path)
    check_writable_target(path, force=force)
    folder = path.parent if str(path.parent) else Path(".")
    remove_abandoned(folder, path.name)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(_os_message(path, exc)) from None
    temp = Path(temp_name)

    def discard() -> None:
        with contextlib.suppress(OSError):
            temp.unlink()

    try:
        os.fchmod(fd, mode)
        handle = _OutputText(path, io.BufferedWriter(io.FileIO(fd, "w")), newline=newline)
    except OSError as exc:
        os.close(fd)
        discard()
        raise OutputError(_os_message(path, exc)) from None

    def abandon() -> None:
        # Closing flushes what is buffered, which fails again on a full disk.
        with contextlib.suppress(OSError):
            handle.close()
        discard()

    try:
        yield handle
    except BaseException:
        # The caller's own failure (reading input, Ctrl-C, ...) propagates unchanged;
        # an OutputError from a write says what happened to the output.
        abandon()
        raise
    try:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
    except OSError as exc:
        abandon()
        raise OutputError(_os_message(path, exc)) from None
    try:
        if not force and path.exists():
            raise OutputError(f"{path} appeared while writing; use --force to overwrite it")
        os.replace(temp, path)
    except OSError as exc:
        discard()
        raise OutputError(_os_message(path, exc)) from None
    except BaseException:
        discard()
        raise
    _fsync_dir(folder)


def write_text_atomic(
    path: Path, text: str, *, force: bool = False, mode: int = PRIVATE_FILE
) -> None:
    with atomic_write(path, force=force, mode=mode) as handle:
        handle.write(text)

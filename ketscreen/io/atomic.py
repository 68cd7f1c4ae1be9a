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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ketscreen import interrupts
from ketscreen.errors import KetscreenError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class OutputError(KetscreenError):
    """An output file or folder that cannot be written."""


def os_error_message(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full; free some space and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here (permission denied or read-only); choose another place"
    if exc.errno == errno.ENOENT:
        return f"{path.parent}: no such folder; create it first or choose another path"
    return f"{path}: cannot be written ({exc.strerror or exc})"


def path_kind(path: Path) -> str:
    """ "missing", "folder", "file" (a regular file, or a link to one) or "other" (a
    device, pipe or socket); OutputError for a name no file can have (too long, a NUL
    byte), which would otherwise surface as a crash."""
    try:
        if "\x00" in str(path):
            raise ValueError("NUL in a file name")  # pathlib would quietly say "missing"
        if path.is_dir():
            return "folder"
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except (OSError, ValueError):
        raise OutputError(
            f"a file name of {len(str(path))} characters cannot be used here "
            "(too long, or with characters a file name cannot have); choose another name"
        ) from None


def _not_regular(path: Path) -> OutputError:
    return OutputError(
        f"{path} is not a regular file (a device, pipe or socket); ketscreen only ever "
        "replaces regular files: give the name of a file"
    )


def check_writable_target(path: Path, *, force: bool) -> None:
    """Fail early, before any work, if `path` exists and `force` is not set, or is
    anything but a regular file (even with `force`: a device such as /dev/full or a
    pipe is never replaced)."""
    kind = path_kind(path)
    if kind == "folder":
        raise OutputError(f"{path} is a folder; give a file name")
    if kind == "other":
        raise _not_regular(path)
    if kind == "file" and not force:
        raise OutputError(f"{path} already exists; use --force to overwrite it")


def ensure_private_dir(path: Path, *, private_from: Path | None = None) -> Path:
    """Create `path` if needed (and its parents), and return it.

    The folders created at or below `private_from` (default: `path` itself) get mode 0700
    whatever the umask; those above it are made with the umask, as any program's. A
    folder that already exists is never changed: it may be someone else's (a link to a
    shared folder), and fixing its mode silently could break it; callers warn instead.
    """
    private_from = path if private_from is None else private_from
    missing: list[Path] = []
    probe = path
    try:
        while not probe.is_dir():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        for folder in reversed(missing):
            private = folder == private_from or private_from in folder.parents
            try:
                folder.mkdir(mode=PRIVATE_DIR if private else 0o777)
            except FileExistsError:
                if not folder.is_dir():
                    raise
                continue  # made meanwhile by another process: not ours to change
            if private:
                folder.chmod(PRIVATE_DIR)  # the umask may have taken bits away
    except OSError as exc:
        raise OutputError(os_error_message(path, exc)) from None
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
            raise OutputError(os_error_message(self._target, exc)) from None


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
    before_replace: Callable[[], None] | None = None,
) -> Iterator[IO[str]]:
    """Yield a text handle; on normal exit the file appears at `path`, whole, with `mode`.

    `force=False` refuses to replace an existing file (checked again just before the
    rename, so a file created meanwhile is not overwritten either). Only a regular file
    is ever replaced. `before_replace` runs last, just before the rename, and may raise
    to keep the target as it is (say, because it changed since it was read).
    """
    path = Path(path)
    check_writable_target(path, force=force)
    folder = path.parent if str(path.parent) else Path(".")
    remove_abandoned(folder, path.name)
    made: list[Path] = []
    opened: list[_OutputText] = []

    def discard() -> None:
        with contextlib.suppress(OSError):
            for temp in made:
                temp.unlink()

    def abandon() -> None:
        # Closing flushes what is buffered, which fails again on a full disk.
        for text in opened:
            with contextlib.suppress(OSError):
                text.close()
        discard()

    # A signal while the temporary file is made waits until the file can be removed
    # again: between mkstemp and the handle, nothing else would remove it.
    try:
        with interrupts.deferred():
            try:
                fd, temp_name = tempfile.mkstemp(
                    prefix=_temp_prefix(path.name), suffix=".tmp", dir=folder
                )
            except OSError as exc:
                raise OutputError(os_error_message(path, exc)) from None
            made.append(Path(temp_name))
            try:
                os.fchmod(fd, mode)
                opened.append(
                    _OutputText(path, io.BufferedWriter(io.FileIO(fd, "w")), newline=newline)
                )
            except OSError as exc:
                os.close(fd)
                raise OutputError(os_error_message(path, exc)) from None
    except BaseException:
        abandon()
        raise
    handle, temp = opened[0], made[0]
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
        raise OutputError(os_error_message(path, exc)) from None
    try:
        kind = path_kind(path)
        if kind == "other" or kind == "folder":
            raise _not_regular(path)
        if not force and kind == "file":
            raise OutputError(f"{path} appeared while writing; use --force to overwrite it")
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except OSError as exc:
        discard()
        raise OutputError(os_error_message(path, exc)) from None
    except BaseException:
        discard()
        raise
    _fsync_dir(folder)


def write_text_atomic(
    path: Path, text: str, *, force: bool = False, mode: int = PRIVATE_FILE
) -> None:
    with atomic_write(path, force=force, mode=mode) as handle:
        handle.write(text)

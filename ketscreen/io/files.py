"""Reading user-named files with one clear error, and locating the shipped data files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ketscreen.errors import KetscreenError


def data_dir() -> Path:
    """The folder holding the questionnaire files (every version) and resources.yaml.

    In a wheel they are package data (`ketscreen/questions`); in a source checkout
    (editable install) they sit at the top of the repository.
    """
    packaged = Path(__file__).resolve().parent.parent / "questions"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "questions"


def read_limited(path: Path, limit: int, what: str, *, regular_only: bool = False) -> bytes:
    """Read at most `limit` bytes (one more, to detect a larger file).

    `regular_only` refuses anything but a regular file (or a link to one) without
    waiting: a pipe named like a session file must not hang a listing.
    """
    try:
        if regular_only:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(fd, "rb") as handle:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    raise IsADirectoryError
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise KetscreenError(
                        f"{path}: not a regular file (a pipe, device or socket); "
                        f"give the path of a {what} file"
                    )
                return handle.read(limit + 1)
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except FileNotFoundError:
        raise KetscreenError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise KetscreenError(f"{path}: is a folder; give the path of a {what} file") from None
    except PermissionError:
        raise KetscreenError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise KetscreenError(f"{path}: cannot be read ({exc.strerror})") from None

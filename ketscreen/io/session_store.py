"""Where sessions live on disk, and reading, writing and listing them safely.

The folder is `$KETSCREEN_HOME/sessions`; without KETSCREEN_HOME it is the platform's
user data folder (`~/.local/share/ketscreen` on Linux, `~/Library/Application
Support/ketscreen` on macOS, `%LOCALAPPDATA%\\ketscreen` on Windows). The folder is
0700 and each file 0600. A file is named `<id>.json` and nothing else about the person
appears in a path.

Every save goes through `atomic_write`: a private temporary file in the same folder,
fsync, rename, fsync of the folder. A reader therefore sees either the previous complete
file or the new complete file, even if the process is killed mid-write. A temporary
file that a killed process could not remove is deleted by the next save of that
session. A file that cannot be parsed is reported and never written to.

One process at a time changes a session. A store made with `exclusive=True` (intake)
holds a lock on every session it creates or opens until `close()`: an OS lock
(`flock`) on `.<id>.lock` beside the file, which the OS releases when the process ends,
however it ends, so a crash never leaves a session stuck. The lock file names its
holder (process id, host, since when; nothing about the client) for the message a
second process gets. Any store also takes the lock for the moment of each save, and
never replaces a file whose bytes changed since this store last read or wrote them.

Privacy: the folders this store creates are 0700 (KETSCREEN_HOME too, when it creates
it); a folder that already exists is never changed, but when the sessions folder or a
session file can be used by other users, `warn` is told once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import socket
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ketscreen import interrupts
from ketscreen.core.model import Questionnaire
from ketscreen.core.scoring import utc_now
from ketscreen.errors import KetscreenError
from ketscreen.io.atomic import OutputError, atomic_write, ensure_private_dir, os_error_message
from ketscreen.io.files import read_limited
from ketscreen.io.sessions import (
    SESSION_ID,
    FormatProblem,
    Session,
    SessionError,
    parse_document,
    session_from_document,
    stored_result_agrees,
)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

HOME_VARIABLE = "KETSCREEN_HOME"
MAX_SESSION_BYTES = 10 * 1024 * 1024

# Time first (UTC, to the second) so ids sort by start time; then 5 characters from an
# alphabet without look-alikes (no 0/o, 1/i/l, u), about 24 million choices per second.
_ALPHABET = "23456789abcdefghjkmnpqrstvwxyz"
ID_EXAMPLE = "20261121-154012-k7m2q"


def home_dir() -> Path:
    configured = os.environ.get(HOME_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_data_path("ketscreen", appauthor=False)


def sessions_dir() -> Path:
    return home_dir() / "sessions"


def new_session_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(5))
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{tail}"


def is_session_id(text: str) -> bool:
    return SESSION_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class Summary:
    """What `ketscreen sessions` shows of one session.

    `verified`: the band and flag level were computed from the answers with the
    questionnaire they were recorded with (what `report` shows); otherwise they are the
    file's stored result, which nothing has checked. `stored_disagrees`: the file's
    stored result is not what its answers give (shown: what the answers give).
    """

    id: str
    client: str
    counselor: str | None
    started: str
    updated: str
    status: str
    band: str | None
    lower_bound: bool
    top_flag_level: str | None
    questionnaire: str
    verified: bool = False
    stored_disagrees: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client": self.client,
            "counselor": self.counselor,
            "started": self.started,
            "updated": self.updated,
            "status": self.status,
            "band": self.band,
            "lower_bound": self.lower_bound,
            "top_flag_level": self.top_flag_level,
            "questionnaire": self.questionnaire,
            "result_verified": self.verified,
        }


@dataclass(frozen=True)
class Unreadable:
    """A file in the sessions folder that is not a readable session."""

    path: Path
    reason: str


class SessionBusy(SessionError):
    """Another process has the session open."""


class SessionChanged(SessionError):
    """The file changed since this process read it; it was not replaced."""


@dataclass
class _Lock:
    path: Path
    fd: int


def _holder_text(raw: bytes) -> str:
    """`(process 4242 on clinic-pc, since 2026-12-01 21:40 UTC)` from a lock file."""
    try:
        info = json.loads(raw.decode("utf-8"))
        pid, host, since = int(info["pid"]), str(info["host"]), str(info["since"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return "(it has only just opened it)"
    # Anyone who can write the folder can write this file: show only what looks right.
    host = host if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", host) else "another computer"
    stamp = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}Z", since)
    when = f"{stamp[1]} {stamp[2]} UTC" if stamp else "a moment ago"
    return f"(process {pid} on {host}, since {when})"


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class SessionStore:
    """The sessions folder. Paths are resolved here; the Session knows none.

    `warn` receives one-line notices for the person (another user can read the folder
    or a file), each at most once per store. `exclusive=True` holds every session this
    store creates or opens until `close()` (use it as a context manager).
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        exclusive: bool = False,
    ) -> None:
        self.folder = folder if folder is not None else sessions_dir()
        self._private_from = home_dir() if folder is None else self.folder
        self._warn = warn
        self.exclusive = exclusive
        self.notices: list[str] = []
        self._noticed: set[str] = set()
        self._locks: dict[str, _Lock] = {}
        self._known: dict[str, str] = {}
        """session id -> sha256 of the file's bytes when this store last read or wrote it."""
        self._folder_checked = False

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.json"

    def lock_path(self, session_id: str) -> Path:
        return self.folder / f".{session_id}.lock"

    # -- notices ---------------------------------------------------------------------

    def _notice(self, kind: str, message: str) -> None:
        """Tell `warn` once per kind of notice (the folder; the files)."""
        if kind in self._noticed:
            return
        self._noticed.add(kind)
        self.notices.append(message)
        if self._warn is not None:
            self._warn(message)

    def _check_folder(self) -> None:
        """Once per store: say so when other users can use the sessions folder."""
        if self._folder_checked:
            return
        try:
            mode = self.folder.stat().st_mode
        except OSError:
            return  # not there yet; it will be made private
        self._folder_checked = True
        if mode & 0o077:
            self._notice(
                "folder",
                f"the sessions folder {self.folder} can be opened by other users (mode "
                f"{stat.S_IMODE(mode):04o}); sessions hold health data: if it is yours, "
                f"make it private with `chmod 700 {self.folder}`",
            )

    def _check_file(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            mode = path.stat().st_mode
            if mode & 0o077:
                self._notice(
                    "files",
                    f"session files in {self.folder} can be read by other users (for example "
                    f"{path.name}, mode {stat.S_IMODE(mode):04o}); make them private with "
                    f"`chmod 600 {self.folder}/*.json`",
                )

    def _disagrees(self, path: Path) -> None:
        self._notice(
            f"result {path}",
            f"{path}: its stored result is not what its answers give (was it edited?); "
            "ketscreen shows the result of the answers",
        )

    # -- locking ---------------------------------------------------------------------

    def hold(self, session_id: str) -> None:
        """Take the session's lock (kept until `release`), or SessionBusy naming the holder."""
        if session_id in self._locks:
            return
        ensure_private_dir(self.folder, private_from=self._private_from)
        self._check_folder()
        self._acquire(session_id)

    def release(self, session_id: str) -> None:
        lock = self._locks.pop(session_id, None)
        if lock is None:
            return
        with contextlib.suppress(OSError):
            lock.path.unlink()  # while still holding it, so no one locks a removed file
        with contextlib.suppress(OSError):
            os.close(lock.fd)

    def close(self) -> None:
        """Release every session this store holds."""
        for session_id in list(self._locks):
            self.release(session_id)

    def holds(self, session_id: str) -> bool:
        return session_id in self._locks

    def _acquire(self, session_id: str) -> None:
        """Lock and register the session (registered at once, so that a Ctrl-C arriving
        at any moment leaves nothing `close()` would not release)."""
        path = self.lock_path(session_id)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _attempt in range(20):
            try:
                fd = os.open(path, flags, 0o600)
            except OSError as exc:  # a read-only folder, most likely: name the session
                raise OutputError(os_error_message(self.path(session_id), exc)) from None
            try:
                if not _try_lock(fd):
                    raise SessionBusy(
                        f"session {session_id} is open in another ketscreen "
                        f"{_holder_text(os.read(fd, 4096))}; finish or quit it there "
                        "first. A lock is released as soon as the process holding it ends, "
                        "so if it has ended (or crashed), simply try again"
                    )
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    raise FileNotFoundError  # released and removed meanwhile: lock anew
                self._locks[session_id] = _Lock(path, fd)
            except FileNotFoundError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()}
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps(holder).encode("utf-8"))  # at 0: nothing read yet
            return
        raise SessionBusy(  # pragma: no cover - twenty releases in a row: a lock storm
            f"session {session_id} is being opened and closed by other processes; try again"
        )

    # -- writing ---------------------------------------------------------------------

    def create(
        self,
        questionnaire: Questionnaire,
        client: str,
        counselor: str | None = None,
        *,
        at: str | None = None,
        region: str | None = None,
    ) -> Session:
        """Start a session and write it at once, so even an early Ctrl-C can be resumed."""
        ensure_private_dir(self.folder, private_from=self._private_from)
        while True:
            session = Session.start(
                new_session_id(), questionnaire, client, counselor, at=at, region=region
            )
            if not self.path(session.id).exists():
                break
        self.save(session, new=True)
        return session

    def save(self, session: Session, *, new: bool = False) -> None:
        """Replace the session's file atomically (0600 in a 0700 folder).

        `new=True` refuses to replace an existing file, so a fresh session can never
        overwrite another one. The session's lock is taken for the save (and kept by an
        exclusive store); the file is not replaced when its bytes are not the ones this
        store last read or wrote (SessionChanged).
        """
        ensure_private_dir(self.folder, private_from=self._private_from)
        self._check_folder()
        held = session.id in self._locks
        if not held:
            self.hold(session.id)
        try:
            path = self.path(session.id)
            text = session.to_json()
            # A Ctrl-C (or a closed terminal) waits until the file is replaced and this
            # store knows its new bytes: between the two, the next save would take our
            # own write for another program's.
            with interrupts.deferred():
                with atomic_write(
                    path, force=not new, before_replace=lambda: self._unchanged(session.id)
                ) as handle:
                    handle.write(text)
                self._known[session.id] = _digest(text.encode("utf-8"))
            self._remove_leftovers(path)
        finally:
            if not held and not self.exclusive:
                self.release(session.id)

    def _unchanged(self, session_id: str) -> None:
        """Refuse to replace a file that is not what this store last read or wrote."""
        expected = self._known.get(session_id)
        if expected is None:
            return  # never read by this store: nothing to compare with
        path = self.path(session_id)
        try:
            current = _digest(read_limited(path, MAX_SESSION_BYTES, "session", regular_only=True))
        except KetscreenError:
            current = None
        if current != expected:
            what = "was removed" if current is None else "was changed by another program"
            raise SessionChanged(
                f"session {session_id} {what} after this ketscreen read it, so it was not "
                "replaced (the other changes are kept); this screen's last change was not "
                "saved"
            )

    def _remove_leftovers(self, path: Path) -> None:
        """Temporary files of this session left by a killed process hold answers: remove."""
        for leftover in self.folder.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):  # another process may have removed it
                leftover.unlink()

    # -- reading ---------------------------------------------------------------------

    def locate(self, ref: str, *, allow_path: bool = True) -> Path:
        """A session id (in this folder) or, with `allow_path`, a session file's path."""
        if is_session_id(ref):
            path = self.path(ref)
            if path.exists():
                return path
            raise SessionError(
                f"no session {ref} in {self.folder}; list them with `ketscreen sessions`"
            )
        if allow_path and (ref.endswith(".json") or os.sep in ref):
            return Path(ref)  # reading it says what is wrong, if anything
        # Not an id: do not repeat it, it might be a name typed by mistake.
        raise SessionError(
            f"no such session in {self.folder} (ids look like {ID_EXAMPLE}); "
            "list them with `ketscreen sessions`"
        )

    def read_document(self, path: Path) -> dict[str, Any]:
        """Read and check the shape of one session file."""
        return self._read(path)[0]

    def _read(self, path: Path) -> tuple[dict[str, Any], bytes]:
        try:
            raw = read_limited(path, MAX_SESSION_BYTES, "session", regular_only=True)
        except KetscreenError as exc:
            raise SessionError(str(exc)) from None
        if len(raw) > MAX_SESSION_BYTES:
            raise SessionError(_unusable(path, "it is too large to be a session"))
        try:
            doc = parse_document(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SessionError(_unusable(path, "not UTF-8 text; the file is corrupted")) from None
        except FormatProblem as exc:
            raise SessionError(_unusable(path, str(exc))) from None
        if path.parent == self.folder and path.stem != doc["id"]:
            raise SessionError(_unusable(path, "its id does not match its file name"))
        return doc, raw

    def load(
        self, ref: str, questionnaire: Questionnaire | None = None, *, allow_path: bool = True
    ) -> Session:
        """Open a session for reading or for going on with it, with the questionnaire
        version it was recorded under (`questionnaire`, a file the user gave, is used
        when it is that id and version).

        An exclusive store takes the session's lock first (SessionBusy when another
        process has it), so what it reads stays what is on disk until it saves.
        """
        path = self.locate(ref, allow_path=allow_path)
        if path.parent == self.folder:
            self._check_folder()
        held_here = False
        if self.exclusive and path.parent == self.folder and is_session_id(path.stem):
            held_here = not self.holds(path.stem)
            self.hold(path.stem)
        try:
            doc, raw = self._read(path)
            self._check_file(path)
            recorded = recorded_questionnaire(doc, questionnaire)
            try:
                session = session_from_document(doc, recorded)
            except FormatProblem as exc:
                raise SessionError(_unusable(path, str(exc))) from None
            if not stored_result_agrees(doc, session):
                self._disagrees(path)
        except BaseException:
            if held_here:
                self.release(path.stem)
            raise
        if path == self.path(session.id):
            self._known[session.id] = _digest(raw)
        return session

    def client_sessions(self, client: str) -> tuple[list[Session], list[Unreadable]]:
        """Every session of one client (exact label), oldest first, opened in full with
        the questionnaire each was recorded under, and the ones of that client that could
        not be (files that are no session at all are `summaries()`'s to report)."""
        found, _ = self.summaries()
        broken: list[Unreadable] = []
        sessions: list[Session] = []
        for summary in reversed(found):  # summaries are newest first
            if summary.client != client:
                continue
            try:
                sessions.append(self.load(summary.id, allow_path=False))
            except SessionError as exc:
                broken.append(Unreadable(self.path(summary.id), str(exc)))
        return sessions, broken

    def summaries(self) -> tuple[list[Summary], list[Unreadable]]:
        """Every session in the folder, newest first, and the files that could not be read.

        A session recorded with a questionnaire version this ketscreen ships is checked in
        full and shows what `report` would compute; any other shows its stored result,
        marked unverified. Anything but a regular file is skipped (a pipe would otherwise
        hang the listing).
        """
        if not self.folder.is_dir():
            return [], []
        self._check_folder()
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError as exc:
            raise SessionError(
                f"{self.folder}: cannot be listed ({exc.strerror or exc}); check its permissions"
            ) from None
        found: list[Summary] = []
        broken: list[Unreadable] = []
        for path in paths:
            try:
                doc = self.read_document(path)
                self._check_file(path)
                summary = _summary(path, doc)
                if summary.stored_disagrees:
                    self._disagrees(path)
                found.append(summary)
            except SessionError as exc:
                broken.append(Unreadable(path, str(exc)))
        found.sort(key=lambda s: (s.started, s.id), reverse=True)
        return found, broken


def _try_lock(fd: int) -> bool:
    """Lock `fd` without waiting; False when another process holds it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    import msvcrt  # pragma: no cover - Windows

    try:  # pragma: no cover - Windows
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover - Windows
        return False
    return True  # pragma: no cover - Windows


def recorded_questionnaire(
    doc: Mapping[str, Any], given: Questionnaire | None = None
) -> Questionnaire:
    """The questionnaire a session document was recorded with: `given` when it is that
    id and version, else the shipped file of that version. SessionError otherwise."""
    from ketscreen.io.questionnaires import VersionError, load_recorded

    q = doc["questionnaire"]
    try:
        return load_recorded(q["id"], q["version"], given)
    except VersionError:
        raise SessionError(
            f"session {doc['id']} was recorded with questionnaire {q['id']} {q['version']}, "
            "which this ketscreen does not ship; open it with --questionnaire PATH to a "
            "copy of that version, or with the ketscreen release that shipped it"
        ) from None


def _unusable(path: Path, reason: str) -> str:
    return f"{path}: cannot be used as a session: {reason}. The file was left unchanged"


def _summary(path: Path, doc: dict[str, Any]) -> Summary:
    """One listing row: worked out from the answers with the questionnaire version the
    session was recorded under (so it says what `report` says), or, when this ketscreen
    does not have that exact file, the stored result marked unverified."""
    from ketscreen.core.scoring import NOT_ASSESSED

    q = doc["questionnaire"]
    try:
        questionnaire: Questionnaire | None = recorded_questionnaire(doc)
    except SessionError:
        questionnaire = None
    verified = disagrees = False
    result = doc["result"] or {}
    if questionnaire is not None and questionnaire.sha256 == q["sha256"]:
        try:
            session = session_from_document(doc, questionnaire)
        except FormatProblem as exc:
            raise SessionError(_unusable(path, str(exc))) from None
        computed = session.result()
        disagrees = not stored_result_agrees(doc, session)
        result = computed.to_dict() if computed else {}
        if computed is None and questionnaire.safety_items:
            result = {"top_flag_level": NOT_ASSESSED}  # not even the first question answered
        verified = True
    band = result.get("band")
    top = result.get("top_flag_level")
    return Summary(
        id=doc["id"],
        client=doc["client"],
        counselor=doc["counselor"],
        started=doc["events"][0]["at"],
        updated=doc["events"][-1]["at"],
        status=doc["status"],
        band=band if isinstance(band, str) else None,
        lower_bound=result.get("lower_bound") is True,
        top_flag_level=top if isinstance(top, str) else None,
        questionnaire=f"{q['id']} {q['version']}",
        verified=verified,
        stored_disagrees=disagrees,
    )

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
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ketscreen.core.model import Questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.io.atomic import atomic_write, ensure_private_dir
from ketscreen.io.files import read_limited
from ketscreen.io.sessions import (
    FormatProblem,
    Session,
    SessionError,
    parse_document,
    session_from_document,
)

HOME_VARIABLE = "KETSCREEN_HOME"
MAX_SESSION_BYTES = 10 * 1024 * 1024

# Time first (UTC, to the second) so ids sort by start time; then 5 characters from an
# alphabet without look-alikes (no 0/o, 1/i/l, u), about 24 million choices per second.
_ALPHABET = "23456789abcdefghjkmnpqrstvwxyz"
_ID = re.compile(r"\d{8}-\d{6}-[2-9a-hjkmnp-tv-z]{5}")
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
    return _ID.fullmatch(text) is not None


@dataclass(frozen=True)
class Summary:
    """What `ketscreen sessions` shows of one session, read without the questionnaire."""

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
        }


@dataclass(frozen=True)
class Unreadable:
    """A file in the sessions folder that is not a readable session."""

    path: Path
    reason: str


class SessionStore:
    """The sessions folder. Paths are resolved here; the Session knows none."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else sessions_dir()

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.json"

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
        overwrite another one.
        """
        ensure_private_dir(self.folder)
        path = self.path(session.id)
        with atomic_write(path, force=not new) as handle:
            handle.write(session.to_json())
        self._remove_leftovers(path)

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
        try:
            raw = read_limited(path, MAX_SESSION_BYTES, "session")
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
        return doc

    def load(
        self, ref: str, questionnaire: Questionnaire | None = None, *, allow_path: bool = True
    ) -> Session:
        """Open a session for reading or for going on with it, with the questionnaire
        version it was recorded under (`questionnaire`, a file the user gave, is used
        when it is that id and version)."""
        path = self.locate(ref, allow_path=allow_path)
        doc = self.read_document(path)
        recorded = recorded_questionnaire(doc, questionnaire)
        try:
            return session_from_document(doc, recorded)
        except FormatProblem as exc:
            raise SessionError(_unusable(path, str(exc))) from None

    def summaries(self) -> tuple[list[Summary], list[Unreadable]]:
        """Every session in the folder, newest first, and the files that could not be read."""
        if not self.folder.is_dir():
            return [], []
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
                found.append(_summary(self.read_document(path)))
            except SessionError as exc:
                broken.append(Unreadable(path, str(exc)))
        found.sort(key=lambda s: (s.started, s.id), reverse=True)
        return found, broken


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


def _not_assessed(doc: Mapping[str, Any]) -> str | None:
    """`not_assessed` for a session without flags whose safety questions have no answer,
    worked out again with its own questionnaire version, so that a file saved before
    that rule existed never lists as "no flags". None when it cannot be worked out."""
    from ketscreen.core.scoring import NOT_ASSESSED, score
    from ketscreen.errors import AnswerError

    try:
        questionnaire = recorded_questionnaire(doc)
    except KetscreenError:
        return None
    try:
        result = score(questionnaire, doc["answers"])
    except AnswerError:  # not even the first question answered
        return NOT_ASSESSED if questionnaire.safety_items else None
    return result.top_level


def _unusable(path: Path, reason: str) -> str:
    return f"{path}: cannot be used as a session: {reason}. The file was left unchanged"


def _summary(doc: dict[str, Any]) -> Summary:
    result = doc["result"] or {}
    q = doc["questionnaire"]
    band = result.get("band")
    top = result.get("top_flag_level")
    if top is None:
        top = _not_assessed(doc)
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
    )

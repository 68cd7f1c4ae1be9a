"""Load questionnaires: a file, or a shipped instrument version found in the registry.

Every released version of every instrument ships side by side in `questions/`, one
file each (`ketamine-1.0.0.yaml`, `ketamine-1.1.0.yaml`, ...). The registry finds them
by reading each file's top-level `id:` and `version:` lines, so adding an instrument or
a version is adding a file; nothing here names one except the default instrument. New
screenings use the newest version; a saved record is scored with the version it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ketscreen.core.model import Questionnaire
from ketscreen.core.schema import build_questionnaire
from ketscreen.core.yamlsafe import DEFAULT_MAX_BYTES, Loc, LocatedDict, LocatedList, load_yaml
from ketscreen.errors import ExitCode, KetscreenError, Problem, QuestionnaireError
from ketscreen.io.files import data_dir, read_limited

DEFAULT_INSTRUMENT = "ketamine"
RELEASES_FILE = "releases.yaml"
NOT_QUESTIONNAIRES = ("resources.yaml", RELEASES_FILE)
_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOP_LINE = re.compile(rb"^(id|version):[ \t]*[\"']?([A-Za-z0-9_.+-]+)[\"']?[ \t]*(?:#.*)?$", re.M)


class VersionError(KetscreenError):
    """An instrument or version that this ketscreen does not ship."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Shipped:
    """One shipped questionnaire file, known by its id and version."""

    id: str
    version: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions numerically part by part (1.10.0 after 1.9.2)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.+-]", version)
    )


def _identity(path: Path) -> tuple[str, str] | None:
    """The top-level `id:` and `version:` of a questionnaire file, read without parsing."""
    try:
        head = read_limited(path, DEFAULT_MAX_BYTES, "questionnaire")
    except KetscreenError:
        return None
    found = {m.group(1).decode(): m.group(2).decode() for m in _TOP_LINE.finditer(head)}
    if "id" in found and "version" in found:
        return found["id"], found["version"]
    return None


@lru_cache(maxsize=1)
def shipped() -> tuple[Shipped, ...]:
    """Every shipped questionnaire, by instrument, oldest version first."""
    found = []
    for path in sorted(data_dir().glob("*.yaml")):
        if path.name in NOT_QUESTIONNAIRES:
            continue
        identity = _identity(path)
        if identity is not None:
            found.append(Shipped(identity[0], identity[1], path))
    return tuple(sorted(found, key=lambda s: (s.id, version_key(s.version))))


def versions(instrument: str = DEFAULT_INSTRUMENT) -> tuple[Shipped, ...]:
    """The shipped versions of one instrument, oldest first."""
    return tuple(s for s in shipped() if s.id == instrument)


def instruments() -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.id for s in shipped()))


def find(instrument: str, version: str | None = None) -> Shipped:
    """A shipped file: that version, or the newest. VersionError names what ships."""
    known = versions(instrument)
    if not known:
        names = ", ".join(instruments()) or "none"
        raise VersionError(
            f"no questionnaire {instrument!r} ships with this ketscreen (instruments: {names})"
        )
    if version is None:
        return known[-1]
    for entry in known:
        if entry.version == version:
            return entry
    listed = ", ".join(entry.version for entry in known)
    raise VersionError(
        f"questionnaire {instrument} has no version {version!r} in this ketscreen "
        f"(versions: {listed}); use one of those, or --questionnaire PATH for another file"
    )


def parse_questionnaire(data: bytes, source: str) -> Questionnaire:
    """Bytes of a YAML questionnaire -> checked model, or QuestionnaireError."""
    return build_questionnaire(load_yaml(data, source), source)


@lru_cache(maxsize=16)
def _load_shipped(entry: Shipped) -> Questionnaire:
    data = read_limited(entry.path, DEFAULT_MAX_BYTES, "questionnaire")
    loaded = parse_questionnaire(data, entry.path.name)
    if (loaded.id, loaded.version) != (entry.id, entry.version):
        raise VersionError(
            f"{entry.path.name}: its id and version lines say {entry.label}, but the file "
            f"parses as {loaded.id} {loaded.version}"
        )
    return loaded


def builtin_path(instrument: str = DEFAULT_INSTRUMENT, version: str | None = None) -> Path:
    """The shipped file of an instrument version (default: the newest)."""
    return find(instrument, version).path


def load_questionnaire(
    path: str | Path | None = None,
    *,
    instrument: str | None = None,
    version: str | None = None,
) -> Questionnaire:
    """Load and check a questionnaire.

    With `path`, that file (whose id must be `instrument` and whose version must be
    `version`, when they are given). Otherwise a shipped instrument (default `ketamine`)
    at `version` (default: the newest).
    """
    if path is None:
        return _load_shipped(find(instrument or DEFAULT_INSTRUMENT, version))
    path = Path(path)
    data = read_limited(path, DEFAULT_MAX_BYTES, "questionnaire")
    loaded = parse_questionnaire(data, str(path))
    check_instrument(path, loaded.id, instrument)
    if version is not None and loaded.version != version:
        raise VersionError(
            f"{path} is questionnaire {loaded.id} version {loaded.version}, not {version}; "
            "leave out --version, or give the file of that version"
        )
    return loaded


def check_instrument(path: Path, found: str | None, instrument: str | None) -> None:
    """A file given together with `--instrument ID` must be that instrument.

    `found` is the file's id (None: read from its `id:` line; a file without one is left
    for the parser to report)."""
    if instrument is None:
        return
    if found is None:
        identity = _identity(path)
        found = identity[0] if identity is not None else None
    if found is not None and found != instrument:
        raise VersionError(
            f"{path} is questionnaire {found}, not {instrument}; leave out "
            f"--instrument, or give a questionnaire file of {instrument}"
        )


def load_recorded(
    instrument: str, version: str, given: Questionnaire | None = None
) -> Questionnaire:
    """The questionnaire a record names: `given` when it is that id and version, else the
    shipped file of that version (VersionError when it does not ship)."""
    if given is not None and (given.id, given.version) == (instrument, version):
        return given
    return _load_shipped(find(instrument, version))


@dataclass(frozen=True)
class Release:
    """One released questionnaire version (`releases.yaml`): its date and content hash."""

    id: str
    version: str
    date: str
    sha256: str


def parse_releases(data: bytes, source: str) -> tuple[Release, ...]:
    """Bytes of releases.yaml -> its entries, or QuestionnaireError with every problem."""
    root = load_yaml(data, source)
    top = Loc(source, 1, 1)
    if not isinstance(root, LocatedDict) or set(root) != {"releases"}:
        raise QuestionnaireError([top.problem("the top level must be one key, releases:")])
    entries = root["releases"]
    if not isinstance(entries, LocatedList):
        raise QuestionnaireError([root.value_loc("releases").problem("releases: must be a list")])
    problems: list[Problem] = []
    found: list[Release] = []
    for index, entry in enumerate(entries):
        loc = entries.item_loc(index)
        fields = ("id", "version", "date", "sha256")
        if not isinstance(entry, LocatedDict) or set(entry) != set(fields):
            problems.append(loc.problem(f"release {index + 1}: give exactly {', '.join(fields)}"))
            continue
        values = {key: str(entry[key]) for key in fields}
        if not _DATE.fullmatch(values["date"]):
            problems.append(entry.value_loc("date").problem("date: write it as YYYY-MM-DD"))
        if not _SHA256.fullmatch(values["sha256"]):
            problems.append(
                entry.value_loc("sha256").problem("sha256: 64 lowercase hexadecimal digits")
            )
        found.append(Release(**values))
    seen: set[tuple[str, str]] = set()
    for release in found:
        if (release.id, release.version) in seen:
            problems.append(top.problem(f"{release.id} {release.version} is listed twice"))
        seen.add((release.id, release.version))
    if problems:
        raise QuestionnaireError(problems)
    return tuple(found)


@lru_cache(maxsize=1)
def releases() -> tuple[Release, ...]:
    """The shipped release list (cached)."""
    path = data_dir() / RELEASES_FILE
    return parse_releases(read_limited(path, DEFAULT_MAX_BYTES, "releases"), path.name)


def release_of(q: Questionnaire) -> Release | None:
    """The release `q` is (same id, version and content hash); None for a draft or an
    edited copy."""
    for release in releases():
        if (release.id, release.version, release.sha256) == (q.id, q.version, q.sha256):
            return release
    return None


def unreleased_shipped() -> list[str]:
    """Shipped files that releases.yaml does not list with their current hash."""
    return [
        f"{entry.path.name}: {entry.label} has no entry with its sha256 in "
        f"{RELEASES_FILE}; add one (a released file is never edited: ship a new version)"
        for entry in shipped()
        if release_of(_load_shipped(entry)) is None
    ]

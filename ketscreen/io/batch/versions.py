"""The questionnaire versions a batch can score with: each record uses the version it
names (a `questionnaire_version` column or key, a session's own version, a FHIR
response's `questionnaire` canonical), else the default (the newest, or the file or
`--version` the user chose).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ketscreen.core.model import Questionnaire
from ketscreen.io.batch.formats import UsageProblem

VERSION_KEY = "questionnaire_version"
META_KEYS = frozenset({"questionnaire", VERSION_KEY, "questionnaire_sha256"})
"""Keys and columns that describe the record (batch output carries them), not answers."""


@dataclass(frozen=True)
class VersionSet:
    """The default questionnaire and the other versions of the same instrument."""

    default: Questionnaire
    others: tuple[Questionnaire, ...] = ()

    def __post_init__(self) -> None:
        # One output has one set of score columns: every version must have the same scores.
        for other in self.others:
            if score_ids(other) != self.score_ids:
                raise UsageProblem(
                    f"questionnaire {other.id} {other.version} has the scores "
                    f"{', '.join(score_ids(other)) or 'none'}, but {self.default.id} "
                    f"{self.default.version} has {', '.join(self.score_ids) or 'none'}: one "
                    "output cannot hold both; score their records in separate runs "
                    "(--version or --questionnaire)"
                )

    @property
    def score_ids(self) -> tuple[str, ...]:
        """The score ids every version shares, in order: the output's score columns."""
        return score_ids(self.default)

    excluded: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(version, score ids) of the versions left out because their scores differ."""

    @classmethod
    def of(cls, default: Questionnaire, candidates: Iterable[Questionnaire]) -> VersionSet:
        """`default` plus every candidate of the same instrument and another version that
        has the same scores (a version with other scores cannot share the output: its
        records are invalid, `why_unknown` says so)."""
        same = [q for q in candidates if q.id == default.id and q.version != default.version]
        others = tuple(q for q in same if score_ids(q) == score_ids(default))
        excluded = tuple((q.version, score_ids(q)) for q in same if q not in others)
        return cls(default, others, excluded)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled for worker processes with the other versions by reference (they are
        shipped files), so the start-up message stays small: a worker killed while it
        reads it is rarer, and the pipe takes it in one write."""
        refs = tuple((q.id, q.version, q.sha256) for q in self.others)
        return (_rebuild, (self.default, refs, self.excluded))

    @property
    def all(self) -> tuple[Questionnaire, ...]:
        return (self.default, *self.others)

    def get(self, version: str | None) -> Questionnaire | None:
        """The questionnaire of `version` (None or "": the default); None if unknown."""
        if not version:
            return self.default
        return next((q for q in self.all if q.version == version), None)

    @property
    def listed(self) -> str:
        return ", ".join(sorted(q.version for q in self.all))

    def why_unknown(self, version: str) -> str:
        """Why a record naming `version` (not in this set) cannot be scored here."""
        q = self.default
        for excluded, scores in self.excluded:
            if excluded == version:
                return (
                    f"questionnaire {q.id} {version} has the scores {', '.join(scores) or 'none'}, "
                    f"not those of {q.version} ({', '.join(self.score_ids) or 'none'}), so it "
                    f"cannot share this output; score these records in a separate run with "
                    f"--version {version}"
                )
        return f"is not a version of questionnaire {q.id} that this ketscreen ships ({self.listed})"

    def union_items(self) -> list[str]:
        """Item ids of every version: the default's first, in order, then the others'."""
        ids = list(self.default.items)
        for q in self.others:
            ids += [i for i in q.items if i not in ids]
        return ids

    def fit_hint(self, columns: Sequence[str]) -> str | None:
        """A warning for a file whose columns fit an older version and not the default.

        A file "fits" a version when it has a column for every item of that version.
        """
        present = set(columns)
        if set(self.default.items) <= present:
            return None
        fits = [q for q in self.others if set(q.items) <= present]
        if not fits:
            return None
        best = fits[-1]
        missing = [i for i in self.default.items if i not in present]
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        return (
            f"its columns fit questionnaire {best.id} {best.version}, not "
            f"{self.default.version} (no column for {shown}); scored with "
            f"{self.default.version}. To score with {best.version}, pass --version "
            f"{best.version} or add a {VERSION_KEY} column"
        )


def score_ids(questionnaire: Questionnaire) -> tuple[str, ...]:
    """A questionnaire's score ids, in the order of its `scores:` list."""
    return tuple(sc.id for sc in questionnaire.scores)


def _rebuild(
    default: Questionnaire,
    refs: tuple[tuple[str, str, str], ...],
    excluded: tuple[tuple[str, tuple[str, ...]], ...],
) -> VersionSet:
    """A VersionSet in a worker: the other versions loaded from the shipped files."""
    from ketscreen.io.questionnaires import VersionError, load_questionnaire

    others = []
    for instrument, version, sha256 in refs:
        loaded = load_questionnaire(instrument=instrument, version=version)
        if loaded.sha256 != sha256:
            raise VersionError(f"questionnaire {instrument} {version} changed while scoring")
        others.append(loaded)
    return VersionSet(default, tuple(others), excluded)

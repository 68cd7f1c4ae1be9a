"""Reading QuestionnaireResponses back: answers to re-score, and the scores they stored.

A QuestionnaireResponse (or a Bundle of them) is checked against the questionnaire
that will score it: the `questionnaire` canonical and version must be ours, every
linkId must be an item, a section group or a result item, and every answer a coding
from our code system (or the data-absent-reason `asked-declined`, meaning "prefer not
to say"). Items are found at any depth, so a flat response reads as well as a grouped
one. The answers then go through the one answer normaliser, like every other input.

A problem with the whole input (not JSON object, not a QuestionnaireResponse or Bundle)
raises `FhirError`; a problem with one response in a Bundle is carried on its record,
so the other responses can still be scored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ketscreen.core.compiled import field_name
from ketscreen.core.conditions import Answer
from ketscreen.core.model import DECLINED, Item, ItemType, Questionnaire
from ketscreen.core.normalize import Answers, normalize_answer
from ketscreen.core.scoring import Result
from ketscreen.errors import KetscreenError, quote_value
from ketscreen.io.fhir.common import (
    ASKED_DECLINED,
    BAND_LINK,
    DATA_ABSENT_SYSTEM,
    EXT_DATA_ABSENT,
    FLAGS_LINK,
    LEVEL_SYSTEM,
    LOWER_BOUND_LINK,
    RESULT_GROUP,
    RESULT_PREFIX,
    TOP_LEVEL_LINK,
    FhirError,
    answer_system,
    band_system,
    canonical,
    flag_system,
    questionnaire_url,
    score_link,
    section_link,
)

RESOURCE_TYPES = ("QuestionnaireResponse", "Bundle")


class FhirRecord(NamedTuple):
    """One QuestionnaireResponse read back.

    `answers` are normalised answers (ready for `score`), `stored` the result the
    response carried (score ids, `band`, `lower_bound`, `top_flag_level`, `flags`),
    `source` where it was (`file` or `file:entry N`). When the response cannot be read,
    `error` says why and `answers` and `stored` are empty.
    """

    respondent_id: str | None
    answers: Answers
    stored: dict[str, Any]
    source: str
    error: KetscreenError | None = None
    version: str | None = None
    """The questionnaire version that read the answers."""
    warnings: tuple[str, ...] = ()
    """What was read in a way the response did not say exactly (no personal data)."""


def is_fhir(data: object) -> bool:
    """True when parsed JSON looks like FHIR input: a QuestionnaireResponse or a Bundle."""
    return isinstance(data, dict) and data.get("resourceType") in RESOURCE_TYPES


def responses_from_fhir(
    q: Questionnaire,
    data: object,
    source: str = "<input>",
    *,
    versions: Sequence[Questionnaire] = (),
    accept_unversioned: bool = False,
) -> Iterator[FhirRecord]:
    """Every QuestionnaireResponse in `data` (one, or a Bundle of them), in order.

    Each response is read with the version its `questionnaire` canonical names, when it
    is `q` or one of `versions`. A canonical without `|version` is refused, unless
    `accept_unversioned` (the caller chose one version, `q`): then it is read with `q`.
    """
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if kind == "QuestionnaireResponse":
        yield _record(_version_for(q, versions, data), data, source, accept_unversioned)
        return
    if kind != "Bundle" or not isinstance(data, dict):
        found = f"resourceType {_quoted(kind)}" if kind else "no FHIR resourceType"
        raise FhirError(
            f"{source}: found {found}; expected a QuestionnaireResponse or a Bundle of them"
        )
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError(f"{source}: Bundle.entry must be a list")
    yield from responses_from_entries(
        q, entries, source, 1, versions=versions, accept_unversioned=accept_unversioned
    )


def responses_from_entries(
    q: Questionnaire,
    entries: Sequence[object],
    source: str,
    first: int,
    *,
    versions: Sequence[Questionnaire] = (),
    accept_unversioned: bool = False,
) -> Iterator[FhirRecord]:
    """The responses of some entries of a Bundle (numbered from `first`): a streamed
    Bundle is read a block of entries at a time."""
    for number, entry in enumerate(entries, start=first):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        yield _record(
            _version_for(q, versions, resource),
            resource,
            f"{source}:entry {number}",
            accept_unversioned,
        )


def _version_for(
    q: Questionnaire, versions: Sequence[Questionnaire], resource: object
) -> Questionnaire:
    """The questionnaire whose version the response's canonical names (else `q`, whose
    check then explains what is wrong)."""
    value = resource.get("questionnaire") if isinstance(resource, dict) else None
    if not isinstance(value, str):
        return q
    url, _, version = value.partition("|")
    for candidate in versions:
        if candidate.version == version and url == questionnaire_url(candidate):
            return candidate
    return q


def _record(q: Questionnaire, resource: object, where: str, accept_unversioned: bool) -> FhirRecord:
    respondent = respondent_of(resource)
    warnings: list[str] = []
    try:
        answers, stored = read_response(
            q, resource, accept_unversioned=accept_unversioned, warnings=warnings
        )
    except KetscreenError as exc:
        return FhirRecord(respondent, {}, {}, where, exc)
    return FhirRecord(
        respondent, answers, stored, where, version=q.version, warnings=tuple(warnings)
    )


def respondent_of(resource: object) -> str | None:
    """The respondent id: `subject.identifier.value`, else `subject.reference`."""
    subject = resource.get("subject") if isinstance(resource, dict) else None
    if not isinstance(subject, dict):
        return None
    identifier = subject.get("identifier")
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not isinstance(value, str):
        value = subject.get("reference")
    return value if isinstance(value, str) and value else None


def read_response(
    q: Questionnaire,
    resource: object,
    *,
    accept_unversioned: bool = False,
    warnings: list[str] | None = None,
) -> tuple[Answers, dict[str, Any]]:
    """One QuestionnaireResponse -> (normalised answers, stored result).

    What is read in a way the response does not state exactly (declined chosen with
    other answers) is added to `warnings`.
    """
    return _tables(q).read(resource, accept_unversioned, warnings)


CACHE_LIMIT = 4096
"""Entries remembered per table of `_Tables` (more are computed each time)."""


class _Tables:
    """What reading responses to one questionnaire needs, built once, and what it has
    read: the answers of an item as codings and their normalised answer, and the
    canonicals that passed. Many responses (a Bundle) then cost look-ups, not work;
    what fails is never remembered, so its error is raised each time as before."""

    def __init__(self, q: Questionnaire) -> None:
        self.q = q
        self.groups = frozenset({RESULT_GROUP, *(section_link(s.id) for s in q.sections)})
        self.system = answer_system(q)
        self.scores = {score_link(sc.id): sc.id for sc in q.scores}
        self.answers: dict[tuple[object, ...], tuple[object, str | None]] = {}
        self.normal: dict[tuple[object, ...], Answer | None] = {}
        self.canonicals: set[tuple[str, bool]] = set()

    def read(
        self, resource: object, accept_unversioned: bool, warnings: list[str] | None
    ) -> tuple[Answers, dict[str, Any]]:
        q = self.q
        if (
            not isinstance(resource, dict)
            or resource.get("resourceType") != "QuestionnaireResponse"
        ):
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            shown = _quoted(kind) if kind else "not a FHIR resource"
            raise FhirError(f"is {shown}, not a QuestionnaireResponse")
        value = resource.get("questionnaire")
        if type(value) is not str or (value, accept_unversioned) not in self.canonicals:
            _check_canonical(q, value, accept_unversioned)
            if len(self.canonicals) < CACHE_LIMIT:
                self.canonicals.add((value, accept_unversioned))  # type: ignore[arg-type]
        if resource.get("status") == "entered-in-error":
            raise FhirError("status is entered-in-error: this response was withdrawn; not scored")
        reader = _Reader(q, self)
        reader.walk(resource.get("item", []), "item")
        if warnings is not None:
            warnings.extend(reader.warnings)
        return self.normalize(reader.raw), reader.stored

    def normalize(self, raw: dict[str, object]) -> Answers:
        """`normalize_answers(q, raw)` for the answers a walk read (keys are item ids,
        each once), each distinct answer of an item normalised once."""
        items = self.q.items
        memo = self.normal
        result: Answers = {}
        for link, value in raw.items():
            if type(value) is str:
                key: tuple[object, ...] = (link, value)
            elif type(value) is list and all(type(part) is str for part in value):
                key = (link, tuple(value))  # a tuple never equals a text
            else:  # true/false, nothing, or odd values: not remembered
                answer = normalize_answer(items[link], value)
                if answer is not None:
                    result[link] = answer
                continue
            answer = memo.get(key, _UNSEEN)
            if answer is _UNSEEN:
                answer = normalize_answer(items[link], value)
                if len(memo) < CACHE_LIMIT:
                    memo[key] = answer
            if answer is not None:
                result[link] = answer
        return result


_TABLES: dict[int, _Tables] = {}
_UNSEEN: Any = object()


def _tables(q: Questionnaire) -> _Tables:
    """The tables of `q` (by identity: a questionnaire is not changed once loaded)."""
    tables = _TABLES.get(id(q))
    if tables is None or tables.q is not q:
        if len(_TABLES) >= 16:
            _TABLES.clear()
        tables = _TABLES[id(q)] = _Tables(q)
    return tables


def _check_canonical(q: Questionnaire, value: object, accept_unversioned: bool) -> None:
    if not isinstance(value, str) or not value:
        raise FhirError(f"has no questionnaire; expected {canonical(q)}")
    url, _, version = value.partition("|")
    if url != questionnaire_url(q):
        raise FhirError(f"answers questionnaire {_quoted(url)}, not {questionnaire_url(q)}")
    if not version and not accept_unversioned:
        raise FhirError(
            f"names questionnaire {url} without a version, so ketscreen cannot tell which "
            f"version's questions it answers; it should be {url}|VERSION (this ketscreen "
            f"has {canonical(q)}). If you know the version, score it with --version VERSION "
            "--accept-unversioned"
        )
    if version and version != q.version:
        raise FhirError(
            f"answers version {_quoted(version)} of questionnaire {q.id}, but version {q.version} "
            "is loaded; score it with that version (--version, or --questionnaire PATH)"
        )


class _Reader:
    """One walk through a response's items (the shared `_Tables` remember answers)."""

    def __init__(self, q: Questionnaire, tables: _Tables) -> None:
        self.q = q
        self.tables = tables
        self.raw: dict[str, object] = {}
        self.stored: dict[str, Any] = {}
        self.seen: set[str] = set()
        self.groups = tables.groups
        self.system = tables.system
        self.scores = tables.scores
        self.warnings: list[str] = []

    def walk(self, items: object, where: str) -> None:
        if not isinstance(items, list):
            raise FhirError(f"{where} must be a list")
        for entry in items:
            if not isinstance(entry, dict) or not isinstance(entry.get("linkId"), str):
                raise FhirError(f"an entry of {where} has no linkId")
            link: str = entry["linkId"]
            known = link in self.q.items or link in self.groups or link in self.scores
            shown = link if known else f"linkId {_quoted(link)}"
            answers = entry.get("answer", [])
            if not isinstance(answers, list):
                raise FhirError(f"{shown}: answer must be a list")
            if link in self.seen:
                raise FhirError(f"{shown}: appears twice")
            if link in self.q.items:
                self.raw[link] = self._answer(self.q.items[link], answers)
                self.seen.add(link)
            elif link.startswith(RESULT_PREFIX):
                self._stored(link, answers)
                self.seen.add(link)
            elif link not in self.groups:
                raise FhirError(
                    f"unknown linkId {_quoted(link)}: not an item of questionnaire {self.q.id} "
                    f"{self.q.version}"
                )
            if "item" in entry:
                self.walk(entry["item"], shown)
            for answer in answers:
                if isinstance(answer, dict) and "item" in answer:
                    self.walk(answer["item"], shown)

    def _answer(self, item: Item, answers: list[Any]) -> object:
        """What the answers to `item` read as, remembered by their codings: that is all
        the reading looks at when every answer is a valueCoding."""
        try:
            key = (
                item.id,
                *[(a["valueCoding"]["system"], a["valueCoding"]["code"]) for a in answers],
            )
            hit = self.tables.answers.get(key)
        except (TypeError, KeyError):  # not all codings (or odd ones): read them each time
            return self._read_answer(item, answers)
        if hit is None:
            count = len(self.warnings)
            value = self._read_answer(item, answers)
            warning = self.warnings[count] if len(self.warnings) > count else None
            hit = (value, warning)
            if len(self.tables.answers) < CACHE_LIMIT:
                self.tables.answers[key] = hit
        elif hit[1] is not None:
            self.warnings.append(hit[1])
        return hit[0]

    def _read_answer(self, item: Item, answers: list[Any]) -> object:
        values = [self._value(item, answer) for answer in answers]
        if item.type is ItemType.MULTI and DECLINED in values and len(set(values)) > 1:
            # A form filler without `optionExclusive` (LHC-Forms) lets a person tick
            # "prefer not to say" and other answers together. The answers they did give
            # are kept: dropping them could hide an alert (injecting), and declined
            # counts as no answer anyway (CONTENT.md section 2).
            values = [value for value in values if value != DECLINED]
            self.warnings.append(
                f'{item.id}: "prefer not to say" was chosen together with other answers; '
                "read as the other answers"
            )
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _value(self, item: Item, answer: object) -> object:
        if not isinstance(answer, dict):
            raise FhirError(f"{item.id}: an answer must be an object")
        if "valueCoding" in answer:
            coding = answer["valueCoding"]
            system = coding.get("system") if isinstance(coding, dict) else None
            code = coding.get("code") if isinstance(coding, dict) else None
            if system == DATA_ABSENT_SYSTEM and code == ASKED_DECLINED:
                return DECLINED
            if system != self.system:
                raise FhirError(
                    f"{item.id}: answer coding is from "
                    f"{_quoted(system) if system else 'no code system'}, not {self.system}"
                )
            if code not in item.codes:
                shown = _quoted(code) if code is not None else "no code"
                raise FhirError(
                    f"{item.id}: {shown} is not a code of this item; codes: {', '.join(item.codes)}"
                )
            return code
        if "valueBoolean" in answer:
            return answer["valueBoolean"]
        if "valueString" in answer:
            return answer["valueString"]
        if _declined_by_extension(answer):
            return DECLINED
        kinds = sorted(field_name(key) for key in answer if key.startswith("value")) or ["no value"]
        raise FhirError(
            f"{item.id}: cannot read an answer with {', '.join(kinds)}; use valueCoding"
        )

    def _stored(self, link: str, answers: list[Any]) -> None:
        values = [_only_value(link, answer) for answer in answers]
        if link in self.scores:
            if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int):
                raise FhirError(f"{link}: expected one whole-number answer")
            self.stored[self.scores[link]] = values[0]
        elif link == LOWER_BOUND_LINK:
            if len(values) != 1 or not isinstance(values[0], bool):
                raise FhirError(f"{link}: expected one true/false answer")
            self.stored["lower_bound"] = values[0]
        elif link == BAND_LINK:
            self.stored["band"] = _one_code(link, values, band_system(self.q))
        elif link == TOP_LEVEL_LINK:
            self.stored["top_flag_level"] = _one_code(link, values, LEVEL_SYSTEM)
        elif link == FLAGS_LINK:
            self.stored["flags"] = [_code(link, v, flag_system(self.q)) for v in values]
        else:
            raise FhirError(
                f"unknown linkId {_quoted(link)}: not a result of questionnaire {self.q.id}"
            )


def _quoted(value: object) -> str:
    """A value from the file for a message: code-like text quoted, anything else (a
    sentence, a URL with a person's name in it, a number, an object) only described."""
    if isinstance(value, str):
        return quote_value(value)
    return f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"


def _declined_by_extension(answer: Mapping[str, Any]) -> bool:
    extensions = answer.get("extension")
    return isinstance(extensions, list) and any(
        isinstance(ext, dict)
        and ext.get("url") == EXT_DATA_ABSENT
        and ext.get("valueCode") == ASKED_DECLINED
        for ext in extensions
    )


def _only_value(link: str, answer: object) -> object:
    values = (
        [v for k, v in answer.items() if k.startswith("value")] if isinstance(answer, dict) else []
    )
    if len(values) != 1:
        raise FhirError(f"{link}: each answer needs exactly one value")
    return values[0]


def _code(link: str, value: object, system: str) -> str:
    if (
        not isinstance(value, dict)
        or value.get("system") != system
        or not isinstance(value.get("code"), str)
    ):
        raise FhirError(f"{link}: expected a coding from {system}")
    code: str = value["code"]
    return code


def _one_code(link: str, values: list[object], system: str) -> str:
    if len(values) != 1:
        raise FhirError(f"{link}: expected one answer")
    return _code(link, values[0], system)


def result_values(result: Result) -> dict[str, Any]:
    """What a response exported by ketscreen stores for `result`, by key."""
    values: dict[str, Any] = dict(result.scores)
    values["band"] = result.band
    values["lower_bound"] = result.lower_bound
    values["top_flag_level"] = result.top_level
    values["flags"] = [flag.id for flag in result.flags]
    return values


class Verification(NamedTuple):
    """What `--verify` found for one response."""

    problems: list[str]
    """Every disagreement between a stored value and the recomputed one."""
    unstored: tuple[str, ...]
    """Keys the response does not store: recomputed, reported, not compared."""


def verify_scores(
    recomputed: Result | Mapping[str, Any], stored: Mapping[str, Any]
) -> Verification:
    """Compare what the response stores with the `recomputed` result, key by key.

    `recomputed` is a Result, or its values by key as `result_values` gives them. A value
    the response stores must agree. One it does not store is recomputed and reported
    (`unstored`), not counted as a disagreement: a form filler computes only what it can.
    Once a response stores a band, it carries a computed result, and the items a result
    leaves out when empty (a score that is absent, no alerts, no alert level) are read as
    empty and compared, as ketscreen and the exported expressions both leave them out.
    """
    values = result_values(recomputed) if isinstance(recomputed, Result) else recomputed
    has_result = "band" in stored
    problems: list[str] = []
    unstored: list[str] = []
    for key, expected in values.items():
        if key in stored:
            found = stored[key]
        elif has_result and key != "lower_bound":
            found = [] if key == "flags" else None
        else:
            unstored.append(key)
            continue
        same = sorted(found) == sorted(expected) if key == "flags" else found == expected
        if not same:
            problems.append(f"{key}: stored {_show(found)}, recomputed {_show(expected)}")
    return Verification(problems, tuple(unstored))


def compare_scores(recomputed: Result | Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    """Every disagreement between the `stored` result and the `recomputed` one (what a
    response does not store is not a disagreement: see `verify_scores`)."""
    return verify_scores(recomputed, stored).problems


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(value) if value else "none"
    return str(value)

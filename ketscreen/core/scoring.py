"""The scoring engine: `score(questionnaire, answers) -> Result`. Pure: data in, data out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ketscreen.core.conditions import Answer, Context, why_false
from ketscreen.core.model import DECLINED, FlagLevel, Questionnaire
from ketscreen.core.normalize import Answers, normalize_answers
from ketscreen.errors import AnswerError

NOT_ASSESSED = "not_assessed"
"""`top_flag_level` of a result that raised no flag although a safety question was not
answered (not asked yet, or left without an answer): never read that as "no flags"."""


@dataclass(frozen=True)
class Flag:
    id: str
    level: FlagLevel
    item: str


@dataclass(frozen=True)
class Contribution:
    """How one asked item entered the result."""

    item: str
    answer: Answer | None
    points: int | None
    counted_in: tuple[str, ...]


@dataclass(frozen=True)
class Provenance:
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_sha256: str
    tool_version: str
    scored_at: str


@dataclass(frozen=True)
class Result:
    band: str
    lower_bound: bool
    scores: Mapping[str, int | None]
    missing: tuple[str, ...]
    flags: tuple[Flag, ...]
    guidance: tuple[str, ...]
    answers: Mapping[str, Answer]
    asked: tuple[str, ...]
    contributions: tuple[Contribution, ...]
    provenance: Provenance
    not_assessed: tuple[str, ...] = ()
    """Safety questions (`Questionnaire.safety_items`) asked but with no answer at all:
    neither a code nor `declined`. A stopped or unfinished record has them."""

    def score(self, score_id: str) -> int | None:
        """One score by its id (the questionnaire's `scores:`); KeyError for an unknown id."""
        return self.scores[score_id]

    if not TYPE_CHECKING:  # for library users only: the engine names no score

        def __getattr__(self, name: str) -> int | None:
            """A score as an attribute, `result.<score id>` (`result.criteria_count`)."""
            scores = self.__dict__.get("scores")
            if name.startswith("__") or scores is None or name not in scores:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            return scores[name]

    @property
    def top_flag_level(self) -> FlagLevel | None:
        """The most urgent level raised, or None (see `top_level` for not_assessed)."""
        return self.flags[0].level if self.flags else None

    @property
    def top_level(self) -> str | None:
        """`top_flag_level` as every output shows it: the most urgent level raised;
        else `not_assessed` when a safety question has no answer; else None."""
        if self.flags:
            return self.flags[0].level.value
        return NOT_ASSESSED if self.not_assessed else None

    def to_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """Plain JSON-ready data; `explain` adds answers and per-item contributions."""
        data: dict[str, Any] = {
            "band": self.band,
            "lower_bound": self.lower_bound,
            **dict(self.scores),
            "top_flag_level": self.top_level,
            "not_assessed": list(self.not_assessed),
            "flags": [{"id": f.id, "level": f.level.value, "item": f.item} for f in self.flags],
            "missing": list(self.missing),
            "guidance": list(self.guidance),
            "provenance": {
                "questionnaire": self.provenance.questionnaire_id,
                "questionnaire_version": self.provenance.questionnaire_version,
                "questionnaire_sha256": self.provenance.questionnaire_sha256,
                "tool_version": self.provenance.tool_version,
                "scored_at": self.provenance.scored_at,
            },
        }
        if explain:
            data["answers"] = {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.answers.items()
            }
            data["contributions"] = [
                {
                    "item": c.item,
                    "answer": list(c.answer) if isinstance(c.answer, tuple) else c.answer,
                    "points": c.points,
                    "counted_in": list(c.counted_in),
                }
                for c in self.contributions
            ]
        return data


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def asked_items(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> tuple[str, ...]:
    """The items skip logic asks, in order, given (normalised) answers."""
    given = {k: v for k, v in answers.items() if v != DECLINED}
    ctx = Context(given)
    return tuple(
        item.id
        for item in questionnaire.items.values()
        if item.enable_when is None or item.enable_when.evaluate(ctx)
    )


def raised_flags(questionnaire: Questionnaire, ctx: Context) -> tuple[Flag, ...]:
    """The flags whose rules hold, most urgent first, then in questionnaire order."""
    raised = [Flag(r.id, r.level, r.item) for r in questionnaire.flags if r.when.evaluate(ctx)]
    return tuple(sorted(raised, key=lambda flag: flag.level.rank))


def score(
    questionnaire: Questionnaire,
    answers: Mapping[str, object],
    *,
    scored_at: str | None = None,
) -> Result:
    """Score one response. Raises AnswerError for answers that do not fit the questionnaire."""
    from ketscreen import __version__

    normal: Answers = normalize_answers(questionnaire, answers)
    given = {k: v for k, v in normal.items() if v != DECLINED}
    ctx = Context(given)

    asked: list[str] = []
    missing: list[str] = []
    for item in questionnaire.items.values():
        is_asked = item.enable_when is None or item.enable_when.evaluate(ctx)
        if not is_asked:
            if item.id in normal:
                assert item.enable_when is not None
                declined = [k for k, v in normal.items() if v == DECLINED]
                raise AnswerError(
                    item.id,
                    f"answered {item.id}, but {why_false(item.enable_when, ctx, declined)}, "
                    f"so {item.id} is not asked: leave it empty",
                )
            continue
        asked.append(item.id)
        if item.id not in given:
            if item.required:
                raise AnswerError(item.id, "is required", item.allowed_codes)
            missing.append(item.id)

    asked_set = set(asked)
    scores: dict[str, int | None] = {}
    counted: dict[str, list[str]] = {}
    for sc in questionnaire.scores:
        members = [i for i in sc.items if i in asked_set]
        if not members or (len(sc.items) == 1 and members[0] not in given):
            # Not asked; or a one-item score (the weight of one answer, an ordinal) whose
            # item is unanswered or declined: absent, never 0, which is an answer.
            scores[sc.id] = None
            continue
        total = 0
        for member in members:
            answer = given.get(member)
            if answer is not None:
                total += questionnaire.items[member].weights[answer]  # type: ignore[index]
                counted.setdefault(member, []).append(sc.id)
        scores[sc.id] = total

    band, lower_bound = _band(questionnaire, ctx, scores, asked_set, given)
    not_assessed = tuple(
        i for i in questionnaire.safety_items if i in asked_set and i not in normal
    )

    flags = raised_flags(questionnaire, ctx)
    levels = {f.level.value for f in flags}
    result_ctx = Context(given, band, levels)
    guidance = tuple(
        topic.id
        for topic in questionnaire.guidance.topics
        if topic.when is None or topic.when.evaluate(result_ctx)
    )
    contributions = tuple(
        Contribution(
            item=item_id,
            answer=normal.get(item_id),
            points=(
                questionnaire.items[item_id].weights.get(given[item_id])  # type: ignore[arg-type]
                if item_id in counted
                else None
            ),
            counted_in=tuple(counted.get(item_id, ())),
        )
        for item_id in asked
    )
    return Result(
        band=band,
        lower_bound=lower_bound,
        scores=scores,
        missing=tuple(missing),
        flags=flags,
        guidance=guidance,
        answers=normal,
        asked=tuple(asked),
        contributions=contributions,
        provenance=Provenance(
            questionnaire.id,
            questionnaire.version,
            questionnaire.sha256,
            __version__,
            scored_at or utc_now(),
        ),
        not_assessed=not_assessed,
    )


def _band(
    questionnaire: Questionnaire,
    ctx: Context,
    scores: Mapping[str, int | None],
    asked: set[str],
    given: Mapping[str, Answer],
) -> tuple[str, bool]:
    rule = questionnaire.band_rule
    for band in rule.bands:
        if band.when is not None and band.when.evaluate(ctx):
            return band.id, False
    incomplete = next(band.id for band in rule.bands if band.incomplete)
    value = scores.get(rule.score)
    score_items = next(s.items for s in questionnaire.scores if s.id == rule.score)
    unanswered = sum(1 for i in score_items if i in asked and i not in given)
    if value is None or unanswered > rule.max_missing:
        return incomplete, False
    for band in rule.bands:
        if band.low is not None and band.high is not None and band.low <= value <= band.high:
            return band.id, unanswered > 0
    return incomplete, False  # unreachable for a validated questionnaire

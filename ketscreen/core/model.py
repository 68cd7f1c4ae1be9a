"""The questionnaire model: immutable data, built and checked by `core.schema`.

Nothing here knows about files, YAML, terminals or Typer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from ketscreen.core.conditions import Condition

DECLINED = "declined"
"""The reserved code for "prefer not to say"; it counts as unanswered."""


class ItemType(str, Enum):
    SINGLE = "single"
    MULTI = "multi"
    YES_NO = "yes_no"


class FlagLevel(str, Enum):
    """Alert levels, most urgent first. Their order is fixed by CONTENT.md section 3."""

    EMERGENCY = "emergency"
    CRISIS = "crisis"
    URGENT = "urgent"
    SEE_DOCTOR = "see_doctor"
    HARM_REDUCTION = "harm_reduction"

    @property
    def rank(self) -> int:
        """0 for the most urgent level."""
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = list(FlagLevel)


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    weight: int | None = None


@dataclass(frozen=True)
class Item:
    id: str
    type: ItemType
    text: str
    short: str
    section: str
    choices: tuple[Choice, ...]
    source: tuple[str, ...]
    help: str | None = None
    enable_when: Condition | None = None
    required: bool = False
    allow_decline: bool = True
    time_frame: str | None = None
    criterion: str | None = None

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    @cached_property
    def weights(self) -> Mapping[str, int]:
        return {c.code: c.weight for c in self.choices if c.weight is not None}

    @cached_property
    def labels(self) -> Mapping[str, str]:
        return {c.code: c.label for c in self.choices}

    @property
    def allowed_codes(self) -> tuple[str, ...]:
        """Every code this item accepts, including `declined` where allowed."""
        return (*self.codes, DECLINED) if self.allow_decline else self.codes


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[str, ...]
    intro: str | None = None
    time_frame: str | None = None


@dataclass(frozen=True)
class Score:
    """A sum of the weights of the answered items in `items`; absent when none is asked.

    A score of one item is that answer's weight (an ordinal): absent when the item is
    unanswered or declined too, never 0, which is an answer ("not at all")."""

    id: str
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    """One outcome. Exactly one of `when`, `incomplete` or a `low`..`high` range applies."""

    id: str
    label: str
    headline: str
    when: Condition | None = None
    incomplete: bool = False
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class BandRule:
    score: str
    max_missing: int
    bands: tuple[Band, ...]

    def band(self, band_id: str) -> Band:
        for band in self.bands:
            if band.id == band_id:
                return band
        raise KeyError(band_id)


@dataclass(frozen=True)
class FlagRule:
    id: str
    level: FlagLevel
    item: str
    label: str
    when: Condition
    advice: str | None = None
    """What to do about this flag in particular, shown with it (e.g. an emergency route)."""


@dataclass(frozen=True)
class LevelInfo:
    label: str
    advice: str


@dataclass(frozen=True)
class GuidanceTopic:
    """A piece of guidance shown when its condition holds for a result."""

    id: str
    title: str
    text: str
    when: Condition | None = None


@dataclass(frozen=True)
class Guidance:
    bands: Mapping[str, str]
    readiness_item: str | None
    readiness: Mapping[str, str]
    topics: tuple[GuidanceTopic, ...]


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    ref: str


@dataclass(frozen=True)
class Example:
    name: str
    answers: Mapping[str, str | tuple[str, ...]]
    expect: Mapping[str, object]
    line: int = 0


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    description: str
    sha256: str
    source_name: str
    sections: tuple[Section, ...]
    items: Mapping[str, Item]
    scores: tuple[Score, ...]
    band_rule: BandRule
    flags: tuple[FlagRule, ...]
    levels: Mapping[FlagLevel, LevelInfo]
    guidance: Guidance
    sources: tuple[Source, ...]
    examples: tuple[Example, ...] = field(default=())
    safety_plan: str | None = None
    """The crisis panel's safety-planning line for this instrument; None: the one in
    resources.yaml."""

    @cached_property
    def safety_items(self) -> tuple[str, ...]:
        """The safety questions: items whose answers can raise a crisis or emergency flag.

        A result in which one of these was asked but has no answer (neither a code nor
        `declined`) and no flag was raised is `not_assessed` (CONTENT.md section 4). Read
        from the flag rules, so it holds for every version without naming an item.
        """
        urgent = (FlagLevel.EMERGENCY, FlagLevel.CRISIS)
        wanted = {rule.item for rule in self.flags if rule.level in urgent}
        return tuple(item for item in self.items if item in wanted)

    @cached_property
    def order(self) -> tuple[str, ...]:
        """Item ids in the order they are asked."""
        return tuple(self.items)

    def item(self, item_id: str) -> Item:
        return self.items[item_id]

    def section_of(self, item_id: str) -> Section:
        wanted = self.items[item_id].section
        for section in self.sections:
            if section.id == wanted:
                return section
        raise KeyError(wanted)

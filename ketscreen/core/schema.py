"""Turn located YAML data into a checked `Questionnaire`, or report every problem.

The checks (each reported as `file:line:column: message`):

- unknown keys, missing keys and values of the wrong kind, everywhere;
- ids and codes: lower-case ASCII, unique (items, choices, flags, bands, topics, sources);
- references: conditions, scores, flags and guidance name items and codes that exist;
  `enable_when` only looks at items asked earlier; items name known sources;
- reachability: every item can be asked for some set of answers;
- bands: the ranges cover the band score from 0 to its maximum with no gap or overlap;
- levels: exactly the five alert levels are described.

The questionnaire's own `examples:` are checked separately (`core.examples`), after
the model is built.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ketscreen.core.conditions import (
    ITEM_OPERATORS,
    AllOf,
    AnyOf,
    BandCondition,
    Condition,
    Context,
    FlagLevelCondition,
    ItemCondition,
)
from ketscreen.core.model import (
    DECLINED,
    Band,
    BandRule,
    Choice,
    Example,
    FlagLevel,
    FlagRule,
    Guidance,
    GuidanceTopic,
    Item,
    ItemType,
    LevelInfo,
    Questionnaire,
    Score,
    Section,
    Source,
)
from ketscreen.core.yamlsafe import Loc, LocatedDict, LocatedList, loc_of
from ketscreen.errors import Problem, QuestionnaireError

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
YES_NO_CHOICES = (Choice("no", "No", 0), Choice("yes", "Yes", 1))
"""The default answers of a `yes_no` item: "no" first, as every symptom-like item lists
its "no" answer first (docs/questionnaire-format.md, "Answer order")."""
MAX_REACHABILITY_STATES = 100_000

T = TypeVar("T")


class _Invalid(Exception):
    """Raised inside the builder to abandon one value after its problem was recorded."""


def canonical_sha256(data: Any) -> str:
    """SHA-256 of the canonical JSON form of the parsed file.

    Comments, key order, quoting and layout do not change it; any change of content does.
    """
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    # -- recording -------------------------------------------------------------------

    def fail(self, loc: Loc, message: str) -> _Invalid:
        self.problems.append(loc.problem(message))
        return _Invalid()

    def attempt(self, func: Callable[..., T], *args: Any) -> T | None:
        try:
            return func(*args)
        except _Invalid:
            return None

    # -- typed field access ----------------------------------------------------------

    def mapping(self, value: Any, loc: Loc, what: str) -> LocatedDict:
        if not isinstance(value, LocatedDict):
            raise self.fail(loc_of(value, loc), f"{what} must be a mapping of key: value")
        return value

    def keys(
        self, data: LocatedDict, what: str, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> None:
        allowed = set(required) | set(optional)
        for key in data:
            if key not in allowed:
                self.fail(
                    data.key_loc(key),
                    f"unknown key {key!r} in {what}; allowed: {', '.join(sorted(allowed))}",
                )
        for key in required:
            if key not in data:
                self.fail(data.loc, f"{what} is missing the key {key!r}")
        if any(key not in data for key in required):
            raise _Invalid()

    def text(self, data: LocatedDict, key: str, what: str, *, optional: bool = False) -> str:
        value = data.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                data.value_loc(key),
                f"{what}.{key} must be text; put numbers such as versions in quotes",
            )
        return " ".join(value.split())

    def ident(self, value: Any, loc: Loc, what: str) -> str:
        if not isinstance(value, str) or not ID_RE.match(value):
            raise self.fail(
                loc,
                f"{what} {value!r} must be lower-case ASCII letters, digits and _, "
                "starting with a letter",
            )
        return value

    def ident_list(self, data: LocatedDict, key: str, what: str) -> tuple[str, ...]:
        value = data.get(key)
        if isinstance(value, str):
            return (self.ident(value, data.value_loc(key), what),)
        if not isinstance(value, LocatedList) or not value:
            raise self.fail(data.value_loc(key), f"{what} must be an id or a non-empty list")
        return tuple(self.ident(v, value.item_loc(i), what) for i, v in enumerate(value))

    def sequence(
        self, data: LocatedDict, key: str, what: str, *, empty: bool = False
    ) -> LocatedList:
        value = data.get(key)
        if not isinstance(value, LocatedList) or not (value or empty):
            kind = "a list (`[]` for none)" if empty else "a non-empty list"
            raise self.fail(data.value_loc(key), f"{what} must be {kind}")
        return value

    def each(self, seq: LocatedList, func: Callable[[Any, Loc], T]) -> Iterator[T]:
        for index, value in enumerate(seq):
            built = self.attempt(func, value, seq.item_loc(index))
            if built is not None:
                yield built


def build_questionnaire(data: Any, source: str) -> Questionnaire:
    """Check `data` (from `yamlsafe.load_yaml`) and build the model, or raise every problem."""
    b = _Builder(source)
    root_loc = loc_of(data, Loc(source, 1, 1))
    if not isinstance(data, LocatedDict):
        raise QuestionnaireError(
            [root_loc.problem("the top level must be a mapping (id:, version:, sections: ...)")]
        )
    result = b.attempt(lambda: _build(b, data))
    if b.problems or result is None:
        raise QuestionnaireError(b.problems or [root_loc.problem("questionnaire is not valid")])
    return result


_TOP_KEYS = ("id", "version", "title", "sections", "scores", "bands", "levels", "flags")
_TOP_OPTIONAL = ("description", "sources", "guidance", "examples", "safety_plan")


def _build(b: _Builder, data: LocatedDict) -> Questionnaire:
    b.keys(data, "the questionnaire", _TOP_KEYS, _TOP_OPTIONAL)
    qid = b.attempt(lambda: b.ident(data["id"], data.value_loc("id"), "questionnaire id"))
    version = b.attempt(lambda: b.text(data, "version", "questionnaire"))
    title = b.attempt(lambda: b.text(data, "title", "questionnaire"))
    description = b.attempt(lambda: b.text(data, "description", "questionnaire", optional=True))
    safety_plan = b.attempt(lambda: b.text(data, "safety_plan", "questionnaire", optional=True))

    sources = _sources(b, data)
    source_ids = {s.id for s in sources}
    sections, items = _sections(b, data, source_ids)
    scores = _scores(b, data, items)
    band_rule = b.attempt(lambda: _bands(b, data, items, scores))
    levels = b.attempt(lambda: _levels(b, data))
    flags = _flags(b, data, items)
    band_ids = {band.id for band in band_rule.bands} if band_rule else set()
    guidance = b.attempt(lambda: _guidance(b, data, items, band_ids))
    examples = _examples(b, data, {s.id for s in scores})
    _check_reachability(b, data, items)

    if b.problems:
        raise _Invalid()
    assert qid and version and title and band_rule and levels and guidance is not None
    return Questionnaire(
        id=qid,
        version=version,
        title=title,
        description=description or "",
        safety_plan=safety_plan or None,
        sha256=canonical_sha256(data),
        source_name=b.source,
        sections=sections,
        items=items,
        scores=scores,
        band_rule=band_rule,
        flags=flags,
        levels=levels,
        guidance=guidance,
        sources=sources,
        examples=examples,
    )


# -- sources, sections and items ---------------------------------------------------------


def _sources(b: _Builder, data: LocatedDict) -> tuple[Source, ...]:
    if "sources" not in data:
        return ()
    seq = b.attempt(lambda: b.sequence(data, "sources", "sources"))
    if seq is None:
        return ()

    def one(value: Any, loc: Loc) -> Source:
        entry = b.mapping(value, loc, "a source")
        b.keys(entry, "a source", ("id", "title", "ref"), ())
        return Source(
            b.ident(entry["id"], entry.value_loc("id"), "source id"),
            b.text(entry, "title", "source"),
            b.text(entry, "ref", "source"),
        )

    built = list(b.each(seq, one))
    _unique(b, seq, [s.id for s in built], "source id")
    return tuple(built)


def _unique(b: _Builder, seq: LocatedList, ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            b.fail(loc_of(seq[index], seq.item_loc(index)), f"duplicate {what} {ident!r}")
        seen.add(ident)


_SECTION_KEYS = ("id", "title", "items")
_SECTION_OPTIONAL = ("intro", "time_frame")
_ITEM_KEYS = ("id", "type", "text", "short", "source")
_ITEM_OPTIONAL = (
    "choices",
    "help",
    "enable_when",
    "required",
    "allow_decline",
    "time_frame",
    "criterion",
)


def _sections(
    b: _Builder, data: LocatedDict, source_ids: set[str]
) -> tuple[tuple[Section, ...], dict[str, Item]]:
    items: dict[str, Item] = {}
    sections: list[Section] = []
    seq = b.attempt(lambda: b.sequence(data, "sections", "sections"))
    if seq is None:
        return (), items
    section_ids: list[str] = []
    for index, value in enumerate(seq):
        section = b.attempt(_section, b, value, seq.item_loc(index), items, source_ids)
        if section is not None:
            sections.append(section)
            section_ids.append(section.id)
    _unique(b, seq, section_ids, "section id")
    return tuple(sections), items


def _section(
    b: _Builder, value: Any, loc: Loc, items: dict[str, Item], source_ids: set[str]
) -> Section:
    sec = b.mapping(value, loc, "a section")
    b.keys(sec, "a section", _SECTION_KEYS, _SECTION_OPTIONAL)
    sid = b.ident(sec["id"], sec.value_loc("id"), "section id")
    title = b.text(sec, "title", f"section {sid}")
    time_frame = b.text(sec, "time_frame", f"section {sid}", optional=True) or None
    seq = b.sequence(sec, "items", f"section {sid} items")
    ids: list[str] = []
    for index, raw in enumerate(seq):
        item = b.attempt(_item, b, raw, seq.item_loc(index), sid, time_frame, items, source_ids)
        if item is None:
            continue
        if item.id in items:
            b.fail(loc_of(raw, seq.item_loc(index)), f"duplicate item id {item.id!r}")
            continue
        items[item.id] = item
        ids.append(item.id)
    return Section(
        id=sid,
        title=title,
        items=tuple(ids),
        intro=b.text(sec, "intro", f"section {sid}", optional=True) or None,
        time_frame=time_frame,
    )


def _item(
    b: _Builder,
    value: Any,
    loc: Loc,
    section: str,
    section_time_frame: str | None,
    earlier: Mapping[str, Item],
    source_ids: set[str],
) -> Item:
    raw = b.mapping(value, loc, "an item")
    b.keys(raw, "an item", _ITEM_KEYS, _ITEM_OPTIONAL)
    iid = b.ident(raw["id"], raw.value_loc("id"), "item id")
    what = f"item {iid}"
    try:
        itype = ItemType(raw["type"])
    except ValueError:
        raise b.fail(
            raw.value_loc("type"),
            f"{what}: type {raw['type']!r} is not one of {', '.join(t.value for t in ItemType)}",
        ) from None
    choices = _choices(b, raw, itype, what)
    for key in ("required", "allow_decline"):
        if key in raw and not isinstance(raw[key], bool):
            b.fail(raw.value_loc(key), f"{what}.{key} must be true or false")
    refs = b.ident_list(raw, "source", f"{what} source")
    for index, ref in enumerate(refs):
        if ref not in source_ids:
            where = raw.value_loc("source")
            if isinstance(raw["source"], LocatedList):
                where = raw["source"].item_loc(index)
            b.fail(where, f"{what} names an unknown source {ref!r}")
    enable_when = None
    if "enable_when" in raw:
        enable_when = _condition(
            b, raw["enable_when"], raw.value_loc("enable_when"), earlier, allow_result=False
        )
    return Item(
        id=iid,
        type=itype,
        text=b.text(raw, "text", what),
        short=b.text(raw, "short", what),
        section=section,
        choices=choices,
        source=refs,
        help=b.text(raw, "help", what, optional=True) or None,
        enable_when=enable_when,
        required=raw.get("required") is True,
        allow_decline=raw.get("allow_decline", True) is not False,
        time_frame=b.text(raw, "time_frame", what, optional=True) or section_time_frame,
        criterion=b.text(raw, "criterion", what, optional=True) or None,
    )


def _choices(b: _Builder, raw: LocatedDict, itype: ItemType, what: str) -> tuple[Choice, ...]:
    if "choices" not in raw:
        if itype is ItemType.YES_NO:
            return YES_NO_CHOICES
        raise b.fail(raw.loc, f"{what} needs choices")
    seq = b.sequence(raw, "choices", f"{what} choices")

    def one(value: Any, loc: Loc) -> Choice:
        entry = b.mapping(value, loc, "a choice")
        b.keys(entry, "a choice", ("code", "label"), ("weight",))
        code = b.ident(entry["code"], entry.value_loc("code"), "choice code")
        if code == DECLINED:
            raise b.fail(entry.value_loc("code"), f"{DECLINED!r} is reserved; use allow_decline")
        weight = entry.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int)):
            raise b.fail(entry.value_loc("weight"), "a weight must be a whole number")
        return Choice(code, b.text(entry, "label", f"{what} choice {code}"), weight)

    choices = tuple(b.each(seq, one))
    _unique(b, seq, [c.code for c in choices], f"code in {what}")
    if itype is ItemType.YES_NO:
        if sorted(c.code for c in choices) != ["no", "yes"]:
            raise b.fail(seq.loc, f"{what} is yes_no, so its codes must be yes and no")
        weights = {c.code: c.weight for c in choices}
        choices = tuple(
            Choice(
                c.code, c.label, c.weight if weights[c.code] is not None else int(c.code == "yes")
            )
            for c in choices
        )
    return choices


# -- conditions ---------------------------------------------------------------------------


def _condition(
    b: _Builder,
    value: Any,
    loc: Loc,
    items: Mapping[str, Item],
    *,
    allow_result: bool,
    band_ids: set[str] | None = None,
) -> Condition:
    raw = b.mapping(value, loc, "a condition")
    here = raw.loc
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        b.keys(raw, "a condition", (key,), ())
        seq = raw[key]
        if not isinstance(seq, LocatedList) or not seq:
            raise b.fail(raw.value_loc(key), f"{key}: needs a non-empty list of conditions")
        parts = tuple(
            _condition(b, v, seq.item_loc(i), items, allow_result=allow_result, band_ids=band_ids)
            for i, v in enumerate(seq)
        )
        return AllOf(parts) if key == "all" else AnyOf(parts)
    if "band" in raw or "flag_level" in raw:
        key = "band" if "band" in raw else "flag_level"
        b.keys(raw, "a condition", (key,), ())
        if not allow_result:
            raise b.fail(here, f"{key}: can only be used in guidance, not here")
        names = b.ident_list(raw, key, key)
        known = (band_ids or set()) if key == "band" else {level.value for level in FlagLevel}
        for name in names:
            if name not in known:
                b.fail(raw.value_loc(key), f"unknown {key} {name!r}")
        return BandCondition(names) if key == "band" else FlagLevelCondition(names)
    ops = [op for op in ITEM_OPERATORS if op in raw]
    if "item" not in raw or len(ops) != 1:
        raise b.fail(
            here,
            "a condition is {item: ID, equals|not_equals|in|not_in|contains|answered: ...}, "
            "{band: [...]}, {flag_level: [...]}, {all: [...]} or {any: [...]}",
        )
    op = ops[0]
    b.keys(raw, "a condition", ("item", op), ())
    iid = raw["item"]
    if not isinstance(iid, str) or iid not in items:
        raise b.fail(
            raw.value_loc("item"),
            f"condition refers to {iid!r}, which is not an item asked before this point",
        )
    item = items[iid]
    if op == "answered":
        if not isinstance(raw[op], bool):
            raise b.fail(raw.value_loc(op), "answered: must be true or false")
        return ItemCondition(iid, op, (), raw[op])
    codes: tuple[str, ...]
    if op in ("in", "not_in"):
        listed = raw[op]
        if not isinstance(listed, LocatedList) or not listed:
            raise b.fail(raw.value_loc(op), f"{op}: needs a non-empty list of codes")
        codes = tuple(str(v) for v in listed)
    else:
        codes = (str(raw[op]),)
    if op == "contains" and item.type is not ItemType.MULTI:
        raise b.fail(
            here, f"contains: only works with multi-select items; {iid} is {item.type.value}"
        )
    for code in codes:
        if code not in item.codes:
            b.fail(
                raw.value_loc(op),
                f"{iid} has no code {code!r}; codes are {', '.join(item.codes)}",
            )
    return ItemCondition(iid, op, codes)


# -- scores, bands, flags, levels ------------------------------------------------------------


def _scores(b: _Builder, data: LocatedDict, items: Mapping[str, Item]) -> tuple[Score, ...]:
    seq = b.attempt(lambda: b.sequence(data, "scores", "scores"))
    if seq is None:
        return ()

    def one(value: Any, loc: Loc) -> Score:
        raw = b.mapping(value, loc, "a score")
        b.keys(raw, "a score", ("id", "label", "items"), ())
        sid = b.ident(raw["id"], raw.value_loc("id"), "score id")
        members = b.ident_list(raw, "items", f"score {sid} items")
        for member in members:
            item = items.get(member)
            if item is None:
                b.fail(raw.value_loc("items"), f"score {sid} names an unknown item {member!r}")
            elif item.type is ItemType.MULTI or len(item.weights) != len(item.choices):
                b.fail(
                    raw.value_loc("items"),
                    f"score {sid}: item {member} needs a weight on every choice",
                )
        if len(set(members)) != len(members):
            b.fail(raw.value_loc("items"), f"score {sid} lists an item twice")
        return Score(sid, b.text(raw, "label", f"score {sid}"), members)

    scores = tuple(b.each(seq, one))
    _unique(b, seq, [s.id for s in scores], "score id")
    return scores


def _bands(
    b: _Builder, data: LocatedDict, items: Mapping[str, Item], scores: tuple[Score, ...]
) -> BandRule:
    raw = b.mapping(data["bands"], data.value_loc("bands"), "bands")
    b.keys(raw, "bands", ("score", "list"), ("max_missing",))
    score_id = raw["score"]
    score = next((s for s in scores if s.id == score_id), None)
    if score is None:
        raise b.fail(raw.value_loc("score"), f"bands.score names an unknown score {score_id!r}")
    max_missing = raw.get("max_missing", 0)
    if isinstance(max_missing, bool) or not isinstance(max_missing, int) or max_missing < 0:
        raise b.fail(raw.value_loc("max_missing"), "max_missing must be a whole number >= 0")
    seq = b.sequence(raw, "list", "bands.list")

    def one(value: Any, loc: Loc) -> Band:
        entry = b.mapping(value, loc, "a band")
        kinds = [k for k in ("when", "incomplete", "range") if k in entry]
        if len(kinds) != 1:
            raise b.fail(entry.loc, "a band needs exactly one of when:, incomplete: or range:")
        b.keys(entry, "a band", ("id", "label", "headline", kinds[0]), ())
        bid = b.ident(entry["id"], entry.value_loc("id"), "band id")
        label = b.text(entry, "label", f"band {bid}")
        headline = b.text(entry, "headline", f"band {bid}")
        if kinds[0] == "when":
            cond = _condition(b, entry["when"], entry.value_loc("when"), items, allow_result=False)
            return Band(bid, label, headline, when=cond)
        if kinds[0] == "incomplete":
            if entry["incomplete"] is not True:
                raise b.fail(entry.value_loc("incomplete"), "incomplete: must be true")
            return Band(bid, label, headline, incomplete=True)
        bounds = entry["range"]
        if (
            not isinstance(bounds, LocatedList)
            or len(bounds) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in bounds)
            or bounds[0] > bounds[1]
        ):
            raise b.fail(entry.value_loc("range"), "range: must be [low, high] whole numbers")
        return Band(bid, label, headline, low=bounds[0], high=bounds[1])

    bands = tuple(b.each(seq, one))
    _unique(b, seq, [band.id for band in bands], "band id")
    incomplete = [band for band in bands if band.incomplete]
    if len(incomplete) != 1:
        b.fail(seq.loc, "bands need exactly one band with incomplete: true")
    maximum = sum(max(items[i].weights.values(), default=0) for i in score.items if i in items)
    locs = {
        entry.get("id"): loc_of(entry, seq.item_loc(index))
        for index, entry in enumerate(seq)
        if isinstance(entry, LocatedDict) and isinstance(entry.get("id"), str)
    }
    _check_ranges(b, locs, [band for band in bands if band.low is not None], maximum)
    return BandRule(score.id, max_missing, bands)


def _check_ranges(b: _Builder, locs: dict[Any, Loc], ranged: list[Band], maximum: int) -> None:
    """The range bands must cover 0..maximum exactly once; report at the band at fault."""
    expected = 0
    for band in sorted(ranged, key=lambda band: (band.low or 0, band.high or 0)):
        assert band.low is not None and band.high is not None
        where = locs[band.id]
        if band.low > expected:
            b.fail(where, f"bands leave a gap: no band covers {expected} to {band.low - 1}")
        elif band.low < expected:
            b.fail(where, f"bands overlap: band {band.id} starts at {band.low}, inside another")
        if band.high > maximum:
            b.fail(
                where,
                f"band {band.id} goes up to {band.high}, past the highest possible score {maximum}",
            )
        expected = max(expected, band.high + 1)
    if expected <= maximum:
        last = locs[ranged[-1].id] if ranged else Loc(b.source, 0, 0)
        b.fail(last, f"bands leave a gap: no band covers {expected} to {maximum}")


def _levels(b: _Builder, data: LocatedDict) -> dict[FlagLevel, LevelInfo]:
    raw = b.mapping(data["levels"], data.value_loc("levels"), "levels")
    b.keys(raw, "levels", tuple(level.value for level in FlagLevel), ())
    result: dict[FlagLevel, LevelInfo] = {}
    for level in FlagLevel:
        entry = b.mapping(raw[level.value], raw.value_loc(level.value), f"level {level.value}")
        b.keys(entry, f"level {level.value}", ("label", "advice"), ())
        result[level] = LevelInfo(
            b.text(entry, "label", f"level {level.value}"),
            b.text(entry, "advice", f"level {level.value}"),
        )
    return result


def _flags(b: _Builder, data: LocatedDict, items: Mapping[str, Item]) -> tuple[FlagRule, ...]:
    # An instrument may raise no alert at all (a scale such as the SDS): `flags: []`.
    seq = b.attempt(lambda: b.sequence(data, "flags", "flags", empty=True))
    if seq is None:
        return ()

    def one(value: Any, loc: Loc) -> FlagRule:
        raw = b.mapping(value, loc, "a flag")
        b.keys(raw, "a flag", ("id", "level", "item", "when", "label"), ("advice",))
        fid = b.ident(raw["id"], raw.value_loc("id"), "flag id")
        try:
            level = FlagLevel(raw["level"])
        except ValueError:
            raise b.fail(
                raw.value_loc("level"),
                f"flag {fid}: level must be one of {', '.join(x.value for x in FlagLevel)}",
            ) from None
        item = raw["item"]
        if not isinstance(item, str) or item not in items:
            raise b.fail(raw.value_loc("item"), f"flag {fid} names an unknown item {item!r}")
        when = _condition(b, raw["when"], raw.value_loc("when"), items, allow_result=False)
        advice = b.text(raw, "advice", f"flag {fid}") if "advice" in raw else None
        return FlagRule(fid, level, item, b.text(raw, "label", f"flag {fid}"), when, advice)

    flags = tuple(b.each(seq, one))
    _unique(b, seq, [f.id for f in flags], "flag id")
    return flags


# -- guidance and examples -------------------------------------------------------------------


def _guidance(
    b: _Builder, data: LocatedDict, items: Mapping[str, Item], band_ids: set[str]
) -> Guidance:
    if "guidance" not in data:
        return Guidance({}, None, {}, ())
    raw = b.mapping(data["guidance"], data.value_loc("guidance"), "guidance")
    b.keys(raw, "guidance", (), ("bands", "readiness", "topics"))
    bands: dict[str, str] = {}
    if "bands" in raw:
        texts = b.mapping(raw["bands"], raw.value_loc("bands"), "guidance.bands")
        for key in texts:
            if key not in band_ids:
                b.fail(texts.key_loc(key), f"guidance for an unknown band {key!r}")
            else:
                bands[key] = b.text(texts, key, "guidance.bands")
    readiness_item, readiness = _readiness(b, raw, items)
    topics: list[GuidanceTopic] = []
    if "topics" in raw:
        seq = b.sequence(raw, "topics", "guidance.topics")

        def one(value: Any, loc: Loc) -> GuidanceTopic:
            entry = b.mapping(value, loc, "a guidance topic")
            b.keys(entry, "a guidance topic", ("id", "title", "text"), ("when",))
            tid = b.ident(entry["id"], entry.value_loc("id"), "topic id")
            when = None
            if "when" in entry:
                when = _condition(
                    b,
                    entry["when"],
                    entry.value_loc("when"),
                    items,
                    allow_result=True,
                    band_ids=band_ids,
                )
            return GuidanceTopic(
                tid,
                b.text(entry, "title", f"topic {tid}"),
                b.text(entry, "text", f"topic {tid}"),
                when,
            )

        topics = list(b.each(seq, one))
        _unique(b, seq, [t.id for t in topics], "topic id")
    return Guidance(bands, readiness_item, readiness, tuple(topics))


def _readiness(
    b: _Builder, raw: LocatedDict, items: Mapping[str, Item]
) -> tuple[str | None, dict[str, str]]:
    if "readiness" not in raw:
        return None, {}
    entry = b.mapping(raw["readiness"], raw.value_loc("readiness"), "guidance.readiness")
    b.keys(entry, "guidance.readiness", ("item", "by_code"), ())
    item = items.get(entry["item"]) if isinstance(entry["item"], str) else None
    if item is None:
        raise b.fail(entry.value_loc("item"), f"unknown item {entry['item']!r}")
    texts = b.mapping(entry["by_code"], entry.value_loc("by_code"), "guidance.readiness.by_code")
    by_code: dict[str, str] = {}
    for code in texts:
        if code not in item.codes:
            b.fail(texts.key_loc(code), f"{item.id} has no code {code!r}")
        else:
            by_code[code] = b.text(texts, code, "guidance.readiness.by_code")
    return item.id, by_code


_EXPECT_KEYS = (
    "band",
    "lower_bound",
    "missing",
    "flags",
    "top_flag_level",
    "guidance",
    "not_assessed",
)


def _examples(b: _Builder, data: LocatedDict, score_ids: set[str]) -> tuple[Example, ...]:
    """Worked examples; `expect` may name the result fields and any score id."""
    if "examples" not in data:
        return ()
    seq = b.attempt(lambda: b.sequence(data, "examples", "examples"))
    if seq is None:
        return ()

    def one(value: Any, loc: Loc) -> Example:
        raw = b.mapping(value, loc, "an example")
        b.keys(raw, "an example", ("name", "answers", "expect"), ())
        answers = b.mapping(raw["answers"], raw.value_loc("answers"), "example answers")
        expect = b.mapping(raw["expect"], raw.value_loc("expect"), "example expect")
        b.keys(expect, "example expect", (), _EXPECT_KEYS + tuple(sorted(score_ids)))
        plain = {
            key: tuple(str(v) for v in val) if isinstance(val, list) else val
            for key, val in answers.items()
        }
        return Example(b.text(raw, "name", "an example"), plain, dict(expect), raw.loc.line)

    return tuple(b.each(seq, one))


# -- reachability ----------------------------------------------------------------------------
#
# An item is reachable when some answers to the items its `enable_when` depends on (and
# that those depend on, ...) make it hold, each of them asked under the same answers.
# Only the codes that conditions mention can change a condition's outcome, so each item
# stands for a few *states* (unanswered, each mentioned code, one code no condition
# mentions; for a multi-select, each set of mentioned codes). The search is bounded: an
# item whose states multiply past MAX_REACHABILITY_STATES, or any item once the whole
# questionnaire has used MAX_REACHABILITY_WORK evaluations, is given the benefit of the
# doubt rather than proved, so `validate` takes seconds on any file the loader accepts.

MAX_REACHABILITY_WORK = 2_000_000
"""Condition evaluations (combinations times the size of the rules they are tried on)."""

_State = str | tuple[str, ...] | None


def _mentioned_codes(items: Mapping[str, Item]) -> dict[str, set[str]]:
    """Per item id, every code that some skip rule compares its answer with."""
    found: dict[str, set[str]] = {}

    def walk(condition: Condition) -> None:
        if isinstance(condition, ItemCondition):
            found.setdefault(condition.item, set()).update(condition.values)
        elif isinstance(condition, (AllOf, AnyOf)):
            for part in condition.parts:
                walk(part)

    for item in items.values():
        if item.enable_when is not None:
            walk(item.enable_when)
    return found


def _size(condition: Condition | None) -> int:
    """How many parts a condition has: what evaluating it costs."""
    if isinstance(condition, (AllOf, AnyOf)):
        return 1 + sum(_size(part) for part in condition.parts)
    return 0 if condition is None else 1


def _state_count(item: Item, mentioned: set[str]) -> int:
    """How many states `_item_states` gives, computed without building them."""
    named = [code for code in item.codes if code in mentioned]
    others = len(item.codes) > len(named)
    if item.type is ItemType.MULTI:
        # every subset of the named codes, with or without one other code; not empty
        subsets: int = 1 << len(named)
        return subsets * (2 if others else 1)  # with unanswered, less the empty answer
    return 1 + len(named) + (1 if others else 0)


def _item_states(item: Item, mentioned: set[str]) -> list[_State]:
    """The distinct ways an item can stand for conditions: unanswered, or an answer."""
    named = [code for code in item.codes if code in mentioned]
    other = next((code for code in item.codes if code not in mentioned), None)
    states: list[_State] = [None]
    if item.type is not ItemType.MULTI:
        states.extend(named)
        if other is not None:
            states.append(other)
        return states
    for size in range(len(named) + 1):
        for subset in itertools.combinations(named, size):
            for extra in ((), (other,)) if other is not None else ((),):
                chosen = set(subset) | set(extra)
                if chosen:
                    states.append(tuple(code for code in item.codes if code in chosen))
    return states


def _check_reachability(b: _Builder, data: LocatedDict, items: Mapping[str, Item]) -> None:
    """Report items whose `enable_when` can never hold, given the items it depends on."""
    mentioned = _mentioned_codes(items)
    position = {item_id: index for index, item_id in enumerate(items)}
    budget = [MAX_REACHABILITY_WORK]
    for item in items.values():
        if item.enable_when is None:
            continue
        if not _reachable(item, items, position, mentioned, budget):
            where = _item_loc(data, item.id)
            b.fail(where, f"item {item.id} can never be asked: its enable_when cannot be met")


def _reachable(
    item: Item,
    items: Mapping[str, Item],
    position: Mapping[str, int],
    mentioned: Mapping[str, set[str]],
    budget: list[int],
) -> bool:
    if item.enable_when is None:
        return True
    deps = _closure(item, items, mentioned)
    if deps is None:
        return True  # too many combinations to prove anything; give the benefit of doubt
    ordered = [items[d] for d in sorted(deps, key=position.__getitem__)]
    total = 1
    for dep in ordered:
        total *= _state_count(dep, mentioned.get(dep.id, set()))
    cost = _size(item.enable_when) + sum(_size(dep.enable_when) for dep in ordered)
    if total * cost > budget[0]:
        return True  # the questionnaire's search budget is spent; benefit of doubt
    states = [_item_states(dep, mentioned.get(dep.id, set())) for dep in ordered]
    for combo in itertools.product(*states):
        budget[0] -= cost
        answers = {
            dep.id: state for dep, state in zip(ordered, combo, strict=True) if state is not None
        }
        ctx = Context(answers)
        consistent = all(
            dep.enable_when is None or dep.enable_when.evaluate(ctx) or dep.id not in answers
            for dep in ordered
        )
        if consistent and item.enable_when.evaluate(ctx):
            return True
    return False


def _closure(
    item: Item, items: Mapping[str, Item], mentioned: Mapping[str, set[str]]
) -> set[str] | None:
    """The items `item`'s skip rule depends on, directly or not; None as soon as their
    states multiply past MAX_REACHABILITY_STATES (so a long chain costs little)."""
    found: set[str] = set()
    pending = set(item.enable_when.items()) if item.enable_when else set()
    total = 1
    while pending:
        name = pending.pop()
        if name in found or name not in items:
            continue
        found.add(name)
        dep = items[name]
        total *= _state_count(dep, mentioned.get(name, set()))
        if total > MAX_REACHABILITY_STATES:
            return None
        if dep.enable_when is not None:
            pending |= set(dep.enable_when.items())
    return found


def _item_loc(data: LocatedDict, item_id: str) -> Loc:
    for section in data.get("sections") or []:
        for raw in section.get("items") or [] if isinstance(section, dict) else []:
            if isinstance(raw, LocatedDict) and raw.get("id") == item_id:
                return raw.loc
    return data.loc

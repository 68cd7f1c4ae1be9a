"""Score many records exactly as `score()` does, with compiled lookup tables (batch fast path).

`ketscreen.core.scoring.score` is the reference. This module gives the same band, lower
bound, scores, flags and missing items for every record, and the same error for every
record that `score()` rejects, but it works on a block of records at once:

1. Every cell goes through the shared normaliser (`normalize_answer`) once per distinct
   spelling in its column; the answer is cached as one *packed* integer of bit fields:
   answered, given (answered and not declined), the flags its answer raises on its own,
   what it adds to each score, and a *fallback* field for anything the tables do not
   cover (an unknown code, a weight that is missing or negative).
2. A record's packed value is the sum of its cells' values. The fields are wide enough
   never to carry into each other, so one C-level `sum` per record collects everything.
3. Skip logic, band rules with `when:` and flag rules that look at more than one item
   depend on a few items only. Their outcome (a *profile*) is computed once per distinct
   combination of those items' answers and cached.
4. A short loop per record reads the fields. A record that is not plainly valid (the
   fallback field is set, an item was answered that skip logic did not ask, a required
   item is missing) is scored by `score()` itself, which gives the exact result or error.

tests/test_batch_property.py checks, record by record, that this equals `score()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from ketscreen.core.conditions import Answer, Condition, Context
from ketscreen.core.model import DECLINED, ItemType, Questionnaire
from ketscreen.core.normalize import normalize_answer, spellings
from ketscreen.core.scoring import NOT_ASSESSED, Result, score
from ketscreen.errors import AnswerError, quote_value

CACHE_LIMIT = 2048
"""Entries remembered per memo (spellings, groups, profiles, flag sets); more are recomputed."""
GROUP_LIMIT = 4096
"""Most canonical answer combinations in one group of columns."""

STATUS_OK = "ok"
STATUS_INVALID = "invalid"

K = TypeVar("K")
V = TypeVar("V")


class Explained(NamedTuple):
    """What --explain and FHIR output add to a valid record, as plain data the writers
    turn into text (with cached fragments): `Result.answers` and `Result.asked`."""

    answers: tuple[Answer | None, ...]
    """The normalised answer of each item, in the questionnaire's item order (None:
    unanswered; `declined` is an answer)."""
    asked: int
    """Bit i set: item i is asked (skip logic)."""
    order: tuple[int, ...]
    """Item indices in the order the record gave them (`Result.answers` keeps it);
    items with no answer may be among them."""


def explained(result: Result, index: Mapping[str, int]) -> Explained:
    """The `Explained` of a result of `score()`; `index` maps item ids to their position."""
    answers: list[Answer | None] = [None] * len(index)
    for item_id, answer in result.answers.items():
        answers[index[item_id]] = answer
    return Explained(
        tuple(answers),
        sum(1 << index[item_id] for item_id in result.asked),
        tuple(index[item_id] for item_id in result.answers),
    )


class Row(NamedTuple):
    """One output record: the DESIGN.md columns but the questionnaire's (which the writer
    adds). `scores` holds the questionnaire's scores in its `scores:` order; an invalid
    record has none (an empty tuple)."""

    respondent_id: str
    source: str
    status: str
    band: str | None
    lower_bound: bool | None
    scores: tuple[int | None, ...]
    top_flag_level: str | None
    flags: tuple[str, ...]
    missing: tuple[str, ...]
    error: str | None
    details: Explained | None = None
    """With --explain (and for FHIR output): the normalised answers and the items asked."""
    questionnaire_version: str | None = None
    """The version that scored the record (None: the batch's default)."""


def quote(text: str) -> str:
    """A value for a message: code-like ones quoted, others (maybe personal) only measured."""
    quoted = quote_value(text)
    return quoted if quoted.startswith("'") else f"({quoted})"


def field_name(name: str) -> str:
    """A column header or JSON key for a message. Names are the file's structure, not
    answers, so they are quoted up to a sensible length (a whole sentence is measured)."""
    return repr(name) if len(name) <= 40 else f"(a name of {len(name)} characters)"


def who(respondent_id: str) -> str:
    return f"respondent {quote(respondent_id)}" if respondent_id else "record without respondent_id"


def invalid_row(respondent_id: str, source: str, message: str, version: str | None = None) -> Row:
    return Row(
        respondent_id,
        source,
        STATUS_INVALID,
        None,
        None,
        (),
        None,
        (),
        (),
        message,
        None,
        version,
    )


def answer_error_row(
    respondent_id: str, source: str, exc: AnswerError, column: str, version: str | None = None
) -> Row:
    """An invalid record naming the respondent, the column and (in `exc`) the allowed codes."""
    text = str(exc)
    prefix = f"{exc.item}: "
    reason = text[len(prefix) :] if text.startswith(prefix) else text
    return invalid_row(
        respondent_id, source, f"{who(respondent_id)}, {column} {exc.item}: {reason}", version
    )


def row_from_result(
    respondent_id: str, source: str, result: Result, *, details: Explained | None = None
) -> Row:
    return Row(
        respondent_id,
        source,
        STATUS_OK,
        result.band,
        result.lower_bound,
        tuple(result.scores.values()),
        result.top_level,
        tuple(flag.id for flag in result.flags),
        result.missing,
        None,
        details,
        result.provenance.questionnaire_version,
    )


class _Memo(dict[K, V]):
    """A dict that computes a missing entry, and remembers it while it is small.

    Looking values up with `map(memo.__getitem__, keys)` keeps the loop in C.
    """

    def __init__(self, compute: Callable[[K], V]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: K) -> V:
        value = self._compute(key)
        if len(self) < CACHE_LIMIT:
            self[key] = value
        return value


Outcome = tuple[str, bool, "tuple[int | None, ...]", tuple[str, ...]]
"""band, lower_bound, the scores (in the questionnaire's order), missing."""


class _Profile:
    """What the answers to the key items decide, as masks over a packed record value.

    - `bad`: bits that send a record to `score()`: the fallback field, and the answered
      bits of items that skip logic does not ask;
    - `need`: the given bits of the required items that are asked (all must be set);
    - `flags`: flags raised by rules on several items, in place in the flag field;
    - `keep`: the score fields and the given bits of asked items: together they decide
      band, lower bound, the scores and the missing items, memoised in `outcomes`;
    - `safety`: the answered bits of the safety questions that are asked: a record
      without one of them and without flags is `not_assessed`.
    """

    __slots__ = ("asked", "bad", "flags", "keep", "need", "outcomes", "safety")

    def __init__(
        self,
        bad: int,
        need: int,
        flags: int,
        keep: int,
        outcome: Callable[[int], Outcome],
        safety: int = 0,
        asked: int = 0,
    ) -> None:
        self.asked = asked
        """Bit i set: item i is asked (for --explain)."""
        self.bad = bad
        self.need = need
        self.flags = flags
        self.keep = keep
        self.safety = safety
        self.outcomes: _Memo[int, Outcome] = _Memo(outcome)


class _Plan(NamedTuple):
    """How to read rows of cells: groups of positions, each with its own memo."""

    groups: tuple[tuple[Callable[[Any], Any], Callable[[Any], int]], ...]
    constant: int


class _LinePlan(NamedTuple):
    """How to read whole lines: one pattern, and a memo per captured group of cells."""

    pattern: re.Pattern[str]
    memos: tuple[tuple[int, Callable[[str], int]], ...]
    """(index of the captured group, memo of its packed value)."""
    respondent: int | None
    """Index of the captured respondent id, if the file has that column."""
    constant: int
    answers: tuple[tuple[int, Callable[[str], tuple[Answer | None, ...]]], ...] = ()
    """--explain: (index of the captured group, memo of its items' normalised answers),
    for every group, in the order of the columns."""
    in_item_order: Callable[[Sequence[Answer | None]], tuple[Answer | None, ...]] | None = None
    """--explain: the answers in item order, from the groups' answers followed by None
    (the answer of an item without a column)."""


class _Nothing(dict[str, "Answer | None"]):
    """The answers of an item without a column: none, whatever the cell."""

    def __missing__(self, key: str) -> None:
        return None


_NOTHING = _Nothing()
_NO_ANSWER: tuple[None] = (None,)


class _Explainer(NamedTuple):
    """How to read the normalised answers of a row of cells (--explain)."""

    cells: Callable[[Sequence[str]], Sequence[str]]
    """The row's cell for each item, in item order (any cell for an item without one)."""
    memos: list[dict[str, Answer | None]]
    """Each item's normalised answer, by cell."""
    order: tuple[int, ...]
    """The items in column order (`Explained.order`)."""


class Scorer:
    """A questionnaire compiled for batch scoring. Build once, then call `score_rows`.

    Packed value of a record (bit fields, low to high): answered items, given items, flag
    rules raised by one item's answer, one field per score, the answer of each key item
    (an index into `_state_values`), and the fallback field.
    """

    def __init__(self, questionnaire: Questionnaire, *, explain: bool = False) -> None:
        self.questionnaire = q = questionnaire
        self.explain = explain
        self.items = list(q.items.values())
        self.index = {item.id: i for i, item in enumerate(self.items)}
        n = self._n = len(self.items)
        self._all = (1 << n) - 1
        self._spell = [spellings(item) for item in self.items]

        # Flag rules in result order (most urgent first, then file order), one bit each.
        self._rules = sorted(q.flags, key=lambda rule: rule.level.rank)
        self._flag_base = 2 * n
        self._single: list[list[tuple[int, Condition]]] = [[] for _ in self.items]
        self._joint: list[tuple[int, Condition]] = []
        for bit, rule in enumerate(self._rules):
            deps = rule.when.items()
            if len(deps) == 1:
                self._single[self.index[next(iter(deps))]].append((bit, rule.when))
            else:
                self._joint.append((bit, rule.when))
        offset = self._score_base = self._flag_base + len(self._rules)

        # One field per score, wide enough for its largest total (negative weights: no
        # fast path at all, every record goes to `score()`).
        self._fast = True
        self._score_fields: list[tuple[int, int]] = []
        self._member_of: list[list[int]] = [[] for _ in self.items]
        for k, sc in enumerate(q.scores):
            members = [q.items[m] for m in sc.items]
            if any(w < 0 for item in members for w in item.weights.values()):
                self._fast = False
            top = sum(max(item.weights.values(), default=0) for item in members)
            width = max(top, 0).bit_length() + 1
            self._score_fields.append((offset, (1 << width) - 1))
            offset += width
            for item in members:
                self._member_of[self.index[item.id]].append(k)

        # The key items: their answers decide skip logic, `when:` bands and joint flags.
        key_ids: set[str] = set()
        for item in self.items:
            if item.enable_when is not None:
                key_ids |= item.enable_when.items()
        for band in q.band_rule.bands:
            if band.when is not None:
                key_ids |= band.when.items()
        for _, cond in self._joint:
            key_ids |= cond.items()
        self._key_items = [i for i, item in enumerate(self.items) if item.id in key_ids]
        self._safety = sum(1 << self.index[i] for i in q.safety_items)
        self._state_base = offset
        self._state_fields: dict[int, tuple[int, int]] = {}
        self._state_values: dict[int, list[Answer | None]] = {}
        self._state_index: dict[int, dict[Answer | None, int]] = {}
        for i in self._key_items:
            item = self.items[i]
            states = 2 ** len(item.codes) if item.type is ItemType.MULTI else len(item.codes) + 1
            width = states.bit_length()
            self._state_fields[i] = (offset, (1 << width) - 1)
            self._state_values[i] = [None]
            self._state_index[i] = {None: 0}
            offset += width
        self._state_mask = (1 << (offset - self._state_base)) - 1
        self._fallback = 1 << offset

        score_ids = [s.id for s in q.scores]
        self._band_score = score_ids.index(q.band_rule.score)
        band_members = q.scores[self._band_score].items
        self._band_members = sum(1 << self.index[m] for m in band_members)
        self._incomplete = next(b.id for b in q.band_rule.bands if b.incomplete)
        self._by_value = {
            value: band.id
            for band in q.band_rule.bands
            if band.low is not None and band.high is not None
            for value in range(band.low, band.high + 1)
        }

        self._cells = [_Memo(self._packer(i)) for i in range(n)]
        self._answers = [_Memo(self._normaliser(i)) for i in range(n)]
        """--explain: each item's normalised answer, by cell (fast-path records only)."""
        self._explainers: dict[tuple[tuple[int, int], ...], _Explainer] = {}
        self._profiles: _Memo[int, _Profile] = _Memo(self._profile)
        # The raised flags, as ids in result order, from three lookups of a third each
        # of the flag field (keyed by the bits in place), and the level of the lowest bit.
        rules = len(self._rules)
        width = -(-rules // 3)
        self._flag_masks = [
            ((1 << min(width * (k + 1), rules)) - (1 << min(width * k, rules))) << self._flag_base
            for k in range(3)
        ]
        self._flag_parts = [_Memo(self._flag_ids) for _ in range(3)]
        self._top_level: dict[int, str | None] = {0: None}
        for bit, rule in enumerate(self._rules):
            self._top_level[1 << (self._flag_base + bit)] = rule.level.value
        self._plans: dict[tuple[tuple[int, int], ...], _Plan] = {}
        self._line_plans: dict[tuple[Any, ...], _LinePlan] = {}

    # -- compiling ---------------------------------------------------------------------

    def _packer(self, i: int) -> Callable[[str], int]:
        item = self.items[i]
        table = self._spell[i]
        n = self._n

        def pack(cell: str) -> int:
            if not self._fast:
                return self._fallback
            try:
                answer = normalize_answer(item, cell, table)
            except AnswerError:
                return self._fallback
            if answer is None:
                value, given = 0, None
            elif answer == DECLINED:
                value, given = 1 << i, None
            else:
                value, given = (1 << i) | (1 << (n + i)), answer
            ctx = Context({item.id: given} if given is not None else {})
            for bit, cond in self._single[i]:
                if cond.evaluate(ctx):
                    value |= 1 << (self._flag_base + bit)
            if given is not None:
                for k in self._member_of[i]:
                    weight = item.weights.get(given)  # type: ignore[arg-type]
                    if weight is None:
                        return self._fallback
                    value += weight << self._score_fields[k][0]
            if i in self._state_fields:
                index = self._state_index[i]
                if given not in index:
                    index[given] = len(index)
                    self._state_values[i].append(given)
                value += index[given] << self._state_fields[i][0]
            return value

        return pack

    def _normaliser(self, i: int) -> Callable[[str], Answer | None]:
        item = self.items[i]
        table = self._spell[i]

        def normal(cell: str) -> Answer | None:
            try:
                return normalize_answer(item, cell, table)
            except AnswerError:  # such a record is scored by `score()` instead
                return None

        return normal

    def _explainer(self, columns: tuple[tuple[int, int], ...]) -> _Explainer:
        """How to read a row's normalised answers, in item order, from its cells."""
        explainer = self._explainers.get(columns)
        if explainer is not None:
            return explainer
        where = {i: position for position, i in columns}
        memos: list[dict[str, Answer | None]] = [
            self._answers[i] if i in where else _NOTHING for i in range(self._n)
        ]
        positions = [where.get(i, 0) for i in range(self._n)]
        getter: Callable[[Sequence[str]], Sequence[str]] = (
            itemgetter(*positions) if len(positions) > 1 else lambda row: (row[positions[0]],)
        )
        explainer = _Explainer(getter, memos, tuple(i for _, i in columns))
        if len(self._explainers) < 16:
            self._explainers[columns] = explainer
        return explainer

    def _profile(self, key: int) -> _Profile:
        given: dict[str, Answer] = {}
        for i in self._key_items:
            offset, mask = self._state_fields[i]
            answer = self._state_values[i][key >> (offset - self._state_base) & mask]
            if answer is not None:
                given[self.items[i].id] = answer
        ctx = Context(given)
        asked = 0
        required = 0
        for i, item in enumerate(self.items):
            if item.enable_when is None or item.enable_when.evaluate(ctx):
                asked |= 1 << i
                if item.required:
                    required |= 1 << i
        fixed_band = next(
            (b.id for b in self.questionnaire.band_rule.bands if b.when and b.when.evaluate(ctx)),
            None,
        )
        # A score exists when one of its items is asked; a one-item score (an ordinal)
        # only when that item is answered too (`score()` says why).
        present = [
            sum(1 << self.index[m] for m in sc.items) & asked for sc in self.questionnaire.scores
        ]
        single = [len(sc.items) == 1 for sc in self.questionnaire.scores]
        flag_bits = 0
        for bit, cond in self._joint:
            if cond.evaluate(ctx):
                flag_bits |= 1 << bit
        n = self._n
        max_missing = self.questionnaire.band_rule.max_missing

        def outcome(key: int) -> Outcome:
            given = key >> n
            unanswered = asked & ~given
            scores = tuple(
                key >> offset & mask if present[k] & given or present[k] and not single[k] else None
                for k, (offset, mask) in enumerate(self._score_fields)
            )
            band, lower = fixed_band, False
            if band is None:
                count = (unanswered & self._band_members).bit_count()
                value = scores[self._band_score]
                band = self._by_value.get(value) if value is not None else None
                if band is None or count > max_missing:
                    band = self._incomplete
                else:
                    lower = count > 0
            missing = tuple(item.id for i, item in enumerate(self.items) if unanswered >> i & 1)
            return band, lower, scores, missing

        score_bits = ((1 << self._state_base) - 1) & ~((1 << self._score_base) - 1)
        return _Profile(
            bad=(self._all & ~asked) | ~(self._fallback - 1),
            need=required << n,
            flags=flag_bits << self._flag_base,
            keep=score_bits | asked << n,
            outcome=outcome,
            safety=asked & self._safety,
            asked=asked,
        )

    def _flag_ids(self, bits: int) -> tuple[str, ...]:
        bits >>= self._flag_base
        return tuple(rule.id for bit, rule in enumerate(self._rules) if bits >> bit & 1)

    def _groups(self, columns: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """Neighbouring columns, grouped so that each group is looked up in one step.

        A group is a run of adjacent cell positions whose number of canonical answer
        combinations stays under GROUP_LIMIT, so its memo stays small and is mostly hit.
        """
        groups: list[list[tuple[int, int]]] = []
        size = GROUP_LIMIT + 1
        last = -2
        for position, i in sorted(columns):
            item = self.items[i]
            kinds = (2 ** len(item.codes) if item.type is ItemType.MULTI else len(item.codes)) + 2
            if position != last + 1 or size * kinds > GROUP_LIMIT:
                groups.append([])
                size = 1
            groups[-1].append((position, i))
            size *= kinds
            last = position
        return groups

    def _constant(self, columns: Sequence[tuple[int, int]]) -> int:
        """The packed value of the items that have no column: unanswered."""
        present = {i for _, i in columns}
        return sum(self._cells[i][""] for i in range(self._n) if i not in present)

    def _plan(self, columns: tuple[tuple[int, int], ...]) -> _Plan:
        plan = self._plans.get(columns)
        if plan is not None:
            return plan
        compiled: list[tuple[Callable[[Any], Any], Callable[[Any], int]]] = []
        for group in self._groups(columns):
            positions = [position for position, _ in group]
            if len(group) == 1:
                compiled.append((itemgetter(positions[0]), self._cells[group[0][1]].__getitem__))
                continue
            tables = [self._cells[i] for _, i in group]

            def combine(key: tuple[str, ...], tables: list[_Memo[str, int]] = tables) -> int:
                return sum(table[cell] for table, cell in zip(tables, key, strict=True))

            compiled.append((itemgetter(*positions), _Memo(combine).__getitem__))
        plan = _Plan(tuple(compiled), self._constant(columns))
        if len(self._plans) < 16:
            self._plans[columns] = plan
        return plan

    def _group_answers(
        self, group: Sequence[tuple[int, int]], delimiter: str
    ) -> Callable[[str], tuple[Answer | None, ...]]:
        """The normalised answers of a captured group of cells, by its text (--explain)."""
        tables = [self._answers[i] for _, i in group]

        def answers(text: str) -> tuple[Answer | None, ...]:
            return tuple(map(dict.__getitem__, tables, text.split(delimiter)))

        return _Memo(answers).__getitem__

    def _line_plan(
        self,
        columns: tuple[tuple[int, int], ...],
        width: int,
        delimiter: str,
        respondent: int | None,
    ) -> _LinePlan:
        """A pattern that cuts a whole line (no quotes) into the respondent and the groups."""
        key = (columns, width, delimiter, respondent)
        plan = self._line_plans.get(key)
        if plan is not None:
            return plan
        starts = {group[0][0]: group for group in self._groups(columns)}
        cell = f"[^{re.escape(delimiter)}]*"
        parts: list[str] = []
        memos: list[tuple[int, Callable[[str], int]]] = []
        answers: list[tuple[int, Callable[[str], tuple[Answer | None, ...]]]] = []
        respondent_at = None
        count = 0  # groups captured so far
        position = 0
        while position < width:
            if position == respondent:
                parts.append(f"({cell})")
                respondent_at = count
                count += 1
                position += 1
                continue
            group = starts.get(position)
            if group is None:
                parts.append(cell)
                position += 1
                continue
            tables = [self._cells[i] for _, i in group]

            def combine(text: str, tables: list[_Memo[str, int]] = tables) -> int:
                cells = text.split(delimiter)
                return sum(table[cell] for table, cell in zip(tables, cells, strict=True))

            memos.append((count, _Memo(combine).__getitem__))
            if self.explain:
                answers.append((count, self._group_answers(group, delimiter)))
            count += 1
            parts.append("(" + re.escape(delimiter).join([cell] * len(group)) + ")")
            position += len(group)
        in_item_order = None
        if self.explain:
            rank = {i: k for k, (_, i) in enumerate(sorted(columns))}
            in_item_order = itemgetter(*[rank.get(i, len(rank)) for i in range(self._n)])
        plan = _LinePlan(
            re.compile(re.escape(delimiter).join(parts)),
            tuple(memos),
            respondent_at,
            self._constant(columns),
            tuple(answers),
            in_item_order,
        )
        if len(self._line_plans) < 16:
            self._line_plans[key] = plan
        return plan

    # -- scoring -----------------------------------------------------------------------

    def score_rows(
        self,
        columns: Sequence[tuple[int, int]],
        rows: Sequence[Sequence[str]],
        ids: Sequence[str],
        sources: Sequence[str],
        *,
        column_word: str = "column",
    ) -> list[Row]:
        """Score `rows` of cells; `columns` pairs a cell position with an item index.

        Items without a column are unanswered. Every row has a cell at each position.
        """
        plan = self._plan(tuple(columns))
        parts = [map(memo, map(get, rows)) for get, memo in plan.groups]
        packed = map(sum, zip(*parts, repeat(plan.constant, len(rows)), strict=True))
        return self._decode(packed, columns, rows, ids, sources, column_word, None)

    def score_lines(
        self,
        columns: Sequence[tuple[int, int]],
        width: int,
        delimiter: str,
        respondent: int | None,
        lines: Sequence[str],
        sources: Sequence[str],
    ) -> list[Row] | None:
        """Score CSV lines that hold no quotes, each cut by one pattern match.

        Returns None when some line does not have `width` cells (the caller then reads
        the lines cell by cell).
        """
        if not lines:
            return None
        plan = self._line_plan(tuple(columns), width, delimiter, respondent)
        matches = list(map(plan.pattern.fullmatch, lines))
        if None in matches:
            return None
        captured = list(zip(*map(re.Match.groups, matches), strict=True))  # type: ignore[arg-type]
        if plan.respondent is None:
            ids: Sequence[str] = [""] * len(lines)
        else:
            ids = list(map(str.strip, captured[plan.respondent]))
        parts = [map(memo, captured[k]) for k, memo in plan.memos]
        packed = map(sum, zip(*parts, repeat(plan.constant, len(lines)), strict=True))
        answers = None
        if plan.in_item_order is not None and plan.answers:
            # Each group's answers, chained, then None for the items without a column.
            groups = [map(memo, captured[k]) for k, memo in plan.answers]
            chained = map(chain.from_iterable, zip(*groups, repeat(_NO_ANSWER), strict=False))
            answers = map(plan.in_item_order, map(tuple, chained))
        return self._decode(packed, columns, lines, ids, sources, "column", delimiter, answers)

    def _decode(
        self,
        packed: Iterable[int],
        columns: Sequence[tuple[int, int]],
        rows: Sequence[Sequence[str]] | Sequence[str],
        ids: Sequence[str],
        sources: Sequence[str],
        column_word: str,
        delimiter: str | None,
        answers: Iterable[tuple[Answer | None, ...]] | None = None,
    ) -> list[Row]:
        """Rows from packed values; records that are not plainly valid go to `score()`.

        With --explain, `answers` are each row's normalised answers in item order, when
        the caller has them (else they are read from the row's cells)."""
        flag_field = sum(self._flag_masks)
        mask1, mask2, mask3 = self._flag_masks
        first, second, third = self._flag_parts
        top_level = self._top_level
        state_base = self._state_base
        state_mask = self._state_mask
        profiles = self._profiles
        new_row = tuple.__new__  # Row(...) without the extra Python frame of its __new__
        version = self.questionnaire.version
        explainer = self._explainer(tuple(columns)) if self.explain else None
        out: list[Row] = []
        append = out.append
        given_answers = repeat(None, len(rows)) if answers is None else answers
        for row, value, rid, src, given in zip(
            rows, packed, ids, sources, given_answers, strict=True
        ):
            prof = profiles[value >> state_base & state_mask]
            need = prof.need
            if value & prof.bad or value & need != need:
                cells = row.split(delimiter) if isinstance(row, str) else row
                append(self.score_one(columns, cells, rid, src, column_word))
                continue
            band, lower, scores, missing = prof.outcomes[value & prof.keep]
            bits = (value | prof.flags) & flag_field
            safety = prof.safety
            level = top_level[bits & -bits]
            if level is None and value & safety != safety:
                level = NOT_ASSESSED
            details = None
            if explainer is not None:
                if given is None:
                    cells = row.split(delimiter) if isinstance(row, str) else row
                    given = tuple(map(dict.__getitem__, explainer.memos, explainer.cells(cells)))
                details = Explained(given, prof.asked, explainer.order)
            append(
                new_row(
                    Row,
                    (
                        rid,
                        src,
                        STATUS_OK,
                        band,
                        lower,
                        scores,
                        level,
                        first[bits & mask1] + second[bits & mask2] + third[bits & mask3],
                        missing,
                        None,
                        details,
                        version,
                    ),
                )
            )
        return out

    def score_one(
        self,
        columns: Sequence[tuple[int, int]],
        row: Sequence[str],
        respondent_id: str,
        source: str,
        column_word: str = "column",
    ) -> Row:
        """The reference path: `score()` on one row, its error turned into an invalid row."""
        answers = {self.items[i].id: row[c] for c, i in columns}
        try:
            result = score(self.questionnaire, answers, scored_at="")
        except AnswerError as exc:
            return answer_error_row(
                respondent_id, source, exc, column_word, self.questionnaire.version
            )
        details = explained(result, self.index) if self.explain else None
        return row_from_result(respondent_id, source, result, details=details)

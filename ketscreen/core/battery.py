"""A battery: several instruments asked in one sitting, as one interview.

`combine(parts)` makes one questionnaire to *ask*: the parts' sections one after the
other, so the interview, its skip logic, its alerts and its one review screen cover the
whole battery, and a crisis answer in any part is acted on at once. It is never scored
or saved as such: each part's session takes its own questions' answers from the
interview (`Session.record_answers` keeps only those), and is scored with its own
questionnaire and saved in its own session file.

Item ids must be unique across the parts (they are the linkIds every output uses); a
battery whose parts share an id is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ketscreen.core.model import Guidance, Questionnaire
from ketscreen.errors import ExitCode, KetscreenError


class BatteryError(KetscreenError):
    """Instruments that cannot be asked together."""

    exit_code = ExitCode.USAGE


def combine(parts: Sequence[Questionnaire]) -> Questionnaire:
    """One questionnaire to ask, made of `parts` in order (see the module docstring)."""
    if len(parts) < 2:
        raise BatteryError("a battery needs two or more instruments")
    ids = [q.id for q in parts]
    if len(set(ids)) != len(ids):
        raise BatteryError(f"an instrument is named twice: {', '.join(ids)}")
    seen: dict[str, str] = {}
    for q in parts:
        for item_id in q.items:
            if item_id in seen:
                raise BatteryError(
                    f"{q.id} and {seen[item_id]} both have a question {item_id!r}, so they "
                    "cannot be asked together; run them as separate intakes"
                )
            seen[item_id] = q.id
    sections = [section.id for q in parts for section in q.sections]
    if len(set(sections)) != len(sections):
        raise BatteryError(
            "two of these instruments have a section of the same id, so they cannot be "
            "asked together; run them as separate intakes"
        )
    # The alert levels' words and the safety-planning line come from the part whose
    # questions can raise a crisis (the first such part); else from the first part.
    safety = next((q for q in parts if q.safety_items), parts[0])
    digest = hashlib.sha256("".join(q.sha256 for q in parts).encode()).hexdigest()
    return Questionnaire(
        id="+".join(ids),
        version="+".join(q.version for q in parts),
        title=" + ".join(q.title for q in parts),
        description=" ".join(q.description for q in parts if q.description),
        sha256=digest,
        source_name="battery",
        sections=tuple(section for q in parts for section in q.sections),
        items={item_id: item for q in parts for item_id, item in q.items.items()},
        scores=tuple(score for q in parts for score in q.scores),
        band_rule=parts[0].band_rule,
        flags=tuple(rule for q in parts for rule in q.flags),
        levels=safety.levels,
        guidance=Guidance({}, None, {}, ()),
        sources=tuple(source for q in parts for source in q.sources),
        safety_plan=safety.safety_plan,
    )


def owner(parts: Sequence[Questionnaire], item_id: str) -> int:
    """The index of the part that asks `item_id`."""
    return next(i for i, q in enumerate(parts) if item_id in q.items)

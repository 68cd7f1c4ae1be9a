"""What keeps a person safe on every screen (CONTENT.md section 4).

- the crisis panel, shown at once after a crisis or emergency answer and first on the
  result; at the emergency level it leads with "If you are in danger now, call ...";
- the urgent-care block, above the band, with "get medical advice today" and the
  region's route;
- the footer naming the region's crisis line, on every screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.text import Text

from ketscreen.core.model import FlagLevel, Questionnaire
from ketscreen.core.scoring import Flag
from ketscreen.io.resources import Region, Service
from ketscreen.ui.blocks import Block, Bullet, Line, bullet_list

CRISIS_LEVELS = (FlagLevel.EMERGENCY, FlagLevel.CRISIS)
CRISIS_TITLE = "Support is available now"


def service_line(service: Service) -> str:
    return f"{service.name}: {service.contact} ({service.hours})"


def footer_text(region: Region) -> Text:
    text = Text("Need to talk to someone now? ")
    text.append(service_line(region.crisis_line), style="heading")
    return text


def footer(region: Region, *, plain: bool) -> RenderableType:
    """The last lines of every screen: the region's crisis line."""
    if plain:
        return footer_text(region)
    return Group(Rule(style="muted"), footer_text(region))


def crisis_level(flags: Sequence[Flag]) -> FlagLevel | None:
    """The most urgent crisis-type level among `flags` (emergency before crisis)."""
    levels = [flag.level for flag in flags if flag.level in CRISIS_LEVELS]
    return min(levels, key=lambda level: level.rank) if levels else None


def _crisis_services(region: Region) -> list[Service]:
    others = [s for s in region.of_kind("crisis") if s.id != region.crisis_line.id]
    return [region.crisis_line, *others]


def crisis_block(level: FlagLevel, region: Region, questionnaire: Questionnaire) -> Block:
    """The crisis panel. `now` (emergency) leads with the emergency number.

    The crisis lines are "free and confidential"; the emergency number is listed apart
    (an ambulance is not free everywhere); one safety-planning line (CONTENT.md sec. 4),
    the questionnaire's `safety_plan:`, else the resources file's.
    """
    plan = questionnaire.safety_plan or region.safety_plan
    danger = Text(f"If you are in danger now, call {region.emergency}.", style="heading")
    services: list[Line] = [Bullet(service_line(service)) for service in _crisis_services(region)]
    if level is FlagLevel.EMERGENCY:
        lines: list[Line] = [
            danger,
            "Thank you for telling us. You do not have to go through this alone.",
            "Talk to someone now. These crisis lines are free and confidential:",
            *services,
            plan,
        ]
    else:
        lines = [
            Text("Thank you for telling us. Please talk to someone today.", style="heading"),
            "These crisis lines are free and confidential:",
            *services,
            danger,
            plan,
        ]
    return Block(CRISIS_TITLE, tuple(lines), style=f"level.{level.value}", boxed=True)


def declined_block(region: Region) -> Block:
    """A gentle line for someone who chose not to answer the safety question."""
    return Block(
        "If things feel hard",
        (
            "If thoughts of harming yourself ever come, you do not have to face them "
            "alone. You can talk to someone at any time: " + service_line(region.crisis_line) + ".",
        ),
    )


def urgent_block(questionnaire: Questionnaire, flags: Sequence[Flag], region: Region) -> Block:
    """Urgent health flags: what was reported, get medical advice today, and where."""
    info = questionnaire.levels[FlagLevel.URGENT]
    labels = {rule.id: rule.label for rule in questionnaire.flags}
    rules = {rule.id: rule for rule in questionnaire.flags}
    reported = [
        labels[flag.id] + (f". {rules[flag.id].advice}" if rules[flag.id].advice else "")
        for flag in flags
        if flag.level is FlagLevel.URGENT
    ]
    return Block(
        info.label,
        (
            info.advice,
            *bullet_list(list[str | Text](reported)),
            Text.assemble(("Where to go: ", "heading"), region.urgent_care),
        ),
        style="level.urgent",
        boxed=True,
    )


COUNSELOR_TITLE = "For the counselor: safety protocol"


def reported(questionnaire: Questionnaire, flags: Sequence[Flag]) -> str:
    """What the client reported, from the most urgent crisis-type flag's label, as the
    middle of a sentence: "thoughts of suicide or self-harm right now"."""
    level = crisis_level(flags)
    flag = next(f for f in flags if f.level is level)
    return lower_first(next(rule.label for rule in questionnaire.flags if rule.id == flag.id))


def lower_first(label: str) -> str:
    """A label as the middle of a sentence ("Thoughts of ..." -> "thoughts of ...");
    a word in capitals (an acronym) is left as it is."""
    word = label.split(" ", 1)[0]
    return label if word.isupper() else label[:1].lower() + label[1:]


def counselor_lines(level: FlagLevel, what: str) -> tuple[str, ...]:
    """What the counselor does after a positive safety answer (CONTENT.md section 4);
    `what` is what was reported (`reported`)."""
    lines = [
        f"The client reported {what}.",
        "Assess now: ask about a plan, intent, means and past attempts, for example with "
        "the C-SSRS screener or the ASQ brief suicide safety assessment.",
    ]
    if level is FlagLevel.EMERGENCY:
        lines.append("Do not leave the client alone.")
    lines += [
        "Follow your service's own protocol.",
        "Record what was done in the safety note.",
    ]
    return tuple(lines)


def counselor_block(level: FlagLevel, what: str) -> Block:
    lines: list[Line] = [Bullet(line) for line in counselor_lines(level, what)]
    return Block(COUNSELOR_TITLE, tuple(lines), style=f"level.{level.value}", boxed=True)

"""Help by region: the checked contents of `resources.yaml`, and choosing a region.

The region comes from `--region`, else `KETSCREEN_REGION`, else the territory of the
locale (`en_GB.UTF-8` -> UK), else `INTL` (CONTENT.md section 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ketscreen.core.yamlsafe import Loc, LocatedDict, LocatedList, load_yaml, loc_of
from ketscreen.errors import ExitCode, KetscreenError, Problem, QuestionnaireError
from ketscreen.io.files import data_dir, read_limited

REGIONS = ("US", "UK", "CA", "AU", "IE", "INTL")
FALLBACK = "INTL"
KINDS = ("emergency", "crisis", "drugs", "medical", "poison")
ALIASES = {"GB": "UK"}
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


SAFETY_PLAN = (
    "If you can, stay with someone you trust, and keep away from alcohol and other drugs "
    "while you feel like this."
)
"""The safety-planning line when the resources file gives none."""


class RegionError(KetscreenError):
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    contact: str
    hours: str
    kind: str
    checked: str
    """When and where the entry was confirmed: `YYYY-MM, source`."""
    shown_with: tuple[str, ...] = ()
    """Flag ids of a questionnaire: the result shows this service with those alerts."""

    @property
    def checked_on(self) -> str:
        """The date part of `checked` (`2026-12`)."""
        return self.checked.split(",", 1)[0].strip()


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    locales: tuple[str, ...]
    emergency: str
    urgent_care: str
    crisis_line: Service
    services: tuple[Service, ...]
    safety_plan: str = SAFETY_PLAN
    """The crisis panel's safety-planning line (`safety_plan:` at the top of the file)."""

    def of_kind(self, *kinds: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.kind in kinds)


_REGION_KEYS = {"name", "locales", "emergency", "crisis_line", "urgent_care", "services"}
_SERVICE_KEYS = {"id", "name", "contact", "hours", "kind", "checked"}


def _text(entry: LocatedDict, key: str, where: str, problems: list[Problem]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(entry.value_loc(key).problem(f"{where}.{key} must be text"))
        return ""
    return " ".join(value.split())


def _keys(
    entry: LocatedDict,
    allowed: set[str],
    where: str,
    problems: list[Problem],
    optional: frozenset[str] = frozenset(),
) -> bool:
    ok = True
    for key in entry:
        if key not in allowed and key not in optional:
            problems.append(entry.key_loc(key).problem(f"unknown key {key!r} in {where}"))
            ok = False
    for key in sorted(allowed - set(entry)):
        problems.append(entry.loc.problem(f"{where} is missing {key!r}"))
        ok = False
    return ok


def _service(value: Any, loc: Loc, where: str, problems: list[Problem]) -> Service | None:
    if not isinstance(value, LocatedDict):
        problems.append(loc_of(value, loc).problem(f"{where}: each service must be a mapping"))
        return None
    if not _keys(value, _SERVICE_KEYS, where, problems, frozenset({"shown_with"})):
        return None
    shown_with: tuple[str, ...] = ()
    if "shown_with" in value:
        raw = value["shown_with"]
        if not isinstance(raw, LocatedList) or not all(isinstance(x, str) for x in raw):
            problems.append(
                value.value_loc("shown_with").problem(
                    f"{where}.shown_with must be a list of flag ids"
                )
            )
        else:
            shown_with = tuple(raw)
    kind = value["kind"]
    if kind not in KINDS:
        problems.append(
            value.value_loc("kind").problem(f"{where}: kind must be one of {', '.join(KINDS)}")
        )
    sid, name, contact, hours, kind_text, checked = (
        _text(value, k, where, problems)
        for k in ("id", "name", "contact", "hours", "kind", "checked")
    )
    return Service(sid, name, contact, hours, kind_text, checked, shown_with)


def _region(code: str, value: Any, loc: Loc, problems: list[Problem]) -> Region | None:
    if not isinstance(value, LocatedDict):
        problems.append(loc_of(value, loc).problem(f"region {code} must be a mapping"))
        return None
    if not _keys(value, _REGION_KEYS, f"region {code}", problems):
        return None
    services_raw = value["services"]
    locales = value["locales"]
    if not isinstance(locales, LocatedList) or not all(isinstance(x, str) for x in locales):
        problems.append(
            value.value_loc("locales").problem(f"region {code}: locales must be a list")
        )
        locales = LocatedList()
    if not isinstance(services_raw, LocatedList) or not services_raw:
        problems.append(
            value.value_loc("services").problem(f"region {code}: services must be a list")
        )
        return None
    services = [
        s
        for i, raw in enumerate(services_raw)
        if (s := _service(raw, services_raw.item_loc(i), f"region {code} service", problems))
    ]
    by_id = {s.id: s for s in services}
    crisis = by_id.get(value["crisis_line"])
    if crisis is None or crisis.kind != "crisis":
        problems.append(
            value.value_loc("crisis_line").problem(
                f"region {code}: crisis_line must name one of its crisis services"
            )
        )
        return None
    if not any(s.kind == "emergency" for s in services):
        problems.append(value.loc.problem(f"region {code} needs an emergency service"))
    return Region(
        code=code,
        name=_text(value, "name", f"region {code}", problems),
        locales=tuple(str(x).upper() for x in locales),
        emergency=_text(value, "emergency", f"region {code}", problems),
        urgent_care=_text(value, "urgent_care", f"region {code}", problems),
        crisis_line=crisis,
        services=tuple(services),
    )


_TOP_KEYS = {"regions", "safety_plan", "report_headings"}


def parse_resources(data: bytes, source: str) -> dict[str, Region]:
    """Bytes of resources.yaml -> regions by code, or QuestionnaireError with every problem."""
    root = load_yaml(data, source)
    top = loc_of(root, Loc(source, 1, 1))
    if not isinstance(root, LocatedDict) or "regions" not in root or set(root) - _TOP_KEYS:
        raise QuestionnaireError(
            [
                top.problem(
                    "the top level must be a mapping with regions: (and optionally "
                    "safety_plan: and report_headings:)"
                )
            ]
        )
    raw = root["regions"]
    if not isinstance(raw, LocatedDict):
        raise QuestionnaireError([root.value_loc("regions").problem("regions: must be a mapping")])
    problems: list[Problem] = []
    regions: dict[str, Region] = {}
    for code, value in raw.items():
        if code not in REGIONS:
            problems.append(
                raw.key_loc(code).problem(
                    f"unknown region {code!r}; use one of {', '.join(REGIONS)}"
                )
            )
            continue
        region = _region(code, value, raw.value_loc(code), problems)
        if region is not None:
            regions[code] = region
    for code in REGIONS:
        if code not in raw:
            problems.append(raw.loc.problem(f"region {code} is missing"))
    plan = root.get("safety_plan", SAFETY_PLAN)
    if not isinstance(plan, str) or not plan.strip():
        problems.append(root.value_loc("safety_plan").problem("safety_plan: must be a text"))
    _headings(root, problems)
    if problems:
        raise QuestionnaireError(problems)
    return {code: replace(region, safety_plan=plan) for code, region in regions.items()}


def _headings(root: LocatedDict, problems: list[Problem]) -> dict[str, dict[str, str]]:
    """`report_headings:` checked: questionnaire id -> section id -> heading text."""
    raw = root.get("report_headings", {})
    where = root.value_loc("report_headings") if "report_headings" in root else root.loc
    if not isinstance(raw, dict):
        problems.append(where.problem("report_headings: must map questionnaire ids to sections"))
        return {}
    found: dict[str, dict[str, str]] = {}
    for instrument, sections in raw.items():
        if not isinstance(sections, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in sections.items()
        ):
            problems.append(
                where.problem(f"report_headings: {instrument}: map section ids to heading texts")
            )
            continue
        found[str(instrument)] = {str(k): str(v) for k, v in sections.items()}
    return found


@lru_cache(maxsize=1)
def report_headings() -> dict[str, dict[str, str]]:
    """Counselor-facing report headings of shipped questionnaires' sections, by
    questionnaire id and section id (`report_headings:` in resources.yaml)."""
    path = data_dir() / "resources.yaml"
    root = load_yaml(read_limited(path, 256 * 1024, "resources"), path.name)
    problems: list[Problem] = []
    found = _headings(root, problems) if isinstance(root, LocatedDict) else {}
    return {} if problems else found


@lru_cache(maxsize=1)
def load_resources() -> dict[str, Region]:
    """The shipped regions (cached)."""
    path = data_dir() / "resources.yaml"
    return parse_resources(read_limited(path, 256 * 1024, "resources"), path.name)


def _canonical(code: str) -> str | None:
    code = code.strip().upper()
    code = ALIASES.get(code, code)
    return code if code in REGIONS else None


def region_from_locale(value: str) -> str | None:
    """`en_GB.UTF-8` -> UK; None when the locale names no territory we have."""
    name = value.split(".", 1)[0].split("@", 1)[0]
    if "_" not in name:
        return None
    territory = name.split("_", 1)[1].upper()
    regions = load_resources()
    for code in REGIONS:
        if territory in regions[code].locales:
            return code
    return None


@dataclass(frozen=True)
class RegionChoice:
    code: str
    how: str  # "option", "environment", "locale" or "fallback"
    warning: str | None = None


def choose_region(option: str | None, env: Mapping[str, str]) -> RegionChoice:
    """Pick the region. A bad --region is a usage error; a bad environment value warns."""
    if option is not None:
        code = _canonical(option)
        if code is None:
            raise RegionError(f"--region {option!r} is not known; use one of {', '.join(REGIONS)}")
        return RegionChoice(code, "option")
    warning = None
    from_env = env.get("KETSCREEN_REGION")
    if from_env:
        code = _canonical(from_env)
        if code is not None:
            return RegionChoice(code, "environment")
        warning = (
            f"KETSCREEN_REGION={from_env!r} is not known (use one of {', '.join(REGIONS)}); "
            "ignoring it"
        )
    for variable in LOCALE_VARIABLES:
        value = env.get(variable)
        if value:
            code = region_from_locale(value)
            if code is not None:
                return RegionChoice(code, "locale", warning)
            break
    return RegionChoice(FALLBACK, "fallback", warning)

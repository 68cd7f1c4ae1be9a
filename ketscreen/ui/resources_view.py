"""Rendering a region's help services."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ketscreen.io.resources import REGIONS, Region, RegionChoice, Service

KIND_LABELS = {
    "emergency": "Emergency",
    "crisis": "Crisis support",
    "drugs": "Drug help",
    "medical": "Urgent medical help",
    "poison": "Poisons",
}

HOW = {
    "option": "chosen with --region",
    "environment": "from KETSCREEN_REGION",
    "locale": "from your system language settings",
    "fallback": "no region detected",
    "session": "recorded with this session",
}


def services_title(region: Region) -> str:
    """ "Services and helplines: United Kingdom" (a region name reads well after a colon)."""
    return f"Services and helplines: {region.name}"


def sorted_services(region: Region) -> list[Service]:
    order = {kind: index for index, kind in enumerate(KIND_LABELS)}
    return sorted(region.services, key=lambda s: order[s.kind])


def _grid() -> Table:
    """Three columns whose widths depend only on the console's width, so that rows drawn
    one by one (to break a page between them) line up."""
    grid = Table.grid(expand=True, padding=(0, 2, 0, 0))
    grid.add_column(ratio=2)
    grid.add_column(ratio=3)
    grid.add_column(ratio=2)
    return grid


def services_header() -> RenderableType:
    grid = _grid()
    grid.add_row(*(Text(word, style="heading") for word in ("Service", "How to reach it", "When")))
    return Group(grid, Rule(style="muted"))


def service_row(service: Service) -> Table:
    """One service; its kind in brackets under the name, so that without colour it
    does not read as part of the name."""
    grid = _grid()
    name = Text(service.name)
    name.append(f"\n({KIND_LABELS[service.kind].lower()})", style="muted")
    grid.add_row(name, service.contact, service.hours)
    return grid


def services_table(region: Region) -> RenderableType:
    return Group(services_header(), *(service_row(s) for s in sorted_services(region)))


def render_region(region: Region, choice: RegionChoice, console: Console) -> None:
    console.print(
        Text(f"{services_title(region)} ({region.code}), {HOW[choice.how]}", style="heading")
    )
    console.print(services_table(region))
    checked = sorted({s.checked_on for s in region.services})
    console.print(
        Text(
            f"Numbers checked {', '.join(checked)}. Other regions: "
            f"{', '.join(r for r in REGIONS if r != region.code)} (use --region).",
            style="muted",
        )
    )

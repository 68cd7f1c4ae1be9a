"""Rendering a region's help services."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ketscreen.io.resources import REGIONS, Region, RegionChoice

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
}


def services_table(region: Region) -> Table:
    table = Table(expand=True, pad_edge=False, show_lines=False)
    table.add_column("Service", ratio=2)
    table.add_column("How to reach it", ratio=3)
    table.add_column("When", ratio=2)
    order = {kind: index for index, kind in enumerate(KIND_LABELS)}
    for service in sorted(region.services, key=lambda s: order[s.kind]):
        name = Text(service.name)
        name.append(f"\n{KIND_LABELS[service.kind]}", style="muted")
        table.add_row(name, service.contact, service.hours)
    return table


def render_region(region: Region, choice: RegionChoice, console: Console) -> None:
    console.print(
        Text(f"Help in {region.name} ({region.code}), {HOW[choice.how]}", style="heading")
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

"""Console panels: each app registers the panels it adds to the telecommunicator's console.

`pscc` renders the frame (connection state, sequence number, reconnect) and includes each
registered panel's template in order; it imports no domain app.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConsolePanel:
    name: str
    template: str
    order: int = 100
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"telecommunicator", "supervisor", "admin"}))
    scripts: tuple[str, ...] = ()
    page: str = "console"


_panels: dict[str, ConsolePanel] = {}


def register_console_panel(panel: ConsolePanel) -> None:
    _panels[panel.name] = panel


def panels_for(role: str, page: str = "console") -> list[ConsolePanel]:
    return sorted(
        (p for p in _panels.values() if role in p.roles and p.page == page), key=lambda p: (p.order, p.name)
    )

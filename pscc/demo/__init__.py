"""The demo center: `manage.py load_demo_center` loads `natrona_center.json` idempotently.

Each app registers a loader for its part from `AppConfig.ready()`; loaders run in order and must be
idempotent (update_or_create on natural keys), so loading twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

DATA_FILE = Path(__file__).with_name("natrona_center.json")
DEMO_PASSWORD = "pscc-demo-2026"

_loaders: list[tuple[int, str, Callable[[dict], str]]] = []


def register_demo_loader(order: int, name: str, loader: Callable[[dict], str]) -> None:
    if not any(existing == name for _, existing, _ in _loaders):
        _loaders.append((order, name, loader))


def demo_data() -> dict:
    return json.loads(DATA_FILE.read_text())


def load_demo_center(data: dict | None = None) -> list[str]:
    """Run every registered loader in order inside one transaction; returns their summaries."""
    from django.db import transaction

    data = data if data is not None else demo_data()
    summaries = []
    with transaction.atomic():
        for _, name, loader in sorted(_loaders):
            summaries.append(f"{name}: {loader(data)}")
    return summaries

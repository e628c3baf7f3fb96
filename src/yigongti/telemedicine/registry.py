"""What the app contributes to others at start-up: the resident page's panels and timeline, the indicators,
the home panels, the order detail page's per-kind panels. Each module registers its own in ``ready()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yigongti.core.modules import register_modules

# kind ("ecg", "imaging", "lab", "pathology") → fn(actor, order) -> dict of template context for
# ``telemedicine/kinds/_<kind>.html``, included by the order detail page (the module of the kind fills it)
KIND_PANELS: dict[str, Callable[[Any, Any], dict]] = {}

# modules of this app that have a ``register()`` called at start-up (each a helper's own file)
MODULES = ["resident_panel", "indicators", "home", "critical", "imaging", "ecg", "lab", "pathology",
           "consultations", "devices"]


def kind_panel(kind: str):
    def register(fn):
        KIND_PANELS[kind] = fn
        return fn

    return register


def ready() -> None:
    register_modules("yigongti.telemedicine", MODULES)

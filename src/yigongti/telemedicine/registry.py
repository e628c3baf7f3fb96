"""What the app contributes to others at start-up: the resident page's panels and timeline, the indicators,
the home panels, the order detail page's per-kind panels. Each module registers its own in ``ready()``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

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
    for name in MODULES:
        try:
            module = importlib.import_module(f"yigongti.telemedicine.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"yigongti.telemedicine.{name}":
                raise
            continue
        fn = getattr(module, "register", None)
        if fn is not None:
            fn()

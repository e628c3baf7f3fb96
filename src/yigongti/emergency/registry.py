"""What the app contributes to others at start-up (home panels, resident panels and timeline entries, indicators,
event capture from other apps). Each module of this list has a ``register()`` called in ``ready()`` (each a
helper's own file)."""

from __future__ import annotations

import importlib

MODULES = ["home", "resident_panel", "indicators", "telephony", "gps", "planning.home"]


def ready() -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(f"yigongti.emergency.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"yigongti.emergency.{name}":
                raise
            continue
        fn = getattr(module, "register", None)
        if fn is not None:
            fn()
